"""Online payment: the organisation's settings, the client's public pay page
(no login: the signed token is the key), and Stripe's webhook."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from stdnum import iban as iban_number

from relance import formats
from relance.ledger.models import Client, ContactRole, Invoice, InvoiceKind, InvoiceStatus
from relance.online import events, links, signature, stripe_api, webhook
from relance.online.forms import OnlinePaymentForm
from relance.online.models import EventOutcome, OnlinePaymentSettings, WebhookEvent
from relance.rules import payment_reference
from relance.rules.money import ZERO
from relance.web.access import scoped, writer_view

log = logging.getLogger(__name__)

METHOD_LABELS = {
    "card": gettext_lazy("Card, Apple Pay, Google Pay"),
    "sepa_debit": gettext_lazy("SEPA direct debit"),
    "paypal": gettext_lazy("PayPal"),
}


# --- settings (writers) -------------------------------------------------------------------


@writer_view
def settings_page(request: HttpRequest) -> HttpResponse:
    online = OnlinePaymentSettings.for_org(request.organisation)
    if request.method == "POST":
        form = OnlinePaymentForm(request.POST, instance=online)
        if form.is_valid():
            form.save()
            messages.success(request, _("The online payment settings are saved."))
            return redirect("online:settings")
    else:
        form = OnlinePaymentForm(instance=online)
    webhook_url = (
        request.build_absolute_uri(reverse("online:stripe_webhook", args=[online.webhook_token]))
        if online.pk
        else ""
    )
    recent = scoped(request, WebhookEvent).only(
        "event_id", "type", "received_at", "outcome", "detail"
    )[:20]
    return render(
        request,
        "online/settings.html",
        {
            "form": form,
            "online": online,
            "webhook_url": webhook_url,
            "events": recent,
            "attention": (EventOutcome.ATTENTION, EventOutcome.CREDIT),
            "can_write": request.membership.can_write,
        },
    )


# --- the public pay page -------------------------------------------------------------------


def _target(token: str) -> tuple[Client, list[Invoice], OnlinePaymentSettings] | None:
    found = links.read_token(token)
    if found is None:
        return None
    client = Client.objects.select_related("organisation").filter(pk=found.client_id).first()
    if client is None:
        return None
    invoices = Invoice.objects.filter(
        organisation=client.organisation, client=client, kind=InvoiceKind.INVOICE
    ).exclude(status=InvoiceStatus.DRAFT)
    invoices = invoices.filter(pk__in=found.invoice_ids) if found.invoice_ids else invoices.open()
    rows = list(invoices.order_by("due_date", "issue_date", "pk"))
    return client, rows, OnlinePaymentSettings.for_org(client.organisation)


def _language(client: Client) -> str:
    return client.language or client.organisation.locale or "fr"


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "online/not_found.html", status=404)


def _groups(invoices: list[Invoice]) -> dict[str, list[Invoice]]:
    """Open invoices by currency: one payment per currency."""
    groups: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        if invoice.is_open and invoice.balance > ZERO:
            groups[invoice.currency].append(invoice)
    return dict(groups)


def _transfer(client: Client, groups: dict[str, list[Invoice]]) -> dict[str, Any] | None:
    """Bank transfer details, with the EPC QR code for one payment in euros."""
    organisation = client.organisation
    if not organisation.iban:
        return None
    open_invoices = [i for rows in groups.values() for i in rows]
    reference = ""
    if len(open_invoices) == 1:
        reference = payment_reference.creditor_reference(open_invoices[0].number)
    qr_svg = ""
    euros = groups.get("EUR", [])
    if euros and len(groups) == 1:
        total = sum((i.balance for i in euros), ZERO)
        try:
            payload = payment_reference.epc_payload(
                str(organisation),
                organisation.iban,
                organisation.bic or None,
                total,
                "EUR",
                reference=reference or None,
                text=None if reference else ", ".join(i.number for i in euros)[:140],
            )
            qr_svg = payment_reference.epc_qr_svg(payload)
        except ValueError:
            qr_svg = ""  # e.g. an amount over the EPC limit: the details are still shown
    return {
        "beneficiary": str(organisation),
        "iban": iban_number.format(organisation.iban),
        "bic": organisation.bic,
        "reference": payment_reference.format_reference(reference) if reference else "",
        "references": [
            (i.number, payment_reference.format_reference(
                payment_reference.creditor_reference(i.number)))
            for i in open_invoices
        ] if len(open_invoices) > 1 else [],
        "qr_svg": qr_svg,
    }  # fmt: skip


def _page(request: HttpRequest, token: str, error: str = "", status: int = 200) -> HttpResponse:
    target = _target(token)
    if target is None:
        return _not_found(request)
    client, invoices, online = target
    with translation.override(_language(client)):
        groups = _groups(invoices)
        rows = [
            {
                "number": invoice.number,
                "issue_date": formats.day(invoice.issue_date) if invoice.issue_date else "",
                "due_date": formats.day(invoice.due_date) if invoice.due_date else "",
                "total": formats.money(invoice.total_gross, invoice.currency),
                "balance": formats.money(invoice.balance, invoice.currency),
                "paid": not invoice.is_open or invoice.balance <= ZERO,
                "status": invoice.get_status_display(),
            }
            for invoice in invoices
        ]
        payments = [
            {
                "currency": currency,
                "amount": formats.money(sum((i.balance for i in rows_), ZERO), currency),
                "methods": [str(METHOD_LABELS[m]) for m in online.method_types(currency.lower())],
            }
            for currency, rows_ in sorted(groups.items())
        ]
        context = {
            "token": token,
            "organisation": client.organisation,
            "client": client,
            "rows": rows,
            "payments": payments,
            "online": online.is_ready,
            "all_paid": not groups,
            "transfer": _transfer(client, groups) if groups else None,
            "error": error,
        }
        return render(request, "online/pay.html", context, status=status)


def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _page(request, token)


def _customer_email(client: Client) -> str:
    for contact in client.contacts.all():
        if (
            contact.email
            and not contact.do_not_contact
            and contact.role
            in (
                ContactRole.BILLING,
                ContactRole.ACCOUNTS_PAYABLE,
            )
        ):
            return contact.email
    return ""


def checkout(request: HttpRequest, token: str) -> HttpResponse:
    """Create a Stripe Checkout Session for what is open now, then go there."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = _target(token)
    if target is None:
        return _not_found(request)
    client, invoices, online = target
    groups = _groups(invoices)
    currency = request.POST.get("currency", "")
    if not groups or currency not in groups:
        return redirect("online:pay", token=token)  # paid meanwhile: the page says so
    if not online.is_ready:
        with translation.override(_language(client)):
            return _page(request, token, _("Online payment is not available."), status=400)
    rows = groups[currency]
    organisation = client.organisation
    with translation.override(_language(client)):
        if len(rows) == 1:
            lines = [stripe_api.Line(_("Invoice %(number)s") % {"number": rows[0].number},
                                     rows[0].balance)]  # fmt: skip
        else:
            lines = [
                stripe_api.Line(_("Invoice %(number)s") % {"number": i.number}, i.balance)
                for i in rows
            ]
        thanks = request.build_absolute_uri(reverse("online:thanks", args=[token]))
        back = request.build_absolute_uri(reverse("online:pay", args=[token]))
        stripe_request = stripe_api.CheckoutRequest(
            currency=currency,
            lines=lines,
            payment_method_types=online.method_types(currency.lower()),
            success_url=thanks + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=back,
            client_reference_id=f"relance-{organisation.pk}-{client.pk}",
            metadata={
                "organisation": str(organisation.pk),
                "client": str(client.pk),
                "invoices": ",".join(str(i.pk) for i in rows),
                "numbers": ", ".join(i.number for i in rows)[:500],
            },
            customer_email=_customer_email(client),
            locale=_language(client) if _language(client) in ("fr", "en", "de", "es", "it",
                                                                "nl") else "auto",
        )  # fmt: skip
        try:
            session = stripe_api.create_checkout_session(
                online.secret_key, online.api_base, stripe_request
            )
        except stripe_api.CheckoutError as exc:
            log.warning("Stripe checkout for client %s: %s", client.pk, exc)
            return _page(request, token, str(exc), status=502)
    return _see_other(session.url)


def _see_other(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def thanks(request: HttpRequest, token: str) -> HttpResponse:
    """Back from Stripe: says thank you, records nothing (only the webhook does)."""
    target = _target(token)
    if target is None:
        return _not_found(request)
    client, _invoices, _online = target
    with translation.override(_language(client)):
        return render(
            request,
            "online/thanks.html",
            {"organisation": client.organisation, "client": client, "token": token},
        )


# --- Stripe's webhook ------------------------------------------------------------------------


def _refuse(reason: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt
def stripe_webhook(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    online = (
        OnlinePaymentSettings.objects.select_related("organisation")
        .filter(webhook_token=token)
        .first()
    )
    if online is None:
        return _refuse("unknown endpoint", status=404)
    body = request.body
    try:
        signature.verify(
            body, request.headers.get("Stripe-Signature"), online.webhook_secret, int(time.time())
        )
    except signature.SignatureError as exc:
        return _refuse(f"signature: {exc}")
    try:
        payload = json.loads(body)
        event = events.parse_event(payload)
    except (ValueError, events.EventError) as exc:
        return _refuse(f"body: {exc}")
    result = webhook.receive(online, event, payload)
    return JsonResponse(
        {"received": True, "outcome": result.outcome, "replayed": result.replayed}, status=200
    )
