"""Booking late fees: 48 hours after the notice, once, never on a closed debt."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from relance.dunning import engine
from relance.dunning.models import Reminder
from relance.fees import accrual, booking
from relance.fees.models import FeeSettings, LateFee, ReferenceRate
from relance.ledger import settlement
from relance.ledger.models import Activity, ClientStatus

D = Decimal
pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 3)  # a Monday: the notice (+8) fires on Tuesday 11 March


@pytest.fixture
def late(debtor, make_invoice):
    return make_invoice(debtor, "12000.00", issue_date=date(2025, 2, 1), due=DUE)


def run(org, day):
    engine.run(org, day)
    return booking.book_due(org, day)


def test_fees_wait_48_hours_after_the_notice(org, late):
    run(org, DUE + timedelta(days=1))
    assert run(org, DUE + timedelta(days=8)).booked == 0  # the notice fires
    [notice] = Reminder.objects.filter(invoice=late, kind="late_fee_notice")
    assert notice.fired_on == DUE + timedelta(days=8)
    assert run(org, DUE + timedelta(days=9)).booked == 0  # 24 hours: not yet
    report = run(org, DUE + timedelta(days=10))
    assert report.booked == 2
    interest, indemnity = LateFee.objects.order_by("kind").filter(invoice=late).order_by("-kind")
    assert (indemnity.kind, indemnity.amount) == ("indemnity", D("40.00"))
    # 12000 x 13.15 % x 10 days / 365 = 43.23 (4 to 13 March)
    assert (interest.kind, interest.amount, interest.rate) == ("interest", D("43.23"), D("13.15"))
    assert (interest.period_start, interest.period_end) == (date(2025, 3, 4), date(2025, 3, 13))
    assert "L441-10" in interest.source and "D441-5" in indemnity.source
    assert (
        Activity.objects.filter(
            invoice=late, text__startswith="Pénalités de retard comptabilisées"
        ).count()
        == 1
    )
    # The invoice itself is untouched: a fee is its own document.
    late.refresh_from_db()
    assert (late.total_gross, late.balance) == (D("12000.00"), D("12000.00"))


def test_a_rerun_books_nothing_new(org, late):
    for offset in (1, 8, 10):
        run(org, DUE + timedelta(days=offset))
    assert LateFee.objects.count() == 2
    for _ in range(3):
        assert run(org, DUE + timedelta(days=10)).booked == 0
        assert run(org, DUE + timedelta(days=12)).booked == 0
    assert LateFee.objects.count() == 2


def test_the_database_refuses_a_second_fee_for_the_same_step(org, late):
    for offset in (1, 8, 10):
        run(org, DUE + timedelta(days=offset))
    fee = LateFee.objects.get(invoice=late, kind="interest")
    fee.pk = None
    assert booking._save_once(fee) is False  # (invoice, reminder, kind) is unique
    other = LateFee.objects.get(invoice=late, kind="indemnity")
    other.pk, other.reminder = None, None
    assert booking._save_once(other) is False  # one indemnity per invoice


def test_no_booking_on_a_paid_invoice_or_an_insolvent_client(org, late, debtor):
    run(org, DUE + timedelta(days=1))
    run(org, DUE + timedelta(days=8))
    debtor.status = ClientStatus.INSOLVENT
    debtor.save()
    assert booking.book_due(org, DUE + timedelta(days=10)).booked == 0
    debtor.status = ClientStatus.ACTIVE
    debtor.save()
    settlement.record_payment(
        client=debtor,
        amount=D("12000.00"),
        currency="EUR",
        date=DUE + timedelta(days=9),
        shares=[settlement.Share(late, D("12000.00"))],
        thank=False,
    )
    assert booking.book_due(org, DUE + timedelta(days=10)).booked == 0
    assert not LateFee.objects.exists()


def test_a_partial_payment_lowers_the_base_but_not_the_40(org, late, debtor):
    run(org, DUE + timedelta(days=1))
    run(org, DUE + timedelta(days=8))
    settlement.record_payment(
        client=debtor,
        amount=D("2000.00"),
        currency="EUR",
        date=DUE + timedelta(days=5),
        shares=[settlement.Share(late, D("2000.00"))],
        thank=False,
    )
    run(org, DUE + timedelta(days=10))
    fee = LateFee.objects.get(invoice=late, kind="interest")
    assert [(line["base"], line["days"]) for line in fee.lines] == [
        ("12000.00", 5),
        ("10000.00", 5),
    ]
    assert LateFee.objects.get(invoice=late, kind="indemnity").amount == D("40.00")


def test_consumers_get_no_indemnity(org, late, debtor):
    debtor.kind = "individual"
    debtor.save()
    for offset in (1, 8, 10):
        run(org, DUE + timedelta(days=offset))
    # No formal notice: no interest either.
    assert not LateFee.objects.exists()


def test_a_missing_rate_blocks_then_books_once_imported(org, debtor, make_invoice, tmp_path):
    due = date(2026, 6, 22)  # a Monday; the notice's 48 hours end in July 2026
    invoice = make_invoice(debtor, "1000.00", issue_date=date(2026, 5, 22), due=due)
    run(org, due + timedelta(days=1))
    run(org, due + timedelta(days=8))
    report = run(org, due + timedelta(days=10))
    assert report.booked == 0
    assert report.blocked == [
        f"{invoice.number}: " + str(booking.MissingRate("ECB_MRO", date(2026, 7, 1)))
    ]
    assert "import it with relance import-rates" in report.blocked[0]
    assert accrual.for_invoice(invoice, due + timedelta(days=10)).blocked
    path = tmp_path / "rates.csv"
    path.write_text(
        "series,valid_from,valid_to,rate,source\n"
        "ECB_MRO,2026-02-06,2026-12-31,2.00,ECB press release (test)\n",
        "utf-8",
    )
    call_command("import-rates", str(path))
    assert ReferenceRate.objects.count() == 1
    assert run(org, due + timedelta(days=11)).booked == 2
    fee = LateFee.objects.get(invoice=invoice, kind="interest")
    assert [D(line["rate"]) for line in fee.lines] == [D("12.15"), D("12.00")]


def test_import_rates_is_all_or_nothing_with_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "series,valid_from,valid_to,rate,source\n"
        "ECB_MRO,2026-02-06,2026-12-31,2.00,ok\n"
        "ECB_MRO,2026-13-01,2026-12-31,2.00,bad date\n"
        "BOE_BANK_RATE,2026-02-06,2026-12-31,3,5,too many\n",
        "utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call_command("import-rates", str(path))
    message = str(caught.value)
    assert "nothing imported" in message
    assert "line 3: valid_from and valid_to must be dates" in message
    assert "line 4: 5 columns expected, 6 found" in message
    assert not ReferenceRate.objects.exists()


def test_waive_keeps_the_row_and_the_reason_on_the_timeline(org, late, alice):
    for offset in (1, 8, 10):
        run(org, DUE + timedelta(days=offset))
    fee = LateFee.objects.get(invoice=late, kind="indemnity")
    with pytest.raises(booking.WaiveError):
        booking.waive(fee, reason="  ", today=DUE + timedelta(days=11), author=alice)
    booking.waive(fee, reason="Paid at once", today=DUE + timedelta(days=11), author=alice)
    fee.refresh_from_db()
    assert fee.is_waived and fee.waived_reason == "Paid at once" and fee.waived_by == alice
    assert Activity.objects.filter(invoice=late, text__contains="Paid at once").count() == 1
    with pytest.raises(booking.WaiveError):
        booking.waive(fee, reason="again", today=DUE + timedelta(days=11))
    got = accrual.for_invoice(late, DUE + timedelta(days=11))
    assert got.indemnity == 0 and got.waived == D("40.00")
    assert got.booked == LateFee.objects.get(invoice=late, kind="interest").amount


def test_contractual_rate_under_the_floor_blocks_booking(org, late):
    FeeSettings.objects.create(organisation=org, policy="contractual", contract_rate=D("5"))
    for offset in (1, 8):
        run(org, DUE + timedelta(days=offset))
    report = run(org, DUE + timedelta(days=10))
    assert report.booked == 0 and "L441-10" in report.blocked[0]


def test_the_run_command_books_fees(org, late, capsys):
    for offset in (1, 8):
        run(org, DUE + timedelta(days=offset))
    call_command("run", "--as-of", (DUE + timedelta(days=10)).isoformat(), "--no-send")
    assert "late fees booked: 2" in capsys.readouterr().out
    assert LateFee.objects.filter(invoice=late).count() == 2


def test_a_crash_while_booking_leaves_nothing_and_the_next_run_books_once(org, late, monkeypatch):
    for offset in (1, 8):
        run(org, DUE + timedelta(days=offset))
    real = booking.record

    def crash(**kwargs):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(booking, "record", crash)
    with pytest.raises(RuntimeError):
        booking.book_due(org, DUE + timedelta(days=10))
    assert not LateFee.objects.exists()  # the fees and their timeline entry go together
    monkeypatch.setattr(booking, "record", real)
    assert booking.book_due(org, DUE + timedelta(days=11)).booked == 2
    assert booking.book_due(org, DUE + timedelta(days=11)).booked == 0
    # Booked as of the day the notice expired, whichever day the run caught up.
    assert set(LateFee.objects.values_list("booked_on", flat=True)) == {DUE + timedelta(days=10)}
