from __future__ import annotations

import signal
import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Run scheduled jobs: recurring invoices, invoices to send later, each organisation's "
        "daily reminder run at its hour, and the reminders' outbox."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between passes.")
        parser.add_argument(
            "--now", help="Run as if it were this moment (ISO 8601), for catching up or testing."
        )

    def handle(self, *args: Any, once: bool, interval: int, now: str | None, **options: Any):
        from relance.worker import run_once

        at = None
        if now:
            try:
                at = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now: not an ISO 8601 date or time: {now!r}") from None
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        while True:
            result = run_once(at)
            if result.issued or result.sent or result.failed:
                self.stdout.write(
                    f"issued {len(result.issued)} ({', '.join(result.issued)}), "
                    f"sent {result.sent}, failed {result.failed}"
                )
            if result.reminders_fired or result.reminders_sent or result.reminders_failed:
                self.stdout.write(
                    f"reminders: {result.reminders_fired} steps fired, "
                    f"{result.reminders_sent} messages delivered, "
                    f"{result.reminders_failed} failed or uncertain"
                )
            self.stdout.flush()
            if once or stopping:
                return
            for _ in range(interval):
                if stopping:
                    return
                time.sleep(1)
