"""relance escalation_samples renders the documents and leaves the database as it was."""

import io
import zipfile

from django.core.management import call_command

from relance.organisations.models import Organisation


def test_it_renders_notices_dossiers_and_case_files(db, tmp_path, pdf_text):
    out = io.StringIO()
    tmp_path = tmp_path / "samples"
    call_command("escalation_samples", str(tmp_path), stdout=out)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 14
    assert "formal-notice-b2b-en.pdf" in names and "case-file-b2c.zip" in names
    text = " ".join(pdf_text((tmp_path / "formal-notice-b2b-en.pdf").read_bytes()).split())
    assert "Formal notice to pay" in text and "Lyon, Jun 1, 2026" in text
    assert "For the attention of Paul Martin, management" in text
    archive = zipfile.ZipFile(tmp_path / "case-file-b2b.zip")
    assert "case-file.pdf" in archive.namelist() and "statement.csv" in archive.namelist()
    assert not Organisation.objects.exists()  # rolled back
    assert "formal-notice-b2c-fr.pdf" in out.getvalue()
