"""The record of the chase: every decision, message, attempt and pause of a
client or an invoice, newest first, exported as CSV and as a dated PDF; and
an invoice's next reminder in plain words."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from relance.dunning import actions, dispatch, timeline
from relance.dunning.models import Attempt, Message, Step

DUE = date(2026, 2, 4)  # a Wednesday
ISSUED = date(2026, 1, 5)


@pytest.fixture
def chase_history(org, chased, make_invoice, run_day, smtp_server, alice):
    """Two invoices of ACME; the friendly email and SMS sent at +1, a promise."""
    first = make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)
    second = make_invoice(chased, "300.00", issue_date=ISSUED, due=DUE)
    run_day(DUE + timedelta(days=1))
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    actions.pause(
        chased, kind="promise", today=DUE + timedelta(days=2), until=DUE + timedelta(days=9),
        amount="1500", author=alice,
    )  # fmt: skip
    return first, second


def test_the_client_record_merges_the_ledger_and_the_chase(org, chased, chase_history):
    rows = timeline.entries(org, client=chased)
    sources = {e.source for e in rows}
    assert {"activity", "reminder", "message", "attempt", "pause"} <= sources
    assert rows == sorted(rows, key=lambda e: e.sort_key, reverse=True)  # newest first
    reminders = [e for e in rows if e.source == "reminder"]
    # Two invoices at +1 (the -3 courtesy step was skipped: it was never sent in time).
    assert {e.invoice_number for e in reminders} == {"F2026-00001", "F2026-00002"}
    # Steps are named in the organisation's language when its policies are installed.
    friendly = Step.objects.get(policy__organisation=org, policy__is_default=True, offset_days=1)
    assert any(friendly.name in e.text for e in reminders)
    email = next(e for e in rows if e.source == "message" and e.label == "Email")
    assert "factures@acme.example" in email.text and "F2026-00001, F2026-00002" in email.text
    assert email.status == "Sent"
    attempt = next(e for e in rows if e.source == "attempt" and "Email" in e.label)
    provider = Attempt.objects.filter(message__channel="email").get().provider_id
    assert provider and provider in attempt.text and " ms" in attempt.text
    pause = next(e for e in rows if e.source == "pause")
    assert "€1,500.00" in pause.text and pause.author == "alice"


def test_the_ledger_timeline_can_be_left_out(org, chased, chase_history):
    rows = timeline.entries(org, client=chased, activities=False)
    assert rows and all(e.source != "activity" for e in rows)


def test_an_invoice_record_holds_its_own_reminders_and_the_messages_carrying_it(
    org, chased, chase_history, make_invoice, run_day
):
    first, _second = chase_history
    later = make_invoice(chased, "90.00", issue_date=ISSUED, due=DUE + timedelta(days=20))
    rows = timeline.entries(org, invoice=later)
    assert not [e for e in rows if e.source in ("reminder", "message")]
    rows = timeline.entries(org, invoice=first)
    assert {e.invoice_number for e in rows if e.source == "reminder"} == {"F2026-00001"}
    assert {e.label for e in rows if e.source == "message"} == {"Email", "SMS"}
    # A pause of the whole client holds this invoice too.
    assert any(e.source == "pause" for e in rows)


def test_the_csv_has_a_row_per_reminder(org, chased, chase_history):
    rows = timeline.entries(org, client=chased)
    table = list(csv.reader(io.StringIO(timeline.as_csv(rows, org.tzinfo))))
    assert table[0] == ["When", "Client", "Invoice", "Type", "Status", "What", "By"]
    steps = [r for r in table[1:] if r[3] == "Reminder step"]
    assert sorted(r[2] for r in steps) == ["F2026-00001", "F2026-00002"]
    assert all(r[1] == "ACME Industries" and r[0].startswith("2026-02-05") for r in steps)
    assert len(table) == len(rows) + 1


def test_the_pdf_is_a_dated_record_of_every_entry(org, chased, chase_history):
    rows = timeline.entries(org, client=chased)
    pdf = timeline.as_pdf(
        rows, "Reminder history: ACME Industries", organisation=org,
        subtitle="ACME Industries", generated_at=datetime(2026, 2, 7, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "Reminder history: ACME Industries" in flat
    assert "Atelier Durand SAS" in flat
    assert "Generated on Feb. 7, 2026, 11 a.m." in flat  # in the organisation's time zone
    assert "F2026-00001" in flat and "F2026-00002" in flat
    assert flat.count("Reminder step") == 2
    assert "factures@acme.example" in flat


def test_a_message_that_failed_says_why(org, chased, make_invoice, run_day, smtp_server):
    make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)
    run_day(DUE + timedelta(days=1))
    smtp_server.reject_with = "550 5.1.1 No such user"
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    rows = timeline.entries(org, client=chased)
    failed = next(e for e in rows if e.source == "message" and e.label == "Email")
    assert failed.status == "Failed" and failed.badge == "bad" and "No such user" in failed.text


# -- the next reminder -----------------------------------------------------------------


def test_the_next_reminder_in_plain_words(org, chased, make_invoice, run_day):
    invoice = make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)
    run_day(ISSUED)
    (nxt,) = timeline.upcoming(invoice, ISSUED)
    # 3 days before the due date is a Sunday: the run of Monday sends it.
    assert nxt.day == date(2026, 2, 2)
    assert nxt.channels == "Email" and nxt.text


def test_the_next_reminder_waits_for_a_pause(org, chased, make_invoice, run_day):
    invoice = make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)
    run_day(DUE + timedelta(days=1))
    today = DUE + timedelta(days=2)
    actions.pause(chased, kind="snooze", today=today, until=date(2026, 2, 16))
    (nxt,) = timeline.upcoming(invoice, today)
    assert nxt.day == date(2026, 2, 16) and "Snooze" in nxt.held
    open_ended = actions.pause(chased, kind="dispute", today=today, reason="Price")
    (nxt,) = timeline.upcoming(invoice, today)
    assert nxt.day is None and "lifts the pause" in nxt.text
    actions.lift(open_ended, today=today)
    (nxt,) = timeline.upcoming(invoice, today)
    assert nxt.day == date(2026, 2, 16)


def test_a_paid_invoice_has_no_next_reminder(org, chased, make_invoice):
    from decimal import Decimal

    from relance.ledger import settlement

    invoice = make_invoice(chased, "120.00", issue_date=ISSUED, due=DUE)
    settlement.record_payment(
        client=chased, amount=Decimal("120.00"), currency="EUR", date=date(2026, 1, 20),
        shares=[settlement.Share(invoice, Decimal("120.00"))],
    )  # fmt: skip
    invoice.refresh_from_db()
    assert timeline.upcoming(invoice, date(2026, 1, 21)) == []
    assert Message.objects.count() == 0
