"""Invoice totals: worked examples to the cent, and the invariants behind them."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules.money import round_money
from relance.rules.totals import compute_totals, line_net

D = Decimal


def test_a_single_line_at_20_percent():
    totals = compute_totals([(D("1"), D("100"), D("20"))], "EUR")
    assert (totals.net, totals.vat, totals.gross) == (D("100.00"), D("20.00"), D("120.00"))


def test_several_vat_rates_are_taxed_per_rate():
    totals = compute_totals(
        [
            (D("3"), D("33.333"), D("20")),  # 99.999 -> 100.00
            (D("2"), D("12.50"), D("5.5")),  # 25.00
            (D("1"), D("10"), D("20")),  # 10.00
            (D("4"), D("2.10"), D("10")),  # 8.40
            (D("1"), D("50"), D("0")),  # exempt
        ],
        "EUR",
    )
    assert totals.by_rate == {
        D("0"): (D("50.00"), D("0.00")),
        D("5.5"): (D("25.00"), D("1.38")),  # 1.375 rounds half up
        D("10"): (D("8.40"), D("0.84")),
        D("20"): (D("110.00"), D("22.00")),
    }
    assert list(totals.by_rate) == [D("0"), D("5.5"), D("10"), D("20")]
    assert totals.net == D("193.40")
    assert totals.vat == D("24.22")
    assert totals.gross == D("217.62")


def test_vat_is_rounded_once_per_rate_not_per_line():
    # Base 3.33 at 20 %: VAT 0.666 -> 0.67. Line by line it would be 0.22 x 3 = 0.66.
    totals = compute_totals([(D("1"), D("1.11"), D("20"))] * 3, "EUR")
    assert totals.vat == D("0.67")
    assert totals.gross == D("4.00")


def test_line_nets_are_rounded_half_up_before_summing():
    # 0.005 each: rounded per line to 0.01, so 2 lines make 0.02 (not 0.01).
    totals = compute_totals([(D("1"), D("0.005"), D("0"))] * 2, "EUR")
    assert totals.net == D("0.02")
    assert line_net(D("2.5"), D("0.333"), "EUR") == D("0.83")  # 0.8325


def test_equal_rates_written_differently_share_one_base():
    totals = compute_totals([(D("1"), D("10"), D("20")), (D("1"), D("10"), D("20.00"))], "EUR")
    assert len(totals.by_rate) == 1
    assert totals.by_rate[D("20")] == (D("20.00"), D("4.00"))


def test_rates_are_kept_in_a_plain_form_for_display():
    totals = compute_totals(
        [(D("1"), D("10"), D("20.00")), (D("1"), D("10"), D("5.50")), (D("1"), D("1"), D("0.00"))],
        "EUR",
    )
    assert [str(rate) for rate in totals.by_rate] == ["0", "5.5", "20"]


def test_no_lines_make_zero_totals():
    totals = compute_totals([], "EUR")
    assert (totals.net, totals.vat, totals.gross) == (0, 0, 0)


def test_a_discount_line_reduces_the_base():
    totals = compute_totals([(D("1"), D("100"), D("20")), (D("-1"), D("10"), D("20"))], "EUR")
    assert (totals.net, totals.vat, totals.gross) == (D("90.00"), D("18.00"), D("108.00"))


def test_currencies_without_cents_round_to_the_unit():
    totals = compute_totals([(D("3"), D("333.5"), D("10"))], "JPY")
    assert (totals.net, totals.vat, totals.gross) == (D("1001"), D("100"), D("1101"))


quantities = st.decimals(min_value=D("0.0001"), max_value=D("10000"), places=4)
prices = st.decimals(min_value=D("-10000"), max_value=D("100000"), places=4)
rates = st.sampled_from([D("0"), D("2.1"), D("5.5"), D("10"), D("20"), D("20.00"), D("8.5")])
lines = st.lists(st.tuples(quantities, prices, rates), max_size=12)


@given(lines)
def test_gross_is_net_plus_vat_and_net_is_the_sum_of_rounded_line_nets(rows):
    totals = compute_totals(rows, "EUR")
    assert totals.gross == totals.net + totals.vat
    assert totals.net == sum((line_net(q, p, "EUR") for q, p, _ in rows), D(0))
    assert totals.net == sum((base for base, _ in totals.by_rate.values()), D(0))
    assert totals.vat == sum((vat for _, vat in totals.by_rate.values()), D(0))
    for rate, (base, vat) in totals.by_rate.items():
        assert vat == round_money(base * rate / 100, "EUR")


@given(lines)
def test_totals_are_decimals_to_the_cent_never_floats(rows):
    totals = compute_totals(rows, "EUR")
    for amount in (totals.net, totals.vat, totals.gross):
        assert type(amount) is Decimal
        assert amount == amount.quantize(D("0.01"))
    for rate, (base, vat) in totals.by_rate.items():
        assert type(rate) is type(base) is type(vat) is Decimal


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
@given(rows=lines)
def test_totals_do_not_depend_on_line_order(currency, rows):
    assert compute_totals(rows, currency) == compute_totals(list(reversed(rows)), currency)
