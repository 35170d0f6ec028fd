"""``relance import-rates FILE``: reference rates over the shipped table.

The file is CSV with the header ``series,valid_from,valid_to,rate,source``
(the shape of ``rules/data/rates.csv``). All or nothing: one bad line and
nothing is imported, every problem is listed with its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from relance.fees.models import ReferenceRate
from relance.rules.rates import RateFileError, parse_csv


class Command(BaseCommand):
    help = (
        "Import reference rates (ECB, French legal rate, Bank of England, Basiszinssatz) from a "
        "CSV file: series,valid_from,valid_to,rate,source. They override the shipped table on "
        "the days they cover; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file ({exc})") from None
        try:
            rows = parse_csv(text)
        except RateFileError as exc:
            raise CommandError(f"{path}: nothing imported\n{exc}") from None
        with transaction.atomic():
            for row in rows:
                # The same series and period again replaces the earlier import.
                ReferenceRate.objects.filter(
                    series=row.series, valid_from=row.valid_from, valid_to=row.valid_to
                ).delete()
                ReferenceRate.objects.create(
                    series=row.series,
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    rate=row.rate,
                    source=row.source,
                )
        self.stdout.write(f"{path}: {len(rows)} rates imported")
