"""The plan and offer pages: list, detail, proposal with a live schedule, offer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import Client
from relance.rules.money import ZERO
from relance.rules.plans import PlanError
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.views.invoices import paginate

from . import documents, offers, service
from .forms import OfferForm, PlanForm, plan_error_text
from .models import PaymentPlan, PlanStatus, SettlementOffer


@member_view
def plan_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    plans = scoped(request, PaymentPlan).select_related("client").prefetch_related("installments")
    if status in PlanStatus.values:
        plans = plans.filter(status=status)
    page = paginate(request, plans.order_by("-proposed_on", "-id"))
    today = request.organisation.today()
    rows = []
    for plan in page.object_list:
        upcoming = plan.next_installment() if plan.status == PlanStatus.ACTIVE else None
        rows.append(
            {
                "plan": plan,
                "next": upcoming,
                "late": upcoming is not None and upcoming.due_date < today,
            }
        )
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": PlanStatus.choices,
        "offers": scoped(request, SettlementOffer).select_related("client")[:20],
        "page_range": page.paginator.get_elided_page_range(page.number),
    }
    return render(request, "plans/list.html", context)


def _plan(request: HttpRequest, pk: int) -> PaymentPlan:
    return get_object_or_404(
        scoped(request, PaymentPlan).select_related("client", "organisation"), pk=pk
    )


@member_view
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    today = request.organisation.today()
    rows = [
        {
            "row": row,
            "late": plan.status == PlanStatus.ACTIVE and row.remaining > 0 and row.due_date < today,
        }
        for row in plan.installments.all()
    ]
    context = {
        "plan": plan,
        "client": plan.client,
        "rows": rows,
        "invoices": plan.invoices.order_by("due_date", "pk"),
        "paid": plan.amount_paid,
    }
    return render(request, "plans/detail.html", context)


@member_view
def plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not plan.pdf:
        documents.store_pdf(plan)
    try:
        handle = plan.pdf.open("rb")
    except FileNotFoundError:
        raise Http404("no PDF") from None
    return FileResponse(handle, as_attachment=True, filename=f"payment-plan-{plan.pk}.pdf")


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    plan = _plan(request, pk)
    if request.method != "POST":
        return redirect("plan_detail", pk=plan.pk)
    try:
        action(plan)
    except (service.PlanRefused, documents.SendFailed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("plan_detail", pk=plan.pk)


@writer_view
def plan_agree(request: HttpRequest, pk: int) -> HttpResponse:
    today = request.organisation.today()
    return _act(
        request,
        pk,
        lambda plan: service.agree(plan, as_of=today, author=request.user),
        _("The plan is active: its invoices are paused and its installments reminded."),
    )


@writer_view
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    today = request.organisation.today()
    return _act(
        request,
        pk,
        lambda plan: service.cancel(plan, as_of=today, author=request.user),
        _("Plan cancelled: the reminders resume."),
    )


@writer_view
def plan_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda plan: documents.send_agreement(plan, author=request.user),
        _("Agreement sent by email."),
    )


def _overdue(client: Client, today: Any, currency: str) -> list:
    return service.overdue_invoices(client, today, currency)


def _currencies(client: Client, today: Any) -> list[str]:
    return sorted({i.currency for i in service.overdue_invoices(client, today)})


def _proposal(data: dict[str, Any]) -> service.Proposal:
    return service.Proposal(
        count=data["count"],
        frequency=data["frequency"],
        day=data.get("day"),
        dates=data.get("dates") or (),
        down_payment=data.get("down_payment") or ZERO,
        fee=data.get("fee") or ZERO,
        fees_waived=bool(data.get("fees_waived")),
        grace_days=data["grace_days"],
    )


def _plan_form(request: HttpRequest, client: Client) -> tuple[PlanForm, list, Any]:
    today = request.organisation.today()
    currencies = _currencies(client, today)
    default = (
        request.organisation.currency
        if request.organisation.currency in currencies
        else (currencies or [request.organisation.currency])[0]
    )
    initial = {"currency": default, "day": service.usual_day(client, today)}
    form = PlanForm(request.POST or None, initial=initial)
    return form, currencies, today


@writer_view
def plan_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=client_pk)
    form, currencies, today = _plan_form(request, client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invoices = _overdue(client, today, data["currency"])
        try:
            with transaction.atomic():
                plan = service.propose(
                    client, invoices, _proposal(data), as_of=today, author=request.user
                )
                if data["agreed"]:
                    service.agree(plan, as_of=today, author=request.user)
        except PlanError as exc:
            form.add_error(None, plan_error_text(exc))
        except service.PlanRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Payment plan recorded."))
            if data["send"]:
                try:
                    documents.send_agreement(plan, author=request.user)
                    messages.success(request, _("Agreement sent by email."))
                except documents.SendFailed as exc:
                    messages.error(request, str(exc))
            return redirect("plan_detail", pk=plan.pk)
    context = {
        "form": form,
        "client": client,
        "currencies": currencies,
        "preview": _preview(form, client, today) if request.method == "POST" else None,
    }
    return render(request, "plans/form.html", context)


def _preview(form: PlanForm, client: Client, today: Any) -> dict[str, Any]:
    """The schedule the form gives, or why there is none."""
    if not form.is_valid():
        return {"error": _("Fill in the form to see the schedule.")}
    data = form.cleaned_data
    invoices = _overdue(client, today, data["currency"])
    balance = sum((i.balance for i in invoices), ZERO)
    if not invoices:
        return {"error": _("No overdue invoice in %(currency)s.") % {"currency": data["currency"]}}
    try:
        lines = service.schedule(balance, data["currency"], _proposal(data), today)
    except PlanError as exc:
        return {"error": plan_error_text(exc)}
    currency = data["currency"]
    return {
        "invoices": invoices,
        "balance": formats.money(balance, currency),
        "lines": [
            (n, formats.day(x.due_date), formats.money(x.amount, currency))
            for n, x in enumerate(lines, start=1)
        ],
        "total": formats.money(sum((x.amount for x in lines), ZERO), currency),
    }


@writer_view
def plan_preview(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The live schedule under the form (htmx)."""
    client = get_scoped_or_404(request, Client, pk=client_pk)
    form, _unused, today = _plan_form(request, client)
    return render(request, "plans/_preview.html", {"preview": _preview(form, client, today)})


@writer_view
def offer_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = get_scoped_or_404(request, Client, pk=client_pk)
    today = request.organisation.today()
    currencies = _currencies(client, today)
    initial = {"currency": (currencies or [request.organisation.currency])[0]}
    form = OfferForm(request.POST or None, initial=initial, today=today)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            offer = offers.make(
                client,
                _overdue(client, today, data["currency"]),
                kind=data["discount_kind"],
                value=data["discount_value"],
                expires_on=data["expires_on"],
                as_of=today,
                author=request.user,
            )
        except offers.OfferRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Offer recorded: %(to_pay)s instead of %(balance)s if paid by %(day)s.")
                % offers.wording(offer),
            )
            if data["send"]:
                try:
                    documents.send_offer(offer, author=request.user)
                    messages.success(request, _("Offer sent by email."))
                except documents.SendFailed as exc:
                    messages.error(request, str(exc))
            return redirect("client_detail", pk=client.pk)
    overdue = service.overdue_invoices(client, today)
    context = {"form": form, "client": client, "overdue": overdue}
    return render(request, "plans/offer_form.html", context)


@writer_view
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_scoped_or_404(request, SettlementOffer, pk=pk)
    if request.method == "POST":
        try:
            offers.withdraw(offer, as_of=request.organisation.today(), author=request.user)
            messages.success(request, _("Offer withdrawn."))
        except offers.OfferRefused as exc:
            messages.error(request, str(exc))
    return redirect("client_detail", pk=offer.client_id)
