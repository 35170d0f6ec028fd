"""The CSV reader on its own: encodings, delimiters, the mapping guesses,
dates and decimal marks, line-numbered problems, and a fuzz that only lets
its own clean error escape."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importdata import GOOD_CSV, shared

from relance.imports import csv_import
from relance.imports.csv_import import CsvError, Options, guess_mapping, parse, read_table
from relance.imports.rows import Problem

FR_HEADER = "Numéro;Client;SIREN;Date;Date d'échéance;Montant HT;TVA;Montant TTC;Devise\n"


def read(text: str, encoding: str = "utf-8", **options):
    table = read_table(text.encode(encoding))
    mapping = guess_mapping(table.header)
    return table, parse(table, Options(mapping=mapping, **options))


def errors(parsed) -> list[str]:
    return [str(p) for p in parsed.errors]


# Encodings ------------------------------------------------------------------------


def test_utf8_with_a_bom_reads_the_first_header_cleanly():
    table = read_table("\ufeffNuméro;Client\nF1;Café Durand\n".encode())
    assert table.encoding == "UTF-8"
    assert table.header == ("Numéro", "Client")
    assert table.rows == ((2, ("F1", "Café Durand")),)


def test_windows_1252_is_read_and_reported_with_its_first_line():
    data = "Numéro;Client\nF1;Dupont\nF2;Société Générale\n".encode("cp1252")
    table = read_table(data)
    assert table.encoding == "Windows-1252"
    assert table.header[0] == "Numéro"
    assert table.rows[1][1][1] == "Société Générale"
    assert "line 1" in str(table.warnings[0]) and "Windows-1252" in str(table.warnings[0])


def test_a_utf8_file_with_a_stray_latin1_byte_is_refused_at_its_line():
    data = "Numéro;Client\nF1;Café\n".encode() + "F2;Société\n".encode("latin-1")
    with pytest.raises(CsvError) as caught:
        read_table(data)
    assert caught.value.problem.line == 3
    assert "not UTF-8 text (0xe9)" in str(caught.value)


def test_bytes_that_no_text_encoding_reads_are_refused_at_their_line():
    data = b"Number,Client\nF1,A\nF2,\x81\x8d\n"
    with pytest.raises(CsvError) as caught:
        read_table(data)
    assert caught.value.problem.line == 3


def test_a_binary_file_is_refused():
    with pytest.raises(CsvError, match="not a text file"):
        read_table(b"PK\x03\x04\x00\x00 spreadsheet")


def test_utf16_from_a_spreadsheet_is_read():
    data = "Number\tClient\nF1\tÉcole\n".encode("utf-16")
    table = read_table(data)
    assert (table.encoding, table.delimiter) == ("UTF-16", "\t")
    assert table.rows[0][1] == ("F1", "École")


# Table shape ------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_found(delimiter):
    text = delimiter.join(["Number", "Client", "Amount"]) + "\n"
    text += delimiter.join(["F1", "A", "10.00"]) + "\n"
    assert read_table(text.encode()).delimiter == delimiter


def test_a_quoted_cell_may_hold_the_delimiter_and_a_newline():
    text = 'Number,Client,Amount\nF1,"Durand, Fils",10.00\nF2,"Two\nlines",12.00\nF3,C,1.00\n'
    table = read_table(text.encode())
    assert [line for line, _cells in table.rows] == [2, 3, 5]
    assert table.rows[0][1][1] == "Durand, Fils"


def test_an_unclosed_quote_is_refused_with_its_line():
    with pytest.raises(CsvError) as caught:
        read_table(b'Number,Client\nF1,A\nF2,"B\n')
    assert caught.value.problem.line == 3


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_an_empty_file_is_refused(data):
    with pytest.raises(CsvError, match="empty"):
        read_table(data)


def test_a_file_of_one_column_is_refused():
    with pytest.raises(CsvError, match="Only one column"):
        read_table(b"just some text\nmore text\n")


# Mapping guesses -------------------------------------------------------------------


def test_the_ibm_sample_columns_are_guessed():
    table = read_table(shared(GOOD_CSV))
    mapping = {f: table.header[i] for f, i in guess_mapping(table.header).items()}
    assert mapping == {
        "number": "invoiceNumber",
        "client_reference": "customerID",
        "issue_date": "InvoiceDate",
        "due_date": "DueDate",
        "total_gross": "InvoiceAmount",
        "paid_on": "SettledDate",
    }


def test_french_headers_are_guessed():
    header = tuple(FR_HEADER.strip().split(";"))
    mapping = {f: header[i] for f, i in guess_mapping(header).items()}
    assert mapping == {
        "number": "Numéro",
        "client_name": "Client",
        "client_identifier": "SIREN",
        "issue_date": "Date",
        "due_date": "Date d'échéance",
        "total_net": "Montant HT",
        "total_vat": "TVA",
        "total_gross": "Montant TTC",
        "currency": "Devise",
    }


def test_a_column_serves_one_field_only():
    mapping = guess_mapping(("Montant", "Montant TTC", "Facture", "Client"))
    assert mapping["total_gross"] == 1  # the exact name wins over the shorter one
    assert len(set(mapping.values())) == len(mapping)


# Values ----------------------------------------------------------------------------


def test_a_french_file_reads_decimal_commas_and_day_first_dates():
    text = (
        FR_HEADER + "F-001;Durand SA;732 829 320;31/01/2026;02/03/2026;1 000,00;200,00;1 200,00;\n"
    )
    _table, parsed = read(text)
    assert errors(parsed) == []
    (row,) = parsed.rows
    assert (row.issue_date, row.due_date) == (date(2026, 1, 31), date(2026, 3, 2))
    assert (row.total_net, row.total_vat, row.total_gross) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
    )
    assert (row.client_siren, row.currency) == ("732829320", "EUR")
    assert parsed.facts["date_format"] == "dmy" and parsed.facts["decimal_mark"] == ","


def test_month_first_dates_are_recognised_when_one_day_is_above_12():
    text = "Number,Client,Date,Total\nA1,X,1/2/2013,10.00\nA2,X,1/26/2013,10.00\n"
    _table, parsed = read(text)
    assert parsed.facts["date_format"] == "mdy"
    assert [r.issue_date for r in parsed.rows] == [date(2013, 1, 2), date(2013, 1, 26)]


def test_ambiguous_dates_are_asked_never_guessed():
    text = "Number,Client,Date,Total\nA1,X,01/02/2013,10.00\nA2,X,03/04/2013,10.00\n"
    _table, parsed = read(text)
    assert parsed.rows == []
    assert "ambiguous" in errors(parsed)[0]
    _table, chosen = read(text, date_format="dmy")
    assert [r.issue_date for r in chosen.rows] == [date(2013, 2, 1), date(2013, 4, 3)]


def test_iso_dates_and_excel_timestamps_are_read():
    text = "Number,Client,Date,Total\nA1,X,2026-01-31,10.00\nA2,X,2026-02-01 00:00:00,10.00\n"
    _table, parsed = read(text)
    assert [r.issue_date for r in parsed.rows] == [date(2026, 1, 31), date(2026, 2, 1)]


def test_a_bad_date_is_an_error_at_its_line_and_column():
    text = "Number,Client,Invoice date,Total\nA1,X,2026-01-31,10.00\nA2,X,2026-02-30,10.00\n"
    _table, parsed = read(text)
    (problem,) = parsed.errors
    assert (problem.line, problem.column) == (3, "Invoice date")
    assert "2026-02-30 is not a date" in problem.text()


def test_ambiguous_thousands_are_asked():
    text = 'Number,Client,Date,Total\nA1,X,2026-01-31,"1,234"\n'
    _table, parsed = read(text)
    assert "decimal mark" in errors(parsed)[0]
    _table, chosen = read(text, decimal_mark=".")
    assert chosen.rows[0].total_gross == Decimal("1234")


def test_amounts_with_symbols_and_thousands_separators():
    assert csv_import.parse_amount("1 234,50 €", ",") == Decimal("1234.50")
    assert csv_import.parse_amount("$1,234.50", ".") == Decimal("1234.50")
    assert csv_import.parse_amount("1.234.567,89", ",") == Decimal("1234567.89")
    assert csv_import.parse_amount("(12.00)", ".") == Decimal("-12.00")
    assert csv_import.parse_amount("12,34,56", ",") is None
    assert csv_import.parse_amount("ten", ".") is None


def test_net_and_vat_make_the_total_when_it_is_missing():
    text = "Number,Client,Date,Net,VAT\nA1,X,2026-01-31,100.00,20.00\n"
    _table, parsed = read(text)
    assert parsed.rows[0].total_gross == Decimal("120.00")


def test_totals_that_do_not_add_up_are_an_error():
    text = "Number,Client,Date,Net,VAT,Total\nA1,X,2026-01-31,100.00,20.00,130.00\n"
    _table, parsed = read(text)
    assert "do not add up" in errors(parsed)[0]


def test_without_a_due_date_column_the_terms_give_it():
    text = "Number,Client,Date,Total\nA1,X,2026-01-31,10.00\n"
    _table, parsed = read(text, terms_days=45)
    assert parsed.rows[0].due_date == date(2026, 3, 17)


def test_a_paid_amount_needs_its_date_and_a_settled_date_alone_means_paid_in_full():
    text = (
        "Number,Client,Date,Total,Amount paid,Payment date\n"
        "A1,X,2026-01-31,100.00,40.00,2026-02-10\n"
        "A2,X,2026-01-31,100.00,40.00,\n"
        "A3,X,2026-01-31,100.00,0,\n"
    )
    _table, parsed = read(text)
    assert [(p.line, p.column) for p in parsed.errors] == [(3, "Payment date")]
    assert parsed.rows[0].amount_paid == Decimal("40.00")
    assert parsed.rows[1].payments == ()
    _table, settled = read(
        "Number,Client,Date,Total,Settled date\nA1,X,2026-01-31,9.99,2026-02-03\n"
    )
    assert settled.rows[0].payments[0].amount == Decimal("9.99")


def test_a_line_with_more_cells_than_the_header_is_an_error():
    text = "Number,Client,Date,Total\nA1,X,2026-01-31,1,234.50\n"
    _table, parsed = read(text, decimal_mark=".")
    assert [(p.line, p.text()) for p in parsed.errors] == [
        (2, "This line has 5 cells; the header has 4.")
    ]


def test_missing_mappings_are_named():
    table = read_table(b"Foo,Bar\n1,2\n")
    parsed = parse(table, Options(mapping={}))
    assert {p.text() for p in parsed.errors} == {
        "Choose the column of the invoice number.",
        "Choose the column of the client name or reference.",
        "Choose the column of the issue date.",
        "Choose the column of the total.",
    }


def test_restoring_zeros_pads_only_numeric_numbers():
    text = "Number,Client,Date,Total\n611365,X,2026-01-31,1.00\nF-12,X,2026-01-31,1.00\n"
    _table, parsed = read(text, pad_to=10)
    assert [r.number for r in parsed.rows] == ["0000611365", "F-12"]


# Fuzz ------------------------------------------------------------------------------

CSVISH = st.text(alphabet=st.sampled_from([*'ab1,;.\t|"\n\r -/:€é0', "\x00"]), max_size=300)


def read_anything(data: bytes, **options) -> None:
    try:
        table = read_table(data)
    except CsvError as exc:
        assert isinstance(exc.problem, Problem)
        return
    mapping = guess_mapping(table.header)
    parsed = parse(table, Options(mapping=mapping, **options))
    for problem in parsed.errors + parsed.warnings:
        assert problem.text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_give_a_table_or_a_clean_error(data):
    read_anything(data)


@settings(max_examples=300, deadline=None)
@given(
    CSVISH,
    st.sampled_from(["auto", "iso", "dmy", "mdy"]),
    st.sampled_from(["auto", ".", ","]),
)
def test_any_csvish_text_gives_rows_or_clean_problems(text, date_format, mark):
    header = "Number,Client,Date,Due date,Total,VAT,Paid,Settled date\n"
    read_anything((header + text).encode(), date_format=date_format, decimal_mark=mark)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="0123456789F-", min_size=0, max_size=12),
            st.text(alphabet="0123456789/-.", max_size=12),
            st.text(alphabet="0123456789,.- ()€", max_size=14),
        ),
        max_size=8,
    )
)
def test_any_cell_values_give_rows_or_clean_problems(cells):
    lines = ["Number;Client;Date;Total"] + [f"{n};X;{d};{a}" for n, d, a in cells]
    read_anything("\n".join(lines).encode())
