"""``relance demo``: load the demo organisation (a Lyon design agency) in a few seconds."""

from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance import demo

URL = "http://127.0.0.1:8000/"


def as_of_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Load the demo organisation: 60 clients, 1,500 invoices over two years, payments, "
        "credit notes, a timeline, a recent bank statement with its matches, payment plans "
        "and a settlement offer. The same seed and as-of date give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=as_of_date,
            help="The demo's today, YYYY-MM-DD (default: today in Europe/Paris).",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo organisation and its data, then load it again.",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing (but print the login) when the demo organisation exists.",
        )

    def handle(
        self,
        *args: Any,
        as_of: date | str | None,
        seed: int,
        reset: bool,
        if_missing: bool,
        **options: Any,
    ) -> None:
        if demo.find_demo() is not None and not reset:
            if not if_missing:
                raise CommandError(
                    "The demo organisation exists already: use --reset to reload it."
                )
            self.stdout.write("The demo organisation is already loaded.")
            self.print_login()
            return
        if isinstance(as_of, str):  # call_command("demo", as_of="…") skips the parser
            as_of = as_of_date(as_of)
        started = time.perf_counter()
        organisation = demo.load_demo(as_of=as_of or demo.paris_today(), seed=seed, reset=reset)
        elapsed = time.perf_counter() - started
        figures = ", ".join(f"{n:,} {name}" for name, n in demo.counts(organisation).items())
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {organisation} in {elapsed:.1f} s: {figures}.")
        )
        self.print_login()

    def print_login(self) -> None:
        self.stdout.write(f"Open {URL} and sign in as demo / demo (owner)")
        self.stdout.write("or comptable / comptable (read-only accountant).")
