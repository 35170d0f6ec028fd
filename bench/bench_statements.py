"""Import of a 100,000-line camt.053 through relance.banking.importing.import_statement.

    uv run python bench/bench_statements.py [--lines 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relance_bench_statements \\
        uv run python bench/bench_statements.py

The database is DATABASE_URL when set (PostgreSQL, created if missing), else a
fresh SQLite file in a temporary data directory. The file is generated
(remittance text, RF creditor references, payer names and IBANs, a few batch
entries); what is timed is the whole import: parse, dedupe query, bulk insert.
Then the same file again (all duplicates). See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_dunning import machine, peak_rss_mb
from bench_register import create_postgres_database, engine_name

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from relance.rules.payment_reference import creditor_reference

TARGET_S = 20.0
NAMES = ["Durand", "Martin", "Bernard", "Petit", "Robert", "Richard", "Moreau", "Laurent"]
FORMS = ["SARL", "SAS", "SA", "EURL", ""]
TRADES = ["Boulangerie", "Garage", "Menuiserie", "Transports", "Pharmacie", "Atelier"]
BENCH_NAME = "Banc d'essai relevés SAS"


@dataclass(frozen=True)
class Paying:
    """A credit for an open invoice: its number, its balance, the payer's name."""

    number: str
    amount: Decimal
    payer: str


def rf_reference(number: int) -> str:
    body = f"{number:010d}"
    digits = "".join(str(int(c, 36)) for c in body + "RF00")
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{body}"


def camt053(lines: int, seed: int = 7, paying: Sequence[Paying] = ()) -> bytes:
    """The statement; ``paying`` are credits for open invoices, spread over it
    (each pays one invoice, by its RF reference and exact balance)."""
    rng = random.Random(seed)
    spots = dict(zip(rng.sample(range(lines), min(len(paying), lines)), paying, strict=False))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
        'camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId>'
        "<CreDtTm>2026-03-10T18:00:00+01:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-1</Id>"
        "<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-01</Dt></Dt></Bal>"
    ]
    for i in range(lines):
        amount = f"{rng.randint(100, 5_000_000) / 100:.2f}"
        credit = rng.random() < 0.85
        day = f"2026-{1 + i * 3 // lines:02d}-{1 + rng.randrange(28):02d}"
        name = f"{rng.choice(FORMS)} {rng.choice(NAMES)} {rng.randrange(10_000)}".strip()
        iban = f"FR76{rng.randrange(10**22):022d}"
        text = f"Facture F-2026-{rng.randrange(1_000_000):06d} merci"
        reference = rf_reference(i)
        pays = spots.get(i)
        if pays is not None:
            amount, credit, name = f"{pays.amount:.2f}", True, pays.payer
            text, reference = f"Facture {pays.number}", creditor_reference(pays.number)
        party = (
            f"<RltdPties><Dbtr><Pty><Nm>{name}</Nm></Pty></Dbtr>"
            f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>"
            if credit
            else f"<RltdPties><Cdtr><Pty><Nm>{name}</Nm></Pty></Cdtr></RltdPties>"
        )
        out.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}'
            f"</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
            f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BNK{i:09d}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            f"</Domn></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>E2E{i:09d}</EndToEndId>"
            f"</Refs>{party}<RmtInf><Ustrd>{text}</Ustrd><Strd><CdtrRefInf><Tp><CdOrPrtry>"
            f"<Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd>"
            "</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    out.append("</Stmt></BkToCstmrStmt></Document>")
    return "\n".join(out).encode()


def open_invoices(organisation: Any, count: int, seed: int = 8) -> list[Paying]:
    """``count`` open invoices of ``count // 5`` clients, written in bulk (not timed)."""
    from relance.ledger.models import Client, Invoice, InvoiceKind, InvoiceStatus

    rng = random.Random(seed)
    clients = [
        Client(organisation=organisation, name=f"{rng.choice(NAMES)} {rng.choice(TRADES)} {k}")
        for k in range(max(1, count // 5))
    ]
    Client.objects.bulk_create(clients, batch_size=1000)
    invoices, paying = [], []
    for k in range(count):
        client = clients[k % len(clients)]
        gross = Decimal(rng.randrange(5_000, 900_000)) / 100
        net = (gross / Decimal("1.2")).quantize(Decimal("0.01"))
        number = f"F2026-{k + 1:06d}"
        invoices.append(
            Invoice(
                organisation=organisation, client=client, kind=InvoiceKind.INVOICE,
                status=InvoiceStatus.ISSUED, number=number, currency="EUR",
                issue_date=date(2026, 1, 5), due_date=date(2026, 2, 4), total_net=net,
                total_vat=gross - net, total_gross=gross, balance=gross,
            )
        )  # fmt: skip
        paying.append(Paying(number, gross, client.name.upper()))
    Invoice.objects.bulk_create(invoices, batch_size=1000)
    rng.shuffle(paying)
    return paying


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument(
        "--matching",
        action="store_true",
        help="give the organisation open invoices, and time the matching receivers apart",
    )
    parser.add_argument("--invoices", type=int, default=20_000, help="open invoices (--matching)")
    parser.add_argument(
        "--paying", type=int, default=10_000, help="credits paying one of them (--matching)"
    )
    args = parser.parse_args(argv)
    temporary = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        create_postgres_database(url)
    if not os.environ.get("RELANCE_DATA_DIR"):
        temporary = tempfile.mkdtemp(prefix="relance-bench-statements-")
        os.environ["RELANCE_DATA_DIR"] = temporary
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from relance import demo
    from relance.banking.importing import import_statement
    from relance.banking.models import BankLine, StatementImport
    from relance.banking.parsers import parse
    from relance.banking.signals import statement_imported
    from relance.ledger.models import Payment
    from relance.organisations.models import Organisation

    try:
        print(f"Machine: {machine()}")
        print(f"Database: {engine_name()}")
        call_command("migrate", interactive=False, verbosity=0)
        # The import alone is measured: the matching receivers (run on commit, so inside
        # import_statement) are taken off, and timed apart with --matching.
        receivers = list(statement_imported.receivers)
        statement_imported.receivers.clear()
        statement_imported.sender_receivers_cache.clear()
        for old in Organisation.objects.filter(legal_name=BENCH_NAME):
            demo.delete_organisation(old)
        org = Organisation.objects.create(legal_name=BENCH_NAME, country="FR")
        paying: list[Paying] = []
        if args.matching:
            started = time.perf_counter()
            paying = open_invoices(org, args.invoices)[: args.paying]
            print(
                f"Organisation: {args.invoices:,} open invoices of {args.invoices // 5:,} clients, "
                f"written in {time.perf_counter() - started:.1f} s (not timed); "
                f"{len(paying):,} credits of the file pay one of them"
            )
        data = camt053(args.lines, paying=paying)
        print(f"File: camt.053.001.08, {args.lines:,} entries, {len(data) / 1e6:.1f} MB")
        cpu = time.process_time()
        parse(data)
        parse_cpu = time.process_time() - cpu
        cpu, started = time.process_time(), time.perf_counter()
        result = import_statement(org, data, "bench.xml")
        took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.added == args.lines, result
        started = time.perf_counter()
        again = import_statement(org, data, "bench.xml")
        took_again = time.perf_counter() - started
        assert again.added == 0 and again.duplicates == args.lines
        print(
            f"Import: {took:.2f} s for {result.added:,} lines "
            f"({result.added / took:,.0f} lines/s); "
            f"target {TARGET_S:.0f} s: ratio {took / TARGET_S:.2f} "
            f"({'OK' if took < TARGET_S else 'OVER'})"
        )
        print(
            f"  CPU time of this process: {took_cpu:.2f} s (parsing alone: {parse_cpu:.2f} s); "
            "the rest of the wall time is waiting (CPU shared, database)"
        )
        print(f"Same file again: {took_again:.2f} s, 0 lines added, {again.duplicates:,} known")
        if args.matching:
            statement_imported.receivers.extend(receivers)
            statement_imported.sender_receivers_cache.clear()
            [record] = result.imports
            lines = list(BankLine.objects.filter(statement=record).only("pk"))
            cpu, started = time.process_time(), time.perf_counter()
            statement_imported.send(sender=StatementImport, statement=record, lines=lines)
            matched, matched_cpu = time.perf_counter() - started, time.process_time() - cpu
            statuses = dict(
                BankLine.objects.filter(statement=record)
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
            payments = Payment.objects.filter(organisation=org).count()
            print(
                f"Matching (the receivers, on the {result.added:,} new lines): {matched:.2f} s "
                f"(CPU {matched_cpu:.2f} s); "
                + ", ".join(f"{status} {n:,}" for status, n in sorted(statuses.items()))
                + f"; {payments:,} payments recorded"
            )
            print(
                f"Import + matching: {took + matched:.2f} s "
                f"({(took + matched) / TARGET_S:.2f} of the import's {TARGET_S:.0f} s target)"
            )
        print(f"Peak RSS: {peak_rss_mb():.0f} MB")
        print(f"Machine at the end: {machine()}")
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
