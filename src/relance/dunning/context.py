"""What a reminder says, gathered from the register at send time.

The context is a plain dict of already formatted strings (in the client's
language) whose keys are the template variables of ``templating.VARIABLES``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from stdnum import iban as iban_number

from relance import formats
from relance.fees import accrual
from relance.fees.models import FeePolicy, FeeSettings
from relance.ledger.models import Client, ContactRole, Installment, Invoice
from relance.online.links import pay_url
from relance.rules import law
from relance.rules.money import ZERO
from relance.rules.payment_reference import creditor_reference, epc_payload, format_reference

# People at the debtor a reminder may go to (law-and-standards §7: they are the debtor).
REMINDER_ROLES = (ContactRole.BILLING, ContactRole.ACCOUNTS_PAYABLE)
FALLBACK_ROLES = (ContactRole.MANAGEMENT,)
LATE_FEE_NOTICE_HOURS = 48


@dataclass(frozen=True)
class Item:
    """One receivable a message is about, as it stands now."""

    invoice: Invoice
    installment: Installment | None
    balance: Decimal
    plan_installment: Any = None  # plans.PlanInstallment: then ``invoice`` is the plan's oldest

    @property
    def due_date(self) -> date:
        part = self.plan_installment or self.installment
        return part.due_date if part is not None else self.invoice.due_date


def plan_items(chase: Any) -> list[Item]:
    """A plan installment's chase: what is left on it while the plan is active."""
    part = chase.plan_installment
    left = part.amount - part.amount_paid
    if part.plan.status != "active" or left <= 0:
        return []
    return [Item(chase.invoice, None, left, plan_installment=part)]


def _part_label(item: Item) -> str:
    if item.plan_installment is not None:
        part = item.plan_installment
        return _("%(position)s of %(count)s of your payment plan") % {
            "position": part.position,
            "count": part.plan.installments.count(),
        }
    if item.installment is not None:
        return f"{item.installment.position}/{item.invoice.installments.count()}"
    return ""


def recipients(client: Client, channel: str) -> tuple[list[Any], list[str]]:
    """(contacts, addresses) a message on ``channel`` goes to: the client's billing
    and accounts-payable people, else its management; never someone marked
    "do not contact" or whose address bounced."""
    contacts = [c for c in client.contacts.all() if not c.do_not_contact and not c.bounced_at]
    for roles in (REMINDER_ROLES, FALLBACK_ROLES):
        chosen = [c for c in contacts if c.role in roles]
        if channel == "email":
            chosen = [c for c in chosen if c.email]
            addresses = [c.email for c in chosen]
        elif channel in ("sms", "call"):
            chosen = [c for c in chosen if c.phone]
            addresses = [c.phone for c in chosen]
        else:  # a letter goes to the client's address, to the attention of these people
            addresses = []
        if chosen:
            return chosen, list(dict.fromkeys(addresses))
    return [], []


def late_fee(client: Client, items: list[Item], day: date) -> dict[str, Any] | None:
    """The lawful items a late-fee notice may announce; None for consumers (no B2B
    indemnity) or when the law table has no rule for the seller's country."""
    if not client.is_company:
        return None
    organisation = client.organisation
    country = organisation.country or "FR"
    deadline = day + timedelta(hours=LATE_FEE_NOTICE_HOURS)
    entries = []
    try:
        if country == "GB":
            debt = sum((i.balance for i in items), ZERO)
            rule = law.uk_indemnity(debt, day)
        else:
            rule = law.constant("recovery_indemnity", country, day)
        margin = law.constant("late_penalty_margin", country, day).value
    except law.MissingLegalRule:
        return None
    amount = formats.money(rule.value, rule.unit)
    settings = FeeSettings.for_org(organisation)
    if settings.policy != FeePolicy.STATUTORY:
        return {"deadline": formats.day(deadline), "items": _agreed_fees(settings, amount, country)}
    if country == "FR":
        entries.append(
            _(
                "the fixed recovery indemnity of %(amount)s per invoice (art. D441-5 of the "
                "French Commercial Code)"
            )
            % {"amount": amount}
        )
        entries.append(
            _(
                "late-payment penalties at the ECB refinancing rate plus %(margin)s points, "
                "from the day after the due date (art. L441-10 of the French Commercial Code)"
            )
            % {"margin": formats.number(margin)}
        )
    else:
        entries.append(
            _("the fixed compensation for recovery costs of %(amount)s per invoice")
            % {"amount": amount}
        )
        entries.append(
            _("statutory interest for late payment (%(margin)s points above the reference rate)")
            % {"margin": formats.number(margin)}
        )
    return {"deadline": formats.day(deadline), "items": entries}


def _agreed_fees(settings: FeeSettings, indemnity: str, country: str) -> list[str]:
    """What a contractual or custom late-fee policy will book (a B2B client)."""
    if country == "FR":
        first = _(
            "the fixed recovery indemnity of %(amount)s per invoice (art. D441-5 of the "
            "French Commercial Code)"
        )
    else:
        first = _("the fixed compensation for recovery costs of %(amount)s per invoice")
    entries = [first % {"amount": indemnity}]
    if settings.policy == FeePolicy.CONTRACTUAL and settings.contract_rate is not None:
        entries.append(
            _("late-payment interest at the contractual rate of %(rate)s %% a year")
            % {"rate": formats.number(settings.contract_rate)}
        )
    if settings.policy == FeePolicy.CUSTOM and settings.monthly_rate:
        entries.append(
            _("late-payment interest of %(rate)s %% per month")
            % {"rate": formats.number(settings.monthly_rate)}
        )
    if settings.policy == FeePolicy.CUSTOM and settings.fixed_fee:
        entries.append(
            _("a late fee of %(amount)s per invoice")
            % {"amount": formats.money(settings.fixed_fee, settings.organisation.currency)}
        )
    return entries


@dataclass
class FeeInputs:
    """What ``accrued_fees`` reads, read once for many messages (a dispatch batch):
    the fee settings and rate table, and the facts of the batch's invoices."""

    settings: FeeSettings
    table: Any  # accrual.RateTable
    facts: dict[int, accrual.Facts]

    @classmethod
    def load(cls, organisation: Any, invoice_ids: list[int]) -> FeeInputs:
        facts = accrual.bulk_facts(
            Invoice.objects.filter(pk__in=invoice_ids), organisation.country or "FR"
        )
        return cls(
            FeeSettings.for_org(organisation), accrual.rate_table(), {f.pk: f for f in facts}
        )


def accrued_fees(items: list[Item], day: date, inputs: FeeInputs | None = None) -> dict[str, Any]:
    """Interest and indemnities the invoices have earned by ``day`` (live, as
    the invoice page shows them); nothing for a payment plan's installments.
    ``inputs``: read beforehand for many messages (else read here)."""
    interest: dict[str, Decimal] = defaultdict(lambda: ZERO)
    indemnity: dict[str, Decimal] = defaultdict(lambda: ZERO)
    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    chased: dict[int, Invoice] = {}
    for item in items:
        owed[item.invoice.currency] += item.balance
        if item.plan_installment is None:
            chased.setdefault(item.invoice.pk, item.invoice)
    if chased:
        if inputs is None or any(pk not in inputs.facts for pk in chased):
            # One set of value queries for the message's invoices, not a round of queries each.
            inputs = FeeInputs.load(next(iter(chased.values())).organisation, list(chased))
        for pk in chased:
            fact = inputs.facts.get(pk)
            if fact is None:
                continue  # deleted since it was read
            fees = accrual.accrue(fact, day, inputs.table, inputs.settings)
            interest[fees.currency] += fees.interest
            indemnity[fees.currency] += fees.indemnity + fees.fixed

    def show(amounts: dict[str, Decimal]) -> str:
        return " + ".join(formats.money(v, code) for code, v in sorted(amounts.items()) if v)

    with_fees = {code: owed[code] + interest[code] + indemnity[code] for code in owed}
    return {
        "interest": show(interest),
        "indemnity": show(indemnity),
        "total": show(with_fees),
        "any": any(interest.values()) or any(indemnity.values()),
    }


def build(
    client: Client,
    items: list[Item],
    *,
    day: date,
    template: str,
    tone: str,
    contact: Any = None,
    fee_inputs: FeeInputs | None = None,
) -> dict[str, Any]:
    """The rendering context, formatted in the active language (call it under the
    client's language). ``fee_inputs``: the fee facts read beforehand (dispatch)."""
    organisation = client.organisation
    rows = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in sorted(items, key=lambda i: (i.due_date, i.invoice.number)):
        invoice = item.invoice
        due = item.due_date
        reference = creditor_reference(invoice.number) if invoice.number else ""
        part = _part_label(item)
        rows.append(
            {
                "number": invoice.number,
                "issue_date": formats.day(invoice.issue_date) if invoice.issue_date else "",
                "due_date": formats.day(due),
                "days_late": (day - due).days,
                "total": formats.money(
                    item.plan_installment.amount if item.plan_installment else invoice.total_gross,
                    invoice.currency,
                ),
                "balance": formats.money(item.balance, invoice.currency),
                "currency": invoice.currency,
                "reference": format_reference(reference) if reference else "",
                "installment": part,
            }
        )
        totals[invoice.currency] += item.balance
    total_list = [
        {"currency": code, "amount": formats.money(amount, code)}
        for code, amount in sorted(totals.items())
    ]
    dues = [i.due_date for i in items]
    oldest = min(dues) if dues else day
    person = contact or {}
    return {
        "organisation": {
            "name": str(organisation),
            "email": organisation.email,
            "phone": organisation.phone,
            "website": organisation.website,
            "address_lines": organisation.address_lines(),
            "iban": iban_number.format(organisation.iban) if organisation.iban else "",
            "bic": organisation.bic,
        },
        "client": {
            "name": client.name,
            "kind": client.kind,
            "address_lines": client.address_lines(),
        },
        "contact": {
            "first_name": getattr(person, "first_name", ""),
            "last_name": getattr(person, "last_name", ""),
            "full_name": getattr(person, "full_name", ""),
        },
        "invoices": rows,
        "totals": total_list,
        "total": " + ".join(t["amount"] for t in total_list),
        "oldest_due_date": formats.day(oldest),
        "days_late": max((r["days_late"] for r in rows), default=0),
        "tone": tone,
        "template": template,
        "today": formats.day(day),
        "late_fee": late_fee(client, items, day) if template == "late_fee_notice" else None,
        "fees": accrued_fees(items, day, fee_inputs),
        "payment_link": pay_url(client, [i.invoice for i in items]) if items else "",
        "portal_link": "",
        "reference": rows[0]["reference"] if len(rows) == 1 else "",
        # Not a template variable: what the letter's EPC QR code carries ("" when none).
        "epc_qr": _epc_payload(organisation, items),
    }


def _epc_payload(organisation: Any, items: list[Item]) -> str:
    """One SEPA transfer QR code for the whole balance, when it is all in euros;
    with the RF reference of the invoice when there is only one."""
    invoices = {i.invoice.pk: i.invoice for i in items}
    if not items or not organisation.iban or any(i.currency != "EUR" for i in invoices.values()):
        return ""
    total = sum((i.balance for i in items), ZERO)
    numbers = sorted(invoice.number for invoice in invoices.values())
    reference = creditor_reference(numbers[0]) if len(numbers) == 1 and numbers[0] else None
    try:
        return epc_payload(
            str(organisation),
            organisation.iban,
            organisation.bic or None,
            total,
            "EUR",
            reference=reference,
            text=None if reference else ", ".join(numbers)[:140],
        )
    except ValueError:  # over the EPC amount limit, an invalid IBAN: no QR code
        return ""


def in_language(language: str, build_args: dict[str, Any]) -> dict[str, Any]:
    with translation.override(language or "fr"):
        return build(**build_args)
