"""The reminder pages a person works in every day: the overview and its
heartbeat, the approval queue, the calls to make, the letters to print, the
messages that need attention, the next 7 days, what was sent; and the
reminder parts of the client and invoice pages (pauses, reason for
non-payment, policy in use, history and its exports).

Every object is looked up through ``relance.web.access`` (another
organisation's id is a 404); every change goes through ``dunning.actions``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from relance.ledger.models import Client, Invoice
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view

from .. import actions, dispatch, foresight, scheduler, templating, timeline
from .. import context as reminder_context
from ..forms_operations import CallLogForm, PauseForm, ReasonForm, RejectForm, SentFilterForm
from ..models import (
    Attempt,
    Channel,
    ChannelState,
    DunningSettings,
    Message,
    MessageStatus,
    MessageTemplate,
    Pause,
    Policy,
    Reminder,
    ReminderStatus,
)

PAGE_SIZE = 50
QUEUE_LIMIT = 200  # a queue longer than this is shown in pages of this size, oldest first
HISTORY_ON_PAGE = 30
OPEN = ("issued", "partially_paid")


# -- shared ------------------------------------------------------------------------


def queue_counts(organisation: Any) -> dict[str, int]:
    """How much waits for a person: approvals, calls, letters, failed or uncertain."""
    rows = (
        Message.objects.filter(
            organisation=organisation,
            status__in=(
                MessageStatus.AWAITING_APPROVAL,
                MessageStatus.TO_DO,
                MessageStatus.FAILED,
                MessageStatus.UNCERTAIN,
            ),
        )
        .values_list("status", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {"approvals": 0, "calls": 0, "letters": 0, "attention": 0}
    for status, channel, n in rows:
        if status == MessageStatus.AWAITING_APPROVAL:
            counts["approvals"] += n
        elif status == MessageStatus.TO_DO:
            counts["calls" if channel == Channel.CALL else "letters"] += n
        else:
            counts["attention"] += n
    return counts


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("counts", queue_counts(request.organisation))
    context.setdefault("can_write", request.membership.can_write)
    return render(request, f"dunning/pages/ops/{template}", context)


def _message(request: HttpRequest, pk: int) -> Message:
    return get_object_or_404(scoped(request, Message).select_related("client"), pk=pk)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (only a path of this site), else ``default``."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


def _not_posted(request: HttpRequest) -> bool:
    """POST-only actions check the method after the lookup (another organisation's
    id is a 404 whatever the method); a GET just goes back to the page."""
    return request.method != "POST"


def invoice_numbers(messages: list[Message]) -> dict[int, list[str]]:
    """message id -> the invoice numbers it lists, in two queries for a whole page."""
    if not messages:
        return {}
    rows = (
        Reminder.objects.filter(
            client_id__in={m.client_id for m in messages},
            fired_on__in={m.day for m in messages},
            status=ReminderStatus.FIRED,
        )
        .order_by("invoice__due_date", "invoice_id")
        .values_list("client_id", "fired_on", "channels", "invoice__number")
    )
    found: dict[tuple[int, date, str], list[str]] = defaultdict(list)
    for client_id, day, channels, number in rows:
        for channel in channels.split(","):
            if number not in found[(client_id, day, channel)]:
                found[(client_id, day, channel)].append(number)
    return {m.pk: found.get((m.client_id, m.day, m.channel), []) for m in messages}


@dataclass
class Prepared:
    """A message as a person needs it: the invoices still asked, the total, and
    its text rendered in the client's language (a preview or a call script)."""

    message: Message
    invoices: list[Invoice]
    contacts: list[Any] = field(default_factory=list)
    total: str = ""
    subject: str = ""
    text: str = ""
    nothing_left: bool = False
    error: str = ""
    form: Any = None


def prepare(message: Message, today: date) -> Prepared:
    """Render a message as the dispatcher would, from the register as it is now."""
    client = message.client
    organisation = client.organisation
    items = dispatch.open_items(message, today)
    contacts, _numbers = reminder_context.recipients(client, message.channel)
    prepared = Prepared(message, dispatch.invoices_of(message), contacts)
    if not items:
        prepared.nothing_left = True
        return prepared
    language = client.language or organisation.locale or "fr"
    override = MessageTemplate.objects.filter(
        organisation=organisation,
        key=message.template,
        channel=message.channel,
        language=templating.normalise_language(language),
    ).first()
    with translation.override(language):
        ctx = reminder_context.build(
            client,
            items,
            day=message.day,
            template=message.template,
            tone=message.tone,
            contact=contacts[0] if contacts else None,
        )
        try:
            rendered = templating.render(message.template, message.channel, language, ctx, override)
        except templating.InvalidTemplate as exc:
            prepared.error = str(exc)
            return prepared
    prepared.total = ctx["total"]
    prepared.subject = rendered.subject
    prepared.text = rendered.text
    return prepared


def _oldest_first(request: HttpRequest, **filters: Any) -> list[Message]:
    rows = scoped(request, Message).filter(**filters).select_related("client")
    return list(rows.order_by("day", "pk")[:QUEUE_LIMIT])


# -- the overview -------------------------------------------------------------------


@member_view
def overview(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    context = {
        "beat": scheduler.heartbeat(organisation),
        "disabled": list(ChannelState.objects.filter(organisation=organisation)),
        "today": organisation.today(),
        "paused_clients": scoped(request, Pause)
        .filter(ended_on__isnull=True)
        .values("client")
        .distinct()
        .count(),
        **_bank_state(organisation),
    }
    return _page(request, "overview.html", context)


def _bank_state(organisation: Any) -> dict[str, Any]:
    """What the bank side tells the run: a stale statement, credits awaiting review."""
    from relance.banking.matching import clients_with_pending_credit, statement_age

    age = statement_age(organisation, organisation.today())
    if age is not None and age <= DunningSettings.for_org(organisation).statement_max_age_days:
        age = None
    return {
        "statement_age": age,
        "waiting_for_credit": len(clients_with_pending_credit(organisation)),
    }


@member_view
def banner(request: HttpRequest) -> HttpResponse:
    """The stale-heartbeat warning every page loads (htmx); empty when all is well."""
    beat = scheduler.heartbeat(request.organisation)
    if not beat["stale"]:
        return HttpResponse("")
    return render(request, "dunning/pages/ops/_banner.html", {"beat": beat})


@member_view
def dashboard_box(request: HttpRequest) -> HttpResponse:
    """The dashboard's "today's to-dos" (htmx): the heartbeat and what waits."""
    context = {
        "beat": scheduler.heartbeat(request.organisation),
        "counts": queue_counts(request.organisation),
    }
    return render(request, "dunning/pages/ops/_dashboard_box.html", context)


@writer_view
def channel_enable(request: HttpRequest, channel: str) -> HttpResponse:
    if channel not in Channel.values:
        raise Http404("no such channel")
    if _not_posted(request):
        return redirect("reminder_overview")
    if actions.enable_channel(request.organisation, channel, author=request.user):
        flash.success(
            request,
            _("%(channel)s is on again: the waiting messages leave at the next delivery.")
            % {"channel": Channel(channel).label},
        )
    return redirect("reminder_overview")


# -- approvals ----------------------------------------------------------------------


@member_view
def approvals(request: HttpRequest) -> HttpResponse:
    today = request.organisation.today()
    waiting = _oldest_first(request, status=MessageStatus.AWAITING_APPROVAL)
    context = {"items": [prepare(m, today) for m in waiting], "reject_form": RejectForm()}
    return _page(request, "approvals.html", context)


@writer_view
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    if _not_posted(request):
        return redirect("reminder_approvals")
    if actions.approve(message, author=request.user, now=timezone.now()):
        flash.success(
            request,
            _("Approved: the %(channel)s reminder to %(client)s will be sent.")
            % {"channel": message.get_channel_display(), "client": message.client.name},
        )
    else:
        flash.warning(request, _("This reminder was no longer waiting for approval."))
    return _back(request, reverse("reminder_approvals"))


@writer_view
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    if _not_posted(request):
        return redirect("reminder_approvals")
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if actions.reject(message, author=request.user, reason=reason):
        flash.success(
            request,
            _("Rejected: the %(channel)s reminder to %(client)s will not be sent.")
            % {"channel": message.get_channel_display(), "client": message.client.name},
        )
    else:
        flash.warning(request, _("This reminder was no longer waiting for approval."))
    return _back(request, reverse("reminder_approvals"))


# -- calls ----------------------------------------------------------------------------


def _calls_page(request: HttpRequest, forms: dict[int, CallLogForm] | None = None) -> HttpResponse:
    today = request.organisation.today()
    tasks = _oldest_first(request, status=MessageStatus.TO_DO, channel=Channel.CALL)
    items = []
    for task in tasks:
        prepared = prepare(task, today)
        prepared.form = (forms or {}).get(task.pk) or CallLogForm(prefix=f"call{task.pk}")
        items.append(prepared)
    return _page(request, "calls.html", {"items": items, "today": today})


@member_view
def calls(request: HttpRequest) -> HttpResponse:
    return _calls_page(request)


@writer_view
def call_log(request: HttpRequest, pk: int) -> HttpResponse:
    task = _message(request, pk)
    if task.channel != Channel.CALL:
        raise Http404("not a call")
    if _not_posted(request):
        return redirect("reminder_calls")
    form = CallLogForm(request.POST, prefix=f"call{task.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.log_call(
                task,
                outcome=data["outcome"],
                today=request.organisation.today(),
                author=request.user,
                note=data["note"],
                promise_until=data["promise_until"],
                promise_amount=data["promise_amount"],
                dispute_reason=data["dispute_reason"],
            )
        except actions.ActionError as exc:
            form.add_error(None, exc.message)
        else:
            flash.success(
                request,
                _("Call to %(client)s logged: %(outcome)s.")
                % {"client": task.client.name, "outcome": task.get_outcome_display()},
            )
            return _back(request, reverse("reminder_calls"))
    return _calls_page(request, {task.pk: form})


@writer_view
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    if _not_posted(request):
        return redirect("reminder_overview")
    if actions.cancel(message, author=request.user, reason=request.POST.get("reason", "")[:2000]):
        flash.success(request, _("Dropped."))
    else:
        flash.warning(request, _("This was already handled."))
    return _back(request, reverse("reminder_overview"))


# -- letters --------------------------------------------------------------------------


@member_view
def letters(request: HttpRequest) -> HttpResponse:
    waiting = _oldest_first(request, status=MessageStatus.TO_DO, channel=Channel.LETTER)
    numbers = invoice_numbers(waiting)
    items = [{"message": m, "numbers": numbers.get(m.pk, [])} for m in waiting]
    return _page(request, "letters.html", {"items": items})


@member_view
def letter_pdf(request: HttpRequest, pk: int) -> FileResponse:
    letter = _message(request, pk)
    if letter.channel != Channel.LETTER or not letter.pdf:
        raise Http404("no letter to print")
    name = f"relance-{slugify(letter.client.name) or letter.client_id}-{letter.day}.pdf"
    return FileResponse(letter.pdf.open("rb"), filename=name, content_type="application/pdf")


@writer_view
def letter_printed(request: HttpRequest, pk: int) -> HttpResponse:
    letter = _message(request, pk)
    if _not_posted(request):
        return redirect("reminder_letters")
    try:
        done = actions.mark_printed(letter, author=request.user, now=timezone.now())
    except actions.ActionError as exc:
        raise Http404(exc.message) from exc
    if done:
        flash.success(
            request, _("Letter to %(client)s marked as posted.") % {"client": letter.client.name}
        )
    else:
        flash.warning(request, _("This was already handled."))
    return _back(request, reverse("reminder_letters"))


# -- attention ------------------------------------------------------------------------


@member_view
def attention(request: HttpRequest) -> HttpResponse:
    rows = list(
        scoped(request, Message)
        .filter(status__in=(MessageStatus.FAILED, MessageStatus.UNCERTAIN))
        .select_related("client")
        .prefetch_related("attempt_log")
        .order_by("day", "pk")[:QUEUE_LIMIT]
    )
    numbers = invoice_numbers(rows)
    items = [{"message": m, "numbers": numbers.get(m.pk, [])} for m in rows]
    return _page(request, "attention.html", {"items": items})


@writer_view
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    if _not_posted(request):
        return redirect("reminder_attention")
    delivered = request.POST.get("delivered") == "1"
    if actions.resolve_uncertain(message, delivered=delivered, author=request.user):
        if delivered:
            flash.success(request, _("Marked as received by the client."))
        else:
            flash.success(request, _("It will be sent again at the next delivery."))
    else:
        flash.warning(request, _("This was already handled."))
    return _back(request, reverse("reminder_attention"))


# -- the next 7 days and what was sent --------------------------------------------------


@member_view
def forecast(request: HttpRequest) -> HttpResponse:
    today = request.organisation.today()
    items = foresight.forecast(request.organisation, start=today, days=7)
    days = [
        {"day": day, "items": list(group)}
        for day, group in itertools.groupby(items, key=lambda i: i.day)
    ]
    return _page(request, "forecast.html", {"days": days, "today": today, "total": len(items)})


@member_view
def sent(request: HttpRequest) -> HttpResponse:
    form = SentFilterForm(request.GET or None)
    rows = scoped(request, Message).select_related("client", "handled_by")
    if form.is_valid():
        if form.cleaned_data["channel"]:
            rows = rows.filter(channel=form.cleaned_data["channel"])
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
    value = request.GET.get("page", "1")
    number = int(value) if value.isdigit() and len(value) < 10 else 1
    page = Paginator(rows.order_by("-day", "-pk"), PAGE_SIZE).get_page(number)
    listed = list(page.object_list)
    attempts: dict[int, list[Any]] = defaultdict(list)
    for attempt in Attempt.objects.filter(message__in=listed).order_by("started_at", "pk"):
        attempts[attempt.message_id].append(attempt)
    numbers = invoice_numbers(listed)
    items = [
        {"message": m, "numbers": numbers.get(m.pk, []), "attempts": attempts.get(m.pk, [])}
        for m in listed
    ]
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "items": items,
    }
    return _page(request, "sent.html", context)


# -- the client page ---------------------------------------------------------------------


def policy_in_use(client: Client) -> tuple[Policy | None, str]:
    """The policy that chases the client's invoices, and why that one."""
    if client.dunning_policy_id:
        return client.dunning_policy, _("chosen for this client")
    policies = Policy.objects.filter(organisation_id=client.organisation_id)
    if client.kind == "individual":
        found = policies.filter(is_default_individuals=True).first()
        if found is not None:
            return found, _("the default policy for individuals")
    found = policies.filter(is_default=True).first()
    if found is not None:
        return found, _("the organisation's default policy")
    return None, _("no policy: no reminder is sent")


def _open_invoices(request: HttpRequest, client: Client) -> Any:
    return (
        scoped(request, Invoice)
        .filter(client=client, kind="invoice", status__in=OPEN)
        .order_by("due_date", "pk")
    )


def client_panel(
    request: HttpRequest,
    client: Client,
    pause_form: PauseForm | None = None,
    reason_form: ReasonForm | None = None,
) -> dict[str, Any]:
    """What the client page shows about reminders (merged into its context)."""
    policy, why = policy_in_use(client)
    history = timeline.entries(request.organisation, client=client, activities=False)
    return {
        "reminder_pauses": scoped(request, Pause)
        .filter(client=client, ended_on__isnull=True)
        .select_related("invoice", "owner"),
        "pause_form": pause_form or PauseForm(invoices=_open_invoices(request, client)),
        "reason_form": reason_form
        or ReasonForm(
            initial={"reason": client.nonpayment_reason, "detail": client.nonpayment_detail}
        ),
        "reminder_policy": policy,
        "reminder_policy_why": why,
        "reminder_history": history[:HISTORY_ON_PAGE],
        "reminder_history_more": max(0, len(history) - HISTORY_ON_PAGE),
        "tz": request.organisation.tzinfo,
    }


def _client(request: HttpRequest, pk: int) -> Client:
    return get_scoped_or_404(request, Client, pk=pk)


def _client_page(request: HttpRequest, client: Client, **forms: Any) -> HttpResponse:
    from relance.web.views.clients import render_detail

    return render_detail(request, client, extra=client_panel(request, client, **forms))


@writer_view
def client_pause(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    if _not_posted(request):
        return redirect("client_detail", pk=client.pk)
    form = PauseForm(request.POST, invoices=_open_invoices(request, client))
    if form.is_valid() and _pause_from(request, client, form):
        return redirect(reverse("client_detail", args=[client.pk]) + "#reminders")
    return _client_page(request, client, pause_form=form)


def _pause_from(request: HttpRequest, client: Client, form: PauseForm) -> bool:
    data = form.cleaned_data
    try:
        made = actions.pause(
            client,
            kind=data["kind"],
            today=request.organisation.today(),
            invoice=data.get("invoice"),
            reason=data["reason"],
            owner=request.user if data["kind"] == "dispute" else None,
            until=data["until"],
            amount=data["amount"],
            author=request.user,
        )
    except actions.ActionError as exc:
        form.add_error(None, exc.message)
        return False
    flash.success(request, _("Reminders paused: %(what)s.") % {"what": made.get_kind_display()})
    return True


@writer_view
def invoice_pause(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(scoped(request, Invoice).select_related("client"), pk=pk)
    if _not_posted(request):
        return redirect("invoice_detail", pk=invoice.pk)
    form = PauseForm(request.POST, fixed_invoice=invoice)
    if form.is_valid() and _pause_from(request, invoice.client, form):
        return redirect(reverse("invoice_detail", args=[invoice.pk]) + "#reminders")
    from relance.web.views.invoices import _detail_context

    context = _detail_context(request, invoice, **invoice_panel(request, invoice, form))
    return render(request, "web/invoices/detail.html", context)


@writer_view
def pause_lift(request: HttpRequest, pk: int) -> HttpResponse:
    pause = get_object_or_404(scoped(request, Pause).select_related("client", "invoice"), pk=pk)
    if _not_posted(request):
        return redirect("client_detail", pk=pause.client_id)
    try:
        actions.lift(pause, today=request.organisation.today(), author=request.user)
    except actions.ActionError as exc:
        flash.warning(request, exc.message)
    else:
        flash.success(
            request,
            _("%(kind)s lifted: the reminders resume at the next run.")
            % {"kind": pause.get_kind_display()},
        )
    return _back(request, reverse("client_detail", args=[pause.client_id]) + "#reminders")


@writer_view
def client_reason(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    if _not_posted(request):
        return redirect("client_detail", pk=client.pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            actions.set_nonpayment_reason(
                client, form.cleaned_data["reason"], form.cleaned_data["detail"],
                author=request.user,
            )  # fmt: skip
        except actions.ActionError as exc:
            form.add_error(None, exc.message)
        else:
            flash.success(request, _("Reason for non-payment saved."))
            return redirect(reverse("client_detail", args=[client.pk]) + "#reminders")
    return _client_page(request, client, reason_form=form)


# -- the invoice page ---------------------------------------------------------------------


def invoice_panel(
    request: HttpRequest, invoice: Invoice, pause_form: PauseForm | None = None
) -> dict[str, Any]:
    """What the invoice page shows about reminders (merged into its context)."""
    if invoice.kind != "invoice" or invoice.status == "draft":
        return {}
    today = request.organisation.today()
    history = timeline.entries(request.organisation, invoice=invoice, activities=False)
    return {
        "reminder_next": timeline.upcoming(invoice, today),
        "reminder_pauses": scoped(request, Pause)
        .filter(client_id=invoice.client_id, ended_on__isnull=True)
        .filter(Q(invoice=invoice) | Q(invoice__isnull=True))
        .select_related("invoice", "owner"),
        "pause_form": pause_form or PauseForm(fixed_invoice=invoice),
        "reminder_history": history[:HISTORY_ON_PAGE],
        "reminder_history_more": max(0, len(history) - HISTORY_ON_PAGE),
        "tz": request.organisation.tzinfo,
    }


@member_view
def invoice_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice page's reminder part, loaded after the page (htmx) so the
    page itself stays as quick as it was."""
    invoice = get_object_or_404(scoped(request, Invoice).select_related("client"), pk=pk)
    context = {"invoice": invoice, **invoice_panel(request, invoice)}
    return render(request, "dunning/pages/ops/_invoice_panel.html", context)


# -- exports ----------------------------------------------------------------------------


def _export(
    request: HttpRequest,
    rows: list[timeline.Entry],
    name: str,
    title: str,
    subtitle: str,
    kind: str,
) -> HttpResponse:
    stamp = request.organisation.today().isoformat()
    filename = f"{slugify(name) or 'relance'}-{stamp}.{kind}"
    if kind == "csv":
        body = timeline.as_csv(rows, request.organisation.tzinfo)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        pdf = timeline.as_pdf(rows, title, organisation=request.organisation, subtitle=subtitle)
        response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_view
def client_history(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    client = _client(request, pk)
    rows = timeline.entries(request.organisation, client=client)
    title = _("Record of the reminders: %(client)s") % {"client": client.name}
    return _export(request, rows, f"relance-{client.name}", title, client.name, kind)


@member_view
def invoice_history(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    invoice = get_object_or_404(
        scoped(request, Invoice).select_related("client").exclude(status="draft"), pk=pk
    )
    rows = timeline.entries(request.organisation, invoice=invoice)
    title = _("Record of the reminders: invoice %(number)s") % {"number": invoice.number}
    subtitle = f"{invoice.client.name} · {invoice.number}"
    return _export(request, rows, f"relance-{invoice.number}", title, subtitle, kind)
