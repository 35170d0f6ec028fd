"""The import pages: upload → mapping (CSV) → preview → confirm → result.

Writers only: a read-only member gets 403 on every step. The uploaded
files wait in a pending ImportBatch row between the steps, so any web
process can serve the next one.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relance.imports import batches, service
from relance.imports.csv_import import CsvError
from relance.imports.forms import MappingForm, UploadForm
from relance.imports.models import ImportBatch, ImportKind, ImportStatus
from relance.imports.rows import InvoiceRow, Problem
from relance.imports.service import ImportRejected
from relance.ledger.models import Invoice
from relance.web.access import View, get_scoped_or_404, member_view, scoped

PREVIEW_ROWS = 20
SHOWN_PROBLEMS = 1000  # a page of 1,000 errors is already more than anyone reads


def writers_only(view: View) -> View:
    """Member of the organisation with a role that may write, whatever the method."""

    @member_view
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.can_write:
            raise PermissionDenied("read-only")
        return view(request, *args, **kwargs)

    return wrapper


def shown(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as the templates print them, translated."""
    return [
        {"line": p.line, "column": p.column, "file": p.file, "text": p.text(_)}
        for p in problems[:SHOWN_PROBLEMS]
    ]


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_scoped_or_404(request, ImportBatch, pk=pk)


@writers_only
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
        kind = form.cleaned_data["kind"]
        batch = batches.start(request.organisation, kind, files, author=request.user)
        batch.options["terms_days"] = form.cleaned_data["terms_days"]
        batch.save(update_fields=["options"])
        if kind == ImportKind.CSV:
            return redirect("import_mapping", pk=batch.pk)
        return redirect("import_preview", pk=batch.pk)
    recent = scoped(request, ImportBatch).filter(status=ImportStatus.DONE)
    context = {"form": form, "recent": recent.select_related("author")[:20]}
    return render(request, "imports/upload.html", context)


@writers_only
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.is_done:
        return redirect("import_result", pk=batch.pk)
    if batch.kind != ImportKind.CSV:
        return redirect("import_preview", pk=batch.pk)
    try:
        sheet = batches.table(batch)
    except CsvError as exc:
        context = {"batch": batch, "errors": shown([exc.problem])}
        return render(request, "imports/unreadable.html", context)
    options = batches.csv_options(batch, sheet)
    if request.method == "POST":
        form = MappingForm(request.POST, header=sheet.header)
        if form.is_valid():
            batches.save_csv_options(batch, form.options())
            return redirect("import_preview", pk=batch.pk)
    else:
        form = MappingForm(initial=MappingForm.initial_from(options), header=sheet.header)
    context = {
        "batch": batch,
        "form": form,
        "sheet": sheet,
        "sample": [cells for _line, cells in sheet.rows[:5]],
        "warnings": shown(list(sheet.warnings)),
    }
    return render(request, "imports/mapping.html", context)


def _preview_context(
    request: HttpRequest, batch: ImportBatch, problems: list[Problem] | None = None
) -> dict[str, Any]:
    parsed, columns = batches.read(batch)
    result = service.plan(request.organisation, parsed, columns)
    errors = result.errors if problems is None else problems
    rows: list[InvoiceRow] = result.create[:PREVIEW_ROWS]
    return {
        "batch": batch,
        "facts": parsed.facts,
        "rows": rows,
        "errors": shown(errors),
        "error_count": len(errors),
        "warnings": shown(result.warnings),
        "create_count": len(result.create),
        "skip_count": len(result.skip),
        "skipped": [row.number for row in result.skip[:10]],
        "new_clients": len(result.new_clients),
        "totals": sorted(service.amounts_sum(result.create).items()),
        "paid_count": sum(1 for row in result.create if row.payments),
        "earlier": batches.earlier_import(batch),
        "can_run": result.can_run and problems is None,
        "pad_to": parsed.facts.get("pad_to", ""),
    }


@writers_only
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.is_done:
        return redirect("import_result", pk=batch.pk)
    return render(request, "imports/preview.html", _preview_context(request, batch))


@writers_only
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("import_preview", pk=batch.pk)
    if batch.is_done:
        return redirect("import_result", pk=batch.pk)
    parsed, columns = batches.read(batch)
    try:
        batch = service.run(batch, parsed, author=request.user, columns=columns)
    except ImportRejected as exc:
        context = _preview_context(request, batch, problems=exc.problems)
        return render(request, "imports/preview.html", context, status=400)
    messages.success(
        request,
        _("%(count)s invoices imported.") % {"count": batch.created_count},
    )
    return redirect("import_result", pk=batch.pk)


@writers_only
def result(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if not batch.is_done:
        return redirect("import_preview", pk=batch.pk)
    invoices = (
        scoped(request, Invoice)
        .filter(pk__in=batch.created_ids)
        .select_related("client")
        .order_by("pk")
    )
    return render(request, "imports/result.html", {"batch": batch, "invoices": invoices})
