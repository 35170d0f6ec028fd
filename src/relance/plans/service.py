"""Payment plans, from proposal to completion or breach.

Proposed → (agreement PDF sent) → agreed: ACTIVE, every covered invoice paused
(a ``Pause`` of kind "plan") and one chase per installment, so the ladder
chases installments instead of invoices. Payments on the covered invoices
after the agreement advance the installments oldest first (recomputed from the
allocations, so a reversal moves them back). All paid: COMPLETED, pauses kept.
An installment still unpaid ``grace_days`` after its date: BROKEN, the pauses
end and the ladder resumes at once on the whole balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relance import formats
from relance.dunning.engine import wake
from relance.dunning.models import Chase, Pause, PauseKind, PauseOutcome
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import ActivityKind, Allocation, Client, Invoice
from relance.ledger.models.timeline import record
from relance.rules import plans as rules
from relance.rules.money import ZERO

from .models import PaymentPlan, PlanInstallment, PlanStatus


class PlanRefused(ValueError):
    """The plan cannot be made or changed as asked; the message says why."""


def open_plan(client: Client) -> PaymentPlan | None:
    return PaymentPlan.objects.filter(
        client=client, status__in=(PlanStatus.PROPOSED, PlanStatus.ACTIVE)
    ).first()


def overdue_invoices(client: Client, as_of: date, currency: str | None = None) -> list[Invoice]:
    """The client's open invoices past their due date, oldest first."""
    invoices = Invoice.objects.overdue(as_of).filter(client=client)
    if currency:
        invoices = invoices.filter(currency=currency)
    return list(invoices.order_by("due_date", "issue_date", "pk"))


@dataclass(frozen=True)
class Proposal:
    """What a person asks for on the proposal form."""

    count: int
    frequency: str = "monthly"
    day: int | None = None
    dates: Sequence[date] = ()
    down_payment: Decimal = ZERO
    fee: Decimal = ZERO
    fees_waived: bool = True
    grace_days: int = 5


def schedule(balance: Decimal, currency: str, proposal: Proposal, as_of: date) -> list:
    """The installments the proposal gives (``rules.plans.PlanError`` when it cannot)."""
    return rules.propose(
        balance,
        currency,
        as_of=as_of,
        count=proposal.count,
        frequency=proposal.frequency,
        day=proposal.day,
        dates=proposal.dates,
        down_payment=proposal.down_payment,
        fee=proposal.fee,
    )


def usual_day(client: Client, as_of: date) -> int:
    """The client's usual payment day, else today's day of the month."""
    return client.cycle_day or as_of.day


def propose(
    client: Client,
    invoices: list[Invoice],
    proposal: Proposal,
    *,
    as_of: date,
    author: Any = None,
) -> PaymentPlan:
    """Record a proposed plan for these overdue invoices (all or nothing)."""
    if not invoices:
        raise PlanRefused(_("The client has no overdue invoice to spread."))
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) != 1:
        raise PlanRefused(_("A plan covers invoices of one currency: choose the currency."))
    currency = currencies.pop()
    with transaction.atomic():
        locked = list(
            Invoice.objects.select_for_update()
            .filter(pk__in=[i.pk for i in invoices], client=client)
            .order_by("pk")
        )
        if len(locked) != len(invoices) or not all(i.is_open for i in locked):
            raise PlanRefused(_("An invoice of this plan is no longer open: start again."))
        if open_plan(client) is not None:
            raise PlanRefused(_("This client already has a payment plan in progress."))
        balance = sum((i.balance for i in locked), ZERO)
        lines = schedule(balance, currency, proposal, as_of)
        plan = PaymentPlan.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            currency=currency,
            balance=balance,
            total=balance + proposal.fee,
            down_payment=proposal.down_payment,
            fee_amount=proposal.fee,
            fees_waived=proposal.fees_waived,
            frequency=proposal.frequency,
            grace_days=proposal.grace_days,
            proposed_on=as_of,
            created_by=author if getattr(author, "pk", None) else None,
        )
        plan.invoices.set(locked)
        PlanInstallment.objects.bulk_create(
            PlanInstallment(plan=plan, position=n, due_date=line.due_date, amount=line.amount)
            for n, line in enumerate(lines, start=1)
        )
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("Payment plan proposed: %(total)s in %(count)s installments (%(invoices)s).")
            % {
                "total": formats.money(plan.total, currency),
                "count": len(lines),
                "invoices": ", ".join(i.number for i in locked),
            },
        )
    return plan


def agree(plan: PaymentPlan, *, as_of: date, author: Any = None) -> PaymentPlan:
    """The client agreed: the plan is active, its invoices paused, its installments chased."""
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.PROPOSED:
            raise PlanRefused(_("Only a proposed plan can be agreed."))
        invoices = list(plan.invoices.order_by("due_date", "issue_date", "pk"))
        if not any(i.is_open for i in invoices):
            raise PlanRefused(_("The invoices of this plan are already settled."))
        plan.status = PlanStatus.ACTIVE
        plan.agreed_on = as_of
        plan.save(update_fields=["status", "agreed_on"])
        for invoice in invoices:
            if invoice.is_open:
                Pause.objects.create(
                    organisation_id=plan.organisation_id,
                    client_id=plan.client_id,
                    invoice=invoice,
                    kind=PauseKind.PAYMENT_PLAN,
                    reason=str(plan),
                    starts_on=as_of,
                    created_by=author if getattr(author, "pk", None) else None,
                )
        oldest = invoices[0]
        Chase.objects.bulk_create(
            Chase(
                organisation_id=plan.organisation_id,
                client_id=plan.client_id,
                invoice=oldest,
                plan_installment=row,
                due_date=row.due_date,
                next_action_on=as_of,
            )
            for row in plan.installments.all()
        )
        record(
            client=plan.client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("Payment plan agreed on %(day)s: reminders follow its installments.")
            % {"day": formats.day(as_of)},
        )
    refresh(plan, as_of=as_of)
    return plan


def _end_pauses(plan: PaymentPlan, as_of: date, outcome: str) -> None:
    Pause.objects.filter(
        client_id=plan.client_id,
        kind=PauseKind.PAYMENT_PLAN,
        invoice__in=plan.invoices.all(),
        ended_on__isnull=True,
    ).update(ended_on=as_of, outcome=outcome)


def _close_chases(plan: PaymentPlan) -> None:
    Chase.objects.filter(plan_installment__plan=plan, closed=False).update(
        closed=True, next_action_on=None
    )


def cancel(plan: PaymentPlan, *, as_of: date, author: Any = None) -> PaymentPlan:
    """Withdraw a proposed or active plan: the invoices are chased as before."""
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if not plan.is_open:
            raise PlanRefused(_("This plan is already over."))
        plan.status = PlanStatus.CANCELLED
        plan.ended_on = as_of
        plan.save(update_fields=["status", "ended_on"])
        _end_pauses(plan, as_of, PauseOutcome.LIFTED)
        _close_chases(plan)
        record(
            client=plan.client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("%(plan)s cancelled: the reminders resume.") % {"plan": plan},
        )
        wake(client_id=plan.client_id, on=as_of)
    return plan


def paid_since_agreement(plan: PaymentPlan) -> Decimal:
    """What the client paid on the plan's invoices since the agreement (from the
    allocations, so a reversed payment no longer counts)."""
    if plan.agreed_on is None:
        return ZERO
    total = Allocation.objects.filter(
        invoice__in=plan.invoices.all(), payment__date__gte=plan.agreed_on
    ).aggregate(s=MoneySum("amount"))["s"]
    return cents(total)


def refresh(plan: PaymentPlan, *, as_of: date) -> PaymentPlan:
    """Spread what was paid over the installments, oldest first; complete the plan
    when everything is paid (or nothing is owed on its invoices any more)."""
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            return plan
        left = paid_since_agreement(plan)
        rows = list(plan.installments.order_by("position"))
        for row in rows:
            paid = min(left, row.amount)
            left -= paid
            if paid != row.amount_paid:
                PlanInstallment.objects.filter(pk=row.pk).update(amount_paid=paid)
                row.amount_paid = paid
                # Paid: nothing to remind; unpaid again (a reversal): reminded from today.
                chase = Chase.objects.filter(plan_installment=row)
                if row.remaining <= 0:
                    chase.update(closed=True, next_action_on=None)
                else:
                    chase.update(closed=False, next_action_on=as_of)
        settled = not plan.invoices.filter(
            kind="invoice", status__in=("issued", "partially_paid")
        ).exists()
        if settled or all(row.remaining <= 0 for row in rows):
            plan.status = PlanStatus.COMPLETED
            plan.ended_on = as_of
            plan.save(update_fields=["status", "ended_on"])
            _end_pauses(plan, as_of, PauseOutcome.KEPT)
            _close_chases(plan)
            record(
                client=plan.client,
                kind=ActivityKind.STATUS,
                text=_("%(plan)s completed: every installment is paid.") % {"plan": plan},
            )
    return plan


def late_installment(plan: PaymentPlan, as_of: date) -> PlanInstallment | None:
    """The first installment still unpaid after its grace period, if any."""
    grace = timedelta(days=plan.grace_days)
    for row in plan.installments.order_by("position"):
        if row.remaining > 0 and row.due_date + grace < as_of:
            return row
    return None


def break_plan(plan: PaymentPlan, row: PlanInstallment, *, as_of: date) -> PaymentPlan:
    """A missed installment: the plan is broken and the ladder resumes at once."""
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            return plan
        plan.status = PlanStatus.BROKEN
        plan.broken_on = plan.ended_on = as_of
        plan.save(update_fields=["status", "broken_on", "ended_on"])
        _end_pauses(plan, as_of, PauseOutcome.BROKEN)
        _close_chases(plan)
        record(
            client=plan.client,
            kind=ActivityKind.STATUS,
            text=_(
                "%(plan)s broken: installment %(position)s of %(amount)s due on %(day)s was not "
                "paid. The reminders resume on the whole balance."
            )
            % {
                "plan": plan,
                "position": row.position,
                "amount": formats.money(row.amount, plan.currency),
                "day": formats.day(row.due_date),
            },
        )
        for invoice_id in plan.invoices.values_list("pk", flat=True):
            wake(client_id=plan.client_id, invoice_id=invoice_id, on=as_of)
    return plan


@dataclass
class CheckReport:
    completed: int = 0
    broken: int = 0
    offers_accepted: int = 0
    offers_expired: int = 0


def check(organisation: Any, as_of: date) -> CheckReport:
    """The daily look at the organisation's plans and offers (before the reminder run)."""
    from . import offers

    report = CheckReport()
    for plan in PaymentPlan.objects.filter(organisation=organisation, status=PlanStatus.ACTIVE):
        plan = refresh(plan, as_of=as_of)
        if plan.status == PlanStatus.COMPLETED:
            report.completed += 1
            continue
        row = late_installment(plan, as_of)
        if row is not None:
            break_plan(plan, row, as_of=as_of)
            report.broken += 1
    accepted, expired = offers.check(organisation, as_of)
    report.offers_accepted, report.offers_expired = accepted, expired
    return report


def after_payment(client_id: int) -> None:
    """Called once a payment (or its reversal) is committed: move the client's plan
    and settle an offer the payment fulfils."""
    from . import offers

    client = Client.objects.select_related("organisation").filter(pk=client_id).first()
    if client is None:
        return
    as_of = client.organisation.today()
    for plan in PaymentPlan.objects.filter(client=client, status=PlanStatus.ACTIVE):
        refresh(plan, as_of=as_of)
    offers.settle_if_paid(client, as_of=as_of)
