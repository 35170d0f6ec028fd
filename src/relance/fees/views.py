"""Late-fee pages: the boxes the invoice, client and dashboard pages load
(fees computed live), the settings with the rate table, waiving a fee."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from relance.ledger.models import Client, Invoice
from relance.organisations.models import Role
from relance.rules.rates import SERIES
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view

from . import accrual, booking
from .forms import FeeSettingsForm, WaiveForm
from .models import FeeSettings, LateFee


def _can_write(request: HttpRequest) -> bool:
    return request.membership.can_write


@member_view
def invoice_box(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(accrual.prefetched(scoped(request, Invoice)), pk=pk)
    today = request.organisation.today()
    context = {
        "invoice": invoice,
        "accrual": accrual.for_invoice(invoice, today),
        "fees": sorted(invoice.late_fees.all(), key=lambda fee: (fee.booked_on, fee.pk)),
        "can_write": _can_write(request),
        "as_of": today,
    }
    return render(request, "fees/_invoice.html", context)


@member_view
def client_box(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=pk)
    today = request.organisation.today()
    summary = accrual.summarise(accrual.for_client(client, today))
    return render(request, "fees/_client.html", {"summary": summary, "as_of": today})


@member_view
def dashboard_box(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    today = organisation.today()
    context = {
        "summary": accrual.for_organisation(organisation, today),
        "settings": FeeSettings.for_org(organisation),
        "can_write": _can_write(request),
        "as_of": today,
    }
    return render(request, "fees/_dashboard.html", context)


@writer_view
def settings_page(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    fee_settings = FeeSettings.for_org(organisation)
    is_owner = request.membership.role == Role.OWNER
    today = organisation.today()
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("owners only")
        form = FeeSettingsForm(request.POST, instance=fee_settings, today=today)
        if form.is_valid():
            form.save()
            messages.success(request, _("The late-fee settings are saved."))
            return redirect("fee_settings")
    else:
        form = FeeSettingsForm(instance=fee_settings, today=today)
    table = accrual.rate_table()
    series = [(key, label, table.rows(key)) for key, label in SERIES.items()]
    context = {"form": form, "is_owner": is_owner, "series": series, "today": today}
    return render(request, "fees/settings.html", context)


@writer_view
def waive(request: HttpRequest, pk: int) -> HttpResponse:
    fee = get_scoped_or_404(request, LateFee, pk=pk)  # first: another tenant's id is a 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = WaiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the fee is waived."))
    else:
        try:
            booking.waive(
                fee,
                reason=form.cleaned_data["reason"],
                today=request.organisation.today(),
                author=request.user,
            )
            messages.success(request, _("The fee is waived."))
        except booking.WaiveError as exc:
            messages.error(request, str(exc))
    return redirect("invoice_detail", fee.invoice_id)
