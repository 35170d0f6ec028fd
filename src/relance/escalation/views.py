"""The escalation pages: a client's actions (each with a confirmation), the formal
notices' approval and sending, the documents, and the list of cases and tasks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from relance.ledger.models import Client, Invoice
from relance.organisations.models import Role
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view

from . import documents, ends, holds, notices
from .forms import (
    CloseForm,
    ConfirmForm,
    CourtForm,
    HandOffForm,
    HoldForm,
    InsolvencyForm,
    ReceiptForm,
    SentForm,
    SettingsForm,
    WriteOffForm,
)
from .models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    FormalNotice,
    NoticeStatus,
    Task,
)

REFUSALS = (
    holds.HoldRefused,
    holds.NotifyFailed,
    notices.NoticeRefused,
    ends.EndRefused,
)


def _client(request: HttpRequest, pk: int) -> Client:
    return get_scoped_or_404(request, Client, pk=pk)


def _back(client_id: int) -> HttpResponse:
    response = redirect("client_detail", pk=client_id)
    response["Location"] += "#escalation"
    return response


def _action_page(
    request: HttpRequest, client: Client, form: Any, title: str, help_text: str = ""
) -> HttpResponse:
    today = request.organisation.today()
    context = {
        "client": client,
        "form": form,
        "title": title,
        "help_text": help_text,
        "overdue": ends.overdue(client, today),
        "proposal": ends.proposal(client, today),
    }
    return render(request, "escalation/action.html", context, status=400 if form.is_bound else 200)


def _run(request: HttpRequest, client: Client, action: Any, done: str) -> HttpResponse | None:
    """Do ``action``; a refusal is shown and nothing changed (None: it went through)."""
    try:
        action()
    except REFUSALS as exc:
        messages.error(request, str(exc))
        return _back(client.pk)
    messages.success(request, done)
    return None


# -- work stop ----------------------------------------------------------------------


@writer_view
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    title = _("Stop work for %(client)s") % {"client": client}
    if request.method != "POST":
        return _action_page(request, client, HoldForm(), title)
    form = HoldForm(request.POST)
    if not form.is_valid():
        return _action_page(request, client, form, title)
    today = request.organisation.today()
    reason = form.cleaned_data["reason"]
    refused = _run(
        request,
        client,
        lambda: holds.put_on_hold(client, reason=reason, as_of=today, author=request.user),
        _("Work is stopped for this client until they pay."),
    )
    if refused is None and form.cleaned_data["notify"]:
        try:
            sent_to = holds.notify(client, as_of=today, author=request.user)
        except holds.NotifyFailed as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(
                request, _("The client was told: %(to)s.") % {"to": ", ".join(sent_to)}
            )
    return refused or _back(client.pk)


@writer_view
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    if request.method != "POST":
        return _back(client.pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return _back(client.pk)
    holds.lift_hold(
        client, as_of=request.organisation.today(), author=request.user, why=_("decided by hand")
    )
    messages.success(request, _("Work resumed."))
    return _back(client.pk)


# -- formal notice ------------------------------------------------------------------


@writer_view
def notice_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    if request.method != "POST":
        return _back(client.pk)
    today = request.organisation.today()
    ids = request.POST.getlist("invoice")
    invoices = None
    if ids:
        invoices = list(scoped(request, Invoice).filter(client=client, pk__in=ids[:500]))
    return _run(
        request,
        client,
        lambda: notices.prepare(client, invoices, as_of=today, author=request.user),
        _("Formal notice prepared: it awaits approval."),
    ) or _back(client.pk)


def _notice(request: HttpRequest, pk: int) -> FormalNotice:
    return get_object_or_404(scoped(request, FormalNotice).select_related("client"), pk=pk)


@writer_view
def notice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if request.method != "POST":
        return _back(notice.client_id)
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return _back(notice.client_id)
    return _run(
        request,
        notice.client,
        lambda: notices.approve(notice, author=request.user),
        _("Formal notice approved: print it and send it by registered post."),
    ) or _back(notice.client_id)


@writer_view
def notice_sent(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if request.method != "POST":
        return _back(notice.client_id)
    form = SentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date the letter was sent."))
        return _back(notice.client_id)
    today = request.organisation.today()
    return _run(
        request,
        notice.client,
        lambda: notices.mark_sent(
            notice, sent_on=form.cleaned_data["sent_on"], as_of=today, author=request.user
        ),
        _("The sending date is recorded."),
    ) or _back(notice.client_id)


@writer_view
def notice_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if request.method != "POST":
        return _back(notice.client_id)
    form = ReceiptForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the receipt's file."))
        return _back(notice.client_id)
    return _run(
        request,
        notice.client,
        lambda: notices.attach_receipt(notice, form.cleaned_data["receipt"], author=request.user),
        _("Proof of sending attached."),
    ) or _back(notice.client_id)


@writer_view
def notice_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if request.method != "POST":
        return _back(notice.client_id)
    return _run(
        request,
        notice.client,
        lambda: notices.cancel(notice, author=request.user),
        _("Formal notice cancelled."),
    ) or _back(notice.client_id)


@member_view
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if notice.pdf and notice.status != NoticeStatus.AWAITING_APPROVAL:
        try:
            handle = notice.pdf.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404("the PDF is missing") from None
        return FileResponse(handle, as_attachment=True, filename=f"formal-notice-{notice.pk}.pdf")
    response = HttpResponse(documents.notice_pdf(notice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="formal-notice-{notice.pk}-draft.pdf"'
    return response


@member_view
def notice_receipt_file(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if not notice.receipt:
        raise Http404("no receipt")
    try:
        handle = notice.receipt.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("the file is missing") from None
    return FileResponse(handle, as_attachment=True, filename=notice.receipt_name or "receipt")


# -- agency, court, write-off, insolvency ----------------------------------------------


def _client_action(
    request: HttpRequest,
    client: Client,
    form_class: Any,
    title: str,
    help_text: str,
    act: Any,
    done: str,
) -> HttpResponse:
    """A confirmed action on the client: the form page, then ``act(data, today)``."""
    if request.method != "POST":
        return _action_page(request, client, form_class(), title, help_text)
    form = form_class(request.POST)
    if not form.is_valid():
        return _action_page(request, client, form, title, help_text)
    today = request.organisation.today()
    return _run(request, client, lambda: act(form.cleaned_data, today), done) or _back(client.pk)


@writer_view
def handoff(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    return _client_action(
        request,
        client,
        HandOffForm,
        _("Hand %(client)s to a collection agency") % {"client": client},
        _("The reminders stop for this client. Download the case file for the agency first."),
        lambda data, today: ends.hand_off(
            client, agency=data["agency"], as_of=today, author=request.user
        ),
        _("Handed to the collection agency: the reminders stop."),
    )


@writer_view
def court(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    return _client_action(
        request,
        client,
        CourtForm,
        _("Take %(client)s to court") % {"client": client},
        _("The reminders stop for this client. Download the dossier for the forms."),
        lambda data, today: ends.go_to_court(
            client, procedure=data["procedure"], as_of=today, author=request.user
        ),
        _("In court: the reminders stop."),
    )


@writer_view
def write_off(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    settings = EscalationSettings.for_org(request.organisation)
    title = _("Write off debts of %(client)s") % {"client": client}
    help_text = _("Up to the owner's limit of %(limit)s in all.") % {
        "limit": f"{settings.write_off_limit} {request.organisation.currency}"
    }
    open_invoices = scoped(request, Invoice).filter(client=client).open().order_by("due_date")
    if request.method != "POST":
        form = WriteOffForm(invoices=open_invoices)
        return _action_page(request, client, form, title, help_text)
    form = WriteOffForm(request.POST, invoices=open_invoices)
    if not form.is_valid():
        return _action_page(request, client, form, title, help_text)
    today = request.organisation.today()
    return _run(
        request,
        client,
        lambda: ends.write_off(
            client,
            list(form.cleaned_data["invoices"]),
            reason=form.cleaned_data["reason"],
            as_of=today,
            author=request.user,
        ),
        _("Written off. The accounting line is on the escalations page."),
    ) or _back(client.pk)


@writer_view
def insolvent(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    return _client_action(
        request,
        client,
        InsolvencyForm,
        _("%(client)s is in insolvency proceedings") % {"client": client},
        _(
            "Every reminder and late fee stops, and a task to declare the claim is created "
            "with its legal deadline."
        ),
        lambda data, today: ends.mark_insolvent(
            client,
            procedure=data["procedure"],
            judgment_on=data["judgment_on"],
            published_on=data["published_on"],
            as_of=today,
            author=request.user,
        ),
        _("Marked insolvent: declare the claim before the deadline."),
    )


def _case(request: HttpRequest, pk: int) -> Escalation:
    return get_object_or_404(scoped(request, Escalation).select_related("client"), pk=pk)


@writer_view
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if request.method != "POST":
        return _back(case.client_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return _back(case.client_id)
    today = request.organisation.today()
    if case.kind == EscalationKind.WORK_STOP:
        holds.lift_hold(case.client, as_of=today, author=request.user, why=_("decided by hand"))
        messages.success(request, _("Work resumed."))
        return _back(case.client_id)
    return _run(
        request,
        case.client,
        lambda: ends.close_case(
            case, as_of=today, author=request.user, outcome=form.cleaned_data["outcome"]
        ),
        _("Case ended: the reminders resume for what is still owed."),
    ) or _back(case.client_id)


@writer_view
def case_decline(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if request.method == "POST":
        ends.decline(case, as_of=request.organisation.today(), author=request.user)
        messages.success(request, _("Proposal declined."))
    return _back(case.client_id)


@member_view
def write_off_csv(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if case.kind != EscalationKind.WRITE_OFF or case.status == EscalationStatus.PROPOSED:
        raise Http404("not a write-off")
    response = HttpResponse(documents.write_off_csv(case), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="write-off-{case.pk}.csv"'
    return response


@writer_view
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(scoped(request, Task).select_related("client"), pk=pk)
    if request.method == "POST":
        ends.complete_task(task, as_of=request.organisation.today(), author=request.user)
        messages.success(request, _("Task done."))
    return _back(task.client_id)


# -- documents ---------------------------------------------------------------------------


@member_view
def case_file(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    today = request.organisation.today()
    invoices = ends.overdue(client, today) or list(
        Invoice.objects.filter(client=client).open().order_by("due_date")
    )
    if not invoices:
        raise Http404("nothing owed")
    settings = EscalationSettings.for_org(request.organisation)
    data = documents.case_file_zip(client, invoices, today, settings.agency_fee_percent)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="case-file-{client.pk}.zip"'
    return response


@member_view
def dossier(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    today = request.organisation.today()
    invoices = ends.overdue(client, today)
    if not invoices:
        raise Http404("nothing overdue")
    response = HttpResponse(
        documents.dossier_pdf(client, invoices, today), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="court-dossier-{client.pk}.pdf"'
    return response


# -- the list -----------------------------------------------------------------------------


@member_view
def escalation_list(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    today = organisation.today()
    cases = scoped(request, Escalation).select_related("client")
    context = {
        "today": today,
        "proposed": cases.filter(status=EscalationStatus.PROPOSED),
        "open_cases": cases.filter(status=EscalationStatus.OPEN),
        "past": cases.filter(status__in=(EscalationStatus.CLOSED, EscalationStatus.DECLINED))[:50],
        "notices": scoped(request, FormalNotice)
        .select_related("client")
        .filter(status__in=(NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)),
        "tasks": scoped(request, Task).select_related("client").filter(done_on__isnull=True),
        "alerts": ends.limitation_alerts(organisation, today),
        "settings": EscalationSettings.for_org(organisation),
    }
    return render(request, "escalation/list.html", context)


@writer_view
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The figures: only the owner sets them (the write-off limit is theirs)."""
    if request.membership.role != Role.OWNER:
        raise PermissionDenied("owner only")
    settings = EscalationSettings.for_org(request.organisation)
    form = SettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Escalation settings saved."))
        return redirect("escalation_list")
    return render(request, "escalation/settings.html", {"form": form})
