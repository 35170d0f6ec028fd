"""The reminder ladder: which step of a policy fires for a receivable, and when.

Pure rules, no Django. A policy is an ordered list of steps, each dated by an
offset in days from the due date (negative = before it), optionally counted in
business days, optionally repeated every N days at most M times. Expanding the
steps over one due date gives a sorted list of *events*; a receivable keeps a
cursor on the last event that fired.

The decision is "due on or before today and not yet done", never "date equals
today": after missed days the run catches up by firing only the highest event
due (the firmest), and records the lower ones as skipped, so nothing is sent
back-dated and nothing twice. Nothing fires on the day the client received the
invoice, and a reminder "before the due date" is dropped once that date has
passed or when it falls before the invoice was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from relance.rules.terms import add_months, is_business_day

TONES = ("friendly", "firm", "formal")
TONE_RANK = {tone: rank for rank, tone in enumerate(TONES)}
CHANNELS = ("email", "sms", "letter", "call")
KINDS = (
    "message",
    "call",
    "late_fee_notice",
    "work_stop",
    "formal_notice",
    "handoff",
    "write_off_proposal",
)
FOREVER = date.max


@dataclass(frozen=True)
class StepRule:
    """One rung of a ladder, as the rules see it."""

    key: int
    position: int
    offset_days: int
    channels: tuple[str, ...] = ("email",)
    tone: str = "friendly"
    kind: str = "message"
    template: str = "friendly"
    business_days: bool = False
    needs_approval: bool = False
    repeat_every: int | None = None
    repeat_max: int = 0
    # Minimum balance per currency for the step to fire; a currency absent here has no minimum.
    min_amounts: tuple[tuple[str, Decimal], ...] = ()
    client_kind: str = ""  # "" = any, else "company" or "individual"
    risk_levels: frozenset[str] = frozenset()  # empty = any

    @property
    def before_due(self) -> bool:
        return self.offset_days < 0

    def min_amount(self, currency: str) -> Decimal | None:
        for code, amount in self.min_amounts:
            if code == currency:
                return amount
        return None


@dataclass(frozen=True, order=True)
class Event:
    """One dated firing of a step: occurrence 0 is the step itself, 1… its repeats."""

    on: date
    position: int
    occurrence: int
    step: StepRule = field(compare=False)

    @property
    def key(self) -> tuple[date, int, int]:
        return (self.on, self.position, self.occurrence)


@dataclass(frozen=True)
class Receivable:
    """What the ladder needs to know about an invoice or one of its installments."""

    due_date: date
    balance: Decimal
    currency: str
    client_kind: str = "company"
    risk: str = "normal"
    # The day the client received the invoice: nothing fires on or before it.
    start: date | None = None


NO_CURSOR: tuple[date, int, int] = (date.min, -1, -1)


@dataclass(frozen=True)
class Hold:
    """Why the ladder may not act yet.

    ``paused_until``: a pause (dispute, promise, snooze, payment plan) holds every
    step until that day (``FOREVER`` when open-ended). ``overdue_not_before``: the
    client's usual payment cycle holds the steps after the due date until then.
    """

    paused_until: date | None = None
    overdue_not_before: date | None = None


NO_HOLD = Hold()


@dataclass(frozen=True)
class Decision:
    fire: Event | None
    skipped: tuple[Event, ...]
    next_on: date | None  # when to look at this receivable again (None: nothing left to do)
    held: str = ""  # "", "paused" or "cycle"

    @property
    def cursor(self) -> tuple[date, int, int] | None:
        """The new cursor, when an event fired."""
        return self.fire.key if self.fire else None


CLOSED = Decision(None, (), None)


# -- dates --------------------------------------------------------------------


def shift(start: date, days: int, business_days: bool, country: str) -> date:
    """``start`` moved by ``days`` (negative = earlier), in calendar or business days.

    In business days the result is the |days|-th business day after (or before)
    ``start``; zero days on a non-business day rolls forward to the next one.
    """
    if not business_days:
        return start + timedelta(days=days)
    step = 1 if days >= 0 else -1
    d, left = start, abs(days)
    if left == 0:
        while not is_business_day(d, country):
            d += timedelta(days=1)
        return d
    while left:
        d += timedelta(days=step)
        if is_business_day(d, country):
            left -= 1
    return d


def expand(steps: Sequence[StepRule], due: date, country: str) -> tuple[Event, ...]:
    """Every event of the ladder for one due date, in firing order."""
    found: list[Event] = []
    for step in steps:
        first = shift(due, step.offset_days, step.business_days, country)
        found.append(Event(first, step.position, 0, step))
        if step.repeat_every:
            for n in range(1, step.repeat_max + 1):
                on = first + timedelta(days=n * step.repeat_every)
                if step.business_days:
                    on = shift(on, 0, True, country)
                found.append(Event(on, step.position, n, step))
    found.sort()
    return tuple(found)


def cycle_hold(due: date, cycle_months: int | None, cycle_day: int | None) -> date | None:
    """The first day the steps after the due date may act for a client with a
    usual payment cycle (seed 004: let one full cycle pass before acting).

    A client who pays every ``cycle_months`` months around day ``cycle_day`` is
    left alone until one full cycle after the due date has passed: the next
    usual payment day at least ``cycle_months`` months away, plus one day to let
    the payment arrive.
    """
    if not cycle_months:
        return None
    end = add_months(due, cycle_months)
    if cycle_day:
        # The usual payment day in the month the cycle ends (clamped to its length),
        # or the next month's when that day is already past.
        candidate = _day_in_month(end.replace(day=1), cycle_day)
        if candidate < end:
            candidate = _day_in_month(add_months(end.replace(day=1), 1), cycle_day)
        end = candidate
    return end + timedelta(days=1)


def _day_in_month(first: date, day: int) -> date:
    last = (add_months(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(day, last))


# -- checking a policy -------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str  # order, collision, repeat, channels, tone, kind, condition
    position: int


def problems(steps: Sequence[StepRule]) -> list[Problem]:
    """What is wrong with a ladder (empty when it is valid).

    Steps must be in the order they fire (strictly increasing offsets), so the
    ladder reads top to bottom as it happens and no two steps share a day.
    """
    found: list[Problem] = []
    previous: StepRule | None = None
    for step in steps:
        if previous is not None:
            if step.offset_days == previous.offset_days:
                found.append(Problem("collision", step.position))
            elif step.offset_days < previous.offset_days:
                found.append(Problem("order", step.position))
        if not step.channels or any(c not in CHANNELS for c in step.channels):
            found.append(Problem("channels", step.position))
        if step.tone not in TONE_RANK:
            found.append(Problem("tone", step.position))
        if step.kind not in KINDS:
            found.append(Problem("kind", step.position))
        if (step.repeat_max > 0) != bool(step.repeat_every) or (
            step.repeat_every is not None and step.repeat_every < 1
        ):
            found.append(Problem("repeat", step.position))
        if any(amount < 0 for _, amount in step.min_amounts):
            found.append(Problem("condition", step.position))
        previous = step
    return found


# -- deciding --------------------------------------------------------------------


def applies(step: StepRule, receivable: Receivable) -> bool:
    """The step's conditions (client kind, risk level, minimum amount)."""
    if step.client_kind and step.client_kind != receivable.client_kind:
        return False
    if step.risk_levels and receivable.risk not in step.risk_levels:
        return False
    minimum = step.min_amount(receivable.currency)
    return minimum is None or receivable.balance >= minimum


class Ladder:
    """A policy's steps, ready to decide for many receivables.

    Decisions are memoised: receivables that share a due date, a cursor and the
    outcome of every condition get the same answer, so a day with a million
    due invoices costs a dictionary lookup for most of them.
    """

    def __init__(self, steps: Iterable[StepRule], country: str = "FR") -> None:
        self.steps = tuple(sorted(steps, key=lambda s: s.position))
        self.country = country
        self._events: dict[date, tuple[Event, ...]] = {}
        self._decisions: dict[tuple, Decision] = {}
        self._thresholds: dict[str, tuple[Decimal, ...]] = {}
        self._conditional = any(s.client_kind or s.risk_levels or s.min_amounts for s in self.steps)

    def events(self, due: date) -> tuple[Event, ...]:
        found = self._events.get(due)
        if found is None:
            found = self._events[due] = expand(self.steps, due, self.country)
        return found

    def _signature(self, receivable: Receivable) -> tuple:
        if not self._conditional:
            return ()
        return tuple(applies(step, receivable) for step in self.steps)

    def decide(
        self,
        receivable: Receivable,
        cursor: tuple[date, int, int] | None,
        as_of: date,
        hold: Hold = NO_HOLD,
    ) -> Decision:
        return self.decide_values(
            receivable.due_date, receivable.balance, receivable.currency,
            receivable.client_kind, receivable.risk, receivable.start, cursor, as_of, hold,
        )  # fmt: skip

    def decide_values(
        self,
        due_date: date,
        balance: Decimal,
        currency: str,
        client_kind: str,
        risk: str,
        start: date | None,
        cursor: tuple[date, int, int] | None,
        as_of: date,
        hold: Hold = NO_HOLD,
    ) -> Decision:
        """``decide`` from the receivable's values: the daily run calls it a million
        times, and a memo hit then builds no ``Receivable``."""
        if balance <= 0:
            return CLOSED
        events = self._events.get(due_date)
        if events is None:
            events = self.events(due_date)
        if not events:
            return CLOSED
        if start is not None and start < events[0].on:
            start = None  # earlier than every event: it changes nothing, share the memo
        receivable = None
        signature: tuple = ()
        if self._conditional:
            receivable = Receivable(due_date, balance, currency, client_kind, risk, start)
            signature = self._signature(receivable)
        key = (due_date, cursor or NO_CURSOR, as_of, start, hold, signature)
        decision = self._decisions.get(key)
        if decision is None:
            if receivable is None:
                receivable = Receivable(due_date, balance, currency, client_kind, risk, start)
            decision = self._decide(receivable, events, cursor or NO_CURSOR, as_of, start, hold)
            if len(self._decisions) > 200_000:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def _decide(
        self,
        receivable: Receivable,
        events: tuple[Event, ...],
        cursor: tuple[date, int, int],
        as_of: date,
        start: date | None,
        hold: Hold,
    ) -> Decision:
        due = receivable.due_date
        pending = [e for e in events if e.key > cursor]
        if hold.paused_until is not None and as_of < hold.paused_until:
            resume = None if hold.paused_until == FOREVER else hold.paused_until
            return Decision(None, (), resume if pending else None, held="paused")

        def eligible_from(e: Event) -> date | None:
            """First day ``e`` may fire, or None when it never will."""
            if e.step.before_due and start is not None and e.on <= start:
                return None
            day = e.on
            if start is not None and day <= start:
                day = start + timedelta(days=1)
            if not e.step.before_due and e.step.offset_days > 0 and hold.overdue_not_before:
                day = max(day, hold.overdue_not_before)
            if e.step.before_due and day > due:
                return None  # "due in 3 days" makes no sense once the date has passed
            return day

        firing: list[Event] = []
        later: list[date] = []
        held = ""
        for e in pending:
            day = eligible_from(e)
            if day is None:
                continue
            if day <= as_of:
                # A missed "due in 3 days" is not sent once the due date has passed.
                if applies(e.step, receivable) and not (e.step.before_due and as_of > due):
                    firing.append(e)
            else:
                later.append(day)
                if e.on <= as_of and hold.overdue_not_before and day == hold.overdue_not_before:
                    held = "cycle"
        if not firing:
            return Decision(None, (), min(later) if later else None, held=held)
        fire = firing[-1]
        after = [
            day
            for e in pending
            if e.key > fire.key and (day := eligible_from(e)) is not None and day > as_of
        ]
        return Decision(fire, tuple(firing[:-1]), min(after) if after else None, held=held)


def firmest(tones: Iterable[str]) -> str:
    return max(tones, key=lambda t: TONE_RANK.get(t, 0))


def offset_parts(days: int) -> tuple[str, int]:
    """("before" | "on" | "after", number of days): the plain-language offset."""
    if days < 0:
        return "before", -days
    if days == 0:
        return "on", 0
    return "after", days


def min_amounts_from(mapping: Mapping[str, Decimal | str]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(sorted((code, Decimal(str(value))) for code, value in mapping.items()))
