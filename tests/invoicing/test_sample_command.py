from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "einvoice"


def test_sample_invoice_renders_a_valid_facturx(tmp_path):
    from relance.einvoice.facturx import extract_xml

    out = StringIO()
    call_command("sample_invoice", str(tmp_path / "s.pdf"), "--lang", "en", stdout=out)
    pdf = (tmp_path / "s.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"<rsm:CrossIndustryInvoice" in extract_xml(pdf)
    if not SHARED.exists():
        pytest.skip("../shared/data absent: schematron not checked")
    assert "valid, 0 failed asserts" in out.getvalue()
