"""Review queue: credits proposed below the automatic threshold, and credits
nobody could match. A person confirms the proposal, chooses other invoices,
or sets the line aside with a note."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.banking import matching
from relance.banking.models import BankLine, BankLineStatus, Direction
from relance.ledger.models import Client, Invoice
from relance.ledger.settlement import PaymentError
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.views.invoices import paginate

# The matcher's reason and flag codes (relance.rules.matching), in plain words.
REASONS = {
    "reference": gettext_lazy("the RF reference of the invoice"),
    "reference_bad_checksum": gettext_lazy(
        "an RF reference with a wrong check number (typing mistake?)"
    ),
    "number_in_text": gettext_lazy("the invoice number in the transfer's text"),
    "number_typo": gettext_lazy("an invoice number with one typing mistake"),
    "end_to_end": gettext_lazy("the invoice number in the end-to-end reference"),
    "payer_iban": gettext_lazy("the account the client paid from before"),
    "payer_name": gettext_lazy("the payer's name is close to the client's"),
    "amount_exact": gettext_lazy("the exact amount due"),
    "amount_discount": gettext_lazy("the amount due less the early-payment discount"),
    "amount_sum": gettext_lazy("the sum of several invoices"),
    "amount_partial": gettext_lazy("part of the amount due"),
    "amount_over": gettext_lazy("more than the amount due (the rest is kept as credit)"),
    "amount_exact_several": gettext_lazy("the amount of several invoices of this client"),
    "amount_unexplained": gettext_lazy("an amount that fits none of the client's invoices"),
    "amount_only": gettext_lazy("only the amount: nothing else points to this client"),
    "ambiguous": gettext_lazy("another client fits almost as well"),
    "unmatched": gettext_lazy("nothing points to a client"),
    "bad_reference_checksum": gettext_lazy("the RF reference's check number is wrong"),
    "already_recorded": gettext_lazy("the payment was already recorded by hand"),
}


def describe(codes: list[str]) -> list[str]:
    return [str(REASONS.get(code, code)) for code in codes]


def _rows(lines: list[BankLine]) -> list[dict[str, Any]]:
    """Each line with its proposal's invoices and its reasons in words."""
    ids = {int(row["invoice"]) for line in lines for row in line.proposal}
    invoices = Invoice.objects.in_bulk(
        list(ids)
    ) if ids else {}  # fmt: skip
    rows = []
    for line in lines:
        proposal = [
            (invoices.get(int(row["invoice"])), Decimal(row["amount"])) for row in line.proposal
        ]
        rows.append(
            {
                "line": line,
                "proposal": [(inv, amount) for inv, amount in proposal if inv is not None],
                "reasons": describe(line.reasons),
                "flags": describe(line.flags),
            }
        )
    return rows


def _queue(request: HttpRequest, status: str, template: str) -> HttpResponse:
    lines = (
        scoped(request, BankLine)
        .filter(status=status, direction=Direction.CREDIT)
        .select_related("client", "statement")
        .order_by("booking_date", "pk")
    )
    page = paginate(request, lines)
    return render(
        request,
        template,
        {
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number),
            "rows": _rows(list(page.object_list)),
            "review_count": scoped(request, BankLine).filter(status=BankLineStatus.REVIEW).count(),
            "unmatched_count": scoped(request, BankLine)
            .filter(status=BankLineStatus.UNMATCHED)
            .count(),
        },
    )


@member_view
def review(request: HttpRequest) -> HttpResponse:
    return _queue(request, BankLineStatus.REVIEW, "banking/matching/review.html")


@member_view
def unmatched(request: HttpRequest) -> HttpResponse:
    return _queue(request, BankLineStatus.UNMATCHED, "banking/matching/unmatched.html")


def _search(request: HttpRequest, line: BankLine, query: str) -> list[Invoice]:
    """Open invoices in the line's currency whose number or client matches."""
    invoices = (
        scoped(request, Invoice)
        .open()
        .filter(currency=line.currency)
        .select_related("client")
        .order_by("client__name", "due_date", "pk")
    )
    if query:
        invoices = invoices.filter(Q(number__icontains=query) | Q(client__name__icontains=query))
    elif line.client_id:
        invoices = invoices.filter(client_id=line.client_id)
    else:
        return []
    return list(invoices[:50])


def _chosen(request: HttpRequest, line: BankLine) -> tuple[Client, list[dict[str, Any]]]:
    """The invoices ticked on the form, the credit spread oldest first."""
    try:
        ids = [int(x) for x in request.POST.getlist("invoice")]
    except ValueError:
        raise PaymentError(_("Choose invoices from the list.")) from None
    invoices = list(scoped(request, Invoice).open().filter(pk__in=ids).order_by("due_date", "pk"))
    if not invoices or len(invoices) != len(set(ids)):
        raise PaymentError(_("Choose at least one open invoice."))
    clients = {invoice.client_id for invoice in invoices}
    if len(clients) != 1:
        raise PaymentError(_("The chosen invoices must belong to one client."))
    if any(invoice.currency != line.currency for invoice in invoices):
        raise PaymentError(_("The chosen invoices must be in the currency of the transfer."))
    proposal, left = [], line.amount
    for invoice in invoices:
        part = min(left, invoice.balance)
        if part > 0:
            proposal.append({"invoice": invoice.pk, "amount": str(part)})
        left -= part
    return invoices[0].client, proposal


@writer_view
def line_match(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_scoped_or_404(request, BankLine, pk=pk, direction=Direction.CREDIT)
    back = reverse("bank_unmatched" if line.status == BankLineStatus.UNMATCHED else "bank_review")
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "confirm":
                if not line.client_id or not line.proposal:
                    raise PaymentError(_("This line has no proposal: choose invoices."))
                client = get_scoped_or_404(request, Client, pk=line.client_id)
                matching.confirm(line, client=client, proposal=line.proposal, author=request.user)
            elif action == "choose":
                client, proposal = _chosen(request, line)
                matching.confirm(line, client=client, proposal=proposal, author=request.user)
            elif action == "ignore":
                note = request.POST.get("note", "").strip()
                if not note:
                    raise PaymentError(_("Say in a note why this transfer is not a payment."))
                if line.status not in matching.PENDING:
                    raise PaymentError(_("This line is already settled."))
                matching.ignore(line, author=request.user, note=note[:2000])
                messages.success(request, _("The transfer is set aside."))
                return redirect(back)
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except PaymentError as exc:
            error = str(exc)
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect(back)
    query = request.GET.get("q", "").strip()[:100]
    [row] = _rows([line])
    response = render(
        request,
        "banking/matching/line.html",
        {
            "row": row,
            "line": line,
            "back": back,
            "query": query,
            "results": _search(request, line, query),
            "error": error,
            "pending": line.status in matching.PENDING,
        },
    )
    if error:
        response.status_code = 400
    return response
