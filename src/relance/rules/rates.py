"""Reference rates: the series late-payment interest is built on, as data.

Each row is one value of one series over a validity period (both ends
included), with its source. The shipped history is ``data/rates.csv``
(values from the law reference, marked [V] verified, [M] to re-check, [D]
derived); an organisation extends or overrides it with ``relance
import-rates FILE``. A day no row covers raises ``MissingRate``: relance then
blocks the computation and says which rate to import, it never guesses.

>>> shipped().rate("ECB_MRO", date(2025, 1, 1)).rate
Decimal('3.15')
>>> shipped().rate("ECB_MRO", date(2030, 1, 1))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
relance.rules.rates.MissingRate: no ECB_MRO rate for 2030-01-01 (2030-H1): import it ...
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

__all__ = [
    "SERIES",
    "MissingRate",
    "Rate",
    "RateFileError",
    "RateTable",
    "half_year",
    "half_year_label",
    "half_year_start",
    "parse_csv",
    "shipped",
]

# The series relance knows, with what each one is.
SERIES: dict[str, str] = {
    "ECB_MRO": "ECB main refinancing operations rate",
    "FR_LEGAL_PRO": "French legal interest rate, all other cases (professional creditor)",
    "FR_LEGAL_PERSON": "French legal interest rate, creditor a natural person (non-professional)",
    "BOE_BANK_RATE": "Bank of England Bank Rate",
    "DE_BASISZINS": "German base rate (Basiszinssatz, BGB § 247)",
}
COLUMNS = ("series", "valid_from", "valid_to", "rate", "source")
MAX_RATE = Decimal(100)


class MissingRate(LookupError):
    """No value of a series for a day: import it; never guess."""

    def __init__(self, series: str, on: date) -> None:
        self.series, self.on = series, on
        super().__init__(
            f"no {series} rate for {on.isoformat()} ({half_year_label(on)}): "
            "import it with relance import-rates"
        )


class RateFileError(ValueError):
    """A rate file that cannot be imported: every problem, with its line number."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True, slots=True)
class Rate:
    series: str
    valid_from: date
    valid_to: date
    rate: Decimal  # percent per year, e.g. Decimal("2.15")
    source: str

    def covers(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_to


def half_year(on: date) -> tuple[int, int]:
    return on.year, 1 if on.month <= 6 else 2


def half_year_label(on: date) -> str:
    year, half = half_year(on)
    return f"{year}-H{half}"


def half_year_start(on: date) -> date:
    return date(on.year, 1 if on.month <= 6 else 7, 1)


class RateTable:
    """Layers of rows, the last layer first: imported rows override shipped ones.

    Within a layer, the row that started last wins where rows overlap (a new
    value supersedes an open-ended one).
    """

    def __init__(self, *layers: Iterable[Rate]) -> None:
        self.layers: tuple[tuple[Rate, ...], ...] = tuple(tuple(layer) for layer in layers)

    def with_overrides(self, rows: Iterable[Rate]) -> RateTable:
        return RateTable(*self.layers, rows)

    def rate(self, series: str, on: date) -> Rate:
        for layer in reversed(self.layers):
            found = [row for row in layer if row.series == series and row.covers(on)]
            if found:
                return max(found, key=lambda row: row.valid_from)
        raise MissingRate(series, on)

    def rows(self, series: str) -> list[Rate]:
        """The rows of a series, overrides first then by date (for display)."""
        return sorted(
            (row for layer in self.layers for row in layer if row.series == series),
            key=lambda row: row.valid_from,
        )


def _day(text: str) -> date:
    return date.fromisoformat(text.strip())


def parse_csv(text: str) -> list[Rate]:
    """Rows of a rate file (header ``series,valid_from,valid_to,rate,source``).

    All or nothing: any bad line raises ``RateFileError`` listing every
    problem with its line number, and nothing is returned.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    errors: list[str] = []
    rows: list[Rate] = []
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != COLUMNS:
        raise RateFileError([f"line 1: the header must be {','.join(COLUMNS)}"])
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(COLUMNS):
            errors.append(f"line {number}: {len(COLUMNS)} columns expected, {len(fields)} found")
            continue
        series, start, end, value, source = (f.strip() for f in fields)
        problems = []
        if series not in SERIES:
            problems.append(f"unknown series {series!r} (known: {', '.join(SERIES)})")
        try:
            valid_from, valid_to = _day(start), _day(end)
            if valid_to < valid_from:
                problems.append("valid_to is before valid_from")
        except ValueError:
            problems.append("valid_from and valid_to must be dates (YYYY-MM-DD)")
        try:
            rate = Decimal(value)
            if not rate.is_finite() or not (-MAX_RATE < rate < MAX_RATE):
                problems.append(f"rate {value!r} is out of range")
        except InvalidOperation:
            problems.append(f"rate {value!r} is not a number (use a dot: 2.15)")
        if not source:
            problems.append("the source is required")
        if problems:
            errors.extend(f"line {number}: {p}" for p in problems)
            continue
        rows.append(Rate(series, valid_from, valid_to, rate, source))
    errors.extend(_overlaps(rows))
    if errors:
        raise RateFileError(errors)
    return rows


def _overlaps(rows: list[Rate]) -> list[str]:
    """Two rows of one series over the same day: ambiguous, refused."""
    errors = []
    by_series: dict[str, list[Rate]] = {}
    for row in rows:
        by_series.setdefault(row.series, []).append(row)
    for series, items in by_series.items():
        items.sort(key=lambda row: row.valid_from)
        for before, after in itertools.pairwise(items):
            if after.valid_from <= before.valid_to:
                errors.append(
                    f"{series}: {before.valid_from}..{before.valid_to} and "
                    f"{after.valid_from}..{after.valid_to} overlap"
                )
    return errors


@cache
def shipped() -> RateTable:
    """The history shipped with relance (``rules/data/rates.csv``)."""
    text = resources.files("relance.rules").joinpath("data/rates.csv").read_text("utf-8")
    return RateTable(parse_csv(text))
