"""The daily tick's queries find their rows through an index, whatever the register's
size: a day's cost follows the day's work (SQLite's plans: PostgreSQL chooses by its
statistics)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from relance.dunning import engine
from relance.dunning.models import Chase
from relance.escalation import steps
from relance.fees import booking

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plans: PostgreSQL plans by its statistics"
)

DAY = date(2026, 3, 10)


def plan(query) -> str:
    sql, params = query.query.sql_with_params() if hasattr(query, "query") else query
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def test_the_days_work_is_read_through_the_index_of_next_dates(org):
    due = Chase.objects.filter(organisation=org, next_action_on__lte=DAY, closed=False)
    keys = due.order_by("client_id", "pk").values_list("client_id", "pk")

    assert "USING INDEX chase_due (organisation_id=? AND next_action_on<?)" in plan(keys)


def test_a_batch_is_read_by_primary_key(org):
    reader = engine._Reader(DAY)
    ids = [1, 2, 3]
    params = reader.params[: reader.at] + ids + reader.params[reader.at + 1 :]
    sql = reader.head + f"{reader.column} IN (%s, %s, %s)" + reader.tail

    found = plan((sql, params))

    assert "SEARCH dunning_chase USING INTEGER PRIMARY KEY (rowid=?)" in found
    assert "SCAN dunning_chase" not in found


def test_fee_notices_and_escalation_steps_are_read_through_partial_indexes(org):
    assert "USING INDEX reminder_fee_notices" in plan(booking.due_reminders(org, DAY))
    assert "USING INDEX reminder_escalation" in plan(steps.pending_query(org, DAY))
