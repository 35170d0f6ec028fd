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
from typing import Any

from django.db import connection, models
from django.utils import timezone

MAX_ROWS = 1000  # per statement; fewer when the driver limits parameters


def _preparer(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of this field goes to the driver (None: as it is)."""
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
    if isinstance(field, models.DateField) and connection.vendor == "sqlite":
        return lambda value: None if value is None else value.isoformat()
    return None


def _constant(field: models.Field, now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    else:
        value = field.get_default()  # the default, "" for text, None for nullable columns
    return field.get_db_prep_save(value, connection)


def insert(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, returning: bool = False
) -> list[int]:
    """INSERT the rows (dicts of attname -> value, all with the same keys);
    return the new primary keys in the rows' order when ``returning``."""
    if not rows:
        return []
    if returning and not connection.features.can_return_rows_from_bulk_insert:
        raise RuntimeError("this database cannot return the ids of a multi-row INSERT")
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    given = [f for f in fields if f.attname in rows[0]]
    now = timezone.now()
    constants = [(f, _constant(f, now)) for f in fields if f.attname not in rows[0]]
    columns = [f.column for f in given] + [f.column for f, _value in constants]
    tail = [value for _f, value in constants]
    preparers = [(f.attname, _preparer(f)) for f in given]
    per_row = len(columns)
    limit = connection.features.max_query_params or 65535
    size = max(1, min(MAX_ROWS, limit // per_row))
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * per_row) + ")"
    suffix = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params: list[Any] = []
            for row in chunk:
                for name, prepare in preparers:
                    value = row[name]
                    params.append(value if prepare is None else prepare(value))
                params.extend(tail)
            cursor.execute(head + ", ".join([one] * len(chunk)) + suffix, params)
            if returning:
                ids.extend(pk for (pk,) in cursor.fetchall())
    return ids
