"""The bank statement pages: upload (format found from the file, CSV columns),
the list of imports, one import's lines; errors answer 4xx with the reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from relance.banking.importing import import_statement
from relance.banking.models import (
    BankLine,
    BankLineStatus,
    CsvMapping,
    StatementImport,
    StatementUpload,
)
from relance.dunning.models import DunningSettings

pytestmark = pytest.mark.django_db

CSV = (
    "Date;Libellé;Montant;Tiers\n"
    "01/03/2026;VIR FACT 2026-001;1 234,56;SARL Dupont\n"
    "03/03/2026;PRLV EDF;-45,10;EDF\n"
).encode()
# Columns named so that nothing can be guessed.
ODD_CSV = (
    b"Quand;Quoi;Combien\n02/03/2026;VIR FACT 2026-007;250,00\n04/03/2026;VIR FACT 2026-008;75,50\n"
)


def camt(amount="8.85", ref="REF-1", booked="2026-03-02"):
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>STMT-42</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>SARL Dupont</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>Facture F-2026-001</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>""".encode()


MT940 = b""":20:STARTUMS
:25:30006000/0001123456
:28C:00001/001
:60F:C260301EUR1000,00
:61:2603020302C150,00NTRFNONREF//BANKREF1
:86:VIR SEPA SARL DUPONT FACTURE F-2026-003
:62F:C260302EUR1150,00
-
"""


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def as_rita(client, rita):
    client.force_login(rita)
    return client


def upload(client, data, name, **extra):
    return client.post(
        reverse("bank_statement_upload"),
        {"file": SimpleUploadedFile(name, data), **extra},
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_a_camt_file_is_recognised_imported_and_its_lines_shown(as_alice, org, alice):
    response = upload(as_alice, camt(), "releve.xml")
    record = StatementImport.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bank_statement_detail", args=[record.pk])
    assert (record.format, record.line_count, record.imported_by) == ("camt053", 1, alice)
    page = as_alice.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "STMT-42" in html and "SARL Dupont" in html and "Facture F-2026-001" in html
    [line] = page.context["rows"]
    assert line[0].amount == Decimal("8.85")
    assert "1 new line imported." in messages_of(page)


def test_an_mt940_file_is_recognised_without_choosing_the_format(as_alice, org):
    response = upload(as_alice, MT940, "export.sta")
    assert response.status_code == 302
    record = StatementImport.objects.for_org(org).get()
    assert record.format == "mt940"
    assert BankLine.objects.for_org(org).get().amount == Decimal("150.00")


def test_the_same_file_again_adds_nothing_and_says_so(as_alice, org):
    upload(as_alice, camt(), "releve.xml")
    response = upload(as_alice, camt(), "releve.xml")
    assert response.status_code == 302
    page = as_alice.get(response["Location"])
    assert "0 new lines (already imported)." in messages_of(page)
    assert "Every line of this file was already imported." in page.content.decode()
    assert BankLine.objects.for_org(org).count() == 1
    listing = as_alice.get(reverse("bank_statements")).content.decode()
    assert "0 (already imported)" in listing


def test_a_broken_line_imports_nothing_and_the_page_names_the_line(as_alice, org):
    response = upload(as_alice, camt(amount="8.85123"), "releve.xml")
    assert response.status_code == 400
    [error] = response.context["form"].non_field_errors()
    assert error.startswith("Nothing was imported. Line 4:")
    assert "decimal" in error
    assert not StatementImport.objects.exists() and not BankLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "photo.png", "binary"),
        (b"<html><body>hello</body></html>", "page.xml", "neither camt nor OFX"),
        (b"<?xml version='1.0'?><Document><BkToCstmrStmt>", "cut.xml", "XML"),
    ],
)
def test_a_file_that_is_not_a_statement_gets_400_with_the_reason(as_alice, data, name, words):
    response = upload(as_alice, data, name)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not StatementImport.objects.exists()


def test_no_file_gets_400(as_alice):
    response = as_alice.post(reverse("bank_statement_upload"), {})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_a_csv_goes_through_the_columns_step_with_a_guess(as_alice, org):
    response = upload(as_alice, CSV, "releve.csv")
    pending = StatementUpload.objects.get()
    assert response["Location"] == reverse("bank_statement_columns", args=[pending.pk])
    page = as_alice.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    assert (form["date"].value(), form["amount"].value(), form["remittance"].value()) == (
        "Date",
        "Montant",
        "Libellé",
    )
    assert "VIR FACT 2026-001" in page.content.decode()  # the sample rows
    done = as_alice.post(
        response["Location"],
        {"date": "Date", "amount": "Montant", "remittance": "Libellé", "payer_name": "Tiers"},
    )
    assert done.status_code == 302
    lines = BankLine.objects.for_org(org).order_by("booking_date")
    assert [(x.amount, x.direction, x.payer_name) for x in lines] == [
        (Decimal("1234.56"), "credit", "SARL Dupont"),
        (Decimal("45.10"), "debit", "EDF"),
    ]
    assert not StatementUpload.objects.exists()
    assert CsvMapping.objects.get(organisation=org).mapping["payer_name"] == "Tiers"


def test_the_last_csv_mapping_is_offered_again(as_alice, org):
    mapping = {"date": "Quand", "amount": "Combien", "remittance": "Quoi"}
    response = upload(as_alice, ODD_CSV, "a.csv")
    as_alice.post(response["Location"], mapping)
    assert BankLine.objects.for_org(org).count() == 2
    second = upload(as_alice, ODD_CSV.replace(b"250,00", b"251,00"), "b.csv")
    form = as_alice.get(second["Location"]).context["form"]
    assert {name: form[name].value() for name in mapping} == mapping


def test_a_wrong_mapping_says_which_line_and_keeps_the_file(as_alice, org):
    response = upload(as_alice, CSV, "releve.csv")
    wrong = as_alice.post(response["Location"], {"date": "Libellé", "amount": "Montant"})
    assert wrong.status_code == 400
    assert "Nothing was imported. Line 2: not a date" in wrong.context["error"]
    assert not BankLine.objects.exists()
    assert StatementUpload.objects.exists()  # the user corrects the columns and tries again
    no_amount = as_alice.post(response["Location"], {"date": "Date"})
    assert no_amount.status_code == 400
    assert "Choose the amount column" in no_amount.content.decode()


def test_a_read_only_member_reads_but_cannot_upload(as_rita, org):
    import_statement(org, camt(), "releve.xml")
    record = StatementImport.objects.get()
    assert as_rita.get(reverse("bank_statements")).status_code == 200
    assert as_rita.get(reverse("bank_statement_detail", args=[record.pk])).status_code == 200
    assert "Import a statement" not in as_rita.get(reverse("bank_statements")).content.decode()
    assert upload(as_rita, camt(ref="REF-2"), "releve.xml").status_code == 403
    assert StatementImport.objects.count() == 1


def test_pages_need_a_login(client):
    response = client.get(reverse("bank_statements"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_another_organisations_imports_are_invisible(client, org, other_org, charlie):
    import_statement(org, camt(), "releve.xml")
    record = StatementImport.objects.get()
    pending = StatementUpload.objects.create(organisation=org, filename="x.csv", data=CSV)
    client.force_login(charlie)
    assert client.get(reverse("bank_statement_detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("bank_statement_columns", args=[pending.pk])).status_code == 404
    assert client.post(reverse("bank_statement_columns", args=[pending.pk])).status_code == 404
    listing = client.get(reverse("bank_statements"))
    assert list(listing.context["page"].object_list) == []
    assert "releve.xml" not in listing.content.decode()


def test_the_list_shows_the_last_import_and_warns_when_it_is_old(as_alice, org):
    DunningSettings.objects.update_or_create(
        organisation=org, defaults={"statement_max_age_days": 7}
    )
    never = as_alice.get(reverse("bank_statements"))
    assert never.context["stale"] and "No bank statement imported yet" in never.content.decode()
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        import_statement(org, camt(), "old.xml")
    old = as_alice.get(reverse("bank_statements"))
    assert old.context["stale"]
    assert "more than 7 days ago" in old.content.decode()
    assert "Last import:" in old.content.decode()
    import_statement(org, camt(ref="REF-2", amount="10.00"), "new.xml")
    fresh = as_alice.get(reverse("bank_statements"))
    assert not fresh.context["stale"]
    assert "more than 7 days ago" not in fresh.content.decode()


def test_the_list_links_to_the_review_queue_with_counts(as_alice, org):
    import_statement(org, camt(), "a.xml")
    import_statement(org, camt(ref="REF-2", amount="10.00"), "b.xml")
    BankLine.objects.filter(amount=Decimal("8.85")).update(status=BankLineStatus.REVIEW)
    BankLine.objects.filter(amount=Decimal("10.00")).update(status=BankLineStatus.UNMATCHED)
    html = as_alice.get(reverse("bank_statements")).content.decode()
    assert reverse("bank_review") in html and "1 transfer to review" in html
    assert reverse("bank_unmatched") in html and "1 unmatched credit" in html


def test_lines_can_be_filtered_by_status(as_alice, org):
    import_statement(org, CSV, "releve.csv")
    record = StatementImport.objects.get()
    BankLine.objects.filter(direction="credit").update(status=BankLineStatus.UNMATCHED)
    url = reverse("bank_statement_detail", args=[record.pk])
    page = as_alice.get(url, {"status": "unmatched"})
    assert [line.direction for line, _badge in page.context["rows"]] == ["credit"]
    assert len(as_alice.get(url, {"status": "junk"}).context["rows"]) == 2


def test_the_nav_has_a_bank_link(as_alice):
    html = as_alice.get(reverse("bank_statements")).content.decode()
    assert f'href="{reverse("bank_statements")}" aria-current="page"' in html
