"""``relance inbound [FILE…]``: read bounces and replies (stdin when no file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance.dunning.inbound import handle


class Command(BaseCommand):
    help = (
        "Read mail that came back (delivery reports, replies to reminders) from files or "
        "stdin: marks bounced contacts and pauses the client's reminders with a task."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="RFC 5322 message files (.eml).")

    def handle(self, *args: Any, files: list[str], **options: Any) -> None:
        sources = [(name, Path(name)) for name in files] or [("stdin", None)]
        for name, path in sources:
            try:
                raw = path.read_bytes() if path else sys.stdin.buffer.read()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror}") from None
            outcome = handle(raw)
            detail = f" ({', '.join(outcome.recipients)})" if outcome.recipients else ""
            self.stdout.write(f"{name}: {outcome.kind}{detail}")
