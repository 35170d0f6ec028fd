"""Payments: recording money received, on one invoice or for a client, and
the register of payments with the client credit they left."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger import settlement
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import Allocation, Client, Invoice, Payment
from relance.ledger.settlement import PaymentError, Share
from relance.rules.money import CURRENCIES
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.payments import (
    ClientPaymentForm,
    InvoicePaymentForm,
    PaymentFilterForm,
    RefundForm,
    ReversalForm,
)
from relance.web.views.invoices import paginate


def _duplicates(form: Any, client: Client) -> list[Payment]:
    """Earlier payments this one may repeat, unless the user confirmed it is another."""
    data = form.cleaned_data
    if data.get("record_anyway"):
        return []
    return settlement.find_duplicates(
        client,
        data["amount"],
        data["currency"],
        data["reference"],
        data["date"],
        payer_name=data["payer_name"],
    )


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
    duplicates: list[Payment] = []
    if data is not None and form.is_valid():
        duplicates = _duplicates(form, invoice.client)
        if not duplicates:
            try:
                payment = _record(request, form, invoice.client, form.shares())
            except PaymentError as exc:
                form.add_error(None, str(exc))
            else:
                _recorded_message(request, payment)
                return redirect("invoice_detail", pk=invoice.pk)
    context = {
        "form": form,
        "invoice": invoice,
        "client": invoice.client,
        "duplicates": duplicates,
        "discount_amount": _discount_hint(invoice, today),
    }
    return render(request, "web/payments/invoice_form.html", context)


def _discount_hint(invoice: Invoice, today: Any) -> Any:
    """The amount that settles the invoice today with its early-payment discount."""
    amount = settlement.amount_to_settle(invoice, today)
    return amount if amount != invoice.balance else None


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
    duplicates: list[Payment] = []
    if data is not None and form.is_valid() and not (duplicates := _duplicates(form, client)):
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
    context = {"form": form, "client": client, "today": today, "duplicates": duplicates}
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
        payments = payments.filter(unallocated__gt=0, reversed_on__isnull=True)
    return payments, client


def _credit_by_currency(payments: QuerySet[Payment]) -> list[dict[str, Any]]:
    rows = (
        payments.filter(unallocated__gt=0, reversed_on__isnull=True)
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
    context = {
        "payment": payment,
        "allocations": allocations,
        "refunds": payment.refunds.order_by("date", "pk"),
    }
    return render(request, "web/payments/detail.html", context)


@writer_view
def payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(scoped(request, Payment).select_related("client"), pk=pk)
    if payment.is_reversed:
        messages.error(request, _("This payment is already reversed."))
        return redirect("payment_detail", pk=payment.pk)
    today = request.organisation.today()
    data = request.POST if request.method == "POST" else None
    form = ReversalForm(data, initial={"date": today}, today=today, received=payment.date)
    if data is not None and form.is_valid():
        try:
            settlement.reverse_payment(
                payment,
                date=form.cleaned_data["date"],
                reason=form.cleaned_data["reason"],
                author=request.user,
            )
        except PaymentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Payment reversed: the invoices it paid are open again."))
            return redirect("payment_detail", pk=payment.pk)
    context = {"form": form, "payment": payment}
    return render(request, "web/payments/reverse.html", context)


@writer_view
def invoice_apply_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(scoped(request, Invoice).select_related("client"), pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        applied = settlement.apply_credit(invoice, author=request.user)
    except PaymentError as exc:
        messages.error(request, str(exc))
    else:
        _credit_message(request, applied, invoice.currency)
    return redirect("invoice_detail", pk=invoice.pk)


@writer_view
def client_apply_credit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    currency = request.POST.get("currency", "")
    if currency not in CURRENCIES:
        return HttpResponseBadRequest(_("Unsupported currency: %(code)s.") % {"code": currency})
    applied = settlement.apply_client_credit(client, currency, author=request.user)
    _credit_message(request, applied, currency)
    return redirect("client_detail", pk=client.pk)


def _credit_message(request: HttpRequest, applied: Any, currency: str) -> None:
    if applied:
        messages.success(
            request,
            _("Client credit of %(amount)s applied.")
            % {"amount": formats.money(applied, currency)},
        )
    else:
        messages.info(request, _("No client credit to apply."))


@writer_view
def client_refund_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=pk)
    credit = {
        row["currency"]: cents(row["credit"])
        for row in scoped(request, Payment)
        .filter(client=client, unallocated__gt=0, reversed_on__isnull=True)
        .values("currency")
        .order_by("currency")
        .annotate(credit=MoneySum("unallocated"))
    }
    if not credit:
        messages.error(request, _("This client has no credit to refund."))
        return redirect("client_detail", pk=client.pk)
    today = request.organisation.today()
    currency = next(iter(credit))
    initial = {"currency": currency, "amount": credit[currency], "date": today}
    data = request.POST if request.method == "POST" else None
    form = RefundForm(data, initial=initial, today=today, credit=credit)
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        try:
            settlement.refund_credit(
                client,
                amount=cleaned["amount"],
                currency=cleaned["currency"],
                date=cleaned["date"],
                method=cleaned["method"],
                reference=cleaned["reference"].strip(),
                author=request.user,
            )
        except PaymentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Refund recorded."))
            return redirect("client_detail", pk=client.pk)
    context = {"form": form, "client": client, "credit": credit}
    return render(request, "web/payments/refund_form.html", context)
