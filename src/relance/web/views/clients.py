"""Clients and their contacts: the list, a client's page, the forms, and
notes and calls added to a client's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.ledger import balances
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Client,
    ClientStatus,
    Contact,
    Invoice,
    InvoiceKind,
    Tag,
)
from relance.ledger.models.invoices import OPEN_STATUSES
from relance.ledger.models.timeline import record
from relance.rules import aging
from relance.web.access import member_view, scoped, writer_view
from relance.web.forms.clients import ClientFilterForm, ClientForm, ContactForm
from relance.web.forms.timeline import ActivityForm

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 6
LATEST_INVOICES = 20
LATEST_ACTIVITIES = 50

# ?sort= value -> (column, descending). Days late sort on the oldest overdue
# due date: the earlier it is, the later the client.
SORTS: dict[str, tuple[str, bool]] = {
    "name": ("name", False),
    "-name": ("name", True),
    "balance": ("balance", False),
    "-balance": ("balance", True),
    "late": ("late", False),
    "-late": ("late", True),
}
SORT_COLUMNS = (
    ("name", gettext_lazy("Name"), False),
    ("balance", gettext_lazy("Open balance"), True),
    ("late", gettext_lazy("Days late"), True),
)


# The client list ------------------------------------------------------------------


class SqlLiteral(Value):
    """A constant written into the SQL text instead of bound as a parameter.

    SQLite uses a partial index only when the query repeats the index's
    condition with the same literals: ``status IN (?, ?)`` does not qualify.
    Only for constants from the code (checked to be plain words).
    """

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not str(self.value).replace("_", "").isalnum():
            raise ValueError(f"not a plain constant: {self.value!r}")
        return f"'{self.value}'", []


def _open_invoices(request: HttpRequest, **filters: Any) -> QuerySet[Invoice]:
    """Open invoices of the outer client, read through the invoice_open_client index.

    Overdue figures are conditional aggregates over these rows rather than a
    due-date range in WHERE: a range would tempt SQLite's planner into
    scanning every overdue invoice of the organisation once per client.
    """
    return (
        scoped(request, Invoice)
        .filter(
            kind=SqlLiteral(InvoiceKind.INVOICE.value),
            status__in=[SqlLiteral(status.value) for status in OPEN_STATUSES],
            client=OuterRef("pk"),
            **filters,
        )
        .order_by()
        .values("client")
    )


def with_balances(request: HttpRequest, clients: QuerySet[Client], as_of: date) -> QuerySet:
    """Annotate open balance and overdue (in cents, organisation currency) and
    the oldest overdue due date (any currency), so SQL can sort and page."""
    in_currency = _open_invoices(request, currency=request.organisation.currency)
    overdue = Q(due_date__lt=as_of)

    def cents_sum(**kwargs: Any) -> Coalesce:
        total = in_currency.annotate(s=MoneySum("balance", **kwargs)).values("s")
        return Coalesce(Subquery(total), Value(0))

    oldest = _open_invoices(request).annotate(m=Min("due_date", filter=overdue)).values("m")
    return clients.annotate(
        balance_cents=cents_sum(),
        overdue_cents=cents_sum(filter=overdue),
        oldest_due=Subquery(oldest),
    )


def search(request: HttpRequest, clients: QuerySet[Client], text: str) -> QuerySet[Client]:
    """Each word must match the name, code, SIREN/SIRET or a contact's name or email."""
    for word in text.split()[:MAX_SEARCH_WORDS]:
        contacts = scoped(request, Contact).filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word),
            client=OuterRef("pk"),
        )
        clients = clients.filter(
            Q(name__icontains=word)
            | Q(reference__icontains=word)
            | Q(siren__icontains=word)
            | Q(siret__icontains=word)
            | Exists(contacts)
        )
    return clients


def filter_clients(
    request: HttpRequest, clients: QuerySet[Client], data: dict[str, Any]
) -> QuerySet[Client]:
    if data.get("q"):
        clients = search(request, clients, data["q"])
    if data.get("status"):
        clients = clients.filter(status=data["status"])
    if data.get("kind"):
        clients = clients.filter(kind=data["kind"])
    if data.get("tag"):
        clients = clients.filter(tags=int(data["tag"]))
    if data.get("overdue"):
        clients = clients.filter(oldest_due__isnull=False)
    return clients


def order_clients(clients: QuerySet, sort: str) -> QuerySet:
    column, descending = SORTS[sort]
    if column == "balance":
        key = F("balance_cents").desc() if descending else F("balance_cents").asc()
    elif column == "late":
        # Most days late = oldest due date; clients not late count as 0 days.
        oldest = F("oldest_due")
        key = oldest.asc(nulls_last=True) if descending else oldest.desc(nulls_first=True)
    else:
        key = Lower("name").desc() if descending else Lower("name").asc()
    return clients.order_by(key, Lower("name"), "pk")


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    """The asked page; junk or out-of-range numbers give the first or last page."""
    value = request.GET.get("page", "1")
    number = int(value) if value.isdigit() and len(value) < 10 else 1
    return Paginator(queryset, PAGE_SIZE).get_page(number)


@dataclass
class ClientRow:
    client: Client
    balance: Decimal
    overdue: Decimal
    days_late: int
    others: list[balances.ClientSummary]


def client_rows(request: HttpRequest, page: Page, as_of: date) -> list[ClientRow]:
    """The page's clients with their figures; other currencies in one query for the page."""
    clients = list(page.object_list)
    currency = request.organisation.currency
    summaries = balances.client_summaries(
        request.organisation, [c.pk for c in clients], as_of=as_of
    )
    return [
        ClientRow(
            client=c,
            balance=cents(c.balance_cents),
            overdue=cents(c.overdue_cents),
            days_late=aging.days_late(c.oldest_due, as_of=as_of) if c.oldest_due else 0,
            others=[s for s in summaries.get(c.pk, []) if s.currency != currency],
        )
        for c in clients
    ]


def sort_columns(sort: str) -> list[dict[str, Any]]:
    current, descending = SORTS[sort]
    columns = []
    for key, label, num in SORT_COLUMNS:
        active = key == current
        # Amounts and lateness are read largest first; names A to Z.
        first = key if key == "name" else f"-{key}"
        next_sort = (key if descending else f"-{key}") if active else first
        aria = ("descending" if descending else "ascending") if active else ""
        columns.append({"label": label, "num": num, "next": next_sort, "aria": aria})
    return columns


@member_view
def client_list(request: HttpRequest) -> HttpResponse:
    as_of = request.organisation.today()
    tags = list(scoped(request, Tag))
    form = ClientFilterForm(request.GET or None, tags=tags)
    form.is_valid()  # invalid filters are reported and ignored; valid ones still apply
    data = getattr(form, "cleaned_data", {})
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    clients = with_balances(request, scoped(request, Client), as_of)
    clients = order_clients(filter_clients(request, clients, data), sort)
    page = paginate(request, clients.prefetch_related("tags"))
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "rows": client_rows(request, page, as_of),
        "columns": sort_columns(sort),
        "filtered": any(data.get(k) for k in ("q", "status", "kind", "tag", "overdue")),
        "currency": request.organisation.currency,
    }
    return render(request, "web/clients/list.html", context)


# A client's page ------------------------------------------------------------------


def _get_client(request: HttpRequest, pk: int) -> Client:
    return get_object_or_404(scoped(request, Client).prefetch_related("tags"), pk=pk)


TEXT_LABELS = {
    ActivityKind.NOTE: gettext_lazy("Add a note"),
    ActivityKind.CALL: gettext_lazy("What was said"),
}


def activity_form(kind: ActivityKind, data: Any = None) -> ActivityForm:
    """The note form or the call form (two forms on one page: prefixed by kind)."""
    form = ActivityForm(data, initial={"kind": kind}, prefix=kind.value)
    form.fields["text"].label = TEXT_LABELS[kind]
    return form


def timeline_context(
    request: HttpRequest,
    client: Client,
    note_form: ActivityForm | None = None,
    call_form: ActivityForm | None = None,
) -> dict[str, Any]:
    activities = (
        scoped(request, Activity)
        .filter(client=client)
        .select_related("invoice", "author")[:LATEST_ACTIVITIES]
    )
    return {
        "client": client,
        "activities": activities,
        "show_invoice": True,
        "note_form": note_form or activity_form(ActivityKind.NOTE),
        "call_form": call_form or activity_form(ActivityKind.CALL),
    }


def latest_invoices(request: HttpRequest, client: Client, as_of: date) -> list[Invoice]:
    invoices = list(
        scoped(request, Invoice)
        .filter(client=client)
        .order_by(F("issue_date").desc(nulls_first=True), "-id")[:LATEST_INVOICES]
    )
    for invoice in invoices:
        invoice.late = invoice.days_late(as_of) if invoice.is_overdue(as_of) else 0
    return invoices


def render_detail(
    request: HttpRequest,
    client: Client,
    extra: dict[str, Any] | None = None,
    **forms: ActivityForm,
) -> HttpResponse:
    """The client's page; ``extra`` replaces the reminders part (its forms, bound)."""
    from relance.dunning.views.operations import client_panel

    as_of = request.organisation.today()
    figures = balances.client_figures(client, as_of=as_of)
    currency = request.organisation.currency
    context = {
        **timeline_context(request, client, **forms),
        "as_of": as_of,
        "contacts": list(scoped(request, Contact).filter(client=client)),
        "figures": sorted(figures.values(), key=lambda f: (f.currency != currency, f.currency)),
        "invoices": latest_invoices(request, client, as_of),
        "pay_link": _balance_pay_link(client, figures.values()),
        **(extra if extra is not None else client_panel(request, client)),
    }
    return render(request, "web/clients/detail.html", context)


def _balance_pay_link(client: Client, figures: Any) -> str:
    """The "pay online" page for everything the client owes (to give by phone or mail);
    empty when nothing is owed or the organisation takes no online payment."""
    from relance.online.links import pay_url

    if not any(f.outstanding > 0 for f in figures):
        return ""
    return pay_url(client)


@member_view
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, _get_client(request, pk))


def add_activity(request: HttpRequest, pk: int, kind: ActivityKind) -> HttpResponse:
    """Record a note or a call; htmx swaps the timeline block, plain forms redirect."""
    client = _get_client(request, pk)  # first: another tenant's id is a 404 whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    data = request.POST.copy()
    data[f"{kind.value}-kind"] = kind  # the URL says what is recorded
    form = activity_form(kind, data)
    if form.is_valid():
        record(
            client=client,
            kind=kind,
            author=request.user,
            text=form.cleaned_data["text"].strip(),
            call_outcome=form.cleaned_data["call_outcome"],
        )
        if not request.htmx:
            messages.success(request, _("Added to the timeline."))
            return redirect(reverse("client_detail", args=[client.pk]) + "#timeline")
        forms: dict[str, ActivityForm] = {}
    else:
        forms = {f"{kind.value}_form": form}
    if request.htmx:
        context = timeline_context(request, client, **forms)
        return render(request, "web/clients/_timeline_block.html", context)
    return render_detail(request, client, **forms)


@writer_view
def client_note(request: HttpRequest, pk: int) -> HttpResponse:
    return add_activity(request, pk, ActivityKind.NOTE)


@writer_view
def client_call(request: HttpRequest, pk: int) -> HttpResponse:
    return add_activity(request, pk, ActivityKind.CALL)


# Client and contact forms ---------------------------------------------------------


def posted(request: HttpRequest) -> Any:
    """The submitted data, or None on GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


@writer_view
def client_create(request: HttpRequest) -> HttpResponse:
    client = Client(organisation=request.organisation)
    form = ClientForm(posted(request), instance=client)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            client = form.save()
            record(client=client, kind=ActivityKind.CREATED, author=request.user,
                   text=_("Client created"))  # fmt: skip
        messages.success(request, _("Client %(name)s created.") % {"name": client.name})
        return redirect("client_detail", pk=client.pk)
    return render(request, "web/clients/form.html", {"form": form, "client": None})


@writer_view
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _get_client(request, pk)
    # The form writes into the instance while validating: keep what was stored.
    old_status, name = client.status, client.name
    form = ClientForm(posted(request), instance=client)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            client = form.save()
            if client.status != old_status:
                record_status_change(request, client, old_status)
        messages.success(request, _("Changes saved."))
        return redirect("client_detail", pk=client.pk)
    return render(request, "web/clients/form.html", {"form": form, "client": client, "name": name})


def record_status_change(request: HttpRequest, client: Client, old_status: str) -> None:
    text = _("Status changed from “%(old)s” to “%(new)s”.") % {
        "old": ClientStatus(old_status).label,
        "new": client.get_status_display(),
    }
    record(client=client, kind=ActivityKind.STATUS, author=request.user, text=text)


@writer_view
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _get_client(request, pk)
    contact = Contact(organisation=request.organisation, client=client)
    return contact_form(request, contact, created=True)


@writer_view
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(scoped(request, Contact).select_related("client"), pk=pk)
    return contact_form(request, contact, created=False)


def contact_form(request: HttpRequest, contact: Contact, *, created: bool) -> HttpResponse:
    name = contact.full_name  # as stored: validation writes into the instance
    form = ContactForm(posted(request), instance=contact)
    if request.method == "POST" and form.is_valid():
        contact = form.save()
        if created:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.full_name})
        else:
            messages.success(request, _("Changes saved."))
        return redirect("client_detail", pk=contact.client_id)
    context = {"form": form, "name": name, "client": contact.client, "created": created}
    return render(request, "web/clients/contact_form.html", context)
