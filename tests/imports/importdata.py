"""Where the shared sample data lives, and helpers the import tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
AR = DATA / "ar"
GOOD_CSV = AR / "WA_Fn-UseC_-Accounts-Receivable.csv"
DAMAGED_CSV = AR / "WA_Fn-UseC_-Accounts-Receivable.pbifinanceml-copy.csv"
EINVOICE = DATA / "einvoice"


def shared(path: Path) -> bytes:
    """The bytes of a shared sample; the test is skipped, visibly, without it."""
    if not path.exists():
        pytest.skip("../shared/data absent")
    return path.read_bytes()


def import_file(org, data: bytes, name: str = "invoices.csv", kind: str = "csv", **options):
    """Upload, read and import one file through the same steps as the pages."""
    from relance.imports import batches, service

    batch = batches.start(org, kind, [(name, data)])
    if options:
        batch.options.update(options)
        batch.save()
    parsed, columns = batches.read(batch)
    return service.run(batch, parsed, columns=columns)
