"""Money: parsing what people type, rounding, and never mixing currencies."""

from decimal import Decimal

import pytest

from relance.rules.money import (
    CurrencyMismatch,
    D,
    Money,
    MoneyError,
    has_sub_minor_digits,
    quantum,
    round_money,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", "1234.50"),
        ("1\u202f234,50", "1234.50"),  # narrow no-break space, as French locales print
        ("1\xa0234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1.234.567,89", "1234567.89"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        (" 42 ", "42"),
        ("-3,10", "-3.10"),
    ],
)
def test_it_reads_amounts_as_people_type_them(text, expected):
    assert D(text) == Decimal(expected)
    assert str(D(text)) == expected


def test_it_keeps_the_digits_typed():
    assert D("10.50").as_tuple().exponent == -2


@pytest.mark.parametrize("text", ["", "abc", "12,34,56", "1.2.3", "NaN", "Infinity", "-inf", "12€"])
def test_it_refuses_what_is_not_an_amount(text):
    with pytest.raises(MoneyError, match="not an amount"):
        D(text)


def test_it_refuses_floats():
    with pytest.raises(TypeError, match="never a float"):
        D(0.1)


def test_it_refuses_a_decimal_that_is_not_a_number():
    with pytest.raises(MoneyError):
        D(Decimal("NaN"))
    with pytest.raises(MoneyError):
        D(Decimal("Infinity"))


def test_it_refuses_booleans():
    with pytest.raises(TypeError):
        D(True)


def test_it_accepts_ints_and_decimals():
    assert D(12) == Decimal("12")
    value = Decimal("3.14")
    assert D(value) is value


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("10.005", "10.01"),
        ("10.004", "10.00"),
        ("0.125", "0.13"),
        ("2.675", "2.68"),  # 2.67 in binary floating point
        ("-10.005", "-10.01"),  # half away from zero
        ("7", "7.00"),
    ],
)
def test_it_rounds_half_up_to_the_cent(amount, expected):
    assert str(round_money(Decimal(amount), "EUR")) == expected


def test_it_rounds_to_the_unit_for_currencies_without_cents():
    assert str(round_money(Decimal("1234.5"), "JPY")) == "1235"
    assert quantum("XOF") == Decimal(1)


def test_it_refuses_an_unsupported_currency():
    with pytest.raises(MoneyError, match="unsupported currency: 'XYZ'"):
        round_money(Decimal("1"), "XYZ")
    with pytest.raises(MoneyError, match="unsupported currency"):
        Money(Decimal("1"), "BTC")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10.00", "EUR", False),
        ("10.1", "EUR", False),
        ("10", "EUR", False),
        ("10.001", "EUR", True),
        ("10.010", "EUR", False),  # a trailing zero is not a sub-cent
        ("10.5", "JPY", True),
        ("10", "JPY", False),
        ("1E+3", "EUR", False),
        ("0.0000", "EUR", False),
        ("-0.001", "EUR", True),
        # Too many digits to quantize to the cent: still a clear answer.
        ("123456789012345678901234567.891", "EUR", True),
        ("1E+40", "EUR", False),
    ],
)
def test_it_tells_when_an_amount_has_sub_minor_digits(amount, currency, expected):
    assert has_sub_minor_digits(Decimal(amount), currency) is expected


def test_money_adds_and_subtracts_one_currency():
    total = Money(D("0.10"), "EUR") + Money(D("0.20"), "EUR")
    assert total == Money(Decimal("0.30"), "EUR")
    assert (total - Money(D("0.30"), "EUR")).amount == 0
    assert (-total).amount == Decimal("-0.30")
    assert Money.zero("EUR").amount == 0


def test_money_never_adds_two_currencies():
    with pytest.raises(CurrencyMismatch, match="cannot combine EUR and USD"):
        Money(D("1"), "EUR") + Money(D("1"), "USD")
    with pytest.raises(CurrencyMismatch):
        Money(D("1"), "EUR") - Money(D("1"), "GBP")


def test_money_refuses_a_float_amount():
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]


def test_money_rounds_half_up():
    assert Money(D("10.005"), "EUR").rounded() == Money(Decimal("10.01"), "EUR")
