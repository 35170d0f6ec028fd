"""Late fees at scale: the fee boxes and the day's booking on a big register.

    uv run python bench/bench_fees.py [--invoices 100000] [--clients 2000] [--repeat 15]

The register is bench_register's (same database choice, same organisation,
``--reuse`` keeps it). Measured: the three boxes the pages load (dashboard,
the busiest client, the oldest overdue invoice; server time through
django.test.Client, one warm-up then --repeat requests) and
``fees.booking.book_due`` for the day, first run then rerun (which must book
nothing). When the shipped rate table does not cover today (a half-year
not yet in it), the bench adds one clearly labelled ECB row for the run and
deletes it afterwards, so that the figures measure a computation, not the
"rate missing" short cut.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal
from typing import Any

import bench_register as register

BENCH_SOURCE = "bench_fees: assumed unchanged for the measure, not a published value"


def boxes(organisation: Any, as_of: date) -> list[tuple[str, str]]:
    from django.db.models import Count
    from django.urls import reverse

    from relance.ledger.models import Client, Invoice

    busiest = (
        Client.objects.filter(organisation=organisation)
        .annotate(n=Count("invoices"))
        .order_by("-n", "pk")
        .values_list("pk", "n")
        .first()
    )
    oldest = (
        Invoice.objects.filter(organisation=organisation, kind="invoice")
        .open()
        .filter(due_date__lt=as_of)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return [
        ("fee box, dashboard", reverse("fees_dashboard")),
        (f"fee box, client ({busiest[1]:,} invoices)", reverse("fees_client", args=[busiest[0]])),
        ("fee box, oldest overdue invoice", reverse("fees_invoice", args=[oldest])),
    ]


def cover_today(as_of: date) -> Any:
    """An ECB row for today's half-year when the table lacks it (deleted at the end)."""
    from relance.fees.accrual import rate_table
    from relance.fees.models import ReferenceRate
    from relance.rules.rates import MissingRate, half_year_start

    try:
        rate_table().rate("ECB_MRO", half_year_start(as_of))
        return None
    except MissingRate:
        start = half_year_start(as_of)
        end = date(start.year, 6, 30) if start.month == 1 else date(start.year, 12, 31)
        print(f"Rates: no ECB_MRO row for {start}; the bench adds 2.15 % ({BENCH_SOURCE})")
        return ReferenceRate.objects.create(
            series="ECB_MRO",
            valid_from=start,
            valid_to=end,
            rate=Decimal("2.15"),
            source=BENCH_SOURCE,
        )


def booking(organisation: Any, as_of: date) -> None:
    from relance.fees import booking
    from relance.fees.models import LateFee

    for label in ("first run", "rerun"):
        started = time.perf_counter()
        report = booking.book_due(organisation, as_of)
        elapsed = time.perf_counter() - started
        print(
            f"book_due, {label:<10} {elapsed:7.2f} s   booked {report.booked:,} fee documents, "
            f"blocked {len(report.blocked):,}"
        )
    total = LateFee.objects.filter(organisation=organisation).count()
    print(f"Fee documents of the organisation: {total:,}")


def main(argv: list[str] | None = None) -> int:
    args = register.parse_args(argv)
    temporary = register.set_up_django()
    added = None
    try:
        from django.db import connection
        from django.test import Client

        organisation, user, generated = register.prepare(args)
        as_of = organisation.today()
        print(f"Database: {register.engine_name()}  ({connection.settings_dict['NAME']})")
        print(f"Register: {register.describe(organisation)}, as of {as_of:%Y-%m-%d}")
        if generated is not None:
            print(f"Generation: {generated:.1f} s")
        added = cover_today(as_of)
        client = Client()
        client.force_login(user)
        results = [
            register.measure(client, name, url, args.repeat)
            for name, url in boxes(organisation, as_of)
        ]
        print(f"Server time over {args.repeat} requests after one warm-up:")
        for result in results:
            register.report(result, args.profile)
        booking(organisation, as_of)
        return 0 if all(r.status == 200 for r in results) else 1
    finally:
        if added is not None:
            added.delete()
        if temporary:
            import shutil

            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
