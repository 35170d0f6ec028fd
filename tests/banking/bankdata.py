"""Where the bank statement samples live (../shared/data/bank), and what they hold."""

from __future__ import annotations

from pathlib import Path

import pytest

BANK = Path(__file__).resolve().parents[3] / "shared" / "data" / "bank"
CAMT = BANK / "camt" / "genkgo" / "test" / "data"
MT940 = BANK / "mt940" / "wolph-mt940" / "mt940_tests"
OFX = BANK / "ofx" / "ofxparse" / "tests" / "fixtures"


def samples(folder: Path, *patterns: str) -> list:
    """pytest params, one per sample file (id: its path under the folder)."""
    if not folder.is_dir():
        return [pytest.param(None, id="shared-data-absent")]
    found = sorted({p for pattern in patterns for p in folder.rglob(pattern)})
    return [pytest.param(p, id=str(p.relative_to(folder))) for p in found]


def read(path: Path | None) -> bytes:
    if path is None:
        pytest.skip("../shared/data/bank absent")
    return path.read_bytes()
