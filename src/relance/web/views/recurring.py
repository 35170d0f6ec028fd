"""Recurring invoices (retainers): the list with what went wrong, the form,
pause and resume. The worker issues and sends them on their date
(relance.invoicing.recurring); these pages only set them up."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relance import formats
from relance.invoicing.models import FREQUENCY_MONTHS, PaymentTermsTemplate, RecurringInvoice
from relance.ledger.models import Client
from relance.rules.terms import add_months
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.invoices import VAT_RATES
from relance.web.forms.recurring import RecurringEditor, totals_of
from relance.web.views.invoices import client_from_query


def state(schedule: RecurringInvoice) -> str:
    """ "active", "paused" or "ended" (the worker stops after the last date)."""
    if schedule.active:
        return "active"
    if schedule.end_date is not None and schedule.next_date > schedule.end_date:
        return "ended"
    return "paused"


@member_view
def recurring_list(request: HttpRequest) -> HttpResponse:
    client = client_from_query(request)
    schedules = scoped(request, RecurringInvoice).select_related("client", "terms_template")
    if client is not None:
        schedules = schedules.filter(client=client)
    rows = [
        {
            "schedule": schedule,
            "state": state(schedule),
            "totals": totals_of(schedule.lines, schedule.currency),
        }
        for schedule in schedules.order_by("-active", "next_date", "pk")
    ]
    context = {
        "rows": rows,
        "client": client,
        "failing": [row["schedule"] for row in rows if row["schedule"].last_error],
        "can_write": request.membership.can_write,
    }
    return render(request, "web/recurring/list.html", context)


def _editor(request: HttpRequest, instance: RecurringInvoice, data: Any = None, **kw: Any) -> Any:
    return RecurringEditor.build(
        data,
        instance=instance,
        clients=scoped(request, Client).order_by("name"),
        terms=scoped(request, PaymentTermsTemplate).order_by("name"),
        **kw,
    )


def _page(request: HttpRequest, editor: RecurringEditor, schedule: Any) -> HttpResponse:
    can_write = request.membership.can_write
    if not can_write:
        for form in (editor.form, *editor.lines.forms):
            for form_field in form.fields.values():
                form_field.disabled = True
    context = {
        "editor": editor,
        "schedule": schedule,
        "vat_rates": VAT_RATES,
        "can_write": can_write,
    }
    return render(request, "web/recurring/form.html", context)


@writer_view
def recurring_create(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    instance = RecurringInvoice(organisation=organisation, created_by=request.user)
    if request.method == "POST":
        editor = _editor(request, instance, request.POST)
        if editor.is_valid():
            schedule = editor.save()
            messages.success(
                request,
                _("Recurring invoice %(name)s created: the first invoice is issued on %(day)s.")
                % {"name": schedule.name, "day": formats.day(schedule.next_date)},
            )
            return redirect("recurring_list")
        return _page(request, editor, None)
    today = organisation.today()
    initial = {
        "client": client_from_query(request),
        "currency": organisation.currency,
        "next_date": add_months(today.replace(day=1), 1),
    }
    return _page(request, _editor(request, instance, initial=initial), None)


@writer_view
def recurring_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_scoped_or_404(request, RecurringInvoice, pk=pk)
    name = schedule.name
    if request.method == "POST":
        editor = _editor(request, schedule, request.POST)
        if editor.is_valid():
            editor.save()
            messages.success(request, _("Changes saved."))
            return redirect("recurring_list")
        schedule.name = name
        return _page(request, editor, schedule)
    return _page(request, _editor(request, schedule), schedule)


@writer_view
def recurring_pause(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_scoped_or_404(request, RecurringInvoice, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("recurring_list")
    RecurringInvoice.objects.filter(pk=schedule.pk).update(active=False)
    messages.success(
        request,
        _("%(name)s is paused: no invoice is issued until you resume it.")
        % {"name": schedule.name},
    )
    return redirect("recurring_list")


def next_date_after_pause(schedule: RecurringInvoice, today: date) -> date:
    """Periods missed while paused are not invoiced: the next date comes on
    by whole periods until it is today or later."""
    months = FREQUENCY_MONTHS[schedule.frequency]
    next_date = schedule.next_date
    while next_date < today:
        next_date = add_months(next_date, months)
    return next_date


@writer_view
def recurring_resume(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_scoped_or_404(request, RecurringInvoice, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("recurring_list")
    next_date = next_date_after_pause(schedule, request.organisation.today())
    if schedule.end_date is not None and next_date > schedule.end_date:
        messages.error(
            request,
            _("%(name)s ended on %(day)s: change its last invoice date to resume it.")
            % {"name": schedule.name, "day": formats.day(schedule.end_date)},
        )
        return redirect("recurring_list")
    RecurringInvoice.objects.filter(pk=schedule.pk).update(
        active=True, next_date=next_date, last_error=""
    )
    messages.success(
        request,
        _("%(name)s resumed: the next invoice is issued on %(day)s.")
        % {"name": schedule.name, "day": formats.day(next_date)},
    )
    return redirect("recurring_list")
