from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Render a sample Factur-X invoice (no database needed) and check its XML."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("output", help="Where to write the PDF.")
        parser.add_argument("--lang", default="fr", choices=["fr", "en"])
        parser.add_argument(
            "--scenario", type=int, default=0, help="0-11: services, rates, franchise, …"
        )

    def handle(self, *args: Any, output: str, lang: str, scenario: int, **options: Any) -> None:
        from relance.einvoice import cii, facturx
        from relance.einvoice.samples import varied_documents
        from relance.einvoice.validation import SchematronError, validate
        from relance.invoicing.render import document_pdf

        if not 0 <= scenario < 12:
            raise CommandError("--scenario is between 0 and 11")
        document = varied_documents(scenario + 1)[scenario]
        document = dataclasses.replace(document, language=lang)
        pdf = document_pdf(document)
        Path(output).write_bytes(pdf)
        self.stdout.write(f"{document.number}: {output} ({len(pdf):,} bytes, Factur-X EN 16931)")
        xml = facturx.extract_xml(pdf)
        assert xml == cii.to_cii(document)
        try:
            report = validate(xml)
        except SchematronError as exc:
            self.stdout.write(f"EN 16931 schematron not run: {exc}")
            return
        if report.ok:
            self.stdout.write(
                f"XSD + EN 16931 schematron: valid, 0 failed asserts "
                f"({report.fired_rules} rules fired, {len(report.warnings)} warnings)"
            )
        else:
            raise CommandError(f"XSD + EN 16931 schematron: INVALID\n{report.summary()}")
