"""The reminder ladder (rules.ladder): dates, checks and decisions, by hand and by properties.

Dates are French: 14 July 2026 is a Tuesday, 25 December 2026 a Friday.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules.ladder import (
    CLOSED,
    FOREVER,
    Hold,
    Ladder,
    Problem,
    Receivable,
    StepRule,
    cycle_hold,
    expand,
    firmest,
    min_amounts_from,
    offset_parts,
    problems,
    shift,
)


def step(position: int, offset: int, **kwargs) -> StepRule:
    return StepRule(key=position, position=position, offset_days=offset, **kwargs)


# The shipped "Standard B2B" ladder (dunning.defaults.STANDARD_B2B), as the rules see it.
STANDARD = (
    step(1, -3, template="before_due"),
    step(2, 1, channels=("email", "sms")),
    step(3, 4, channels=("call",), kind="call"),
    step(4, 8, tone="firm", kind="late_fee_notice", template="late_fee_notice"),
    step(5, 11, tone="firm", template="firm", repeat_every=7, repeat_max=6),
    step(6, 14, channels=("call",), tone="firm", kind="call", repeat_every=7, repeat_max=6),
)
DUE = date(2026, 2, 4)  # a Wednesday
ISSUED = date(2026, 1, 5)


def receivable(**kwargs) -> Receivable:
    values = {
        "due_date": DUE,
        "balance": Decimal("1200.00"),
        "currency": "EUR",
        "start": ISSUED,
    }
    values.update(kwargs)
    return Receivable(**values)


def plan(event) -> tuple[int, int]:
    """(offset in days from the due date, occurrence) of an event, for readable asserts."""
    return ((event.on - DUE).days, event.occurrence)


# -- shifting dates -------------------------------------------------------------


def test_calendar_days_ignore_weekends_and_holidays():
    assert shift(date(2026, 7, 10), 4, False, "FR") == date(2026, 7, 14)
    assert shift(date(2026, 7, 14), -3, False, "FR") == date(2026, 7, 11)
    assert shift(date(2026, 12, 25), 0, False, "FR") == date(2026, 12, 25)


def test_business_days_skip_weekends_and_the_14th_of_july():
    friday = date(2026, 7, 10)
    assert shift(friday, 1, True, "FR") == date(2026, 7, 13)  # Monday
    assert shift(friday, 2, True, "FR") == date(2026, 7, 15)  # Tuesday 14 is a holiday
    assert shift(date(2026, 7, 15), -1, True, "FR") == date(2026, 7, 13)
    assert shift(date(2026, 7, 13), -1, True, "FR") == friday


def test_business_days_around_christmas():
    # Christmas Friday, then the weekend: the next business day is Monday 28.
    assert shift(date(2026, 12, 24), 1, True, "FR") == date(2026, 12, 28)
    assert shift(date(2026, 12, 28), -1, True, "FR") == date(2026, 12, 24)


def test_zero_business_days_on_a_day_off_rolls_forward():
    assert shift(date(2026, 12, 26), 0, True, "FR") == date(2026, 12, 28)  # Saturday
    assert shift(date(2026, 7, 14), 0, True, "FR") == date(2026, 7, 15)
    assert shift(date(2026, 7, 15), 0, True, "FR") == date(2026, 7, 15)


def test_holidays_are_the_country_s_own():
    # 14 July is no holiday in Germany.
    assert shift(date(2026, 7, 13), 1, True, "DE") == date(2026, 7, 14)
    assert shift(date(2026, 7, 13), 1, True, "FR") == date(2026, 7, 15)


def test_expand_sorts_events_and_counts_repeats():
    events = expand(STANDARD, DUE, "FR")
    assert [(plan(e), e.position) for e in events[:6]] == [
        ((-3, 0), 1),
        ((1, 0), 2),
        ((4, 0), 3),
        ((8, 0), 4),
        ((11, 0), 5),
        ((14, 0), 6),
    ]
    # Each repeated step fires once and six more times, a week apart.
    assert len(events) == 4 + 7 + 7
    firm = [(e.on - DUE).days for e in events if e.position == 5]
    assert firm == [11, 18, 25, 32, 39, 46, 53]
    assert [e.key for e in events] == sorted(e.key for e in events)


def test_expand_in_business_days_rolls_repeats_off_holidays():
    # Due Monday 6 July: one business day later is Tuesday 7; a week later is 14 July.
    rule = step(1, 1, business_days=True, repeat_every=7, repeat_max=2)
    assert [e.on for e in expand([rule], date(2026, 7, 6), "FR")] == [
        date(2026, 7, 7),
        date(2026, 7, 15),
        date(2026, 7, 21),
    ]
    calendar = step(1, 1, repeat_every=7, repeat_max=1)
    assert [e.on for e in expand([calendar], date(2026, 7, 6), "FR")] == [
        date(2026, 7, 7),
        date(2026, 7, 14),
    ]


def test_a_step_before_the_due_date_in_business_days():
    # Due Monday 28 December: three business days before is Tuesday 22 (25 is Christmas).
    rule = step(1, -3, business_days=True)
    assert [e.on for e in expand([rule], date(2026, 12, 28), "FR")] == [date(2026, 12, 22)]


# -- the client's payment cycle ------------------------------------------------------


def test_no_cycle_no_hold():
    assert cycle_hold(DUE, None, None) is None
    assert cycle_hold(DUE, 0, 10) is None


def test_cycle_without_a_day_waits_one_cycle_and_a_day():
    assert cycle_hold(date(2026, 2, 4), 1, None) == date(2026, 3, 5)
    assert cycle_hold(date(2026, 1, 31), 1, None) == date(2026, 3, 1)  # 28 Feb + 1


def test_cycle_day_later_in_the_month_the_cycle_ends():
    # Pays around the 10th: due 4 Feb, one month on is 4 March; the 10th of March has not passed.
    assert cycle_hold(date(2026, 2, 4), 1, 10) == date(2026, 3, 11)


def test_cycle_day_already_past_moves_to_the_next_month():
    # Pays around the 1st: 1 March is before 4 March, so 1 April, and the ladder acts on the 2nd.
    assert cycle_hold(date(2026, 2, 4), 1, 1) == date(2026, 4, 2)


def test_cycle_day_clamped_to_a_short_month():
    assert cycle_hold(date(2026, 1, 15), 1, 31) == date(2026, 3, 1)  # 28 February + 1
    assert cycle_hold(date(2026, 1, 15), 2, 30) == date(2026, 3, 31)


# -- checking a policy --------------------------------------------------------------


def test_the_standard_ladder_is_valid():
    assert problems(STANDARD) == []


def test_steps_out_of_order_are_refused():
    assert problems([step(1, 8), step(2, 1)]) == [Problem("order", 2)]


def test_two_steps_on_the_same_day_collide():
    assert problems([step(1, 1), step(2, 1, channels=("sms",))]) == [Problem("collision", 2)]


@pytest.mark.parametrize(
    ("every", "times"),
    [(7, 0), (None, 3), (0, 0), (0, 2)],
    ids=["every-without-times", "times-without-every", "every-zero", "every-zero-with-times"],
)
def test_a_bad_repeat_is_refused(every, times):
    assert problems([step(1, 11, repeat_every=every, repeat_max=times)]) == [Problem("repeat", 1)]


def test_bad_channels_tone_kind_and_minimum_are_refused():
    assert problems([step(1, 1, channels=())]) == [Problem("channels", 1)]
    assert problems([step(1, 1, channels=("email", "fax"))]) == [Problem("channels", 1)]
    assert problems([step(1, 1, tone="rude")]) == [Problem("tone", 1)]
    assert problems([step(1, 1, kind="seizure")]) == [Problem("kind", 1)]
    negative = step(1, 1, min_amounts=(("EUR", Decimal("-1")),))
    assert problems([negative]) == [Problem("condition", 1)]


# -- deciding: what fires and when -------------------------------------------------------


def test_nothing_before_the_first_step_then_the_courtesy_reminder():
    ladder = Ladder(STANDARD)
    early = ladder.decide(receivable(), None, date(2026, 1, 31))
    assert early.fire is None and early.next_on == date(2026, 2, 1)
    courtesy = ladder.decide(receivable(), None, date(2026, 2, 1))
    assert plan(courtesy.fire) == (-3, 0) and courtesy.fire.step.template == "before_due"
    assert courtesy.skipped == () and courtesy.next_on == date(2026, 2, 5)


def test_due_on_or_before_today_not_date_equals_today():
    """A run that comes a day late still fires the step it missed (never "date equals today")."""
    ladder = Ladder(STANDARD)
    after_courtesy = (date(2026, 2, 1), 1, 0)
    late = ladder.decide(receivable(), after_courtesy, date(2026, 2, 6))
    assert plan(late.fire) == (1, 0)
    assert late.next_on == date(2026, 2, 8)


def test_a_rerun_once_the_step_is_done_fires_nothing():
    ladder = Ladder(STANDARD)
    first = ladder.decide(receivable(), None, date(2026, 2, 1))
    again = ladder.decide(receivable(), first.cursor, date(2026, 2, 1))
    assert again.fire is None and again.next_on == date(2026, 2, 5)


def test_missed_days_collapse_to_the_highest_step_due():
    ladder = Ladder(STANDARD)
    after_courtesy = (date(2026, 2, 1), 1, 0)
    decision = ladder.decide(receivable(), after_courtesy, date(2026, 2, 13))
    assert plan(decision.fire) == (8, 0)  # the late-fee notice, not a stale friendly email
    assert [plan(e) for e in decision.skipped] == [(1, 0), (4, 0)]
    assert decision.next_on == date(2026, 2, 15)
    assert decision.cursor == (date(2026, 2, 12), 4, 0)


def test_a_first_run_weeks_late_fires_only_the_latest_repeat():
    decision = Ladder(STANDARD).decide(receivable(), None, date(2026, 3, 3))  # +27
    assert (plan(decision.fire), decision.fire.position) == ((25, 2), 5)
    overdue_skipped = [plan(e) for e in decision.skipped if e.on > DUE]
    assert overdue_skipped == [(1, 0), (4, 0), (8, 0), (11, 0), (14, 0), (18, 1), (21, 1)]
    assert decision.next_on == date(2026, 3, 4)  # the follow-up call at +28 (14 + 2 x 7)


def test_nothing_fires_on_the_day_the_invoice_was_received():
    # Sent on the day of the courtesy reminder: it is dropped, not sent with the invoice.
    ladder = Ladder(STANDARD)
    same_day = ladder.decide(receivable(start=date(2026, 2, 1)), None, date(2026, 2, 1))
    assert same_day.fire is None and same_day.next_on == date(2026, 2, 5)
    later = ladder.decide(receivable(start=date(2026, 2, 1)), None, date(2026, 2, 5))
    assert plan(later.fire) == (1, 0) and later.skipped == ()


def test_a_step_falling_on_the_day_the_invoice_was_sent_waits_a_day():
    sent_late = receivable(start=date(2026, 2, 5))  # sent the day after its due date
    ladder = Ladder(STANDARD)
    assert ladder.decide(sent_late, None, date(2026, 2, 5)).fire is None
    assert ladder.decide(sent_late, None, date(2026, 2, 5)).next_on == date(2026, 2, 6)
    decision = ladder.decide(sent_late, None, date(2026, 2, 6))
    assert plan(decision.fire) == (1, 0) and decision.skipped == ()


def test_a_courtesy_reminder_before_the_invoice_was_sent_is_dropped():
    # Issued two days before its due date: "due in 3 days" would have come before the invoice.
    short = receivable(start=date(2026, 2, 2))
    decision = Ladder(STANDARD).decide(short, None, date(2026, 2, 2))
    assert decision.fire is None and decision.next_on == date(2026, 2, 5)


def test_a_reminder_before_the_due_date_is_dropped_once_the_date_has_passed():
    """The run was missed from the courtesy day to past the due date: "your invoice falls due
    on <a past day>" is not sent; the ladder waits for its next step."""
    ladder = Ladder([step(1, -3, template="before_due"), step(2, 8, tone="firm")])
    decision = ladder.decide(receivable(), None, date(2026, 2, 6))  # due date + 2
    assert decision.fire is None
    assert decision.next_on == date(2026, 2, 12)


def test_a_reminder_before_the_due_date_still_goes_on_the_due_date():
    ladder = Ladder([step(1, -3, template="before_due"), step(2, 8, tone="firm")])
    decision = ladder.decide(receivable(), None, DUE)
    assert plan(decision.fire) == (-3, 0)


def test_repeats_every_n_days_at_most_m_times():
    ladder = Ladder([step(1, 1), step(2, 10, tone="firm", repeat_every=3, repeat_max=2)])
    cursor = None
    fired = []
    day = DUE
    while day <= DUE + timedelta(days=60):
        decision = ladder.decide(receivable(), cursor, day)
        if decision.fire:
            fired.append(plan(decision.fire))
            cursor = decision.cursor
        day += timedelta(days=1)
    assert fired == [(1, 0), (10, 0), (13, 1), (16, 2)]
    assert ladder.decide(receivable(), cursor, DUE + timedelta(days=60)).next_on is None


def test_a_paid_receivable_is_closed():
    assert Ladder(STANDARD).decide(receivable(balance=Decimal("0")), None, DUE) is CLOSED
    assert CLOSED.next_on is None and CLOSED.fire is None


# -- conditions ---------------------------------------------------------------------------


def test_minimum_amount_per_currency():
    rule = step(1, 1, min_amounts=min_amounts_from({"EUR": "50", "GBP": Decimal("40")}))
    ladder = Ladder([rule])
    day = DUE + timedelta(days=1)
    assert ladder.decide(receivable(balance=Decimal("49.99")), None, day).fire is None
    assert ladder.decide(receivable(balance=Decimal("50.00")), None, day).fire is not None
    # No minimum set for dollars: any amount.
    small_usd = receivable(balance=Decimal("1.00"), currency="USD")
    assert ladder.decide(small_usd, None, day).fire is not None
    small_gbp = receivable(balance=Decimal("39"), currency="GBP")
    assert ladder.decide(small_gbp, None, day).fire is None


def test_a_step_below_its_minimum_is_passed_over_for_the_next():
    ladder = Ladder(
        [
            step(1, 1),
            step(2, 8, tone="firm", min_amounts=(("EUR", Decimal("100")),)),
            step(3, 15, tone="firm"),
        ]
    )
    small = receivable(balance=Decimal("80"))
    after_first = (DUE + timedelta(days=1), 1, 0)
    on_eight = ladder.decide(small, after_first, DUE + timedelta(days=8))
    assert on_eight.fire is None and on_eight.next_on == DUE + timedelta(days=15)
    on_fifteen = ladder.decide(small, after_first, DUE + timedelta(days=15))
    assert plan(on_fifteen.fire) == (15, 0)
    assert on_fifteen.skipped == ()  # a step that does not apply is not "skipped"


def test_client_kind_and_risk_conditions():
    ladder = Ladder(
        [
            step(1, 1, client_kind="company"),
            step(2, 2, client_kind="individual"),
            step(3, 3, risk_levels=frozenset({"high"})),
        ]
    )
    day = DUE + timedelta(days=3)
    company = ladder.decide(receivable(client_kind="company"), None, day)
    assert company.fire.position == 1 and company.skipped == ()
    person = ladder.decide(receivable(client_kind="individual"), None, day)
    assert person.fire.position == 2 and [e.position for e in person.skipped] == []
    risky = ladder.decide(receivable(risk="high"), None, day)
    assert risky.fire.position == 3 and [e.position for e in risky.skipped] == [1]


# -- pauses and cycles -----------------------------------------------------------------------


def test_a_pause_holds_every_step_until_its_day():
    ladder = Ladder(STANDARD)
    hold = Hold(paused_until=date(2026, 2, 20))
    held = ladder.decide(receivable(), None, date(2026, 2, 13), hold)
    assert held.fire is None and held.held == "paused" and held.next_on == date(2026, 2, 20)
    resumed = ladder.decide(receivable(), None, date(2026, 2, 20), hold)
    # It resumes at once at the highest step due, without back-dating the ones it held.
    assert plan(resumed.fire) == (14, 0)
    assert resumed.held == ""


def test_a_pause_without_end_waits_for_a_person():
    held = Ladder(STANDARD).decide(receivable(), None, date(2026, 2, 13), Hold(FOREVER))
    assert held.fire is None and held.held == "paused" and held.next_on is None


def test_the_client_cycle_holds_only_steps_after_the_due_date():
    ladder = Ladder(STANDARD)
    hold = Hold(overdue_not_before=date(2026, 3, 11))
    courtesy = ladder.decide(receivable(), None, date(2026, 2, 1), hold)
    assert plan(courtesy.fire) == (-3, 0)
    held = ladder.decide(receivable(), courtesy.cursor, date(2026, 2, 13), hold)
    assert held.fire is None and held.held == "cycle" and held.next_on == date(2026, 3, 11)
    acting = ladder.decide(receivable(), courtesy.cursor, date(2026, 3, 11), hold)
    assert acting.fire is not None and acting.fire.on <= date(2026, 3, 11)


# -- small helpers ----------------------------------------------------------------------


def test_firmest_tone_and_plain_offsets():
    assert firmest(["friendly", "formal", "firm"]) == "formal"
    assert firmest(["friendly", "firm"]) == "firm"
    assert offset_parts(-3) == ("before", 3)
    assert offset_parts(0) == ("on", 0)
    assert offset_parts(8) == ("after", 8)


# -- properties -------------------------------------------------------------------------


@st.composite
def ladders(draw) -> list[StepRule]:
    offsets = sorted(draw(st.sets(st.integers(-10, 40), min_size=1, max_size=6)))
    found = []
    for position, offset in enumerate(offsets, start=1):
        every = draw(st.one_of(st.none(), st.integers(1, 10)))
        found.append(
            step(
                position,
                offset,
                business_days=draw(st.booleans()),
                tone=draw(st.sampled_from(("friendly", "firm", "formal"))),
                repeat_every=every,
                repeat_max=draw(st.integers(1, 4)) if every else 0,
                min_amounts=draw(
                    st.sampled_from(((), (("EUR", Decimal("100")),), (("USD", Decimal("5")),)))
                ),
            )
        )
    assert problems(found) == []
    return found


@st.composite
def situations(draw):
    due = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))

    def around(low: int, high: int):
        return st.one_of(st.none(), st.integers(low, high).map(lambda n: due + timedelta(days=n)))

    rec = Receivable(
        due_date=due,
        balance=draw(st.sampled_from((Decimal("20"), Decimal("150")))),
        currency=draw(st.sampled_from(("EUR", "USD"))),
        start=draw(around(-40, 10)),
    )
    hold = Hold(paused_until=draw(around(-5, 30)), overdue_not_before=draw(around(0, 40)))
    return rec, hold


@given(
    ladders(),
    situations(),
    st.lists(st.integers(1, 6), min_size=1, max_size=40),
)
def test_no_event_fires_twice_and_fired_events_come_in_order(steps, situation, gaps):
    rec, hold = situation
    ladder = Ladder(steps)
    cursor = None
    done: set[tuple] = set()
    fired: list[tuple] = []
    day = rec.due_date - timedelta(days=15)
    for gap in gaps:
        day += timedelta(days=gap)
        decision = ladder.decide(rec, cursor, day, hold)
        assert decision.next_on is None or decision.next_on > day
        if decision.fire is None:
            assert decision.skipped == ()
            continue
        assert decision.fire.on <= day
        keys = [e.key for e in decision.skipped] + [decision.fire.key]
        assert keys == sorted(set(keys))
        assert all(cursor is None or key > cursor for key in keys)
        assert not done & set(keys)
        done |= set(keys)
        fired.append(decision.fire.key)
        cursor = decision.cursor
    assert fired == sorted(set(fired))


@given(ladders(), situations(), st.integers(0, 70))
def test_day_by_day_and_one_jump_end_on_the_same_event(steps, situation, days):
    rec, hold = situation
    target = rec.due_date - timedelta(days=12) + timedelta(days=days)
    ladder = Ladder(steps)
    cursor = None
    day = rec.due_date - timedelta(days=12)
    while day <= target:
        decision = ladder.decide(rec, cursor, day, hold)
        if decision.fire is not None:
            cursor = decision.cursor
        day += timedelta(days=1)
    jump = Ladder(steps).decide(rec, None, target, hold)
    jumped = jump.cursor if jump.fire else None
    if jumped != cursor:
        # The one allowed difference: a courtesy reminder (a step before the due date, or one
        # of its repeats) the daily runs sent by the due date, which a first look after that
        # date must not send.
        assert jumped is None and target > rec.due_date
        assert cursor is not None and cursor[0] <= rec.due_date
        assert steps[cursor[1] - 1].before_due


@given(ladders(), situations(), st.integers(0, 70))
def test_next_on_is_the_first_day_something_can_fire(steps, situation, days):
    """Looking only on ``next_on`` (as the daily run does) misses nothing looking daily would
    fire: the engine reads a chase again only on that day."""
    rec, hold = situation
    start = rec.due_date - timedelta(days=12)
    end = start + timedelta(days=days)
    ladder = Ladder(steps)
    daily_cursor = None
    sparse_cursor = None
    sparse_next: date | None = start
    day = start
    while day <= end:
        decision = ladder.decide(rec, daily_cursor, day, hold)
        if decision.fire is not None:
            daily_cursor = decision.cursor
        if sparse_next is not None and sparse_next <= day:
            sparse = ladder.decide(rec, sparse_cursor, day, hold)
            if sparse.fire is not None:
                sparse_cursor = sparse.cursor
            sparse_next = sparse.next_on
        assert sparse_cursor == daily_cursor, day
        day += timedelta(days=1)
