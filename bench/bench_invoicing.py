"""Time to issue an invoice: terms, mentions, number, PDF and Factur-X, archived.

    uv run python bench/bench_invoicing.py [--invoices 60] [--backends sqlite,postgres]

For each backend (SQLite in a temporary data directory; PostgreSQL at
postgres://postgres@127.0.0.1:5432/relance_bench, created if missing) a child
process builds a small demo organisation, drafts --invoices varied invoices
(1 to 40 lines, several VAT rates, discount, deposit, installments, B2C,
English clients) and times ``relance.invoicing.issuing.issue_invoice`` on each:
everything a user waits for when they press "Issue". The first issue is a
warm-up (fonts, templates) and is not counted. Then the parts are timed on
the same documents: building the Document, the CII XML, the PDF/A-3 with the
XML attached (WeasyPrint, one pass). A fixed Python loop timed in the same run
tells how fast the machine was.
Target: median under 300 ms per invoice. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

TARGET_MS = 300
PG_URL = "postgres://postgres@127.0.0.1:5432/relance_bench"
BENCH_NAME = "Banc d'essai facturation SAS"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def set_up(backend: str) -> None:
    os.environ["RELANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="relance-bench-inv-")
    if backend == "postgres":
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_register import create_postgres_database

        os.environ["DATABASE_URL"] = PG_URL
        create_postgres_database(PG_URL)
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def drafts(count: int, as_of: date) -> list[Any]:
    """Varied drafts on a fresh demo organisation."""
    import random

    from relance import demo
    from relance.invoicing.models import PaymentTermsTemplate
    from relance.ledger.issuing import create_draft
    from relance.ledger.models import Client
    from relance.organisations.models import Organisation

    for old in Organisation.objects.filter(legal_name=BENCH_NAME):
        demo.delete_organisation(old)
    org = demo.build_organisation(BENCH_NAME, clients=20, invoices=40, as_of=as_of, seed=7)
    clients = list(
        Client.objects.filter(organisation=org, status="active").exclude(address_line1="")
    )
    terms = list(PaymentTermsTemplate.objects.filter(organisation=org, agreed_45_eom=False))
    rng = random.Random(11)
    out = []
    for i in range(count):
        size = rng.choice((1, 1, 2, 3, 5, 8, 12, 40))
        lines = [
            (
                f"Prestation {i}-{n} : conception, développement et recette",
                Decimal(rng.choice(("1", "2", "0.5", "7.25"))),
                Decimal(rng.randint(50, 2000)),
                Decimal(rng.choice(("20", "20", "10", "5.5"))),
            )
            for n in range(size)
        ]
        client = rng.choice(clients)
        # Three monthly installments run past 60 days: lawful for consumers only.
        usable = [t for t in terms if client.kind == "individual" or t.kind != "installments"]
        out.append(
            create_draft(
                client=client, lines=lines, issue_date=as_of, terms_template=rng.choice(usable)
            )
        )
    return out


def child(backend: str, count: int) -> dict[str, Any]:
    set_up(backend)
    from relance import demo
    from relance.einvoice import cii
    from relance.invoicing import pdf
    from relance.invoicing.issuing import issue_invoice
    from relance.invoicing.snapshot import build_document

    as_of = demo.paris_today()
    pending = drafts(count + 1, as_of)
    issue_invoice(pending.pop(0), as_of=as_of)  # warm-up: fonts, templates, XSD
    issue_ms, pages = [], []
    issued = []
    for invoice in pending:
        started = time.perf_counter()
        invoice = issue_invoice(invoice, as_of=as_of)
        issue_ms.append((time.perf_counter() - started) * 1000)
        issued.append(invoice)
    parts: dict[str, list[float]] = {"document": [], "cii": [], "pdf+fx": []}
    for invoice in issued:
        started = time.perf_counter()
        document = build_document(invoice)
        parts["document"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        xml = cii.to_cii(document)
        parts["cii"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        pdf.render_pdf(document, facturx_xml=xml)
        parts["pdf+fx"].append((time.perf_counter() - started) * 1000)
        pages.append(len(document.lines))
    # The machine's speed in the same run: a fixed pure-Python loop (about
    # 120 ms on a current laptop), to read the figures above against.
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    calibration = (time.perf_counter() - started) * 1000
    return {
        "backend": backend,
        "issue": issue_ms,
        "parts": parts,
        "lines": pages,
        "calibration_ms": calibration,
    }


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(len(ordered) * 0.9) - 1] if len(ordered) >= 10 else ordered[-1]
    return (
        f"median {statistics.median(values):6.1f} ms  p90 {p90:6.1f} ms  max {ordered[-1]:6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.invoices)))
        return 0
    failed = False
    for backend in args.backends.split(","):
        result = subprocess.run(
            [sys.executable, __file__, "--child", backend, "--invoices", str(args.invoices)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(f"{backend}: failed\n{result.stderr[-3000:]}")
            failed = True
            continue
        data = json.loads(result.stdout.strip().splitlines()[-1])
        median = statistics.median(data["issue"])
        verdict = "OK" if median < TARGET_MS else "TOO SLOW"
        print(
            f"{backend:9} issue+PDF+Factur-X, {len(data['issue'])} invoices "
            f"({min(data['lines'])}-{max(data['lines'])} lines): {summary(data['issue'])}"
            f"  -> {median / TARGET_MS:.2f} of the {TARGET_MS} ms target [{verdict}]"
        )
        for name, values in data["parts"].items():
            print(f"{'':9}   {name:8} {summary(values)}")
        print(
            f"{'':9}   machine: a 3,000,000-step Python loop took {data['calibration_ms']:.0f} ms"
        )
        failed |= median >= TARGET_MS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
