"""The rules every imported row passes, the lines that reproduce its totals,
and the lost-leading-zeros detector."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.imports.rows import (
    InvoiceRow,
    LineRow,
    Settlement,
    check,
    lines_for,
    lost_leading_zeros,
    split_identifier,
)
from relance.rules.totals import compute_totals

ROW = InvoiceRow(
    line=7,
    number="F-1",
    client_name="Durand SA",
    issue_date=date(2026, 1, 31),
    due_date=date(2026, 3, 2),
    currency="EUR",
    total_gross=Decimal("120.00"),
    total_net=Decimal("100.00"),
    total_vat=Decimal("20.00"),
)


def texts(row: InvoiceRow, columns=None) -> list[str]:
    return [p.text() for p in check(row, columns)]


def test_a_good_row_passes():
    assert check(ROW) == []


PAID = date(2026, 2, 1)
RULES = [
    ({"number": ""}, "The invoice number is missing."),
    ({"number": "X" * 41}, "The invoice number is longer than 40 characters."),
    ({"client_name": ""}, "The client is missing (give a name or a reference)."),
    ({"client_reference": "R" * 31}, "The client reference is longer than 30 characters."),
    ({"client_email": "compta at durand"}, "compta at durand is not an email address."),
    ({"currency": "XYZ"}, "Unknown currency: XYZ."),
    (
        {"due_date": date(2026, 1, 30)},
        "The due date 2026-01-30 is before the issue date 2026-01-31.",
    ),
    (
        {"total_gross": Decimal(0), "total_net": Decimal(0), "total_vat": Decimal(0)},
        "The total is zero.",
    ),
    (
        {"total_gross": Decimal("120.001"), "total_net": Decimal("100.001")},
        "120.001 has more decimals than EUR allows.",
    ),
    (
        {"currency": "JPY", "total_gross": Decimal("120.50"), "total_net": Decimal("100.50")},
        "120.50 has more decimals than JPY allows.",
    ),
    (
        {"total_gross": Decimal("1E+14"), "total_net": Decimal("1E+14"), "total_vat": Decimal(0)},
        "1E+14 is too large.",
    ),
    (
        {"total_gross": Decimal("130.00")},
        "The totals do not add up: 100.00 excl. VAT + 20.00 VAT is not 130.00 incl. VAT.",
    ),
    (
        {"total_net": Decimal("10.00"), "total_vat": Decimal("110.00")},
        "The VAT 110.00 is more than the amount excl. VAT 10.00.",
    ),
    (
        {"payments": (Settlement(PAID, Decimal("150.00")),)},
        "The amount paid 150.00 is more than the total 120.00.",
    ),
    (
        {"payments": (Settlement(PAID, Decimal("-1.00")),)},
        "The amount paid must be greater than zero.",
    ),
]


@pytest.mark.parametrize(("changes", "message"), RULES)
def test_each_rule_names_the_problem(changes, message):
    assert message in texts(replace(ROW, **changes))


def test_a_negative_total_is_refused_with_the_reason():
    row = replace(
        ROW, total_gross=Decimal("-120.00"), total_net=Decimal("-100.00"), total_vat=Decimal("-20")
    )
    assert any("is negative" in text for text in texts(row))


def test_problems_carry_the_line_and_the_files_column():
    (problem,) = check(replace(ROW, currency="ZZZ"), {"currency": "Devise"})
    assert (problem.line, problem.column) == (7, "Devise")
    assert str(problem) == "line 7, column Devise: Unknown currency: ZZZ."


def test_identifiers_are_told_apart():
    assert split_identifier("732 829 320") == ("732829320", "")
    assert split_identifier("73282932000074") == ("732829320", "")
    assert split_identifier("FR 44 732829320") == ("732829320", "FR44732829320")
    assert split_identifier("BE0403170701") == ("", "BE0403170701")
    with pytest.raises(ValueError):
        split_identifier("123456789")


# Lines -----------------------------------------------------------------------------


def totals(lines: list[LineRow], currency: str = "EUR"):
    t = compute_totals(((x.quantity, x.unit_price, x.vat_rate) for x in lines), currency)
    return t.net, t.vat, t.gross


def test_a_common_rate_makes_one_line():
    (line,) = lines_for(ROW, "Imported")
    assert (line.unit_price, line.vat_rate) == (Decimal("100.00"), Decimal("20"))


def test_a_total_without_vat_makes_one_line_at_zero():
    row = replace(
        ROW, total_net=Decimal("55.94"), total_vat=Decimal("0"), total_gross=Decimal("55.94")
    )
    assert lines_for(row, "x") == [LineRow("x", Decimal(1), Decimal("55.94"), Decimal(0))]


def test_the_sources_own_lines_are_kept_when_they_add_up():
    own = (
        LineRow("Design", Decimal(2), Decimal("40.00"), Decimal(20)),
        LineRow("Print", Decimal(1), Decimal("20.00"), Decimal(20)),
    )
    assert lines_for(replace(ROW, lines=own), "x") == list(own)
    wrong = (own[0],)
    assert totals(lines_for(replace(ROW, lines=wrong), "x")) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )


def test_mixed_rates_are_reproduced_to_the_cent():
    # 100 at 20 % and 50 at 5.5 %: 150.00 + 22.75 VAT, no single rate gives it.
    row = replace(
        ROW, total_net=Decimal("150.00"), total_vat=Decimal("22.75"), total_gross=Decimal("172.75")
    )
    lines = lines_for(row, "x")
    assert totals(lines) == (Decimal("150.00"), Decimal("22.75"), Decimal("172.75"))


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


@settings(max_examples=400, deadline=None)
@given(
    net=money,
    share=st.fractions(min_value=0, max_value=1),
    currency=st.sampled_from(["EUR", "JPY"]),
)
def test_lines_always_reproduce_the_totals(net, share, currency):
    if currency == "JPY":
        net = net.quantize(Decimal(1)) or Decimal(1)
    vat = (net * Decimal(share.numerator) / Decimal(share.denominator)).quantize(
        Decimal("0.01") if currency == "EUR" else Decimal(1)
    )
    row = replace(ROW, currency=currency, total_net=net, total_vat=vat, total_gross=net + vat)
    lines = lines_for(row, "x")
    assert totals(lines, currency) == (net, vat, net + vat)
    assert all(
        0 <= x.vat_rate <= 100 and x.vat_rate == x.vat_rate.quantize(Decimal("0.01")) for x in lines
    )
    assert all(x.unit_price >= 0 for x in lines)


# Lost leading zeros ----------------------------------------------------------------


def test_scattered_numbers_of_one_width_with_some_shorter_are_flagged():
    numbers = [(2, "0000611365"), (3, "0007900770"), (4, "9231909311"), (5, "4888306123"),
               (6, "5550001234")]  # fmt: skip
    damaged = [(line, n.lstrip("0")) for line, n in numbers]
    found = lost_leading_zeros(damaged)
    assert found is not None
    assert (found.width, found.shorter, found.examples[0]) == (10, 2, (2, "611365"))
    assert "probably 0000611365" in found.problem().text()
    assert lost_leading_zeros(numbers) is None


def test_a_plain_counter_is_not_flagged():
    assert lost_leading_zeros([(i + 2, str(i)) for i in range(1, 2500)]) is None


def test_numbers_with_letters_are_not_flagged():
    assert lost_leading_zeros([(2, "F2026-00001"), (3, "611365"), (4, "9231909311")]) is None
