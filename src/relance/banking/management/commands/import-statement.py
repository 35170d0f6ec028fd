"""``relance import-statement FILE --organisation ID|NAME``: import a bank statement file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance.banking.importing import StatementError, import_statement
from relance.organisations.models import Organisation


class Command(BaseCommand):
    help = "Import a bank statement (camt.052/053/054, MT940, OFX, CSV) into an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The statement file.")
        parser.add_argument(
            "--organisation", required=True, help="The organisation's id or exact legal name."
        )
        parser.add_argument(
            "--format", choices=["camt052", "camt053", "camt054", "mt940", "ofx", "csv"]
        )

    def handle(self, *args: Any, file: str, organisation: str, **options: Any) -> None:
        found = (
            Organisation.objects.filter(pk=int(organisation))
            if organisation.isdigit()
            else Organisation.objects.filter(legal_name=organisation)
        )
        if len(found) != 1:
            raise CommandError(f"No single organisation {organisation!r}.")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        try:
            result = import_statement(found[0], data, Path(file).name, format=options["format"])
        except StatementError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(
            f"{file}: {result.format}, {len(result.imports)} statement(s), "
            f"{result.added} new line(s), {result.duplicates} already imported"
            + (f", {result.skipped} pending entries left out" if result.skipped else "")
        )
