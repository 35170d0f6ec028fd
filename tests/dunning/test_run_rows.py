"""The daily run reads its rows through a plain cursor: the same values Django gives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from relance.dunning import engine
from relance.dunning.models import Chase
from relance.ledger.models import Invoice


def test_the_runs_rows_are_the_values_django_gives(org, chased, make_invoice):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    make_invoice(chased, "99.90", issue_date=date(2026, 1, 6), due=date(2026, 2, 5))
    second = make_invoice(chased, "1200.00", issue_date=date(2026, 1, 7), due=date(2026, 2, 4))
    Invoice.objects.filter(pk=second.pk).update(sent_at=datetime(2026, 1, 8, 23, 30, tzinfo=UTC))
    Chase.objects.filter(invoice=second).update(
        cursor_on=date(2026, 2, 1), cursor_position=0, cursor_occurrence=0
    )
    rows = Chase.objects.filter(organisation=org).order_by("pk").values_list(*engine._FIELDS)
    ids = [row[0] for row in rows]
    reader = engine._Reader(date(2030, 1, 1))  # every chase due

    plain = [tuple(row) for row in reader.rows(ids)]

    assert plain == list(rows)
    assert len(plain) == 3
    # A batch holds the chases asked for, and nothing else.
    assert [row[0] for row in reader.rows(ids[1:])] == ids[1:]
    # Nor a chase not due yet on the run's day.
    assert list(engine._Reader(date(2026, 1, 1)).rows(ids)) == []
    balances = [row[engine._FIELDS.index("invoice__balance")] for row in plain]
    assert balances == [
        chase.invoice.balance for chase in Chase.objects.order_by("pk").select_related("invoice")
    ]
    assert all(isinstance(b, Decimal) for b in balances)
    sent = plain[2][engine._FIELDS.index("invoice__sent_at")]
    assert sent == datetime(2026, 1, 8, 23, 30, tzinfo=UTC)
