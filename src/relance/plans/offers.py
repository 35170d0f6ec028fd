"""Settlement offers: "pay X instead of Y before D".

Accepted when the payments dated by D on the offer's invoices add up to at least
the discounted amount: what is then left on those invoices (at most the
discount) is cancelled by one credit note per invoice, its VAT split like the
invoice's. Past D nothing changes: the offer expires and the balance stays due.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger import issuing
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import ActivityKind, Allocation, Client, Invoice, VatCategory
from relance.ledger.models.timeline import record
from relance.rules.money import ZERO, has_sub_minor_digits, quantum, round_money
from relance.rules.totals import compute_totals

from .models import DiscountKind, OfferStatus, SettlementOffer

# A transfer made on the last day shows on a statement imported a few days later:
# the offer waits that long before it expires.
LATE_STATEMENT_DAYS = 3


class OfferRefused(ValueError):
    """The offer cannot be made or changed as asked; the message says why."""


def discount_for(balance: Decimal, kind: str, value: Decimal, currency: str) -> Decimal:
    if kind == DiscountKind.PERCENT:
        if not ZERO < value < 100:
            raise OfferRefused(_("The discount must be between 0 and 100 %."))
        return round_money(balance * value / 100, currency)
    if has_sub_minor_digits(value, currency):
        raise OfferRefused(
            _("The discount has more decimals than %(currency)s allows.") % {"currency": currency}
        )
    if not ZERO < value < balance:
        raise OfferRefused(_("The discount must be more than zero and less than the balance."))
    return value


def open_offer(client: Client) -> SettlementOffer | None:
    return SettlementOffer.objects.filter(client=client, status=OfferStatus.OFFERED).first()


def make(
    client: Client,
    invoices: list[Invoice],
    *,
    kind: str,
    value: Decimal,
    expires_on: date,
    as_of: date,
    author: Any = None,
) -> SettlementOffer:
    """Record an offer on these overdue invoices (all of one currency)."""
    if not invoices:
        raise OfferRefused(_("The client has no overdue invoice."))
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) != 1:
        raise OfferRefused(_("An offer covers invoices of one currency: choose the currency."))
    if expires_on < as_of:
        raise OfferRefused(_("The offer cannot end before today."))
    currency = currencies.pop()
    with transaction.atomic():
        if open_offer(client) is not None:
            raise OfferRefused(_("This client already has an offer waiting for payment."))
        balance = sum((i.balance for i in invoices), ZERO)
        discount = discount_for(balance, kind, value, currency)
        offer = SettlementOffer.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            currency=currency,
            balance=balance,
            discount_kind=kind,
            discount_value=value,
            discount=discount,
            offered_on=as_of,
            expires_on=expires_on,
            created_by=author if getattr(author, "pk", None) else None,
        )
        offer.invoices.set(invoices)
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("Settlement offered: %(to_pay)s instead of %(balance)s if paid by %(day)s.")
            % wording(offer),
        )
    return offer


def wording(offer: SettlementOffer) -> dict[str, str]:
    return {
        "to_pay": formats.money(offer.to_pay, offer.currency),
        "balance": formats.money(offer.balance, offer.currency),
        "discount": formats.money(offer.discount, offer.currency),
        "day": formats.day(offer.expires_on),
    }


def withdraw(offer: SettlementOffer, *, as_of: date, author: Any = None) -> SettlementOffer:
    updated = SettlementOffer.objects.filter(pk=offer.pk, status=OfferStatus.OFFERED).update(
        status=OfferStatus.WITHDRAWN, ended_on=as_of
    )
    if not updated:
        raise OfferRefused(_("This offer is no longer open."))
    offer.refresh_from_db()
    record(
        client=offer.client,
        kind=ActivityKind.STATUS,
        author=author,
        text=_("%(offer)s withdrawn.") % {"offer": offer},
    )
    return offer


def received(offer: SettlementOffer) -> Decimal:
    """Paid on the offer's invoices between the offer and its last day."""
    total = Allocation.objects.filter(
        invoice__in=offer.invoices.all(),
        payment__date__gte=offer.offered_on,
        payment__date__lte=offer.expires_on,
    ).aggregate(s=MoneySum("amount"))["s"]
    return cents(total)


def settle_if_paid(client: Client, *, as_of: date) -> SettlementOffer | None:
    offer = open_offer(client)
    if offer is not None and received(offer) >= offer.to_pay:
        return accept(offer, as_of=as_of)
    return None


def accept(offer: SettlementOffer, *, as_of: date) -> SettlementOffer:
    """Book the discount: a credit note for what is left on each invoice, up to it."""
    with transaction.atomic():
        offer = SettlementOffer.objects.select_for_update().get(pk=offer.pk)
        if offer.status != OfferStatus.OFFERED:
            return offer
        room = offer.discount
        notes = []
        for invoice in offer.invoices.order_by("due_date", "issue_date", "pk"):
            invoice = Invoice.objects.get(pk=invoice.pk)
            if not invoice.is_open or room <= 0:
                continue
            amount = min(invoice.balance, room)
            label = _("Discount for prompt settlement of %(doc)s") % {"doc": invoice.number}
            note = issuing.credit_partially(
                invoice, lines=credit_lines(invoice, amount, label), as_of=as_of
            )
            room -= note.total_gross
            notes.append(note)
        offer.status = OfferStatus.ACCEPTED
        offer.ended_on = as_of
        offer.save(update_fields=["status", "ended_on"])
        record(
            client=offer.client,
            kind=ActivityKind.STATUS,
            text=_(
                "%(offer)s accepted: %(to_pay)s received by %(day)s, discount of %(discount)s "
                "booked (%(notes)s)."
            )
            % {**wording(offer), "offer": offer, "notes": ", ".join(n.number for n in notes)},
        )
    return offer


def check(organisation: Any, as_of: date) -> tuple[int, int]:
    """Settle the offers paid in time, expire the others once their day is well past."""
    accepted = expired = 0
    for offer in SettlementOffer.objects.filter(
        organisation=organisation, status=OfferStatus.OFFERED
    ).select_related("client"):
        if received(offer) >= offer.to_pay:
            accept(offer, as_of=as_of)
            accepted += 1
        elif offer.expires_on + timedelta(days=LATE_STATEMENT_DAYS) < as_of:
            SettlementOffer.objects.filter(pk=offer.pk, status=OfferStatus.OFFERED).update(
                status=OfferStatus.EXPIRED, ended_on=as_of
            )
            record(
                client=offer.client,
                kind=ActivityKind.STATUS,
                text=_("%(offer)s expired on %(day)s: the whole balance stays due.")
                % {"offer": offer, "day": formats.day(offer.expires_on)},
            )
            expired += 1
    return accepted, expired


# -- the credit note's lines ------------------------------------------------------


def credit_lines(invoice: Invoice, amount: Decimal, label: str) -> list[tuple]:
    """Lines (description, 1, net, rate) whose total incl. VAT is exactly ``amount``,
    split over the invoice's VAT rates pro rata of their share of its total."""
    currency = invoice.currency
    by_rate = invoice.compute_totals().by_rate
    if not by_rate:  # imported without lines: the invoice's own totals
        rate = (
            round_money(invoice.total_vat * 100 / invoice.total_net, currency)
            if invoice.total_net
            else ZERO
        )
        by_rate = {rate: (invoice.total_net, invoice.total_vat)}
    weights = [(rate, base + vat) for rate, (base, vat) in by_rate.items()]
    whole = sum((w for _rate, w in weights), ZERO)
    lines: list[tuple] = []
    left = amount
    for n, (rate, weight) in enumerate(weights):
        gross = left if n == len(weights) - 1 else round_money(amount * weight / whole, currency)
        left -= gross
        if gross <= 0:
            continue
        net = _net_for(gross, rate, currency)
        lines.append((label, Decimal(1), net, rate))
    total = compute_totals(((q, p, r) for _d, q, p, r in lines), currency).gross
    if total < amount:
        # A gross a single rate cannot reach (20 % of 0.03…): the cent as a rounding line.
        lines.append((_("Rounding"), Decimal(1), amount - total, ZERO, VatCategory.NOT_SUBJECT))
    return lines


def _net_for(gross: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The largest net whose net + VAT is at most ``gross`` (exactly it when reachable)."""
    net = round_money(gross * 100 / (100 + rate), currency)
    step = quantum(currency)
    best = ZERO
    for candidate in (net + step * k for k in (-2, -1, 0, 1, 2)):
        if candidate <= 0:
            continue
        total = candidate + round_money(candidate * rate / 100, currency)
        if total == gross:
            return candidate
        if total < gross:
            best = max(best, candidate)
    return best
