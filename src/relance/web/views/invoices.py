"""Invoices and credit notes: the register, a document's page, the draft
editor, issuing, credit notes, write-offs, attachments and notes."""

from __future__ import annotations

import dataclasses
import os
import unicodedata
from datetime import date
from typing import Any

from babel.numbers import format_currency
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.text import get_valid_filename
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from relance import formats
from relance.dunning.models import Policy
from relance.einvoice.facturx import FacturXError
from relance.escalation import ends as escalation_ends
from relance.escalation import holds
from relance.invoicing import pdf, snapshot, wording
from relance.invoicing import render as rendering
from relance.invoicing.issuing import MissingMentions, issue_credit_note, issue_invoice
from relance.invoicing.models import PaymentTermsTemplate
from relance.invoicing.sending import SendError, send_invoice, send_later
from relance.invoicing.snapshot import (
    billing_contacts,
    build_document,
    pure_terms,
)
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
from relance.ledger.models.invoices import InvoiceSource
from relance.ledger.models.timeline import record
from relance.rules import aging
from relance.rules import terms as term_rules
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.invoices import (
    SORTS,
    VAT_RATES,
    AttachmentForm,
    CreditNoteForm,
    InvoiceEditor,
    InvoiceFilterForm,
    IssueForm,
    PlainLineFormSet,
    SendLaterForm,
    WriteOffForm,
    installment_initial,
    line_initial,
)
from relance.web.forms.timeline import ActivityForm

PAGE_SIZE = 50
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


def default_terms(request: HttpRequest, client: Client | None) -> dict[str, Any]:
    """The terms a draft without its own gets: the client's, else the organisation's."""
    template, whose = snapshot.default_terms(request.organisation.pk, client)
    return {"template": template, "whose": whose}


def mid_month_hint(issue_date: date) -> date | None:
    """The seeds' advice: an invoice issued after the 15th is better dated the next 15th."""
    if issue_date.day <= 15:
        return None
    return term_rules.suggest_mid_month_issue_date(issue_date)


def _draft_terms(request: HttpRequest, invoice: Invoice) -> dict[str, Any]:
    """What a draft will say about payment when it is issued today."""
    today = request.organisation.today()
    template, whose = snapshot.terms_source(invoice)
    if whose == "due_date":
        return {"template": None, "whose": whose, "due": invoice.due_date}
    info: dict[str, Any] = {"template": template, "whose": whose}
    if template is not None:
        on = invoice.issue_date or today
        try:
            info["due"] = term_rules.due_date(
                pure_terms(template.as_dict(), on, request.organisation.country), on
            )
        except ValueError:
            info["due"] = None
    return info


def missing_mention_links(invoice: Invoice, codes: list[str]) -> list[dict[str, str]]:
    """Each missing mention with the page where it is fixed."""
    seller = {
        "seller_name": "legal_name", "seller_address": "address_line1", "seller_siren": "siren",
        "seller_vat_number": "vat_number", "seller_legal_form": "legal_form",
        "seller_share_capital": "share_capital", "seller_rcs": "rcs_city",
    }  # fmt: skip
    buyer = {
        "buyer_name": "name", "buyer_address": "address_line1", "buyer_siren": "siren",
        "buyer_vat_number": "vat_number",
    }  # fmt: skip
    draft = {
        "issue_date": "id_issue_date", "due_date": "id_due_date", "lines": "lines-title",
        "line_description": "lines-title", "operation_category": "id_operation_category",
        "vat_exemption_reason": "id_vat_exemption_reason",
    }  # fmt: skip
    rows = []
    for code in codes:
        row = {"label": str(wording.MENTION_LABELS.get(code, code)), "url": "", "place": ""}
        if code in seller:
            row["url"] = f"{reverse('organisation_settings')}#id_{seller[code]}"
            row["place"] = _("Organisation settings")
        elif code in buyer:
            row["url"] = f"{reverse('client_edit', args=[invoice.client_id])}#id_{buyer[code]}"
            row["place"] = _("Edit the client")
        elif code in draft and invoice.is_draft:
            row["url"] = f"{reverse('invoice_edit', args=[invoice.pk])}#{draft[code]}"
            row["place"] = _("Edit the draft")
        rows.append(row)
    return rows


def _sending_context(request: HttpRequest, invoice: Invoice) -> dict[str, Any]:
    today = request.organisation.today()
    recipients = [c.email for c in billing_contacts(invoice.client)]
    mode = IssueForm.SEND if recipients else IssueForm.KEEP
    return {
        "recipients": recipients,
        "issue_form": IssueForm(initial={"mode": mode, "send_on": today}, today=today),
        "send_later_form": SendLaterForm(initial={"send_on": today}, today=today),
    }


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
        "has_pdf": bool(invoice.pdf) or invoice.is_draft or invoice.source != InvoiceSource.IMPORT,
        **_sending_context(request, invoice),
    }
    if invoice.is_draft:
        context["draft_terms"] = _draft_terms(request, invoice)
        context["mid_month"] = mid_month_hint(invoice.issue_date or today)
    elif not invoice.is_credit_note:
        context["terms_text"] = wording.terms_text(invoice.terms or {}, invoice.due_date)
    context.update(forms)
    return context


@member_view
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    return render(request, "web/invoices/detail.html", _detail_context(request, invoice))


def _send_after_issue(request: HttpRequest, invoice: Invoice, form: IssueForm) -> None:
    mode = form.cleaned_data["mode"]
    if mode == IssueForm.KEEP:
        messages.success(request, _("%(doc)s issued; it was not sent.") % {"doc": invoice.number})
        return
    if mode == IssueForm.LATER:
        on = form.cleaned_data["send_on"]
        send_later(invoice, on=on, as_of=form.today, author=request.user)
        messages.success(
            request,
            _("%(doc)s issued; it will be sent by email on %(day)s.")
            % {"doc": invoice.number, "day": formats.day(on)},
        )
        return
    try:
        send_invoice(invoice, author=request.user)
    except SendError as exc:
        messages.warning(
            request,
            _("%(doc)s issued, but not sent: %(error)s") % {"doc": invoice.number, "error": exc},
        )
    else:
        messages.success(request, _("%(doc)s issued and sent by email.") % {"doc": invoice.number})


@writer_view
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    today = request.organisation.today()
    form = IssueForm(request.POST, today=today)
    if not form.is_valid():
        context = _detail_context(request, invoice, issue_form=form)
        return render(request, "web/invoices/detail.html", context)
    if holds.needs_override(invoice.client, request.POST):
        messages.error(request, holds.refusal())
        return redirect("invoice_detail", pk=invoice.pk)
    try:
        issued = issue_invoice(invoice, as_of=today, author=request.user)
    except MissingMentions as exc:
        links = missing_mention_links(invoice, exc.codes)
        context = _detail_context(request, invoice, issue_form=form, missing_mentions=links)
        return render(request, "web/invoices/detail.html", context)
    except IssueError as exc:
        messages.error(request, str(exc))
        return redirect("invoice_detail", pk=invoice.pk)
    holds.record_override(
        issued.client, what=_("%(doc)s issued") % {"doc": issued.number}, author=request.user
    )
    _send_after_issue(request, issued, form)
    return redirect("invoice_detail", pk=issued.pk)


# The PDF and sending -----------------------------------------------------------------


def _download_name(invoice: Invoice) -> str:
    return f"{invoice.number.replace('/', '-')}.pdf"


def preview_pdf(request: HttpRequest, invoice: Invoice) -> bytes:
    """A draft as it would print if issued today, marked as a preview all over."""
    terms = _draft_terms(request, invoice)
    if invoice.issue_date is None:
        invoice.issue_date = request.organisation.today()
    if terms.get("template") is not None and terms.get("due"):
        invoice.terms = terms["template"].as_dict()
        invoice.due_date = terms["due"]
    document = build_document(invoice)
    # No number: the page itself says "Draft" and asks for no payment.
    with translation.override(document.language):
        warning = _("Preview of a draft: this is not an invoice. Do not pay it.")
    document = dataclasses.replace(document, number="", notes=(warning, *document.notes))
    return pdf.render_pdf(document, logo=rendering.logo_bytes(invoice))


@member_view
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Issued: the archived file, exactly what was sent. A draft: a live preview."""
    invoice = _get_invoice(request, pk)
    if invoice.is_draft:
        response = HttpResponse(preview_pdf(request, invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="draft-{invoice.pk}-preview.pdf"'
        return response
    if invoice.pdf:
        try:
            handle = invoice.pdf.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404("the archived PDF is missing") from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=_download_name(invoice),
            content_type="application/pdf",
        )
    if invoice.source == InvoiceSource.IMPORT:
        raise Http404("an imported invoice has no PDF of ours")
    # Issued before PDFs were archived: its frozen content, printed now.
    try:
        content = rendering.facturx_pdf(invoice)
    except FacturXError:
        content = pdf.render_pdf(build_document(invoice), logo=rendering.logo_bytes(invoice))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(invoice)}"'
    return response


@writer_view
def invoice_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send (or resend) an issued document by email now."""
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    try:
        send_invoice(invoice, author=request.user)
    except SendError as exc:
        messages.error(request, str(exc))
    else:
        to = ", ".join(c.email for c in billing_contacts(invoice.client))
        messages.success(request, _("%(doc)s sent to %(to)s.") % {"doc": invoice, "to": to})
    return redirect("invoice_detail", pk=invoice.pk)


@writer_view
def invoice_send_later(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _get_invoice(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("invoice_detail", pk=invoice.pk)
    today = request.organisation.today()
    form = SendLaterForm(request.POST, today=today)
    if invoice.is_draft:
        messages.error(request, _("A draft cannot be sent: issue it first."))
    elif not form.is_valid():
        context = _detail_context(request, invoice, send_later_form=form)
        return render(request, "web/invoices/detail.html", context)
    else:
        on = form.cleaned_data["send_on"]
        try:
            send_later(invoice, on=on, as_of=today, author=request.user)
        except SendError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(doc)s will be sent by email on %(day)s.")
                % {"doc": invoice, "day": formats.day(on)},
            )
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
        # Through escalation: the owner's write-off limit applies, and the write-off
        # has its accounting line.
        escalation_ends.write_off(
            invoice.client,
            [invoice],
            reason=form.cleaned_data["reason"],
            as_of=request.organisation.today(),
            author=request.user,
        )
    except (IssueError, escalation_ends.EndRefused) as exc:
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


def _editor_client(request: HttpRequest, editor: InvoiceEditor) -> Client | None:
    form = editor.form
    if form.is_bound:
        value = str(form.data.get("client", ""))
        if not value.isdigit() or len(value) > MAX_ID_DIGITS:
            return None
        return scoped(request, Client).filter(pk=int(value)).first()
    return form.initial.get("client")


def _issue_date_of(editor: InvoiceEditor, today: date) -> date:
    form = editor.form
    if form.is_bound:
        cleaned = getattr(form, "cleaned_data", {}) or {}
        return cleaned.get("issue_date") or today
    return form.initial.get("issue_date") or today


def _editor_page(request: HttpRequest, editor: InvoiceEditor, **extra: Any) -> HttpResponse:
    today = request.organisation.today()
    context = {
        "editor": editor,
        "vat_rates": VAT_RATES,
        "default_terms": default_terms(request, _editor_client(request, editor)),
        "mid_month": mid_month_hint(_issue_date_of(editor, today)),
        **extra,
    }
    return render(request, "web/invoices/form.html", context)


def _editor(request: HttpRequest, data: Any = None, **kwargs: Any) -> InvoiceEditor:
    clients = scoped(request, Client).order_by("name")
    terms = scoped(request, PaymentTermsTemplate).order_by("name")
    policies = scoped(request, Policy).order_by("name")
    return InvoiceEditor.build(data, clients=clients, terms=terms, policies=policies, **kwargs)


@writer_view
def invoice_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        editor = _editor(request, request.POST)
        if not editor.wants_more_lines(request.POST) and editor.is_valid():
            client = editor.form.cleaned_data["client"]
            if holds.needs_override(client, request.POST):
                messages.error(request, holds.refusal())
                return _editor_page(request, editor, hold_client=client)
            with transaction.atomic():
                invoice = issuing.create_draft(
                    client=client,
                    lines=editor.line_tuples(),
                    author=request.user,
                    **editor.header(),
                )
                issuing.set_installments(invoice, editor.schedule())
            holds.record_override(client, what=_("draft invoice created"), author=request.user)
            messages.success(request, _("Draft saved. Check it, then issue it."))
            return redirect("invoice_detail", pk=invoice.pk)
        return _editor_page(request, editor)
    organisation = request.organisation
    initial = {
        "client": client_from_query(request),
        "currency": organisation.currency,
        "issue_date": organisation.today(),
        "operation_category": organisation.operation_category,
    }
    return _editor_page(request, _editor(request, initial=initial))


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
    if request.method == "POST":
        editor = _editor(request, request.POST)
        if not editor.wants_more_lines(request.POST) and editor.is_valid():
            try:
                invoice = issuing.update_draft(
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
    names = (
        "client", "currency", "issue_date", "due_date", "purchase_order", "notes",
        "terms_template", "operation_category", "delivery_date", "vat_exemption_reason",
        "dunning_policy",
    )  # fmt: skip
    editor = _editor(
        request,
        initial={name: getattr(invoice, name) for name in names},
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
    lines = PlainLineFormSet(data, prefix="lines", initial=None if data else initial)
    missing: list[dict[str, str]] = []
    if data is not None and form.is_valid():
        today = request.organisation.today()
        try:
            if form.cleaned_data["mode"] == CreditNoteForm.FULL:
                note = issue_credit_note(invoice, as_of=today, author=request.user)
            elif (rows := _credit_lines(invoice, lines)) is not None:
                note = issue_credit_note(invoice, lines=rows, as_of=today, author=request.user)
            else:
                note = None
        except MissingMentions as exc:
            missing = missing_mention_links(invoice, exc.codes)
            form.add_error(None, _("The credit note cannot be issued: a mention is missing."))
        except IssueError as exc:
            form.add_error(None, str(exc))
        else:
            if note is not None:
                messages.success(
                    request,
                    _("Credit note %(doc)s issued. Download its PDF or send it below.")
                    % {"doc": note},
                )
                return redirect("invoice_detail", pk=note.pk)
    context = {
        "invoice": invoice,
        "form": form,
        "lines": lines,
        "vat_rates": VAT_RATES,
        "missing_mentions": missing,
    }
    return render(request, "web/invoices/credit_note_form.html", context)
