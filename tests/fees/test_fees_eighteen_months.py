"""Must show: the daily run over 18 months of one late invoice books each fee
exactly once, with the right rate per half-year."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from relance.dunning import scheduler
from relance.dunning.models import Reminder
from relance.fees import accrual, booking
from relance.fees.models import LateFee
from relance.ledger import settlement

D = Decimal
pytestmark = pytest.mark.django_db(transaction=False)

PARIS = ZoneInfo("Europe/Paris")
DUE = date(2024, 12, 31)
LAST = date(2026, 6, 30)  # the shipped table ends with H1 2026
# Statutory French B2B rate: ECB on 1 January / 1 July + 10 points.
EXPECTED_RATE = {(2025, 1): D("13.15"), (2025, 2): D("12.15"), (2026, 1): D("12.15")}


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=PARIS)


def test_eighteen_months_of_daily_runs_book_each_fee_once(debtor, make_invoice):
    invoice = make_invoice(debtor, "10000.00", issue_date=date(2024, 12, 1), due=DUE)
    day = DUE
    while day <= LAST:
        if day == date(2025, 10, 15):
            settlement.record_payment(
                client=debtor,
                amount=D("4000.00"),
                currency="EUR",
                date=day,
                shares=[settlement.Share(invoice, D("4000.00"))],
                thank=False,
            )
        scheduler.tick(at(day))
        day += timedelta(days=1)

    notices = list(
        Reminder.objects.filter(invoice=invoice, kind="late_fee_notice", status="fired").order_by(
            "fired_on"
        )
    )
    booked_notices = [r for r in notices if booking.effective_day(r) <= LAST]
    assert len(booked_notices) >= 17  # every 30 days over 18 months

    fees = list(LateFee.objects.filter(invoice=invoice).order_by("booked_on", "kind"))
    indemnities = [f for f in fees if f.kind == "indemnity"]
    assert [(f.amount, f.booked_on) for f in indemnities] == [
        (D("40.00"), booking.effective_day(notices[0]))
    ]
    interest = [f for f in fees if f.kind == "interest"]
    # One interest document per expired notice, each booked on its notice's day + 2.
    assert [f.reminder_id for f in interest] == [r.pk for r in booked_notices]
    assert [f.booked_on for f in interest] == [booking.effective_day(r) for r in booked_notices]
    # Contiguous periods from the day after the due date, no day twice.
    assert interest[0].period_start == DUE + timedelta(days=1)
    for before, after in itertools.pairwise(interest):
        assert after.period_start == before.period_end + timedelta(days=1)
    days = [
        date.fromisoformat(line["from"]) + timedelta(days=n)
        for fee in interest
        for line in fee.lines
        for n in range(line["days"])
    ]
    assert len(days) == len(set(days)) == (interest[-1].period_end - DUE).days
    # The right rate per half-year, and the base drops the day after the payment.
    for fee in interest:
        for line in fee.lines:
            start, end = date.fromisoformat(line["from"]), date.fromisoformat(line["to"])
            half = (start.year, 1 if start.month <= 6 else 2)
            assert (end.year, 1 if end.month <= 6 else 2) == half
            assert D(line["rate"]) == EXPECTED_RATE[half], line
            expected_base = D("10000.00") if end <= date(2025, 10, 15) else D("6000.00")
            assert D(line["base"]) == expected_base, line
            assert D(line["amount"]) == (
                D(line["base"]) * D(line["rate"]) * line["days"] / 36500
            ).quantize(D("0.01"))
    # What was booked is what the live accrual says, to the cent per period.
    live = accrual.for_invoice(invoice, interest[-1].period_end)
    assert abs(sum(f.amount for f in interest) - live.interest) <= D("0.01") * len(interest)
    assert live.booked == sum(f.amount for f in fees)

    # Rerunning every booking day books nothing more.
    count = LateFee.objects.count()
    for notice in booked_notices:
        assert booking.book_due(invoice.organisation, booking.effective_day(notice)).booked == 0
    assert LateFee.objects.count() == count
