"""The import pages end to end with the test client: upload → mapping →
preview → confirm → result, in English and French; writers only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from importdata import DAMAGED_CSV, EINVOICE, GOOD_CSV, shared

from relance.imports.models import ImportBatch
from relance.ledger.models import Client, Invoice

pytestmark = pytest.mark.django_db

FRENCH_CSV = (
    "Numéro;Client;SIREN;Date;Date d'échéance;Montant HT;TVA;Montant TTC;Montant réglé;"
    "Date de règlement\n"
    "F-001;Durand SA;732 829 320;15/01/2026;14/02/2026;1 000,00;200,00;1 200,00;1 200,00;"
    "10/02/2026\n"
    "F-002;Durand SA;732 829 320;20/01/2026;19/02/2026;500,00;100,00;600,00;200,00;12/02/2026\n"
    "F-003;Café Martin;;25/01/2026;24/02/2026;50,00;10,00;60,00;;\n"
).encode()


def upload(client, data, name="factures.csv", kind="csv", terms="30"):
    files = [SimpleUploadedFile(name, data, content_type="text/csv")]
    return client.post(
        reverse("import_upload"), {"kind": kind, "files": files, "terms_days": terms}
    )


def mapping_post(response_context_form, **changes):
    """The mapping form as the page prefilled it, with some selects changed."""
    form = response_context_form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes)
    return {k: ("" if v is None else v) for k, v in data.items()}


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


def test_the_whole_flow_creates_the_invoices(as_bob, org):
    response = upload(as_bob, FRENCH_CSV)
    batch = ImportBatch.objects.get(organisation=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("import_mapping", args=[batch.pk])

    page = as_bob.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    # The guesses are prefilled: "Montant TTC" is the total, "Date d'échéance" the due date.
    assert form["column_total_gross"].value() == "7"
    assert form["column_due_date"].value() == "4"
    assert "Café Martin" in page.content.decode()

    response = as_bob.post(page.request["PATH_INFO"], mapping_post(form))
    assert response.status_code == 302
    assert response["Location"] == reverse("import_preview", args=[batch.pk])

    preview = as_bob.get(response["Location"])
    text = preview.content.decode()
    assert preview.context["create_count"] == 3
    assert preview.context["new_clients"] == 2
    assert preview.context["errors"] == []
    assert "Import 3 invoices" in text
    assert Invoice.objects.count() == 0  # nothing written before the confirmation

    response = as_bob.post(reverse("import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("import_result", args=[batch.pk])
    result = as_bob.get(response["Location"])
    assert result.status_code == 200
    invoices = {i.number: i for i in Invoice.objects.filter(organisation=org)}
    assert {n: (i.status, i.balance) for n, i in invoices.items()} == {
        "F-001": ("paid", Decimal("0.00")),
        "F-002": ("partially_paid", Decimal("400.00")),
        "F-003": ("issued", Decimal("60.00")),
    }
    for invoice in invoices.values():
        assert reverse("invoice_detail", args=[invoice.pk]) in result.content.decode()
    durand = Client.objects.get(organisation=org, siren="732829320")
    assert durand.name == "Durand SA"
    batch.refresh_from_db()
    assert (batch.created_count, batch.clients_created, batch.author) == (3, 2, as_bob_user(org))
    assert bytes(batch.files.get().content) == b""  # the upload is dropped once imported


def as_bob_user(org):
    return org.memberships.get(user__username="bob").user


def test_an_invoice_page_shows_the_imported_invoice(as_bob, org):
    upload(as_bob, FRENCH_CSV)
    batch = ImportBatch.objects.get()
    page = as_bob.get(reverse("import_mapping", args=[batch.pk]))
    as_bob.post(page.request["PATH_INFO"], mapping_post(page.context["form"]))
    as_bob.post(reverse("import_confirm", args=[batch.pk]))
    invoice = Invoice.objects.get(number="F-002")
    page = as_bob.get(reverse("invoice_detail", args=[invoice.pk]))
    assert page.status_code == 200
    totals = page.context["totals"]
    assert (totals.net, totals.vat, totals.gross) == (
        Decimal("500.00"),
        Decimal("100.00"),
        Decimal("600.00"),
    )


def test_errors_are_listed_with_their_line_and_nothing_is_imported(as_bob, org, register_counts):
    bad = (
        FRENCH_CSV + b"F-004;Dupont;;31/02/2026;;10,00;2,00;12,00;;\nF-001;X;;01/02/2026;;1;0;1;;\n"
    )
    upload(as_bob, bad)
    batch = ImportBatch.objects.get()
    page = as_bob.get(reverse("import_mapping", args=[batch.pk]))
    as_bob.post(page.request["PATH_INFO"], mapping_post(page.context["form"]))
    before = register_counts()
    preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
    text = preview.content.decode()
    assert "2 errors: nothing will be imported until they are corrected" in text
    assert [(e["line"], e["column"]) for e in preview.context["errors"]] == [
        (5, "Date"),
        (6, "Numéro"),
    ]
    assert "31/02/2026 is not a date in the format DD/MM/YYYY." in text
    assert "Invoice F-001 is already on line 2 of this import." in text
    assert "Import 3 invoices" not in text
    response = as_bob.post(reverse("import_confirm", args=[batch.pk]))
    assert response.status_code == 400
    assert register_counts() == before


def test_the_damaged_ibm_copy_shows_the_leading_zero_warning_and_offers_the_fix(as_bob, org):
    upload(as_bob, shared(DAMAGED_CSV), "ar.csv")
    batch = ImportBatch.objects.get()
    page = as_bob.get(reverse("import_mapping", args=[batch.pk]))
    form = page.context["form"]
    as_bob.post(page.request["PATH_INFO"], mapping_post(form))
    preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
    text = preview.content.decode()
    assert "266 of 2466 invoice numbers have fewer digits than the 10 of the others" in text
    assert "Restore the zeros (10 digits)" in text
    as_bob.post(page.request["PATH_INFO"], mapping_post(form, pad_to="10"))
    preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
    assert preview.context["warnings"] == []
    assert preview.context["rows"][0].number == "0000611365"


def test_importing_the_same_file_again_says_so(as_bob, org):
    for _attempt in range(2):
        upload(as_bob, shared(GOOD_CSV), "ar.csv")
        batch = ImportBatch.objects.latest("pk")
        page = as_bob.get(reverse("import_mapping", args=[batch.pk]))
        as_bob.post(page.request["PATH_INFO"], mapping_post(page.context["form"]))
        preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
        as_bob.post(reverse("import_confirm", args=[batch.pk]))
    text = preview.content.decode()
    assert "This file was already imported on" in text
    assert preview.context["create_count"] == 0 and preview.context["skip_count"] == 2466
    assert "There is nothing new to import." in text
    assert Invoice.objects.filter(organisation=org).count() == 2466


def test_several_e_invoices_at_once(as_bob, org):
    cii = EINVOICE / "zugferd-corpus" / "XML-Rechnung" / "CII"
    names = ["EN16931_OEPNV.cii.xml", "EN16931_2_Teilrechnung.cii.xml"]
    files = [SimpleUploadedFile(n, shared(cii / n), content_type="text/xml") for n in names]
    # Atelier Durand (SIREN 732829320) did not issue these German invoices: refused.
    as_bob.post(reverse("import_upload"), {"kind": "einvoice", "files": files, "terms_days": "30"})
    batch = ImportBatch.objects.get()
    preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
    assert [e["file"] for e in preview.context["errors"]] == sorted(names)
    assert "not by this organisation" in preview.context["errors"][0]["text"]
    # Issued by the organisation itself: imported.
    org.vat_number = "DE123456789"
    org.siren = ""
    org.save()
    preview = as_bob.get(reverse("import_preview", args=[batch.pk]))
    assert preview.context["errors"] == [] and preview.context["create_count"] == 2
    as_bob.post(reverse("import_confirm", args=[batch.pk]))
    assert set(Invoice.objects.values_list("number", flat=True)) == {"E2018092011804", "471113"}


def test_a_file_that_cannot_be_read_says_why(as_bob, org):
    upload(as_bob, b"Number,Client\nF1,Caf\xc3\xa9\nF2,Soci\xe9t\xe9\n")
    batch = ImportBatch.objects.get()
    page = as_bob.get(reverse("import_mapping", args=[batch.pk]))
    text = page.content.decode()
    assert "This file cannot be read" in text
    assert "Line 3 holds bytes that are not UTF-8 text (0xe9)" in text


def test_the_upload_form_refuses_nothing_and_two_csv_files(as_bob):
    response = as_bob.post(reverse("import_upload"), {"kind": "csv", "terms_days": "30"})
    assert "Choose a file." in response.content.decode()
    files = [SimpleUploadedFile("a.csv", b"a,b\n"), SimpleUploadedFile("b.csv", b"a,b\n")]
    response = as_bob.post(
        reverse("import_upload"), {"kind": "csv", "files": files, "terms_days": "30"}
    )
    assert "Import one CSV or FEC file at a time." in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_the_pages_speak_french(client_fr, bob, org):
    client_fr.force_login(bob)
    page = client_fr.get(reverse("import_upload"))
    assert page.status_code == 200
    assert 'lang="fr"' in page.content.decode()


def test_a_read_only_member_gets_403_everywhere(client, rita, alice, org):
    client.force_login(alice)
    upload(client, FRENCH_CSV)
    batch = ImportBatch.objects.get()
    client.force_login(rita)
    for name in ("import_mapping", "import_preview", "import_confirm", "import_result"):
        url = reverse(name, args=[batch.pk])
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url
    assert client.get(reverse("import_upload")).status_code == 403
    assert upload(client, FRENCH_CSV).status_code == 403
    assert ImportBatch.objects.count() == 1
    assert "Import</a>" not in client.get(reverse("dashboard")).content.decode()


def test_another_organisation_gets_404(client, charlie, alice, org, register_counts):
    client.force_login(alice)
    upload(client, FRENCH_CSV)
    batch = ImportBatch.objects.get()
    client.force_login(charlie)
    before = register_counts()
    for name in ("import_mapping", "import_preview", "import_confirm", "import_result"):
        url = reverse(name, args=[batch.pk])
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"number": "0"}).status_code == 404, url
    assert register_counts() == before
    assert charlie.memberships.get().organisation.import_batches.count() == 0
