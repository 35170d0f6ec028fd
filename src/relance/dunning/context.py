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
from relance.ledger.models import Client, ContactRole, Installment, Invoice
from relance.rules import law
from relance.rules.money import ZERO
from relance.rules.payment_reference import creditor_reference, format_reference

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


def build(
    client: Client, items: list[Item], *, day: date, template: str, tone: str, contact: Any = None
) -> dict[str, Any]:
    """The rendering context, formatted in the active language (call it under the
    client's language)."""
    organisation = client.organisation
    rows = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in sorted(
        items,
        key=lambda i: (
            i.installment.due_date if i.installment else i.invoice.due_date,
            i.invoice.number,
        ),
    ):
        invoice = item.invoice
        due = item.installment.due_date if item.installment else invoice.due_date
        reference = creditor_reference(invoice.number) if invoice.number else ""
        part = ""
        if item.installment is not None:
            part = f"{item.installment.position}/{invoice.installments.count()}"
        rows.append(
            {
                "number": invoice.number,
                "issue_date": formats.day(invoice.issue_date) if invoice.issue_date else "",
                "due_date": formats.day(due),
                "days_late": (day - due).days,
                "total": formats.money(invoice.total_gross, invoice.currency),
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
    dues = [i.installment.due_date if i.installment else i.invoice.due_date for i in items]
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
        "payment_link": "",
        "portal_link": "",
        "reference": rows[0]["reference"] if len(rows) == 1 else "",
    }


def in_language(language: str, build_args: dict[str, Any]) -> dict[str, Any]:
    with translation.override(language or "fr"):
        return build(**build_args)
