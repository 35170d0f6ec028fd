"""Escalation on a large register: the pages and the documents.

    uv run python bench/bench_escalation.py [--invoices 20000] [--clients 400] [--repeat 9]

Builds the register as bench_register.py does (same database rules: DATABASE_URL
or a temporary SQLite file; --reuse keeps it), then prints the server time of
the escalations list (limitation alerts over every open invoice), of the client
page with its escalation panel (the client with the most open invoices), and the
time to draw that client's formal notice, court dossier and agency case file
(ZIP with every invoice PDF). Medians against a 300 ms page target; documents
have no target (they are drawn once, on demand).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_register as register


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args(argv)


def timed(job: Any, repeat: int) -> tuple[float, int]:
    job()  # warm-up
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(job())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temporary = register.set_up_django()
    try:
        from django.db import connection, transaction
        from django.db.models import Count, Q
        from django.test import Client

        from relance.escalation import documents, notices
        from relance.ledger.models import Client as Debtor

        organisation, user, generated = register.prepare(args)
        print(f"Database: {register.engine_name()}  ({connection.settings_dict['NAME']})")
        if generated is not None:
            print(f"Register of {args.invoices:,} invoices built in {generated:.1f} s")
        browser = Client()
        browser.force_login(user)
        debtor = (
            Debtor.objects.filter(organisation=organisation)
            .annotate(
                n=Count("invoices", filter=Q(invoices__status__in=["issued", "partially_paid"]))
            )
            .order_by("-n", "pk")
            .first()
        )
        pages = [
            ("Escalations list", "/escalation/"),
            (f"Client page ({debtor.n} open invoices)", f"/clients/{debtor.pk}/"),
        ]
        for name, url in pages:
            register.report(register.measure(browser, name, url, args.repeat), args.profile)
        today = organisation.today()
        overdue = list(debtor.invoices.filter(kind="invoice").overdue(today))
        if not overdue:
            print("The client has nothing overdue: no documents drawn.")
            return 0
        with transaction.atomic():
            notice = notices.prepare(debtor, overdue, as_of=today)
            jobs = [
                ("Formal notice PDF", lambda: documents.notice_pdf(notice)),
                ("Court dossier PDF", lambda: documents.dossier_pdf(debtor, overdue, today)),
                (
                    f"Case file ZIP ({len(overdue)} invoices)",
                    lambda: documents.case_file_zip(debtor, overdue, today, Decimal(20)),
                ),
            ]
            for name, job in jobs:
                median, size = timed(job, max(3, args.repeat // 3))
                print(f"{name:<34} median {median:7.1f} ms   {size:,} bytes")
            transaction.set_rollback(True)
    finally:
        if temporary:
            import shutil

            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
