"""Looking ahead and looking back, without sending or recording anything.

``forecast``: what the next days' runs will do, from the chases as they stand
(the "next 7 days" page). ``simulate``: replays one policy over a past period
of the register, with each invoice's balance as it was on each day, and counts
what it would have sent (``relance simulate``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from relance.ledger.models import Allocation, Invoice, InvoiceKind
from relance.rules import ladder
from relance.rules.money import ZERO
from relance.rules.terms import is_business_day

from . import engine
from .models import Chase, DunningSettings, Policy


@dataclass
class ForecastItem:
    day: date
    client_id: int
    client_name: str
    channel: str
    tone: str
    template: str
    invoice_numbers: list[str] = field(default_factory=list)
    needs_approval: bool = False


class _Sim:
    """Stands in for the run's recorder: moves cursors in memory only."""

    def __init__(self, organisation: Any, state: dict[int, list], day: date) -> None:
        self.report = engine.RunReport(as_of=day, dry_run=True)
        self.tz = organisation.tzinfo
        self.state = state
        self.day = day
        self.fired: list[tuple[int, ladder.Decision]] = []

    def local_day(self, moment: datetime) -> date:
        return timezone.localtime(moment, self.tz).date()

    def close(self, chase_id: int) -> None:
        self.state.pop(chase_id, None)

    def move(self, chase_id: int, next_on: date | None) -> None:
        self.state[chase_id][-3] = next_on

    def fire(self, chase_id: int, client_id: int, invoice_id: int, tz: str, d: Any) -> None:
        row = self.state[chase_id]
        row[5], row[6], row[7] = d.fire.key
        row[-3] = d.next_on
        self.fired.append((chase_id, d))


def forecast(organisation: Any, start: date, days: int = 7) -> list[ForecastItem]:
    """What the daily runs from ``start`` for ``days`` days will ask, per client,
    channel and day (as the run groups it), if nothing changes meanwhile."""
    end = start + timedelta(days=days - 1)
    settings = DunningSettings.for_org(organisation)
    policies = engine.Policies.load(organisation)
    by_client, by_invoice = engine.holds(organisation)
    rows = Chase.objects.filter(
        organisation=organisation, closed=False, next_action_on__lte=end
    ).values_list(*engine._FIELDS, "next_action_on", "invoice__number", "client__name")
    state = {row[0]: list(row) for row in rows}
    items: dict[tuple[date, int, str], ForecastItem] = {}
    width = len(engine._FIELDS)
    day = start
    while day <= end:
        if settings.business_days_only and not is_business_day(day, organisation.country or "FR"):
            day += timedelta(days=1)
            continue
        sim = _Sim(organisation, state, day)
        for chase_id in list(state):
            row = state[chase_id]
            if row[-3] is None or row[-3] > day:
                continue
            engine._decide_one(tuple(row[:width]), day, policies, by_client, by_invoice, sim)
        for chase_id, decision in sim.fired:
            row = state.get(chase_id)
            step = decision.fire.step
            client_id, number, name = row[1], row[-2], row[-1]
            for channel in step.channels:
                item = items.get((day, client_id, channel))
                if item is None:
                    item = items[(day, client_id, channel)] = ForecastItem(
                        day, client_id, name, channel, step.tone, step.template
                    )
                elif ladder.TONE_RANK[step.tone] > ladder.TONE_RANK[item.tone]:
                    item.tone, item.template = step.tone, step.template
                if number not in item.invoice_numbers:
                    item.invoice_numbers.append(number)
                item.needs_approval = item.needs_approval or step.needs_approval
        day += timedelta(days=1)
    return sorted(items.values(), key=lambda i: (i.day, i.client_name, i.channel))


@dataclass
class Simulation:
    policy: str
    start: date
    end: date
    invoices: int = 0
    by_step: Counter = field(default_factory=Counter)  # step label -> reminders
    by_channel: Counter = field(default_factory=Counter)  # channel -> messages
    messages: int = 0
    skipped: int = 0


def simulate(organisation: Any, policy: Policy, start: date, end: date) -> Simulation:
    """Replay ``policy`` day by day from ``start`` to ``end`` on every invoice of the
    organisation, with the balances they had on each day (payments by their date,
    credit notes by their issue date). Installments are chased as whole invoices."""
    steps = policy.rules()
    names = {step.position: str(step) for step in policy.steps.all()}
    runner = ladder.Ladder(steps, organisation.country or "FR")
    result = Simulation(policy=policy.name, start=start, end=end)
    invoices = list(
        Invoice.objects.filter(
            organisation=organisation, kind=InvoiceKind.INVOICE, issue_date__lte=end
        )
        .exclude(status="draft")
        .exclude(due_date__isnull=True)
        .values_list(
            "pk",
            "client_id",
            "client__kind",
            "client__risk_level",
            "issue_date",
            "due_date",
            "total_gross",
            "currency",
        )
    )
    paid: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, day, amount in Allocation.objects.filter(
        invoice__organisation=organisation
    ).values_list("invoice_id", "payment__date", "amount"):
        paid[invoice_id].append((day, amount))
    for invoice_id, day, amount in (
        Invoice.objects.filter(organisation=organisation, kind=InvoiceKind.CREDIT_NOTE)
        .exclude(status="draft")
        .values("corrects_id", "issue_date")
        .annotate(total=Sum("total_gross"))
        .values_list("corrects_id", "issue_date", "total")
    ):
        paid[invoice_id].append((day, amount))
    settings = DunningSettings.for_org(organisation)
    cursors: dict[int, tuple[date, int, int] | None] = {}
    messages: set[tuple[int, str, date]] = set()
    day = start
    while day <= end:
        if settings.business_days_only and not is_business_day(day, organisation.country or "FR"):
            day += timedelta(days=1)
            continue
        for pk, client_id, kind, risk, issued, due, total, currency in invoices:
            if issued > day:
                continue
            balance = total - sum((a for d, a in paid.get(pk, ()) if d <= day), ZERO)
            receivable = ladder.Receivable(
                due_date=due, balance=balance, currency=currency, client_kind=kind, risk=risk,
                start=issued,
            )  # fmt: skip
            decision = runner.decide(receivable, cursors.get(pk), day)
            if decision.fire is None:
                continue
            cursors[pk] = decision.fire.key
            step = decision.fire.step
            result.by_step[names.get(step.position, str(step.position))] += 1
            result.skipped += len(decision.skipped)
            for channel in step.channels:
                messages.add((client_id, channel, day))
        day += timedelta(days=1)
    result.invoices = sum(1 for pk in cursors)
    for _client, channel, _day in messages:
        result.by_channel[channel] += 1
    result.messages = len(messages)
    return result
