"""Recording payments and allocating them to invoices and installments.

Every balance an allocation touches is re-read under a row lock inside the
transaction (IMMEDIATE transactions on SQLite, SELECT … FOR UPDATE on
PostgreSQL), so two payments recorded at once can never both settle the
same euro.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.fields import MAX_AMOUNT
from relance.ledger.models import (
    ActivityKind,
    Allocation,
    Client,
    Installment,
    Invoice,
    Payment,
)
from relance.ledger.models.timeline import record
from relance.rules.money import CURRENCIES, ZERO, has_sub_minor_digits, round_money


class PaymentError(ValueError):
    """A payment that cannot be recorded as asked; nothing was saved."""


@dataclass(frozen=True)
class Share:
    """Part of a payment to put on one invoice (optionally one installment)."""

    invoice: Invoice
    amount: Decimal
    installment: Installment | None = None


def record_payment(
    *,
    client: Client,
    amount: Decimal,
    currency: str,
    date: date,
    shares: list[Share],
    method: str = "transfer",
    reference: str = "",
    payer_name: str = "",
    notes: str = "",
    keep_excess_as_credit: bool = False,
    author: Any = None,
) -> Payment:
    """Save a payment and its allocations, all or nothing."""
    if amount <= 0:
        raise PaymentError(_("The amount must be greater than zero."))
    if amount > MAX_AMOUNT:
        raise PaymentError(_("This amount is too large."))
    if currency not in CURRENCIES:
        raise PaymentError(_("Unsupported currency: %(code)s.") % {"code": currency})
    for value in (amount, *(share.amount for share in shares)):
        if has_sub_minor_digits(value, currency):
            raise PaymentError(
                _("%(amount)s has more decimals than %(currency)s allows.")
                % {"amount": value, "currency": currency}
            )
    allocated = sum((share.amount for share in shares), ZERO)
    if allocated > amount:
        raise PaymentError(
            _("The allocations (%(allocated)s) exceed the payment (%(amount)s).")
            % {"allocated": allocated, "amount": amount}
        )
    excess = amount - allocated
    if excess and not keep_excess_as_credit:
        raise PaymentError(
            _(
                "%(excess)s %(currency)s of this payment is not owed on the chosen invoices. "
                "Allocate it, or record it explicitly as client credit."
            )
            % {"excess": excess, "currency": currency}
        )
    with transaction.atomic():
        locked = _lock_invoices(client, shares)
        _check_shares(locked, shares, client, currency)
        payment = Payment.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            date=date,
            amount=amount,
            currency=currency,
            method=method,
            reference=reference,
            payer_name=payer_name,
            notes=notes,
            unallocated=excess,
            created_by=author,
        )
        for share in shares:
            _allocate(payment, locked[share.invoice.pk], share)
        for invoice in locked.values():
            invoice.refresh_settlement()
        _record_on_timeline(payment, client, locked, shares, author)
    return payment


def _lock_invoices(client: Client, shares: list[Share]) -> dict[int, Invoice]:
    ids = sorted({share.invoice.pk for share in shares})
    # Ordered by id so two payments lock their invoices in the same order.
    rows = (
        Invoice.objects.select_for_update()
        .filter(pk__in=ids, organisation_id=client.organisation_id)
        .order_by("pk")
    )
    locked = {invoice.pk: invoice for invoice in rows}
    if len(locked) != len(ids):
        raise PaymentError(_("An invoice of this payment does not exist."))
    return locked


def _check_shares(
    locked: dict[int, Invoice], shares: list[Share], client: Client, currency: str
) -> None:
    # Shares on one invoice are checked together: two shares of 60 do not fit a balance of 100.
    per_invoice: dict[int, Decimal] = {}
    for share in shares:
        per_invoice[share.invoice.pk] = per_invoice.get(share.invoice.pk, ZERO) + share.amount
        _check_share(
            locked[share.invoice.pk], share, per_invoice[share.invoice.pk], client, currency
        )


def _check_share(
    invoice: Invoice, share: Share, total: Decimal, client: Client, currency: str
) -> None:
    if share.amount <= 0:
        raise PaymentError(_("Each allocation must be greater than zero."))
    if invoice.client_id != client.pk:
        raise PaymentError(
            _("%(doc)s belongs to another client: this payment cannot settle it.")
            % {"doc": invoice}
        )
    if not invoice.is_open:
        raise PaymentError(
            _("%(doc)s is not open: nothing can be allocated to it.") % {"doc": invoice}
        )
    if invoice.currency != currency:
        raise PaymentError(
            _("%(doc)s is in %(inv)s; a payment in %(pay)s cannot settle it.")
            % {"doc": invoice, "inv": invoice.currency, "pay": currency}
        )
    if total > invoice.balance:
        raise PaymentError(
            _("%(amount)s is more than the %(balance)s %(currency)s left to pay on %(doc)s.")
            % {
                "amount": total,
                "balance": invoice.balance,
                "currency": invoice.currency,
                "doc": invoice,
            }
        )


def _allocate(payment: Payment, invoice: Invoice, share: Share) -> None:
    """Allocate one share, spreading it over the invoice's installments."""
    if share.installment is not None:
        targets = list(
            Installment.objects.select_for_update().filter(pk=share.installment.pk, invoice=invoice)
        )
        if not targets:
            raise PaymentError(_("This installment is not part of %(doc)s.") % {"doc": invoice})
    else:
        targets = list(invoice.installments.select_for_update().order_by("due_date", "position"))
    remaining = share.amount
    for row in targets:
        if remaining <= 0:
            break
        part = min(remaining, row.remaining)
        if part <= 0:
            continue
        row.amount_paid += part
        row.save(update_fields=["amount_paid"])
        Allocation.objects.create(
            organisation_id=payment.organisation_id,
            payment=payment,
            invoice=invoice,
            installment=row,
            amount=part,
        )
        remaining -= part
    if share.installment is not None and remaining > 0:
        raise PaymentError(
            _("%(amount)s is more than what is left on this installment.")
            % {"amount": share.amount}
        )
    if remaining > 0:
        Allocation.objects.create(
            organisation_id=payment.organisation_id,
            payment=payment,
            invoice=invoice,
            amount=remaining,
        )


def _record_on_timeline(
    payment: Payment, client: Client, locked: dict[int, Invoice], shares: list[Share], author: Any
) -> None:
    for share in shares:
        invoice = locked[share.invoice.pk]
        record(
            client=client,
            invoice=invoice,
            kind=ActivityKind.PAYMENT,
            author=author,
            text=_("Payment of %(amount)s received on %(date)s (%(ref)s)")
            % {
                "amount": formats.money(share.amount, payment.currency),
                "date": formats.day(payment.date),
                "ref": payment.reference or "—",
            },
        )
    if payment.unallocated:
        record(
            client=client,
            kind=ActivityKind.PAYMENT,
            author=author,
            text=_("%(amount)s kept as client credit")
            % {"amount": formats.money(payment.unallocated, payment.currency)},
        )


def oldest_first(client: Client, amount: Decimal, currency: str) -> list[Share]:
    """Split an amount over the client's open invoices, oldest due date first."""
    shares: list[Share] = []
    remaining = round_money(amount, currency)
    invoices = (
        Invoice.objects.open()
        .filter(client=client, currency=currency)
        .order_by("due_date", "issue_date", "pk")
    )
    for invoice in invoices:
        if remaining <= 0:
            break
        part = min(remaining, invoice.balance)
        shares.append(Share(invoice=invoice, amount=part))
        remaining -= part
    return shares
