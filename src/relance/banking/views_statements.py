"""Bank statement pages: the list of imports, the upload (with a column step for
CSV files), and one import's lines with their matching status.

Reading is for every member; uploading needs a role that may write. A file
that cannot be read imports nothing, and the page says why (with the line)
and answers 400, never 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from relance.banking.forms import CsvMappingForm, StatementUploadForm
from relance.banking.importing import ImportResult, StatementError, import_statement
from relance.banking.models import (
    BankLine,
    BankLineStatus,
    CsvMapping,
    Direction,
    StatementImport,
    StatementUpload,
)
from relance.banking.parsers import csvfile, detect_format
from relance.dunning.models import DunningSettings
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.views.invoices import paginate

UPLOAD_KEPT = timedelta(days=1)  # a CSV waiting for its columns longer than that is dropped
SAMPLE_ROWS = 5

STATUS_BADGES = {
    BankLineStatus.NEW: "badge-muted",
    BankLineStatus.AUTO: "badge-ok",
    BankLineStatus.CONFIRMED: "badge-ok",
    BankLineStatus.REVIEW: "badge-warn",
    BankLineStatus.UNMATCHED: "badge-bad",
    BankLineStatus.IGNORED: "badge-muted",
}


def error_text(exc: StatementError) -> str:
    if exc.line is None:
        return _("Nothing was imported: %(error)s.") % {"error": exc.message}
    return _("Nothing was imported. Line %(line)s: %(error)s.") % {
        "line": exc.line,
        "error": exc.message,
    }


def _queue_counts(request: HttpRequest) -> dict[str, int]:
    credits = scoped(request, BankLine).filter(direction=Direction.CREDIT)
    return {
        "review_count": credits.filter(status=BankLineStatus.REVIEW).count(),
        "unmatched_count": credits.filter(status=BankLineStatus.UNMATCHED).count(),
    }


@member_view
def statement_list(request: HttpRequest) -> HttpResponse:
    imports = scoped(request, StatementImport).select_related("imported_by")
    last = imports.aggregate(last=Max("imported_at"))["last"]
    max_age = DunningSettings.for_org(request.organisation).statement_max_age_days
    stale = last is None or timezone.now() - last > timedelta(days=max_age)
    page = paginate(request, imports.order_by("-imported_at", "-pk"))
    context = {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "last_import": last,
        "stale": stale,
        "max_age": max_age,
        **_queue_counts(request),
    }
    return render(request, "banking/statements/list.html", context)


def _imported_message(request: HttpRequest, result: ImportResult) -> None:
    if result.added == 0 and result.duplicates:
        messages.info(request, _("0 new lines (already imported)."))
    elif result.added == 0:
        messages.info(request, _("The file holds no booked line: nothing to import."))
    else:
        text = ngettext(
            "%(count)s new line imported.", "%(count)s new lines imported.", result.added
        )
        messages.success(request, text % {"count": result.added})
        if result.duplicates:
            messages.info(
                request,
                ngettext(
                    "%(count)s line was already imported.",
                    "%(count)s lines were already imported.",
                    result.duplicates,
                )
                % {"count": result.duplicates},
            )
    if result.skipped:
        messages.info(
            request,
            ngettext(
                "%(count)s pending entry left out (not booked yet).",
                "%(count)s pending entries left out (not booked yet).",
                result.skipped,
            )
            % {"count": result.skipped},
        )


def _after_import(request: HttpRequest, result: ImportResult) -> HttpResponse:
    _imported_message(request, result)
    if len(result.imports) == 1:
        return redirect("bank_statement_detail", pk=result.imports[0].pk)
    return redirect("bank_statements")


@writer_view
def statement_upload(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = StatementUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        filename = (upload.name or "")[:255]
        try:
            fmt = form.cleaned_data["format"] or detect_format(data, filename)
            if fmt == "csv":
                csvfile.read_rows(data)  # unreadable at all: say it now
                StatementUpload.objects.filter(
                    organisation=request.organisation,
                    uploaded_at__lt=timezone.now() - UPLOAD_KEPT,
                ).delete()
                pending = StatementUpload.objects.create(
                    organisation=request.organisation,
                    filename=filename,
                    data=data,
                    uploaded_by=request.user,
                )
                return redirect("bank_statement_columns", pk=pending.pk)
            result = import_statement(
                request.organisation, data, filename, user=request.user, format=fmt
            )
        except StatementError as exc:
            form.add_error(None, error_text(exc))
        else:
            return _after_import(request, result)
    status = 400 if form.errors else 200
    return render(request, "banking/statements/upload.html", {"form": form}, status=status)


def _initial_mapping(request: HttpRequest, header: list[str]) -> dict[str, str]:
    """The organisation's last mapping when it fits this file, else a guess from the header."""
    remembered = scoped(request, CsvMapping).values_list("mapping", flat=True).first()
    if isinstance(remembered, dict) and all(column in header for column in remembered.values()):
        return dict(remembered)
    return csvfile.guess_mapping(header)


@writer_view
def statement_columns(request: HttpRequest, pk: int) -> HttpResponse:
    pending = get_scoped_or_404(request, StatementUpload, pk=pk)
    data = bytes(pending.data)
    try:
        header, rows = csvfile.read_rows(data)
    except StatementError as exc:
        pending.delete()
        messages.error(request, error_text(exc))
        return redirect("bank_statement_upload")
    error = ""
    if request.method == "POST":
        form = CsvMappingForm(request.POST, header=header)
        if form.is_valid():
            try:
                result = import_statement(
                    request.organisation,
                    data,
                    pending.filename,
                    user=request.user,
                    format="csv",
                    csv_mapping=form.mapping(),
                )
            except StatementError as exc:
                error = error_text(exc)
            else:
                pending.delete()
                return _after_import(request, result)
    else:
        form = CsvMappingForm(initial=_initial_mapping(request, header), header=header)
    context: dict[str, Any] = {
        "pending": pending,
        "form": form,
        "header": header,
        "sample": [cells for _line, cells in rows[:SAMPLE_ROWS]],
        "row_count": len(rows),
        "error": error,
    }
    status = 400 if error or form.errors else 200
    return render(request, "banking/statements/columns.html", context, status=status)


@member_view
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_scoped_or_404(request, StatementImport, pk=pk)
    lines = scoped(request, BankLine).filter(statement=record).select_related("client")
    status = request.GET.get("status", "")
    if status in BankLineStatus.values:
        lines = lines.filter(status=status)
    else:
        status = ""
    page = paginate(request, lines.order_by("booking_date", "pk"))
    context = {
        "record": record,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "status": status,
        "rows": [(line, STATUS_BADGES.get(line.status, "")) for line in page.object_list],
        "statuses": BankLineStatus.choices,
        **_queue_counts(request),
    }
    return render(request, "banking/statements/detail.html", context)
