"""Invoices and credit notes: the register, a document's page, the draft
editor, issuing, credit notes, write-offs, attachments and notes."""

from __future__ import annotations

import os
import unicodedata
from datetime import timedelta
from typing import Any

from babel.numbers import format_currency
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import get_valid_filename
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from relance.ledger import issuing
from relance.ledger.issuing import IssueError
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    Attachment,
    Client,
    Invoice,
)
from relance.ledger.models.timeline import record
from relance.rules import aging
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.invoices import (
    SORTS,
    VAT_RATES,
    AttachmentForm,
    CreditNoteForm,
    InvoiceEditor,
    InvoiceFilterForm,
    LineFormSet,
    WriteOffForm,
    installment_initial,
    line_initial,
)
from relance.web.forms.timeline import ActivityForm

PAGE_SIZE = 50
DEFAULT_TERMS = timedelta(days=30)  # the legal default between businesses (L441-10)
MAX_ID_DIGITS = 18  # larger ids cannot exist (BIGINT) and would fail as SQL parameters


# Shared helpers ------------------------------------------------------------------


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    """The asked page; junk or out-of-range numbers give the first or last page."""
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def client_from_query(request: HttpRequest) -> Client | None:
    """The client of ``?client=<id>``, for preselection; anything else is a 404."""
    value = request.GET.get("client", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > MAX_ID_DIGITS:
        raise Http404("no such client")
    return get_scoped_or_404(request, Client, pk=int(value))


def _get_invoice(request: HttpRequest, pk: int) -> Invoice:
    queryset = scoped(request, Invoice).select_related("client", "corrects")
    return get_object_or_404(queryset.prefetch_related("lines"), pk=pk)


def _mark_lateness(invoices: list[Invoice], today: Any) -> list[Invoice]:
    for invoice in invoices:
        invoice.late = invoice.days_late(today)  # type: ignore[attr-defined]
    return invoices


def _unit_price(amount: Any, currency: str) -> str:
    # All four stored decimals are shown: rounding a unit price would lie.
    locale = to_locale(get_language() or "fr")
    return format_currency(amount, currency, locale=locale, decimal_quantization=False)


# The register ---------------------------------------------------------------------


DATE_AND_CHOICE_FILTERS = {
    "kind": "kind",
    "currency": "currency",
    "issued_from": "issue_date__gte",
    "issued_to": "issue_date__lte",
    "due_from": "due_date__gte",
    "due_to": "due_date__lte",
}


def _by_status(invoices: QuerySet[Invoice], data: dict[str, Any], today: Any) -> QuerySet:
    """Status, "open", "overdue" (due before the organisation's today) and aging."""
    if data["status"] == "open":
        invoices = invoices.open()
    elif data["status"] == "overdue" or data["overdue"] or data["aging"]:
        invoices = invoices.overdue(today)
    if data["status"] not in ("", "open", "overdue"):
        invoices = invoices.filter(status=data["status"])
    if data["aging"]:
        oldest, newest = aging.bucket_bounds(data["aging"], as_of=today)
        invoices = invoices.filter(due_date__lte=newest)
        if oldest is not None:
            invoices = invoices.filter(due_date__gte=oldest)
    return invoices


def _search(request: HttpRequest, invoices: QuerySet[Invoice], q: str) -> QuerySet:
    """By number or client name."""
    # Matching clients first, as literal ids: a small table, no join over
    # the invoices, and row estimates that keep the planner on a good plan.
    named = list(
        scoped(request, Client).filter(name__icontains=q).values_list("pk", flat=True)[:500]
    )
    # Numbers are upper case ("F2026-00012"): a plain LIKE costs half an
    # UPPER() on every row of a large register.
    numbered = Q(number__contains=q.upper())
    if q != q.upper():
        numbered |= Q(number__contains=q)
    return invoices.filter(numbered | Q(client__in=named))


def _filtered_invoices(
    request: HttpRequest, form: InvoiceFilterForm
) -> tuple[QuerySet[Invoice], Client | None]:
    """The invoices the filters ask for; nothing at all when a filter is invalid."""
    invoices = scoped(request, Invoice)
    if not form.is_valid():
        return invoices.none(), None
    data, client = form.cleaned_data, None
    if data["client"]:
        client = scoped(request, Client).filter(pk=data["client"]).first()
        if client is None:
            form.add_error("client", _("This client does not exist."))
            return invoices.none(), None
        invoices = invoices.filter(client=client)
    invoices = _by_status(invoices, data, request.organisation.today())
    lookups = DATE_AND_CHOICE_FILTERS
    invoices = invoices.filter(**{lookups[k]: data[k] for k in lookups if data[k]})
    if data["q"].strip():
        invoices = _search(request, invoices, data["q"].strip())
    return invoices, client


def _ordering(sort: str) -> tuple[str, list[Any]]:
    """The ``?sort=`` value in force and its ORDER BY; unknown values fall back."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        return "", [F("issue_date").desc(nulls_first=True), "-id"]
    column = F(SORTS[key])
    if sort.startswith("-"):
        return sort, [column.desc(nulls_first=True), "-id"]
    return sort, [column.asc(nulls_last=True), "id"]


def _page_of_invoices(request: HttpRequest, invoices: QuerySet[Invoice], ordering: list) -> Page:
    """Sort and cut the page on ids alone, then load its 50 rows: sorting
    100,000 narrow rows is several times cheaper than sorting wide ones."""
    page = paginate(request, invoices.order_by(*ordering).values_list("pk", flat=True))
    ids = list(page.object_list)
    rows = scoped(request, Invoice).select_related("client").in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


@member_view
def invoice_list(request: HttpRequest) -> HttpResponse:
    form = InvoiceFilterForm(request.GET)
    invoices, client = _filtered_invoices(request, form)
    sort, ordering = _ordering(request.GET.get("sort", ""))
    page = _page_of_invoices(request, invoices, ordering)
    _mark_lateness(page.object_list, request.organisation.today())  # type: ignore[arg-type]
    columns = [
        ("number", _("Number")),
        ("client", _("Client")),
        ("issue_date", _("Issue date")),
        ("due_date", _("Due date")),
        ("total", _("Total incl. VAT")),
        ("balance", _("Balance")),
    ]
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "client": client,
        "columns": [
            {
                "key": key,
                "label": label,
                "next": f"-{key}" if sort == key else key,
                "aria": {key: "ascending", f"-{key}": "descending"}.get(sort, ""),
                "num": key in ("total", "balance"),
            }
            for key, label in columns
        ],
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "sort")),
    }
    return render(request, "web/invoices/list.html", context)


# A document's page ----------------------------------------------------------------


def _detail_context(request: HttpRequest, invoice: Invoice, **forms: Any) -> dict[str, Any]:
    today = request.organisation.today()
    _mark_lateness([invoice], today)
    lines = list(invoice.lines.all())
    for line in lines:
        line.unit_price_display = _unit_price(line.unit_price, invoice.currency)  # type: ignore[attr-defined]
    related = scoped(request, Invoice).order_by(F("issue_date").asc(nulls_last=True), "pk")
    context = {
        "invoice": invoice,
        "today": today,
        "lines": lines,
        "totals": invoice.compute_totals(),
        "installments": list(invoice.installments.all()),
        "allocations": scoped(request, Allocation)
        .filter(invoice=invoice)
        .select_related("payment", "installment")
        .order_by("payment__date", "pk"),
        "credit_notes": [] if invoice.is_credit_note else related.filter(corrects=invoice),
        "attachments": scoped(request, Attachment)
        .filter(invoice=invoice)
        .select_related("uploaded_by"),
        "activities": scoped(request, Activity)
        .filter(invoice=invoice)
        .select_related("author")[:200],
        "can_write": request.membership.can_write,
        "note_form": ActivityForm(),
        "attachment_form": AttachmentForm(),
        "write_off_form": WriteOffForm(),
    }
    context.update(forms)
    return context


@member_view
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    return render(request, "web/invoices/detail.html", _detail_context(request, invoice))


@writer_view
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    try:
        invoice = issuing.issue(invoice, as_of=request.organisation.today(), author=request.user)
    except IssueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(doc)s issued.") % {"doc": invoice.number})
    return redirect("invoice_detail", pk=invoice.pk)


@writer_view
def invoice_write_off(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    form = WriteOffForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, invoice, write_off_form=form)
        return render(request, "web/invoices/detail.html", context)
    try:
        issuing.write_off(invoice, reason=form.cleaned_data["reason"], author=request.user)
    except IssueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(doc)s written off.") % {"doc": invoice})
    return redirect("invoice_detail", pk=invoice.pk)


@writer_view
def invoice_note(request: HttpRequest, pk: int) -> HttpResponse:
    """A note or a call on the invoice's timeline; htmx swaps the timeline only."""
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        record(
            client=invoice.client,
            invoice=invoice,
            kind=form.cleaned_data["kind"],
            author=request.user,
            text=form.cleaned_data["text"].strip(),
            call_outcome=form.cleaned_data["call_outcome"],
        )
        if not request.htmx:
            messages.success(request, _("Added to the timeline."))
            return redirect("invoice_detail", pk=invoice.pk)
        form = ActivityForm()
    context = _detail_context(request, invoice, note_form=form)
    template = "web/invoices/_timeline.html" if request.htmx else "web/invoices/detail.html"
    return render(request, template, context)


# Attachments ----------------------------------------------------------------------


def _storage_name(name: str) -> str:
    """An ASCII name safe on any disk, keeping the extension."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    root, ext = os.path.splitext(ascii_name)
    try:
        return get_valid_filename(root[:50] or "attachment") + ext.lower()
    except SuspiciousFileOperation:
        return "attachment" + ext.lower()


def _display_name(name: str) -> str:
    """The uploaded file's own name, without any path or control character."""
    base = os.path.basename(name.replace("\\", "/"))
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:200] or "attachment"


@writer_view
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        context = _detail_context(request, invoice, attachment_form=form)
        return render(request, "web/invoices/detail.html", context)
    upload = form.cleaned_data["file"]
    name = _display_name(upload.name)
    upload.name = _storage_name(name)
    with transaction.atomic():
        Attachment.objects.create(
            organisation=request.organisation,
            invoice=invoice,
            file=upload,
            name=name,
            size=upload.size,
            uploaded_by=request.user,
        )
        record(
            client=invoice.client,
            invoice=invoice,
            kind=ActivityKind.ATTACHMENT,
            author=request.user,
            text=name,
        )
    messages.success(request, _("%(name)s attached.") % {"name": name})
    return redirect("invoice_detail", pk=invoice.pk)


@member_view
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_scoped_or_404(request, Attachment, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("the file is missing") from None
    return FileResponse(handle, as_attachment=True, filename=_display_name(attachment.name))


# The draft editor -------------------------------------------------------------------


def _editor_page(request: HttpRequest, editor: InvoiceEditor, **extra: Any) -> HttpResponse:
    context = {"editor": editor, "vat_rates": VAT_RATES, **extra}
    return render(request, "web/invoices/form.html", context)


@writer_view
def invoice_create(request: HttpRequest) -> HttpResponse:
    clients = scoped(request, Client).order_by("name")
    if request.method == "POST":
        editor = InvoiceEditor.build(request.POST, clients=clients)
        if not editor.wants_more_lines(request.POST) and editor.is_valid():
            with transaction.atomic():
                invoice = issuing.create_draft(
                    client=editor.form.cleaned_data["client"],
                    lines=editor.line_tuples(),
                    author=request.user,
                    **editor.header(),
                )
                issuing.set_installments(invoice, editor.schedule())
            messages.success(request, _("Draft saved. Check it, then issue it."))
            return redirect("invoice_detail", pk=invoice.pk)
        return _editor_page(request, editor)
    client = client_from_query(request)
    today = request.organisation.today()
    initial = {
        "client": client,
        "currency": request.organisation.currency,
        "issue_date": today,
        "due_date": today + DEFAULT_TERMS,
    }
    return _editor_page(request, InvoiceEditor.build(clients=clients, initial=initial))


@writer_view
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if not invoice.is_draft:
        messages.warning(
            request,
            _(
                "%(doc)s is issued: its content is frozen and cannot change. "
                "To correct it, make a credit note."
            )
            % {"doc": invoice},
        )
        return redirect("invoice_detail", pk=invoice.pk)
    clients = scoped(request, Client).order_by("name")
    if request.method == "POST":
        editor = InvoiceEditor.build(request.POST, clients=clients)
        if not editor.wants_more_lines(request.POST) and editor.is_valid():
            try:
                issuing.update_draft(
                    invoice,
                    client=editor.form.cleaned_data["client"],
                    lines=editor.line_tuples(),
                    installments=editor.schedule(),
                    **editor.header(),
                )
            except IssueError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("invoice_detail", pk=invoice.pk)
        return _editor_page(request, editor, invoice=invoice)
    initial = {
        "client": invoice.client,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "purchase_order": invoice.purchase_order,
        "notes": invoice.notes,
    }
    editor = InvoiceEditor.build(
        clients=clients,
        initial=initial,
        lines=line_initial(invoice.lines.all()),
        installments=installment_initial(invoice.installments.all()),
        blank_lines=2,
    )
    return _editor_page(request, editor, invoice=invoice)


# Credit notes ----------------------------------------------------------------------


def _credit_lines(invoice: Invoice, formset: Any) -> list[tuple[Any, ...]] | None:
    """The partial credit note's lines, or None when they are not valid."""
    if not formset.is_valid():
        return None
    rows = formset.filled()
    if not rows:
        formset._non_form_errors.append(_("Add at least one line to credit."))
        return None
    return [form.as_tuple() for form in rows]


@writer_view
def credit_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if not invoice.is_open:
        messages.error(
            request,
            _("%(doc)s has nothing left to pay: it cannot be credited.") % {"doc": invoice},
        )
        return redirect("invoice_detail", pk=invoice.pk)
    data = request.POST if request.method == "POST" else None
    # A partly settled invoice can only be credited in part.
    settled = invoice.balance != invoice.total_gross
    mode = CreditNoteForm.PARTIAL if settled else CreditNoteForm.FULL
    form = CreditNoteForm(data, initial={"mode": mode})
    initial = [{"description": _("Correction of %(doc)s") % {"doc": invoice.number}}, {}, {}]
    lines = LineFormSet(data, prefix="lines", initial=None if data else initial)
    if data is not None and form.is_valid():
        today = request.organisation.today()
        try:
            if form.cleaned_data["mode"] == CreditNoteForm.FULL:
                with transaction.atomic():
                    note = issuing.credit_in_full(invoice, as_of=today, author=request.user)
            elif (rows := _credit_lines(invoice, lines)) is not None:
                note = issuing.credit_partially(
                    invoice, lines=rows, as_of=today, author=request.user
                )
            else:
                note = None
        except IssueError as exc:
            form.add_error(None, str(exc))
        else:
            if note is not None:
                messages.success(request, _("Credit note %(doc)s issued.") % {"doc": note})
                return redirect("invoice_detail", pk=note.pk)
    context = {
        "invoice": invoice,
        "form": form,
        "lines": lines,
        "vat_rates": VAT_RATES,
    }
    return render(request, "web/invoices/credit_note_form.html", context)
