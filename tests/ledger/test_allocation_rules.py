"""The pure allocation rules: discount in time, pro rata split, duplicate window."""

import doctest
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.rules import allocation, duplicates
from relance.rules.allocation import Early, discount_left, split_pro_rata

D = Decimal


def test_doctests():
    for module in (allocation, duplicates):
        failures, tried = doctest.testmod(module)
        assert failures == 0 and tried > 0, module.__name__


def test_the_discount_applies_up_to_its_last_day_included():
    early = Early(date(2026, 1, 25), D("24.00"))
    assert discount_left(D("24.00"), early, date(2026, 1, 25)) == D("24.00")
    assert discount_left(D("24.00"), early, date(2026, 1, 26)) is None
    assert discount_left(D("24.01"), early, date(2026, 1, 20)) is None
    assert discount_left(D("24.00"), None, date(2026, 1, 20)) is None


cents = st.integers(1, 10**9).map(lambda n: D(n).scaleb(-2))


@given(cents, st.dictionaries(st.sampled_from([D(0), D("5.5"), D(10), D(20)]), cents, min_size=1))
def test_the_split_adds_up_exactly(amount, bases):
    by_rate = {
        rate: (base, (base * rate / 100).quantize(D("0.01"))) for rate, base in bases.items()
    }
    parts = split_pro_rata(amount, by_rate, "EUR")
    assert sum(parts.values()) == amount
    assert set(parts) == set(by_rate)
