"""Payment plan schedules: exact cents, the client's day, clear refusals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules.plans import PlanError, propose, schedule_dates

D = Decimal


def test_remainder_on_the_last_installment_and_short_months_clamped():
    lines = propose(D("1000.00"), "EUR", as_of=date(2026, 1, 20), count=3, day=31)
    assert [(line.due_date, line.amount) for line in lines] == [
        (date(2026, 1, 31), D("333.33")),
        (date(2026, 2, 28), D("333.33")),
        (date(2026, 3, 31), D("333.34")),
    ]


def test_the_first_installment_is_not_before_today():
    # The client pays around the 10th; on the 20th the first one falls next month.
    lines = propose(D("300.00"), "EUR", as_of=date(2026, 1, 20), count=2, day=10)
    assert [line.due_date for line in lines] == [date(2026, 2, 10), date(2026, 3, 10)]
    same_day = propose(D("300.00"), "EUR", as_of=date(2026, 1, 10), count=1, day=10)
    assert same_day[0].due_date == date(2026, 1, 10)


def test_every_two_months_with_a_down_payment_and_a_fee():
    lines = propose(
        D("2000.00"),
        "EUR",
        as_of=date(2026, 3, 5),
        count=2,
        frequency="bimonthly",
        day=5,
        down_payment=D("500.00"),
        fee=D("30.00"),
    )
    # The down payment today; the installments from the next 5th, two months apart.
    assert [(line.due_date, line.amount) for line in lines] == [
        (date(2026, 3, 5), D("500.00")),
        (date(2026, 4, 5), D("765.00")),
        (date(2026, 6, 5), D("765.00")),
    ]


def test_custom_dates_sorted_and_checked():
    lines = propose(
        D("100.00"),
        "EUR",
        as_of=date(2026, 1, 1),
        count=2,
        frequency="custom",
        dates=[date(2026, 5, 1), date(2026, 2, 15)],
    )
    assert [line.due_date for line in lines] == [date(2026, 2, 15), date(2026, 5, 1)]
    assert [line.amount for line in lines] == [D("50.00"), D("50.00")]


def test_currency_without_minor_unit():
    lines = propose(D("1000"), "JPY", as_of=date(2026, 1, 1), count=3, day=1)
    assert [line.amount for line in lines] == [D("333"), D("333"), D("334")]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"count": 0}, "count"),
        ({"count": 37}, "count"),
        ({"down_payment": D("1000.00")}, "down_too_big"),
        ({"down_payment": D("-1")}, "down_negative"),
        ({"fee": D("-1")}, "fee"),
        ({"fee": D("0.001")}, "decimals"),
        ({"frequency": "weekly"}, "frequency"),
        ({"day": 32}, "day"),
        ({"frequency": "custom", "dates": [date(2026, 2, 1)]}, "dates_count"),
        ({"frequency": "custom", "count": 2, "dates": [date(2026, 2, 1)] * 2}, "dates_twice"),
        ({"frequency": "custom", "count": 1, "dates": [date(2025, 12, 1)]}, "dates_past"),
    ],
)
def test_refusals_say_why(kwargs, code):
    args = {"as_of": date(2026, 1, 1), "count": 3, **kwargs}
    with pytest.raises(PlanError) as caught:
        propose(D("1000.00"), "EUR", **args)
    assert caught.value.code == code
    assert str(caught.value)


def test_too_many_installments_for_a_few_cents():
    with pytest.raises(PlanError, match="too small"):
        propose(D("0.02"), "EUR", as_of=date(2026, 1, 1), count=3)


def test_nothing_to_spread():
    with pytest.raises(PlanError, match="no balance"):
        propose(D("0"), "EUR", as_of=date(2026, 1, 1), count=3)


@given(
    balance=st.integers(min_value=100, max_value=10**11).map(lambda c: D(c) / 100),
    fee=st.integers(min_value=0, max_value=10**6).map(lambda c: D(c) / 100),
    down=st.integers(min_value=0, max_value=99),
    count=st.integers(min_value=1, max_value=36),
    frequency=st.sampled_from(["monthly", "bimonthly"]),
    day=st.integers(min_value=1, max_value=31),
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_schedule_properties(balance, fee, down, count, frequency, day, as_of):
    down_payment = (balance * down / 100).quantize(D("0.01"))
    try:
        lines = propose(
            balance,
            "EUR",
            as_of=as_of,
            count=count,
            frequency=frequency,
            day=day,
            down_payment=down_payment,
            fee=fee,
        )
    except PlanError as exc:
        assert exc.code == "too_small"
        return
    assert sum(line.amount for line in lines) == balance + fee
    assert all(line.amount > 0 for line in lines)
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in lines)
    dates = [line.due_date for line in lines]
    assert all(a < b for a, b in pairwise(dates))
    assert dates[0] >= as_of
    assert len(lines) == count + (1 if down_payment > 0 else 0)


@given(
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    day=st.integers(min_value=1, max_value=31),
)
def test_dates_land_on_the_day_or_the_month_end(as_of, day):
    for due in schedule_dates(as_of, 12, 1, day):
        last = (due.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        assert due.day == min(day, last.day)
