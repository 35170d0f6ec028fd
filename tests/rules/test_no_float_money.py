"""No float on a money path: money is Decimal from input to storage to screen."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "relance"

FLOAT = re.compile(r"\bFloatField\b|\bfloat\(|\bFloatSum\b|:\s*float\b|->\s*float\b")

# (file relative to src/relance, text of the line): why this float is not money.
ALLOWED: dict[tuple[str, str], str] = {
    ("demo.py", "weight: float"): "how often the demo draws a kind of client",
}


def allowed(relative: str, code: str) -> bool:
    return any(file == relative and text in code for file, text in ALLOWED)


def test_the_source_tree_is_there():
    assert (SRC / "rules" / "money.py").exists()


def test_no_float_in_the_code():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if FLOAT.search(code) and not allowed(relative, code):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "floats on a money path:\n" + "\n".join(offenders)


def test_the_scan_finds_what_it_looks_for():
    for line in ["amount = models.FloatField()", "total = float(value)", "def rate(x) -> float:"]:
        assert FLOAT.search(line)
    for line in ["if isinstance(value, float):", "{{ amount|floatformat:2 }}", "floating point"]:
        assert not FLOAT.search(line)
