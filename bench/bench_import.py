"""Time of a CSV import of 100,000 invoices through the import service.

    uv run python bench/bench_import.py [--invoices 100000] [--clients 2000]

The database is DATABASE_URL when set (PostgreSQL: a dedicated database such
as postgres://postgres@127.0.0.1:5432/relance_bench, created if missing),
else a fresh SQLite file in a temporary data directory. A CSV file is
generated (French export: semicolons, decimal commas, day-first dates, net,
VAT and total, about 60 % paid, some partly) and imported into a new
organisation with the same steps as the pages: read the table, parse the
rows, plan against the register, run in one transaction. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_register import create_postgres_database, engine_name

TARGET_S = 30.0
BENCH_NAME = "Banc d'essai import SAS"
RATES = (Decimal(20), Decimal(20), Decimal(20), Decimal(10), Decimal("5.5"), Decimal(0))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", action="store_true", help="Keep the imported organisation.")
    return parser.parse_args(argv)


def set_up_django() -> str | None:
    import tempfile
    import warnings

    temporary = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        create_postgres_database(url)
    if not os.environ.get("RELANCE_DATA_DIR"):
        temporary = tempfile.mkdtemp(prefix="relance-bench-import-")
        os.environ["RELANCE_DATA_DIR"] = temporary
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    return temporary


def siren(rng: random.Random) -> str:
    """A random SIREN with a valid Luhn key."""
    digits = [rng.randint(0, 9) for _ in range(8)]
    for key in range(10):
        candidate = [*digits, key]
        total = 0
        for i, d in enumerate(reversed(candidate)):
            d = d * 2 if i % 2 else d
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return "".join(map(str, candidate))
    raise AssertionError


def french(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def generate_csv(invoices: int, clients: int, seed: int) -> bytes:
    """A French export: one line per invoice."""
    rng = random.Random(seed)
    people = [
        (f"Client {i:04d} SARL", f"C{i:05d}", siren(rng), f"compta{i}@client{i}.example")
        for i in range(clients)
    ]
    start = date(2024, 1, 1)
    lines = [
        "Numéro;Client;Code client;SIREN;Courriel;Date;Date d'échéance;Montant HT;TVA;"
        "Montant TTC;Devise;Montant réglé;Date de règlement;Libellé;Bon de commande"
    ]
    for n in range(1, invoices + 1):
        name, code, ident, email = people[rng.randrange(clients)]
        issued = start + timedelta(days=n * 700 // invoices)
        due = issued + timedelta(days=rng.choice((0, 30, 30, 45, 60)))
        net = Decimal(rng.randint(1_000, 500_000)).scaleb(-2)
        rate = rng.choice(RATES)
        vat = (net * rate / 100).quantize(Decimal("0.01"))
        gross = net + vat
        currency = "EUR" if rng.random() < 0.95 else rng.choice(("USD", "GBP", "CHF"))
        paid, paid_on = "", ""
        luck = rng.random()
        if luck < 0.6:
            paid, paid_on = french(gross), (due + timedelta(days=rng.randint(-20, 40)))
        elif luck < 0.7:
            paid, paid_on = french((gross / 2).quantize(Decimal("0.01"))), due
        when = paid_on.strftime("%d/%m/%Y") if paid_on else ""
        lines.append(
            f"F{n:07d};{name};{code};{ident};{email};{issued:%d/%m/%Y};{due:%d/%m/%Y};"
            f"{french(net)};{french(vat)};{french(gross)};{currency};{paid};{when};"
            f"Prestation {n};BC-{n % 997}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def fresh_organisation() -> Any:
    from relance.organisations.models import Organisation

    for old in Organisation.objects.filter(legal_name=BENCH_NAME):
        delete_organisation(old)
    return Organisation.objects.create(legal_name=BENCH_NAME, country="FR", currency="EUR")


def delete_organisation(organisation: Any) -> None:
    from relance import demo

    demo.delete_organisation(organisation)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temporary = set_up_django()
    try:
        from django.core.management import call_command
        from django.db import connection

        from relance.imports import batches, csv_import, service
        from relance.ledger.models import Invoice

        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        data = generate_csv(args.invoices, args.clients, args.seed)
        print(f"Database: {engine_name()}  ({connection.settings_dict['NAME']})")
        print(
            f"CSV: {args.invoices:,} invoices of {args.clients:,} clients, "
            f"{len(data) / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s"
        )
        organisation = fresh_organisation()
        phases: list[tuple[str, float, float]] = []

        def timed(name: str, work: Any) -> Any:
            began, cpu = time.perf_counter(), time.process_time()
            value = work()
            phases.append((name, time.perf_counter() - began, time.process_time() - cpu))
            return value

        batch = timed(
            "upload (store the file)",
            lambda: batches.start(organisation, "csv", [("bench.csv", data)]),
        )
        table = timed("read the table", lambda: batches.table(batch))
        options = csv_import.Options(mapping=csv_import.guess_mapping(table.header))
        parsed = timed("parse the rows", lambda: csv_import.parse(table, options))
        if parsed.errors:
            print("Unexpected errors:", *parsed.errors[:5], sep="\n  ")
            return 1
        plan = timed("plan (dedupe, clients)", lambda: service.plan(organisation, parsed))
        done = timed("run (one transaction)", lambda: service.run(batch, parsed))
        total = sum(seconds for _name, seconds, _cpu in phases)
        for name, seconds, cpu in phases:
            print(f"  {name:<28} {seconds:6.2f} s   (CPU of this process {cpu:6.2f} s)")
        created = Invoice.objects.filter(organisation=organisation).count()
        print(
            f"import of {created:,} invoices ({done.clients_created:,} new clients, "
            f"{len(plan.create):,} planned): {total:.1f} s   target {TARGET_S:.0f} s   "
            f"ratio {total / TARGET_S:.2f}"
        )
        ok = created == args.invoices == done.created_count
        if not args.keep:
            delete_organisation(organisation)
        return 0 if ok else 1
    finally:
        if temporary:
            import shutil

            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
