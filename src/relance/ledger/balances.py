"""What is owed: balances and aging per invoice, client and organisation.

All figures come from the stored invoice balances of open invoices, read
through the partial indexes on open invoices, and are summed in exact cents
(``MoneySum``). Amounts of different currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q, QuerySet

from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import Client, Invoice, Payment
from relance.rules import aging
from relance.rules.money import ZERO


@dataclass
class CurrencyFigures:
    currency: str
    outstanding: Decimal = field(default_factory=lambda: cents(None))
    overdue: Decimal = field(default_factory=lambda: cents(None))
    open_count: int = 0
    overdue_count: int = 0
    credit: Decimal = field(default_factory=lambda: cents(None))
    buckets: dict[str, Decimal] = field(default_factory=dict)

    @property
    def not_due(self) -> Decimal:
        return self.outstanding - self.overdue


def _bucket_filters(as_of: date) -> dict[str, Q]:
    filters = {}
    for key, _first, _last in aging.BUCKETS:
        oldest, newest = aging.bucket_bounds(key, as_of=as_of)
        q = Q(due_date__lte=newest)
        if oldest is not None:
            q &= Q(due_date__gte=oldest)
        filters[key] = q
    return filters


def figures(
    invoices: QuerySet[Invoice], payments: QuerySet[Payment], *, as_of: date
) -> dict[str, CurrencyFigures]:
    """Outstanding, overdue and aging per currency for a set of invoices."""
    buckets = _bucket_filters(as_of)
    overdue = Q(due_date__lt=as_of)
    rows = (
        invoices.open()
        .values("currency")
        .order_by("currency")
        .annotate(
            outstanding_sum=MoneySum("balance"),
            overdue_sum=MoneySum("balance", filter=overdue),
            open_count=Count("pk"),
            overdue_count=Count("pk", filter=overdue),
            **{f"b_{i}": MoneySum("balance", filter=q) for i, q in enumerate(buckets.values())},
        )
    )
    result: dict[str, CurrencyFigures] = {}
    for row in rows:
        result[row["currency"]] = CurrencyFigures(
            currency=row["currency"],
            outstanding=cents(row["outstanding_sum"]),
            overdue=cents(row["overdue_sum"]),
            open_count=row["open_count"],
            overdue_count=row["overdue_count"],
            buckets={key: cents(row[f"b_{i}"]) for i, key in enumerate(buckets)},
        )
    credit_rows = (
        payments.filter(unallocated__gt=0)
        .values("currency")
        .order_by("currency")
        .annotate(credit_sum=MoneySum("unallocated"))
    )
    for row in credit_rows:
        entry = result.setdefault(
            row["currency"],
            CurrencyFigures(currency=row["currency"], buckets={key: ZERO for key in buckets}),
        )
        entry.credit = cents(row["credit_sum"])
    return result


def organisation_figures(organisation: Any, *, as_of: date) -> dict[str, CurrencyFigures]:
    return figures(
        Invoice.objects.for_org(organisation), Payment.objects.for_org(organisation), as_of=as_of
    )


def client_figures(client: Client, *, as_of: date) -> dict[str, CurrencyFigures]:
    return figures(
        Invoice.objects.filter(client=client), Payment.objects.filter(client=client), as_of=as_of
    )


@dataclass
class ClientSummary:
    client_id: int
    currency: str
    balance: Decimal
    overdue: Decimal
    oldest_due: date | None
    days_late: int


def client_summaries(
    organisation: Any, client_ids: Iterable[int] | None = None, *, as_of: date
) -> dict[int, list[ClientSummary]]:
    """Open balance, overdue amount and days late of each client, per currency."""
    qs = Invoice.objects.for_org(organisation).open()
    if client_ids is not None:
        qs = qs.filter(client_id__in=list(client_ids))
    overdue = Q(due_date__lt=as_of)
    rows = (
        qs.values("client_id", "currency")
        .order_by()
        .annotate(
            open_balance=MoneySum("balance"),
            overdue_balance=MoneySum("balance", filter=overdue),
            oldest=Min("due_date", filter=overdue),
        )
    )
    result: dict[int, list[ClientSummary]] = {}
    for row in rows:
        oldest = row["oldest"]
        result.setdefault(row["client_id"], []).append(
            ClientSummary(
                client_id=row["client_id"],
                currency=row["currency"],
                balance=cents(row["open_balance"]),
                overdue=cents(row["overdue_balance"]),
                oldest_due=oldest,
                days_late=aging.days_late(oldest, as_of=as_of) if oldest else 0,
            )
        )
    return result


def worst_overdue_clients(
    organisation: Any, *, as_of: date, currency: str, limit: int = 10
) -> list[dict[str, Any]]:
    """Clients with the most overdue money in one currency, largest first."""
    rows = (
        Invoice.objects.for_org(organisation)
        .overdue(as_of)
        .filter(currency=currency)
        .values("client_id", "client__name")
        .order_by()
        .annotate(overdue_sum=MoneySum("balance"), oldest=Min("due_date"), count=Count("pk"))
        .order_by("-overdue_sum", "client__name")[:limit]
    )
    return [
        {
            "client_id": r["client_id"],
            "name": r["client__name"],
            "overdue": cents(r["overdue_sum"]),
            "currency": currency,
            "count": r["count"],
            "days_late": aging.days_late(r["oldest"], as_of=as_of),
        }
        for r in rows
    ]
