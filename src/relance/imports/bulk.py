"""Multi-row INSERTs for large imports.

An import of 100,000 invoices writes about half a million rows (invoices,
lines, payments, allocations, timeline). ``bulk_create`` spends most of its
time compiling each value of these wide rows; here each statement is built
once per batch and the values go straight to the driver, prepared the way
Django prepares them (the field's own conversion for dates, times and JSON;
Decimals, strings and numbers as they are, as Django passes them too).

Fields a row does not give take their model default (``auto_now`` and
``auto_now_add`` fields: now), so a column added later with a default needs
no change here. Like the demo loader, this bypasses the ledger's guards
against bulk writes to issued documents: an import writes documents as
they stand once issued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.db import connection, models
from django.utils import timezone

MAX_ROWS = 1000  # per statement; fewer when the driver limits parameters


def _columns(
    model: type[models.Model], names: Sequence[str]
) -> tuple[list[models.Field], list[tuple[models.Field, Any]]]:
    """The fields given by name, and the others with the constant each takes."""
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    now = timezone.now()
    given = [fields[name] for name in names]
    return given, [(f, _constant(f, now)) for name, f in fields.items() if name not in names]


def _copy(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool,
    prepared: bool = False,
) -> list[int]:
    """PostgreSQL: COPY the rows, the ids taken from the table's sequence first.

    Django's PostgreSQL cursors bind parameters on the client, quoting each
    value in Python: a multi-row INSERT of 100,000 invoices spends a minute
    there. COPY streams the rows instead.
    """
    meta = model._meta
    given, constants = _columns(model, names)
    columns = [f.column for f in given] + [f.column for f, _value in constants]
    tail = tuple(value for _f, value in constants)
    preparers = [] if prepared else _preparers(given)
    quote = connection.ops.quote_name
    ids: list[int] = []
    # Driver errors become Django's (IntegrityError …), as through Django's own cursors.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg cursor, in Django's transaction
        if returning:
            raw.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in raw.fetchall()]
            columns.insert(0, meta.pk.column)
        statement = (
            f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        )
        with raw.copy(statement) as copy:
            if not (preparers or tail or returning):
                for row in rows:
                    copy.write_row(row)
                return ids
            for index, row in enumerate(rows):
                if preparers:
                    row = list(row)
                    for i, prepare in preparers:
                        row[i] = prepare(row[i])
                values = (*row, *tail)
                copy.write_row((ids[index], *values) if returning else values)
    return ids


def iso_days() -> Callable[[Any], Any]:
    """Dates as ISO text, each distinct day made once (rows repeat a few dates);
    anything else (None, text already) as it is."""
    days: dict[date, str] = {}

    def iso(day: Any) -> Any:
        if not isinstance(day, date):
            return day
        found = days.get(day)
        if found is None:
            found = days[day] = day.isoformat()
        return found

    return iso


def driver_days() -> Callable[[Any], Any]:
    """Dates as the driver takes them in ``insert(..., prepared=True)``: ISO text on
    SQLite (made once per day), as they are for psycopg."""
    if connection.vendor == "sqlite":
        return iso_days()
    return lambda day: day


def _preparers(given: Sequence[models.Field]) -> list[tuple[int, Callable[[Any], Any]]]:
    return [(i, prepare) for i, f in enumerate(given) if (prepare := _preparer(f))]


def _preparer(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of this field goes to the driver (None: as it is).

    psycopg takes dates as they are; on SQLite they go as ISO text, made once per
    distinct day (a batch repeats a few dates: no adapter call per value). Aware
    datetimes are stored the way the backend wants (naive UTC text on SQLite),
    and JSON as JSON.
    """
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, models.DateTimeField | models.TimeField):
        # Times repeat (one "now" for a whole import): prepare each value once.
        prepared: dict[Any, Any] = {}

        def prepare(value: Any) -> Any:
            if value not in prepared:
                prepared[value] = field.get_db_prep_save(value, connection)
            return prepared[value]

        return prepare
    if connection.vendor == "sqlite" and isinstance(field, models.DateField):
        return iso_days()
    return None


def _constant(field: models.Field, now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    else:
        value = field.get_default()  # the default, "" for text, None for nullable columns
    return field.get_db_prep_save(value, connection)


def insert(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool = False,
    prepared: bool = False,
) -> list[int]:
    """INSERT the rows (tuples of values for the field attnames ``names``);
    return the new primary keys in the rows' order when ``returning``.

    ``prepared``: the values are already as the driver takes them (``driver_days``
    for dates): nothing is converted, and rows that fill every column go as they are."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy(model, names, rows, returning=returning, prepared=prepared)
    given, constants = _columns(model, names)
    columns = [f.column for f in given] + [f.column for f, _value in constants]
    tail = tuple(value for _f, value in constants)
    preparers = [] if prepared else _preparers(given)
    quote = connection.ops.quote_name
    meta = model._meta
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"

    def ready(chunk: Sequence[Sequence[Any]]) -> Any:
        for row in chunk:
            if preparers:
                row = list(row)
                for i, prepare in preparers:
                    row[i] = prepare(row[i])
            yield (*row, *tail)

    if not returning:
        # One short statement run for every row: no statement of thousands of
        # parameters for the SQLite cursor to rewrite and parse.
        with connection.cursor() as cursor:
            cursor.executemany(head + one, rows if not (preparers or tail) else ready(rows))
        return []
    if not connection.features.can_return_rows_from_bulk_insert:
        raise RuntimeError("this database cannot return the ids of a multi-row INSERT")
    limit = connection.features.max_query_params or 65535
    size = max(1, min(MAX_ROWS, limit // len(columns)))
    suffix = f" RETURNING {quote(meta.pk.column)}"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params = [value for row in ready(chunk) for value in row]
            cursor.execute(head + ", ".join([one] * len(chunk)) + suffix, params)
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids
