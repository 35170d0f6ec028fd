"""Recording payments and allocating them to invoices and installments.

Also what follows a payment: client credit applied to later invoices or
refunded, duplicates caught before saving, early-payment discounts honoured
by a credit note, reversals that reopen the invoices, and the thank-you
message queued for the worker.

Every balance an allocation touches is re-read under a row lock inside the
transaction (IMMEDIATE transactions on SQLite, SELECT … FOR UPDATE on
PostgreSQL), so two payments recorded at once can never both settle the
same euro.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger import issuing
from relance.ledger.fields import MAX_AMOUNT
from relance.ledger.models import (
    ActivityKind,
    Allocation,
    Client,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceSource,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentThanks,
    Refund,
)
from relance.ledger.models.timeline import record
from relance.ledger.signals import invoices_issued
from relance.rules import allocation as rules
from relance.rules import duplicates
from relance.rules.money import CURRENCIES, ZERO, has_sub_minor_digits, round_money
from relance.rules.totals import compute_totals


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
    thank: bool = True,
) -> Payment:
    """Save a payment and its allocations, all or nothing.

    When a share leaves exactly an invoice's early-payment discount to pay and
    the payment arrived in time, the discount is booked as a credit note and
    the invoice is paid. ``thank=False`` for payments imported as history:
    no thank-you message is queued for them.
    """
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
        for invoice in locked.values():
            _honour_discount(invoice, payment, author)
        if thank:
            _queue_thanks(payment, client, list(locked))
    return payment


def _lock_invoices(client: Client, shares: list[Share]) -> dict[int, Invoice]:
    return _lock_ids(client.organisation_id, {share.invoice.pk for share in shares})


def _lock_ids(organisation_id: int, invoice_ids: set[int]) -> dict[int, Invoice]:
    ids = sorted(invoice_ids)
    # Ordered by id so two payments lock their invoices in the same order.
    rows = (
        Invoice.objects.select_for_update()
        .filter(pk__in=ids, organisation_id=organisation_id)
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
    invoices = _open_oldest_first(client, currency)
    for invoice in invoices:
        if remaining <= 0:
            break
        part = min(remaining, invoice.balance)
        shares.append(Share(invoice=invoice, amount=part))
        remaining -= part
    return shares


def _open_oldest_first(client: Client, currency: str) -> Any:
    return (
        Invoice.objects.open()
        .filter(client=client, currency=currency)
        .order_by("due_date", "issue_date", "pk")
    )


# -- client credit -----------------------------------------------------------------


def _with_credit(client: Client, currency: str) -> Any:
    """The client's payments with credit left, oldest first (the order it is used in)."""
    return Payment.objects.filter(
        client=client, currency=currency, unallocated__gt=0, reversed_on__isnull=True
    ).order_by("date", "pk")


def credit_of(client: Client, currency: str) -> Decimal:
    """The client's unallocated credit in one currency (reversed payments excluded)."""
    return sum(_with_credit(client, currency).values_list("unallocated", flat=True), ZERO)


def apply_credit(invoice: Invoice, *, author: Any = None) -> Decimal:
    """Pay an open invoice with its client's credit, oldest credit first.

    The credit becomes allocations of the payments it came from (their date
    stays the payment's; each allocation has its own ``created_at``). Returns
    the amount applied (zero when there was no credit).
    """
    with transaction.atomic():
        # The invoice first, then the payments: the order record_payment locks in.
        locked = _lock_ids(invoice.organisation_id, {invoice.pk})
        invoice = locked[invoice.pk]
        if not invoice.is_open:
            raise PaymentError(_("%(doc)s is not open: no credit can go on it.") % {"doc": invoice})
        client = invoice.client
        remaining = invoice.balance
        applied = ZERO
        for payment in _with_credit(client, invoice.currency).select_for_update():
            if remaining <= 0:
                break
            part = min(payment.unallocated, remaining)
            _allocate(payment, invoice, Share(invoice=invoice, amount=part))
            payment.unallocated -= part
            payment.save(update_fields=["unallocated"])
            remaining -= part
            applied += part
        if not applied:
            return ZERO
        invoice.refresh_settlement()
        record(
            client=client,
            invoice=invoice,
            kind=ActivityKind.PAYMENT,
            author=author,
            text=_("Client credit of %(amount)s applied to %(doc)s")
            % {"amount": formats.money(applied, invoice.currency), "doc": invoice},
        )
    return applied


def apply_client_credit(client: Client, currency: str, *, author: Any = None) -> Decimal:
    """Apply the client's credit to its open invoices, oldest due first."""
    applied = ZERO
    with transaction.atomic():
        for invoice in _open_oldest_first(client, currency):
            if not credit_of(client, currency):
                break
            applied += apply_credit(invoice, author=author)
    return applied


@receiver(invoices_issued)
def _apply_credit_on_issue(
    sender: Any, organisation_id: int, invoice_ids: list[int], **kwargs: Any
) -> None:
    """Issued invoices of clients with credit are paid with it (organisation option).

    Only invoices made in relance: an import brings history, not new debts.
    """
    from relance.organisations.models import Organisation

    if not Organisation.objects.filter(
        pk=organisation_id, apply_credit_automatically=True
    ).exists():
        return
    for start in range(0, len(invoice_ids), 5000):
        chunk = invoice_ids[start : start + 5000]
        with_credit = Payment.objects.filter(
            organisation_id=organisation_id, unallocated__gt=0, reversed_on__isnull=True
        )
        invoices = Invoice.objects.filter(
            pk__in=chunk,
            kind=InvoiceKind.INVOICE,
            source=InvoiceSource.RELANCE,
            client_id__in=with_credit.values("client_id"),
        ).select_related("client")
        for invoice in invoices.order_by("due_date", "pk"):
            if invoice.is_open:
                apply_credit(invoice)


def refund_credit(
    client: Client,
    *,
    amount: Decimal,
    currency: str,
    date: date,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    author: Any = None,
) -> list[Refund]:
    """Pay client credit back: drawn on the oldest credit first, all or nothing."""
    if amount <= 0:
        raise PaymentError(_("The amount must be greater than zero."))
    if currency not in CURRENCIES:
        raise PaymentError(_("Unsupported currency: %(code)s.") % {"code": currency})
    if has_sub_minor_digits(amount, currency):
        raise PaymentError(
            _("%(amount)s has more decimals than %(currency)s allows.")
            % {"amount": amount, "currency": currency}
        )
    with transaction.atomic():
        payments = list(_with_credit(client, currency).select_for_update())
        available = sum((p.unallocated for p in payments), ZERO)
        if amount > available:
            raise PaymentError(
                _("%(amount)s is more than the client's credit of %(credit)s.")
                % {
                    "amount": formats.money(amount, currency),
                    "credit": formats.money(available, currency),
                }
            )
        refunds = []
        remaining = amount
        for payment in payments:
            if remaining <= 0:
                break
            part = min(payment.unallocated, remaining)
            payment.unallocated -= part
            payment.save(update_fields=["unallocated"])
            refunds.append(
                Refund.objects.create(
                    organisation_id=client.organisation_id,
                    client=client,
                    payment=payment,
                    date=date,
                    amount=part,
                    method=method,
                    reference=reference,
                    created_by=author,
                )
            )
            remaining -= part
        record(
            client=client,
            kind=ActivityKind.PAYMENT,
            author=author,
            text=_("Refund of %(amount)s of client credit on %(date)s (%(ref)s)")
            % {
                "amount": formats.money(amount, currency),
                "date": formats.day(date),
                "ref": reference or "—",
            },
        )
    return refunds


# -- duplicates ---------------------------------------------------------------------


def find_duplicates(
    client: Client | None,
    amount: Decimal,
    currency: str,
    reference: str,
    date: date,
    *,
    payer_name: str = "",
    organisation_id: int | None = None,
    window_days: int = duplicates.WINDOW_DAYS,
) -> list[Payment]:
    """Earlier payments this one looks like a second record of (see rules.duplicates).

    Pass the client when known; the bank matcher may pass only a payer name
    and the organisation. Reversed payments are not counted.
    """
    org_id = client.organisation_id if client is not None else organisation_id
    if org_id is None:
        raise ValueError("find_duplicates needs a client or an organisation")
    new = duplicates.Candidate(payer_name, amount, currency, reference, date)
    span = timedelta(days=window_days)
    rows = Payment.objects.filter(
        organisation_id=org_id,
        amount=amount,
        currency=currency,
        reversed_on__isnull=True,
        date__gte=date - span,
        date__lte=date + span,
    ).select_related("client")
    name = duplicates.normalise_name(payer_name)
    if client is not None and not name:
        rows = rows.filter(client=client)
    found = []
    for payment in rows.order_by("date", "pk"):
        same_client = client is not None and payment.client_id == client.pk
        old = duplicates.Candidate(
            payment.payer_name, payment.amount, payment.currency, payment.reference, payment.date
        )
        if duplicates.is_duplicate(old, new, window_days=window_days, same_payer=same_client):
            found.append(payment)
    return found


# -- early-payment discount --------------------------------------------------------


def early_discount(invoice: Invoice) -> rules.Early | None:
    """The invoice's early-payment discount (last day, amount off), from its terms."""
    terms = invoice.terms or {}
    if invoice.kind != InvoiceKind.INVOICE or not terms.get("discount_percent"):
        return None
    if invoice.issue_date is None:
        return None
    from relance.invoicing.models import terms_from_dict
    from relance.rules.terms import discount

    country = invoice.organisation.country or "FR"
    found = discount(
        terms_from_dict(terms, invoice.issue_date, holiday_country=country),
        invoice.issue_date,
        invoice.total_gross,
        invoice.currency,
    )
    if found is None:
        return None
    last_day, amount_then = found
    return rules.Early(last_day, invoice.total_gross - amount_then)


def amount_to_settle(invoice: Invoice, on: date) -> Decimal:
    """What settles the invoice when paid on ``on``: the balance, less the
    early-payment discount when it still applies (for the bank matcher)."""
    early = early_discount(invoice)
    if early and on <= early.last_day and invoice.balance > early.amount:
        return invoice.balance - early.amount
    return invoice.balance


def _honour_discount(invoice: Invoice, payment: Payment, author: Any) -> None:
    if not invoice.is_open:
        return
    off = rules.discount_left(invoice.balance, early_discount(invoice), payment.date)
    if off is None:
        return
    note = issuing.credit_partially(
        invoice,
        lines=_discount_lines(invoice, off),
        as_of=_credit_note_date(invoice, payment.date),
        author=author,
    )
    invoice.refresh_from_db()
    record(
        client=invoice.client,
        invoice=invoice,
        kind=ActivityKind.CREDIT_NOTE,
        author=author,
        text=_("Early-payment discount of %(amount)s granted by %(note)s: %(doc)s is paid")
        % {
            "amount": formats.money(note.total_gross, invoice.currency),
            "note": note.number,
            "doc": invoice,
        },
    )


def _discount_lines(
    invoice: Invoice, amount: Decimal
) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """Credit note lines for a gross ``amount``, per VAT rate pro rata of the invoice.

    Each rate's net is its gross part less VAT; when VAT rounding leaves the
    note a cent away from ``amount``, the largest rate's net moves by a cent.
    """
    by_rate = invoice.compute_totals().by_rate
    parts = rules.split_pro_rata(amount, by_rate, invoice.currency)
    nets = {
        rate: round_money(part * 100 / (100 + rate), invoice.currency)
        for rate, part in parts.items()
    }
    largest = max(parts, key=lambda rate: parts[rate])
    cent = Decimal(1).scaleb(-CURRENCIES[invoice.currency])

    def gross_of(candidate: dict[Decimal, Decimal]) -> Decimal:
        lines = [(Decimal(1), net, rate) for rate, net in candidate.items()]
        return compute_totals(lines, invoice.currency).gross

    for step in (0, -1, 1, -2, 2):
        candidate = {**nets, largest: nets[largest] + step * cent}
        if gross_of(candidate) == amount:
            nets = candidate
            break
    label = _("Early-payment discount on %(doc)s") % {"doc": invoice.number}
    return [(label, Decimal(1), net, rate) for rate, net in nets.items() if net > 0]


def _credit_note_date(invoice: Invoice, paid_on: date) -> date:
    """The payment's date, unless a later credit note of that year exists
    (numbers follow dates)."""
    prefix = f"{invoice.organisation.credit_note_prefix}{paid_on.year}-"
    last = (
        Invoice.objects.filter(organisation_id=invoice.organisation_id, number__startswith=prefix)
        .order_by("-issue_date")
        .values_list("issue_date", flat=True)
        .first()
    )
    return max(paid_on, last) if last else paid_on


# -- reversal ----------------------------------------------------------------------


def reverse_payment(payment: Payment, *, date: date, reason: str, author: Any = None) -> Payment:
    """Undo a payment that did not hold (rejected debit, bounced transfer, card refund).

    The payment stays on record, marked reversed; its allocations are removed
    (the timeline keeps what they were), its credit is gone, the invoices it
    paid are open again and their chases look again on ``date``.
    """
    from relance.dunning.chases import reopen_for

    reason = reason.strip()
    if not reason:
        raise PaymentError(_("Give the reason for the reversal."))
    with transaction.atomic():
        invoice_ids = set(
            Allocation.objects.filter(payment_id=payment.pk).values_list("invoice_id", flat=True)
        )
        # Invoices before the payment: the order record_payment and apply_credit lock in.
        locked = _lock_ids(payment.organisation_id, invoice_ids)
        payment = Payment.objects.select_for_update().select_related("client").get(pk=payment.pk)
        if payment.is_reversed:
            raise PaymentError(_("This payment is already reversed."))
        if date < payment.date:
            raise PaymentError(_("A payment cannot be reversed before it was received."))
        allocations = list(payment.allocations.select_related("installment"))
        undone: dict[int, Decimal] = {}
        for allocation in allocations:
            if allocation.installment is not None:
                row = Installment.objects.select_for_update().get(pk=allocation.installment_id)
                row.amount_paid -= allocation.amount
                row.save(update_fields=["amount_paid"])
            undone[allocation.invoice_id] = undone.get(allocation.invoice_id, ZERO) + (
                allocation.amount
            )
        payment.allocations.all().delete()
        payment.reversed_on = date
        payment.reversal_reason = reason
        payment.unallocated = ZERO
        payment.save(update_fields=["reversed_on", "reversal_reason", "unallocated"])
        client = payment.client
        for invoice_id, amount in undone.items():
            invoice = locked[invoice_id]
            invoice.refresh_settlement()
            record(
                client=client,
                invoice=invoice,
                kind=ActivityKind.PAYMENT,
                author=author,
                text=_(
                    "Payment of %(amount)s received on %(received)s reversed on %(date)s: "
                    "%(reason)s"
                )
                % {
                    "amount": formats.money(amount, payment.currency),
                    "received": formats.day(payment.date),
                    "date": formats.day(date),
                    "reason": reason,
                },
            )
            if invoice.is_open:
                reopen_for(invoice, on=date)
        if not undone:
            record(
                client=client,
                kind=ActivityKind.PAYMENT,
                author=author,
                text=_(
                    "Payment of %(amount)s received on %(received)s reversed on %(date)s: "
                    "%(reason)s"
                )
                % {
                    "amount": formats.money(payment.amount, payment.currency),
                    "received": formats.day(payment.date),
                    "date": formats.day(date),
                    "reason": reason,
                },
            )
        PaymentThanks.objects.filter(payment=payment, claimed_at__isnull=True).update(
            claimed_at=timezone.now(), error="payment reversed"
        )
    return payment


# -- thank-you ---------------------------------------------------------------------


def _queue_thanks(payment: Payment, client: Client, invoice_ids: list[int]) -> None:
    """Queue a thank-you when this payment settled at least one invoice in full."""
    settled = Invoice.objects.filter(
        pk__in=invoice_ids, status=InvoiceStatus.PAID, allocations__payment=payment
    )
    if not settled.exists():
        return
    if not client.organisation.thank_for_payments:
        return
    PaymentThanks.objects.get_or_create(
        payment=payment, defaults={"organisation_id": payment.organisation_id}
    )


__all__ = [
    "PaymentError",
    "Share",
    "amount_to_settle",
    "apply_client_credit",
    "apply_credit",
    "credit_of",
    "early_discount",
    "find_duplicates",
    "oldest_first",
    "record_payment",
    "refund_credit",
    "reverse_payment",
]
