"""Payments: recording money received, on one invoice or for a client, and
the register of payments with the client credit they left."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger import settlement
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import Allocation, Client, Invoice, Payment
from relance.ledger.settlement import PaymentError, Share
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.payments import ClientPaymentForm, InvoicePaymentForm, PaymentFilterForm
from relance.web.views.invoices import paginate


def _record(request: HttpRequest, form: Any, client: Client, shares: list[Share]) -> Payment:
    data = form.cleaned_data
    return settlement.record_payment(
        client=client,
        amount=data["amount"],
        currency=data["currency"],
        date=data["date"],
        shares=shares,
        method=data["method"],
        reference=data["reference"].strip(),
        payer_name=data["payer_name"].strip(),
        keep_excess_as_credit=data["keep_excess_as_credit"],
        author=request.user,
    )


def _recorded_message(request: HttpRequest, payment: Payment) -> None:
    messages.success(request, _("Payment recorded."))
    if payment.unallocated:
        messages.info(
            request,
            _("%(amount)s kept as client credit.")
            % {"amount": formats.money(payment.unallocated, payment.currency)},
        )


@writer_view
def invoice_payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(scoped(request, Invoice).select_related("client"), pk=pk)
    if not invoice.is_open:
        messages.error(
            request, _("%(doc)s is not open: no payment can go on it.") % {"doc": invoice}
        )
        return redirect("invoice_detail", pk=invoice.pk)
    today = request.organisation.today()
    initial = {"amount": invoice.balance, "currency": invoice.currency, "date": today}
    data = request.POST if request.method == "POST" else None
    form = InvoicePaymentForm(data, initial=initial, today=today, invoice=invoice)
    if data is not None and form.is_valid():
        try:
            payment = _record(request, form, invoice.client, form.shares())
        except PaymentError as exc:
            form.add_error(None, str(exc))
        else:
            _recorded_message(request, payment)
            return redirect("invoice_detail", pk=invoice.pk)
    context = {"form": form, "invoice": invoice, "client": invoice.client}
    return render(request, "web/payments/invoice_form.html", context)


@writer_view
def client_payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=pk)
    open_invoices = list(
        scoped(request, Invoice)
        .open()
        .filter(client=client)
        .order_by("due_date", "issue_date", "pk")[:200]
    )
    today = request.organisation.today()
    initial = {"currency": request.organisation.currency, "date": today}
    data = request.POST if request.method == "POST" else None
    form = ClientPaymentForm(data, initial=initial, today=today, open_invoices=open_invoices)
    if data is not None and form.is_valid():
        if form.cleaned_data["allocation"] == ClientPaymentForm.OLDEST:
            shares = settlement.oldest_first(
                client, form.cleaned_data["amount"], form.cleaned_data["currency"]
            )
        else:
            shares = form.manual_shares()
        try:
            payment = _record(request, form, client, shares)
        except PaymentError as exc:
            form.add_error(None, str(exc))
        else:
            _recorded_message(request, payment)
            return redirect("payment_detail", pk=payment.pk)
    context = {"form": form, "client": client, "today": today}
    return render(request, "web/payments/client_form.html", context)


def _filtered_payments(
    request: HttpRequest, form: PaymentFilterForm
) -> tuple[QuerySet[Payment], Client | None]:
    payments = scoped(request, Payment).select_related("client")
    if not form.is_valid():
        return payments.none(), None
    data = form.cleaned_data
    client = data["client"]
    if client is not None:
        payments = payments.filter(client=client)
    lookups = {
        "method": "method",
        "currency": "currency",
        "date_from": "date__gte",
        "date_to": "date__lte",
    }
    payments = payments.filter(**{lookups[k]: data[k] for k in lookups if data[k]})
    if data["credit"]:
        payments = payments.filter(unallocated__gt=0)
    return payments, client


def _credit_by_currency(payments: QuerySet[Payment]) -> list[dict[str, Any]]:
    rows = (
        payments.filter(unallocated__gt=0)
        .values("currency")
        .order_by("currency")
        .annotate(credit=MoneySum("unallocated"))
    )
    return [{"currency": row["currency"], "amount": cents(row["credit"])} for row in rows]


@member_view
def payment_list(request: HttpRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET, clients=scoped(request, Client).order_by("name"))
    payments, client = _filtered_payments(request, form)
    page = paginate(request, payments.order_by("-date", "-id"))
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "client": client,
        "credit": _credit_by_currency(payments),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
    }
    return render(request, "web/payments/list.html", context)


@member_view
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(
        scoped(request, Payment).select_related("client", "created_by"), pk=pk
    )
    allocations = (
        scoped(request, Allocation)
        .filter(payment=payment)
        .select_related("invoice", "installment")
        .order_by("invoice__due_date", "pk")
    )
    context = {"payment": payment, "allocations": allocations}
    return render(request, "web/payments/detail.html", context)
