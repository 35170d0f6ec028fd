"""What a verified Stripe event does to the register.

Each event is stored once per organisation (WebhookEvent, unique event id),
in the same transaction as its effect: a replayed or concurrent duplicate
finds the row and changes nothing. Only ``checkout.session.completed`` (paid
at once, e.g. by card) and ``checkout.session.async_payment_succeeded`` (a
SEPA debit that went through) record a payment. Whatever a person must look
at (an excess kept as credit, a currency mismatch, a refund, a dispute) is
written on the client's timeline and the event's outcome says so; Stripe
always gets a 200 for it, or it would retry for days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger import settlement
from relance.ledger.models import ActivityKind, Client, Invoice, Payment, PaymentMethod
from relance.ledger.models.timeline import record
from relance.online import events
from relance.online.amounts import from_minor
from relance.online.models import EventOutcome, OnlinePaymentSettings, WebhookEvent
from relance.rules.money import CURRENCIES, ZERO

PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


@dataclass(frozen=True)
class Result:
    outcome: str
    detail: str
    replayed: bool = False


def receive(online: OnlinePaymentSettings, event: events.Event, payload: dict[str, Any]) -> Result:
    """Store and apply one verified event, at most once."""
    organisation = online.organisation
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    organisation=organisation,
                    event_id=event.id[:255],
                    type=event.type[:100],
                    api_version=event.api_version[:40],
                    outcome=EventOutcome.IGNORED,
                    payload=payload,
                )
        except IntegrityError:
            earlier = WebhookEvent.objects.filter(
                organisation=organisation, event_id=event.id[:255]
            ).first()
            return Result(
                earlier.outcome if earlier else EventOutcome.IGNORED,
                _("Already received: nothing changed."),
                replayed=True,
            )
        language = organisation.locale or "fr"
        with translation.override(language):
            outcome, detail = _apply(organisation, event)
        row.outcome, row.detail = outcome, detail
        row.save(update_fields=["outcome", "detail"])
    return Result(outcome, detail)


def _apply(organisation: Any, event: events.Event) -> tuple[str, str]:
    kind = event.type
    if kind.startswith("checkout.session."):
        found = events.checkout(event.object)
        if kind in PAID_EVENTS:
            if kind == "checkout.session.completed" and found.payment_status != "paid":
                return _pending(organisation, found)
            return _record(organisation, event, found)
        if kind == "checkout.session.async_payment_failed":
            return _failed(organisation, found)
        return EventOutcome.IGNORED, _("Not an event relance acts on.")
    if kind in ("charge.refunded", "charge.dispute.created"):
        return _charge_news(organisation, event, events.charge_news(event.object))
    return EventOutcome.IGNORED, _("Not an event relance acts on.")


def _target(organisation: Any, found: events.Checkout) -> tuple[Client | None, list[Invoice], str]:
    """The client and invoices a session pays, or why it is not ours / not usable."""
    metadata = found.metadata
    if "invoices" not in metadata or "organisation" not in metadata:
        return None, [], ""
    if metadata["organisation"] != str(organisation.pk):
        return None, [], _("The payment names another organisation.")
    client_id = metadata.get("client", "")
    client = (
        Client.objects.filter(organisation=organisation, pk=int(client_id)).first()
        if client_id.isdigit()
        else None
    )
    if client is None:
        return None, [], _("The client of this payment no longer exists.")
    invoices = list(
        Invoice.objects.select_for_update()
        .filter(organisation=organisation, client=client, pk__in=found.invoice_ids)
        .order_by("due_date", "issue_date", "pk")
    )
    if not invoices:
        return client, [], _("None of the invoices of this payment exist any more.")
    return client, invoices, ""


def _numbers(invoices: list[Invoice]) -> str:
    return ", ".join(invoice.number for invoice in invoices)


def _method(found: events.Checkout, kind: str) -> str:
    types = found.payment_method_types
    # Only delayed methods (of those offered, the SEPA debit) succeed asynchronously.
    if types == ["sepa_debit"] or (
        kind.endswith("async_payment_succeeded") and "sepa_debit" in types
    ):
        return PaymentMethod.DIRECT_DEBIT
    if types and types != ["card"] and "card" not in types:
        return PaymentMethod.OTHER
    return PaymentMethod.CARD  # cards, Apple Pay and Google Pay


def _record(organisation: Any, event: events.Event, found: events.Checkout) -> tuple[str, str]:
    client, invoices, problem = _target(organisation, found)
    if client is None and not problem:
        return EventOutcome.IGNORED, _("This payment was not made from relance.")
    if problem:
        if client is not None:
            _note(client, _("Online payment needs attention: %(why)s") % {"why": problem})
        return EventOutcome.ATTENTION, problem
    assert client is not None
    currency = found.currency
    if found.amount_total is None or currency not in CURRENCIES:
        problem = _("Stripe gave no usable amount or currency (%(currency)s).") % {
            "currency": currency or "—"
        }
        _note(client, _("Online payment needs attention: %(why)s") % {"why": problem})
        return EventOutcome.ATTENTION, problem
    amount = from_minor(found.amount_total, currency)
    wrong = [invoice for invoice in invoices if invoice.currency != currency]
    if wrong:
        problem = _(
            "%(amount)s was paid online for %(numbers)s, which are in %(expected)s: "
            "nothing was recorded. Check the payment in Stripe."
        ) % {
            "amount": formats.money(amount, currency),
            "numbers": _numbers(invoices),
            "expected": ", ".join(sorted({i.currency for i in wrong})),
        }
        _note(client, problem)
        return EventOutcome.ATTENTION, problem
    reference = (found.payment_intent or found.session_id)[:140]
    if Payment.objects.filter(
        organisation=organisation, client=client, reference=reference
    ).exists():
        return EventOutcome.IGNORED, _("This payment (%(ref)s) is already recorded.") % {
            "ref": reference
        }
    if amount <= ZERO:
        return EventOutcome.IGNORED, _("Nothing was paid.")
    shares, remaining = [], amount
    for invoice in invoices:  # oldest due date first
        if remaining <= ZERO or not invoice.is_open or invoice.balance <= ZERO:
            continue
        part = min(remaining, invoice.balance)
        shares.append(settlement.Share(invoice=invoice, amount=part))
        remaining -= part
    moment = _moment(event)
    try:
        settlement.record_payment(
            client=client,
            amount=amount,
            currency=currency,
            date=organisation.today(moment),
            shares=shares,
            method=_method(found, event.type),
            reference=reference,
            notes=_("Paid online (Stripe Checkout %(session)s) for %(numbers)s")
            % {"session": found.session_id, "numbers": _numbers(invoices)},
            keep_excess_as_credit=remaining > ZERO,
        )
    except settlement.PaymentError as exc:
        problem = _("The online payment %(ref)s could not be recorded: %(why)s") % {
            "ref": reference,
            "why": exc,
        }
        _note(client, problem)
        return EventOutcome.ATTENTION, problem
    if remaining > ZERO:
        detail = _(
            "%(amount)s paid online is more than what was left on %(numbers)s: "
            "%(excess)s is kept as client credit. Apply it to another invoice or refund it."
        ) % {
            "amount": formats.money(amount, currency),
            "numbers": _numbers(invoices),
            "excess": formats.money(remaining, currency),
        }
        _note(client, detail)
        return EventOutcome.CREDIT, detail
    return EventOutcome.RECORDED, _("%(amount)s recorded on %(numbers)s.") % {
        "amount": formats.money(amount, currency),
        "numbers": _numbers([share.invoice for share in shares]),
    }


def _pending(organisation: Any, found: events.Checkout) -> tuple[str, str]:
    client, invoices, _problem = _target(organisation, found)
    if client is None:
        return EventOutcome.IGNORED, _("This payment was not made from relance.")
    detail = _("A payment of %(numbers)s is on its way (debit pending): nothing recorded yet.") % {
        "numbers": _numbers(invoices) or "—"
    }
    return EventOutcome.PENDING, detail


def _failed(organisation: Any, found: events.Checkout) -> tuple[str, str]:
    client, invoices, _problem = _target(organisation, found)
    if client is None:
        return EventOutcome.IGNORED, _("This payment was not made from relance.")
    detail = _("The online payment of %(numbers)s failed (debit refused): still to be paid.") % {
        "numbers": _numbers(invoices) or "—"
    }
    _note(client, detail)
    return EventOutcome.NOTED, detail


def _charge_news(
    organisation: Any, event: events.Event, news: events.ChargeNews
) -> tuple[str, str]:
    payment = (
        Payment.objects.filter(organisation=organisation, reference=news.payment_intent)
        .select_related("client")
        .first()
        if news.payment_intent
        else None
    )
    if payment is None:
        return EventOutcome.IGNORED, _("No payment recorded in relance has this reference.")
    amount = (
        formats.money(from_minor(news.amount, news.currency), news.currency)
        if news.amount is not None and news.currency in CURRENCIES
        else "—"
    )
    values = {
        "amount": amount,
        "ref": payment.reference,
        "date": formats.day(payment.date),
        "reason": news.reason or "—",
    }
    if event.type == "charge.refunded" and news.full:
        # The whole payment went back: undo it, so the invoices are open and chased again.
        try:
            settlement.reverse_payment(
                payment,
                date=max(payment.date, organisation.today(_moment(event))),
                reason=_("Refunded through Stripe (%(charge)s)") % {"charge": news.object_id},
            )
        except settlement.PaymentError as exc:
            detail = _(
                "Stripe refunded the online payment %(ref)s of %(date)s, but it could not be "
                "reversed: %(why)s"
            ) % {**values, "why": exc}
            _note(payment.client, detail)
            return EventOutcome.ATTENTION, detail
        detail = (
            _(
                "Stripe refunded %(amount)s, the whole online payment %(ref)s of %(date)s: the "
                "payment is reversed and its invoices are open again."
            )
            % values
        )
        _note(payment.client, detail)
        return EventOutcome.NOTED, detail
    if event.type == "charge.refunded":
        detail = (
            _(
                "Stripe refunded %(amount)s of the online payment %(ref)s of %(date)s. "
                "Reverse or correct the payment so the invoices are chased again."
            )
            % values
        )
    else:
        detail = (
            _(
                "The client disputes %(amount)s of the online payment %(ref)s of %(date)s "
                "(%(reason)s). Answer the dispute in Stripe."
            )
            % values
        )
    _note(payment.client, detail)
    return EventOutcome.ATTENTION, detail


def _moment(event: events.Event) -> datetime:
    return datetime.fromtimestamp(event.created, UTC) if event.created else timezone.now()


def _note(client: Client, text: str) -> None:
    record(client=client, kind=ActivityKind.NOTE, text=text)
