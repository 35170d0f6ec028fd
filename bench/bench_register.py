"""Server time of the register's pages on an organisation of 100,000 invoices.

    uv run python bench/bench_register.py [--invoices 100000] [--clients 2000] [--repeat 15]

The database is DATABASE_URL when set (PostgreSQL: a dedicated database such
as postgres://postgres@127.0.0.1:5432/relance_bench, created if missing),
else a fresh SQLite file in a temporary data directory. The organisation is
written by the demo's bulk builder (relance.demo.build_organisation). Each
page is requested through django.test.Client, logged in with force_login:
one warm-up, then --repeat timed requests; the time is the server's (no
network, no browser). See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TARGET_MS = 300
BENCH_NAME = "Banc d'essai SAS"
BENCH_USER = "bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Keep the benchmark organisation already in the database (same size) "
        "instead of generating it again (PostgreSQL, or SQLite with RELANCE_DATA_DIR set).",
    )
    parser.add_argument(
        "--profile", action="store_true", help="Also print each page's three slowest queries."
    )
    return parser.parse_args(argv)


# --- Database ---------------------------------------------------------------------


def create_postgres_database(url: str) -> None:
    """Create the database of a PostgreSQL URL if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created the database {name}.")


def set_up_django() -> str | None:
    """Point relance at the benchmark database; return a temporary dir to delete."""
    temporary = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        create_postgres_database(url)
    if not os.environ.get("RELANCE_DATA_DIR"):
        temporary = tempfile.mkdtemp(prefix="relance-bench-")
        os.environ["RELANCE_DATA_DIR"] = temporary
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise, no collectstatic
    import django

    django.setup()
    return temporary


# --- Data -------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> tuple[Any, Any, float | None]:
    """The benchmark organisation and its owner, and the generation time (None: reused)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from relance import demo
    from relance.ledger.models import Invoice
    from relance.organisations.models import Membership, Organisation, Role

    call_command("migrate", interactive=False, verbosity=0)
    user, created = get_user_model().objects.get_or_create(username=BENCH_USER)
    if created:
        user.set_unusable_password()  # force_login only
        user.save()
    existing = Organisation.objects.filter(legal_name=BENCH_NAME).first()
    if args.reuse and existing is not None:
        issued = Invoice.objects.filter(organisation=existing, kind="invoice").exclude(
            status="draft"
        )
        if issued.count() == args.invoices:
            return existing, user, None
    for organisation in Organisation.objects.filter(legal_name=BENCH_NAME):
        demo.delete_organisation(organisation)
    started = time.perf_counter()
    organisation = demo.build_organisation(
        BENCH_NAME,
        clients=args.clients,
        invoices=args.invoices,
        as_of=demo.paris_today(),
        seed=args.seed,
        author=user,
    )
    elapsed = time.perf_counter() - started
    Membership.objects.create(user=user, organisation=organisation, role=Role.OWNER)
    analyse()
    return organisation, user, elapsed


def analyse() -> None:
    """Vacuum and refresh the planner's statistics, as autovacuum would soon
    after a bulk load (SQLite is left as relance leaves it: no ANALYZE)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def describe(organisation: Any) -> str:
    from relance.ledger.models import Activity, Client, Invoice, Payment

    invoices = Invoice.objects.filter(organisation=organisation, kind="invoice")
    total = invoices.count()
    still_open = invoices.open().count()
    return (
        f"{Client.objects.filter(organisation=organisation).count():,} clients, "
        f"{total:,} invoices ({still_open / total:.0%} open), "
        f"{Payment.objects.filter(organisation=organisation).count():,} payments, "
        f"{Activity.objects.filter(organisation=organisation).count():,} timeline entries"
    )


def pages(organisation: Any) -> list[tuple[str, str]]:
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
    documents = Invoice.objects.filter(organisation=organisation).count()
    deep = max(1, math.ceil(documents / 50) * 3 // 4)  # 50 a page: three quarters down
    invoices, clients = reverse("invoice_list"), reverse("client_list")
    return [
        ("dashboard", reverse("dashboard")),
        ("client list", clients),
        ("client list by balance", f"{clients}?sort=-balance"),
        ("invoice list", invoices),
        ("invoice list, overdue", f"{invoices}?status=overdue"),
        (f"invoice list, page {deep}", f"{invoices}?page={deep}"),
        (
            f"client page ({busiest[1]:,} invoices)",
            reverse("client_detail", args=[busiest[0]]),
        ),
    ]


# --- Measures ---------------------------------------------------------------------


@dataclass
class Result:
    name: str
    url: str
    status: int
    times: list[float]
    queries: list[tuple[float, str]]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]


def measure(client: Any, name: str, url: str, repeat: int) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    status = client.get(url).status_code  # warm-up: templates, caches, connection
    times = []
    for _ in range(repeat if status == 200 else 0):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code if response.status_code != 200 else status
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    return Result(name, url, status, times or [math.nan], queries)


def report(result: Result, profile: bool) -> None:
    if result.status != 200:
        print(f"{result.name:<34} HTTP {result.status}  {result.url}")
        return
    print(
        f"{result.name:<34} median {result.median:7.1f} ms   p95 {result.p95:7.1f} ms   "
        f"target {TARGET_MS} ms   ratio {result.median / TARGET_MS:5.2f}   "
        f"{len(result.queries)} queries"
    )
    if profile:
        for ms, sql in sorted(result.queries, reverse=True)[:3]:
            print(f"    {ms:7.1f} ms  {sql[:300]}")


def engine_name() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    connection.ensure_connection()
    major, minor = divmod(connection.pg_version, 10_000)
    return f"PostgreSQL {major}.{minor}"


def paris_today() -> date:
    from relance.demo import paris_today

    return paris_today()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temporary = set_up_django()
    try:
        from django.db import connection
        from django.test import Client

        organisation, user, generated = prepare(args)
        print(f"Database: {engine_name()}  ({connection.settings_dict['NAME']})")
        print(f"Register: {describe(organisation)}, as of {paris_today():%Y-%m-%d}")
        if generated is None:
            print("Generation: reused the organisation already in the database")
        else:
            print(f"Generation: {generated:.1f} s")
        client = Client()
        client.force_login(user)
        results = [measure(client, name, url, args.repeat) for name, url in pages(organisation)]
        print(f"Server time over {args.repeat} requests after one warm-up:")
        for result in results:
            report(result, args.profile)
        return 0 if all(r.status == 200 for r in results) else 1
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
