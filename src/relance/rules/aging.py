"""Aging: how late an amount is, in the buckets accountants read.

>>> from datetime import date
>>> days_late(date(2026, 1, 10), as_of=date(2026, 1, 31))
21
>>> bucket_for(21), bucket_for(31), bucket_for(90), bucket_for(91)
('1-30', '31-60', '61-90', '90+')
"""

from __future__ import annotations

from datetime import date, timedelta

# (key, first day late, last day late or None); "0-30" in the UI covers 1-30
# days late: a debt is late from the day after its due date.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def days_late(due_date: date, *, as_of: date) -> int:
    """Days past the due date; 0 on the due date itself and before it."""
    return max(0, (as_of - due_date).days)


def bucket_for(days: int) -> str | None:
    for key, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return None


def bucket_bounds(key: str, *, as_of: date) -> tuple[date | None, date]:
    """Due-date range (oldest, newest), inclusive, of a bucket on ``as_of``."""
    for name, first, last in BUCKETS:
        if name == key:
            newest = as_of - timedelta(days=first)
            oldest = None if last is None else as_of - timedelta(days=last)
            return oldest, newest
    raise KeyError(key)
