"""The import service: all or nothing, idempotent, tenant-scoped, signal after commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bankdata import CAMT, read
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.banking.importing import StatementError, import_statement
from relance.banking.models import BankLine, BankLineStatus, CsvMapping, StatementImport
from relance.banking.signals import statement_imported

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "Date;Libellé;Montant;Tiers\n"
    "01/03/2026;VIR FACT 2026-001;1 234,56;SARL Dupont\n"
    "01/03/2026;VIR FACT 2026-002;100,00;SARL Dupont\n"
    "01/03/2026;VIR FACT 2026-002;100,00;SARL Dupont\n"
    "03/03/2026;PRLV EDF;-45,10;EDF\n"
).encode()


def camt(amount="8.85", ref="REF-1", booked="2026-03-02", extra=""):
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>SARL Dupont</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
</TxDtls></NtryDtls></Ntry>{extra}</Stmt></BkToCstmrStmt></Document>""".encode()


def test_csv_import_stores_every_line_with_its_direction(org, alice):
    result = import_statement(org, CSV, "releve.csv", user=alice)
    assert (result.added, result.duplicates) == (4, 0)
    lines = list(BankLine.objects.for_org(org).order_by("id"))
    assert [(x.amount, x.direction) for x in lines] == [
        (Decimal("1234.56"), "credit"),
        (Decimal("100.00"), "credit"),
        (Decimal("100.00"), "credit"),  # two equal payments are two lines
        (Decimal("45.10"), "debit"),
    ]
    assert {x.status for x in lines} <= set(BankLineStatus.values)  # matching may have run
    [record] = StatementImport.objects.for_org(org)
    assert (record.line_count, record.imported_by, record.format) == (4, alice, "csv")


def test_the_same_file_twice_adds_nothing_and_says_so(org):
    import_statement(org, CSV, "releve.csv")
    again = import_statement(org, CSV, "releve.csv")
    assert (again.added, again.duplicates) == (0, 4)
    assert BankLine.objects.for_org(org).count() == 4


def test_an_intraday_report_then_the_statement_dedupe_on_the_bank_reference(org):
    import_statement(org, camt(ref="A1"), "intraday.xml")
    second = camt(ref="A1", extra="").replace(b"<Id>S1</Id>", b"<Id>S2</Id>")
    result = import_statement(org, second, "day.xml")
    assert (result.added, result.duplicates) == (0, 1)
    line = BankLine.objects.for_org(org).get()
    assert (line.payer_name, line.structured_reference, line.end_to_end_id) == (
        "SARL Dupont",
        "RF18539007547034",
        "E2E-1",
    )


def test_a_broken_line_stores_nothing_and_names_the_line(org):
    broken = CSV + b"32/13/2026;VIR;12,00;X\n"
    with pytest.raises(StatementError) as error:
        import_statement(org, broken, "releve.csv")
    assert error.value.line == 6
    assert not BankLine.objects.exists() and not StatementImport.objects.exists()


def test_too_many_decimals_and_unknown_currencies_are_refused(org):
    with pytest.raises(StatementError, match="more decimals"):
        import_statement(org, camt(amount="8.855"), "x.xml")
    with pytest.raises(StatementError, match="currency XYZ"):
        import_statement(org, camt().replace(b'Ccy="EUR">8', b'Ccy="XYZ">8'), "x.xml")
    assert not StatementImport.objects.exists()


def test_organisations_do_not_share_fingerprints(org, other_org):
    import_statement(org, CSV, "releve.csv")
    result = import_statement(other_org, CSV, "releve.csv")
    assert result.added == 4
    assert BankLine.objects.for_org(other_org).count() == 4


def test_the_signal_is_sent_after_commit_with_the_new_lines(org):
    received = []

    def receiver(sender, statement, lines, **kwargs):
        received.append((statement.pk, [line.pk for line in lines]))

    statement_imported.connect(receiver)
    try:
        import_statement(org, CSV, "releve.csv")
    finally:
        statement_imported.disconnect(receiver)
    [(_statement, pks)] = received
    assert sorted(pks) == sorted(BankLine.objects.for_org(org).values_list("pk", flat=True))


def test_the_csv_mapping_is_remembered(org):
    mapping = {"date": "Date", "amount": "Montant", "remittance": "Libellé"}
    import_statement(org, CSV, "releve.csv", csv_mapping=mapping)
    assert CsvMapping.objects.get(organisation=org).mapping == mapping


def test_a_genkgo_sample_imports(org):
    data = read(CAMT / "camt054.v4.xml" if CAMT.is_dir() else None)
    result = import_statement(org, data, "camt054.v4.xml")
    assert result.added == 3


def test_the_command_imports_a_file(org, tmp_path, capsys):
    path = tmp_path / "releve.csv"
    path.write_bytes(CSV)
    call_command("import-statement", str(path), organisation=str(org.pk))
    assert "4 new line(s)" in capsys.readouterr().out
    call_command("import-statement", str(path), organisation=org.legal_name)
    assert "0 new line(s), 4 already imported" in capsys.readouterr().out
    path.write_bytes(b"garbage\x00")
    with pytest.raises(CommandError):
        call_command("import-statement", str(path), organisation=str(org.pk))
