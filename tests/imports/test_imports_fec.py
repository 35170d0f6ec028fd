"""Open receivables from a FEC: the client accounts (411), their lettering,
partial payments, VAT from the entry, and the register after the import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from importdata import import_file

from relance.imports import fec
from relance.imports.csv_import import CsvError
from relance.imports.service import ImportRejected
from relance.ledger.models import Client, Invoice

HEADER = (
    "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|CompAuxLib|"
    "PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|ValidDate|Montantdevise|Idevise"
)
JOURNALS = {"VT": "Ventes", "BQ": "Banque", "HA": "Achats"}


def line(journal, number, day, account, label, aux, aux_label, piece, text, debit, credit, letter):
    """One accounting line (the piece is dated the day of the entry)."""
    return (journal, number, day, account, label, aux, aux_label, piece, day, text, debit, credit,
            letter)  # fmt: skip


def sale(number, day, aux, name, piece, net, vat, gross, letter=""):
    """A sales entry: the client owes the total, the sale and the VAT are credited."""
    text = f"Facture {piece}"
    return [
        line("VT", number, day, "411000", "Clients", aux, name, piece, text, gross, "", letter),
        line("VT", number, day, "706000", "Prestations", "", "", piece, text, "", net, ""),
        line("VT", number, day, "445710", "TVA collectée", "", "", piece, text, "", vat, ""),
    ]


def receipt(number, day, aux, name, piece, amount, letter=""):
    """A bank entry: money received from the client."""
    text = f"Virement {name}"
    return [
        line("BQ", number, day, "512000", "Banque", "", "", piece, text, amount, "", ""),
        line("BQ", number, day, "411000", "Clients", aux, name, piece, text, "", amount, letter),
    ]


ENTRIES = [
    # F2026-001 to ACME, paid in full by the bank entry BQ 3 (lettered A, balanced).
    *sale("1", "20260105", "CACME", "ACME Industries", "F2026-001", "1000,00", "200,00",
          "1200,00", "A"),
    # F2026-002 to ACME, not paid (no lettering).
    *sale("2", "20260110", "CACME", "ACME Industries", "F2026-002", "500,00", "100,00", "600,00"),
    *receipt("3", "20260201", "CACME", "ACME Industries", "VIR0201", "1200,00", "A"),
    # F2026-003 to Martin, 1,000 of 2,400 paid (lettered B, not balanced).
    *sale("4", "20260115", "CMARTIN", "Boulangerie Martin", "F2026-003", "2000,00", "400,00",
          "2400,00", "B"),
    *receipt("5", "20260220", "CMARTIN", "Boulangerie Martin", "VIR0220", "1000,00", "B"),
    # F2026-004 to Martin, open.
    *sale("6", "20260120", "CMARTIN", "Boulangerie Martin", "F2026-004", "300,00", "60,00",
          "360,00"),
    # A payment on account from Durand Fils, lettered with nothing.
    *receipt("7", "20260225", "CDURAND", "Durand Fils", "VIR0225", "150,00"),
    # A supplier invoice: not a receivable.
    line("HA", "8", "20260125", "401000", "Fournisseurs", "FPAPIER", "Papeterie", "FA-88",
         "Papier", "", "80,00", ""),
    line("HA", "8", "20260125", "606000", "Achats", "", "", "FA-88", "Papier", "80,00", "", ""),
]  # fmt: skip


def fec_bytes(entries=ENTRIES, separator="|", header=HEADER, encoding="utf-8") -> bytes:
    lines = [header.replace("|", separator)]
    for entry in entries:
        journal, rest = entry[0], entry[1:]
        lines.append(separator.join([journal, JOURNALS[journal], *rest, "", "20260301", "", ""]))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def by_number(parsed):
    return {row.number: row for row in parsed.rows}


def test_open_receivables_are_the_unlettered_and_partly_lettered_pieces():
    parsed = fec.parse(fec_bytes())
    assert parsed.errors == []
    rows = by_number(parsed)
    assert sorted(rows) == ["F2026-002", "F2026-003", "F2026-004"]
    acme = rows["F2026-002"]
    assert (acme.client_reference, acme.client_name, acme.issue_date, acme.due_date) == (
        "CACME",
        "ACME Industries",
        date(2026, 1, 10),
        date(2026, 2, 9),
    )
    assert (acme.total_net, acme.total_vat, acme.total_gross, acme.payments) == (
        Decimal("500.00"),
        Decimal("100.00"),
        Decimal("600.00"),
        (),
    )
    martin = rows["F2026-003"]
    assert martin.total_gross == Decimal("2400.00")
    assert [(p.date, p.amount) for p in martin.payments] == [
        (date(2026, 2, 20), Decimal("1000.00"))
    ]


def test_a_credit_that_settles_no_open_piece_is_reported_not_imported():
    (warning,) = fec.parse(fec_bytes()).warnings
    assert warning.line == 19
    assert "A credit of 150.00 to Durand Fils (VIR0225) settles no open invoice" in warning.text()


def test_tab_separated_latin1_and_montant_sens_variants_read_the_same():
    tab = fec.parse(fec_bytes(separator="\t", encoding="cp1252"))
    sens_header = HEADER.replace("Debit|Credit", "Montant|Sens")
    sens_entries = [(*e[:10], e[10] or e[11], "D" if e[10] else "C", e[12]) for e in ENTRIES]
    sens = fec.parse(fec_bytes(sens_entries, header=sens_header))
    plain = fec.parse(fec_bytes())
    assert by_number(tab) == by_number(plain) == by_number(sens)
    assert tab.facts["encoding"] == "Windows-1252"


def test_a_file_that_is_not_a_fec_is_refused_naming_the_missing_columns():
    with pytest.raises(CsvError) as caught:
        fec.parse(b"Numero;Client;Montant\nF1;A;10\n")
    assert "This is not a FEC: the header lacks JournalCode, EcritureNum" in str(caught.value)


def test_bad_dates_and_amounts_are_errors_at_their_line_and_column():
    entries = list(ENTRIES)
    entries[3] = (*ENTRIES[3][:8], "20261301", *ENTRIES[3][9:])
    entries[13] = (*ENTRIES[13][:10], "trois cents", *ENTRIES[13][11:])
    parsed = fec.parse(fec_bytes(entries))
    assert [(p.line, p.column, p.text()) for p in parsed.errors] == [
        (5, "PieceDate", "20261301 is not a date (YYYYMMDD)."),
        (15, "Debit", "trois cents is not an amount."),
    ]


# Into the register ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_fec_import_creates_the_open_invoices_with_what_was_paid(org):
    batch = import_file(org, fec_bytes(), "FEC732829320.txt", kind="fec", terms_days=45)
    assert (batch.created_count, batch.clients_created) == (3, 2)
    invoices = {i.number: i for i in Invoice.objects.filter(organisation=org)}
    martin = invoices["F2026-003"]
    assert (martin.amount_paid, martin.balance, martin.status) == (
        Decimal("1000.00"),
        Decimal("1400.00"),
        "partially_paid",
    )
    assert martin.due_date == date(2026, 3, 1)  # 45 days after 15 January
    assert martin.client.reference == "CMARTIN"
    assert Client.objects.get(organisation=org, reference="CACME").invoices.count() == 1


@pytest.mark.django_db
def test_an_existing_client_is_found_by_its_reference(org):
    acme = Client.objects.create(organisation=org, name="ACME Industries SA", reference="CACME")
    import_file(org, fec_bytes(), "FEC.txt", kind="fec")
    assert Invoice.objects.get(number="F2026-002").client == acme


@pytest.mark.django_db
def test_the_same_fec_twice_adds_nothing(org, register_counts):
    import_file(org, fec_bytes(), "FEC.txt", kind="fec")
    before = register_counts()
    again = import_file(org, fec_bytes(), "FEC.txt", kind="fec")
    assert (again.created_count, again.skipped_count) == (0, 3)
    assert register_counts() == {**before, "done": before["done"] + 1}


@pytest.mark.django_db
def test_a_fec_with_an_error_imports_nothing(org, register_counts):
    entries = list(ENTRIES)
    entries[3] = (*ENTRIES[3][:8], "2026-13-01", *ENTRIES[3][9:])
    before = register_counts()
    with pytest.raises(ImportRejected):
        import_file(org, fec_bytes(entries), "FEC.txt", kind="fec")
    assert register_counts() == before
