"""Aging: days late and the buckets accountants read."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules.aging import BUCKETS, bucket_bounds, bucket_for, days_late

AS_OF = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2026, 4, 30), 0),  # not due yet
        (date(2026, 3, 31), 0),  # due today: not late
        (date(2026, 3, 30), 1),
        (date(2026, 3, 1), 30),
        (date(2026, 2, 28), 31),  # across the end of February
        (date(2025, 3, 31), 365),
    ],
)
def test_days_late(due, expected):
    assert days_late(due, as_of=AS_OF) == expected


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, None),
        (0, None),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (5000, "90+"),
    ],
)
def test_bucket_boundaries(days, bucket):
    assert bucket_for(days) == bucket


def test_bucket_bounds_are_inclusive_due_dates():
    assert bucket_bounds("1-30", as_of=AS_OF) == (date(2026, 3, 1), date(2026, 3, 30))
    assert bucket_bounds("31-60", as_of=AS_OF) == (date(2026, 1, 30), date(2026, 2, 28))
    assert bucket_bounds("90+", as_of=AS_OF) == (None, date(2025, 12, 30))


def test_bucket_bounds_of_an_unknown_bucket():
    with pytest.raises(KeyError):
        bucket_bounds("0-15", as_of=AS_OF)


@given(
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    offset=st.integers(min_value=-400, max_value=4000),
)
def test_bucket_bounds_agree_with_bucket_for(as_of, offset):
    due = as_of - timedelta(days=offset)
    expected = bucket_for(days_late(due, as_of=as_of))
    containing = [
        key
        for key, _first, _last in BUCKETS
        if (bounds := bucket_bounds(key, as_of=as_of))
        and (bounds[0] is None or bounds[0] <= due)
        and due <= bounds[1]
    ]
    assert containing == ([expected] if expected else [])
