"""relance escalation_samples OUT_DIR: sample formal notices, court dossiers and
agency case files (PDF and ZIP) in French and English.

The sample organisation, clients and invoices are made inside a transaction that
is rolled back: the database (migrated) keeps nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Render sample formal notices, court dossiers and agency case files (fr, en)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("output", help="The folder to write into (made if missing).")
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=date(2026, 6, 1),
            help="The letters' date (default 2026-06-01).",
        )

    def handle(self, *args: Any, output: str, as_of: date, **options: Any) -> None:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:
            with transaction.atomic():
                written = self._render(folder, as_of)
                raise _Rollback
        except _Rollback:
            pass
        for path in written:
            self.stdout.write(f"{path} ({path.stat().st_size:,} bytes)")

    def _render(self, folder: Path, as_of: date) -> list[Path]:
        from django.utils import timezone

        from relance.escalation import documents, notices
        from relance.escalation.models import EscalationSettings, FormalNotice

        organisation, company, consumer = _sample_register(as_of)
        settings = EscalationSettings.for_org(organisation)
        written = []

        def write(name: str, data: bytes) -> None:
            path = folder / name
            path.write_bytes(data)
            written.append(path)

        for client, suffix in ((company, "b2b"), (consumer, "b2c")):
            notice = notices.prepare(client, as_of=as_of)
            notice = notices.approve(notice, author=None)
            # The letter is dated the day it was approved: the sample's day.
            at = timezone.make_aware(datetime.combine(as_of, time(10)), organisation.tzinfo)
            FormalNotice.objects.filter(pk=notice.pk).update(approved_at=at)
            notice = notices.mark_sent(
                FormalNotice.objects.get(pk=notice.pk), sent_on=as_of, as_of=as_of, author=None
            )
            invoices = list(notice.invoices.order_by("due_date"))
            for language in ("fr", "en"):
                client.language = language
                client.save(update_fields=["language"])
                FormalNotice.objects.filter(pk=notice.pk).update(language=language)
                notice.refresh_from_db()
                write(f"formal-notice-{suffix}-{language}.pdf", documents.notice_pdf(notice))
                write(
                    f"court-dossier-{suffix}-{language}.pdf",
                    documents.dossier_pdf(client, invoices, as_of),
                )
                write(
                    f"case-file-{suffix}-{language}.pdf",
                    documents.case_file_pdf(client, invoices, as_of, settings.agency_fee_percent),
                )
            write(
                f"case-file-{suffix}.zip",
                documents.case_file_zip(client, invoices, as_of, settings.agency_fee_percent),
            )
        return written


def _sample_register(as_of: date) -> tuple[Any, Any, Any]:
    from relance.ledger import issuing
    from relance.ledger.models import Client, Contact, ContactRole
    from relance.ledger.models.timeline import record
    from relance.organisations.models import Organisation

    organisation = Organisation.objects.create(
        legal_name="Atelier Durand SAS",
        legal_form="SAS",
        share_capital=Decimal("10000"),
        siren="732829320",
        vat_number="FR44732829320",
        rcs_city="Lyon",
        address_line1="12 rue de la République",
        postcode="69002",
        city="Lyon",
        country="FR",
        email="compta@atelier-durand.fr",
        phone="+33478000000",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
    )
    company = Client.objects.create(
        organisation=organisation,
        name="Boulangerie Martin SARL",
        siren="552100554",
        address_line1="3 place Bellecour",
        postcode="69002",
        city="Lyon",
    )
    Contact.objects.create(
        organisation=organisation, client=company, first_name="Claire", last_name="Martin",
        role=ContactRole.ACCOUNTS_PAYABLE, email="compta@boulangerie-martin.fr",
    )  # fmt: skip
    Contact.objects.create(
        organisation=organisation, client=company, first_name="Paul", last_name="Martin",
        role=ContactRole.MANAGEMENT, job_title="Gérant", email="paul@boulangerie-martin.fr",
    )  # fmt: skip
    consumer = Client.objects.create(
        organisation=organisation,
        kind="individual",
        name="Jeanne Petit",
        address_line1="8 rue Mercière",
        postcode="69002",
        city="Lyon",
    )
    rows = [
        (company, "1440.00", 140),
        (company, "2400.00", 110),
        (consumer, "450.00", 75),
    ]
    for client, gross, days in rows:
        due = as_of - timedelta(days=days)
        issued = due - timedelta(days=30)
        net = (Decimal(gross) / Decimal("1.2")).quantize(Decimal("0.0001"))
        draft = issuing.create_draft(
            client=client,
            lines=[("Identité visuelle et maquettes", Decimal(1), net, Decimal(20))],
            issue_date=issued,
            due_date=due,
        )
        invoice = issuing.issue(draft, as_of=issued)
        record(
            client=client,
            invoice=invoice,
            kind="note",
            text="Relance amiable restée sans réponse.",
        )
    return organisation, company, consumer
