"""Starting to chase what is issued: one chase per invoice, or per installment.

A new chase is due for a look on the day it is created (``next_action_on`` =
the organisation's today); the next run puts it on its ladder's first date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from relance.ledger.models import Installment, Invoice, InvoiceKind
from relance.ledger.signals import invoices_issued
from relance.organisations.models import Organisation

from .models import Chase

BATCH = 5000


def open_for(invoice_ids: Iterable[int], today: date | None = None) -> int:
    """Create the missing chases of these invoices; returns how many were made."""
    ids = list(invoice_ids)
    made = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        invoices = list(
            Invoice.objects.filter(pk__in=chunk, kind=InvoiceKind.INVOICE)
            .exclude(status="draft")
            .values_list("pk", "organisation_id", "client_id", "due_date", "issue_date")
        )
        schedules: dict[int, list[tuple[int, date]]] = {}
        for invoice_id, installment_id, due in Installment.objects.filter(
            invoice_id__in=[row[0] for row in invoices]
        ).values_list("invoice_id", "pk", "due_date"):
            schedules.setdefault(invoice_id, []).append((installment_id, due))
        existing = set(
            Chase.objects.filter(invoice_id__in=[row[0] for row in invoices]).values_list(
                "invoice_id", "installment_id"
            )
        )
        rows = []
        for invoice_id, org_id, client_id, due, issued in invoices:
            look = today or issued
            parts = schedules.get(invoice_id) or [(None, due)]
            for installment_id, part_due in parts:
                if part_due is None or (invoice_id, installment_id) in existing:
                    continue
                rows.append(
                    Chase(
                        organisation_id=org_id,
                        client_id=client_id,
                        invoice_id=invoice_id,
                        installment_id=installment_id,
                        due_date=part_due,
                        next_action_on=look,
                    )
                )
        Chase.objects.bulk_create(rows, batch_size=1000)
        made += len(rows)
    return made


def reopen_for(invoice: Invoice, on: date) -> None:
    """Chase an invoice again (a payment of it was reversed): its chases look on ``on``.

    Chases of installments still paid are closed again by that run.
    """
    reopened = Chase.objects.filter(invoice=invoice).update(closed=False, next_action_on=on)
    if not reopened:
        open_for([invoice.pk], today=on)


@receiver(invoices_issued)
def _issued(sender: Any, organisation_id: int, invoice_ids: list[int], **kwargs: Any) -> None:
    open_for(invoice_ids)


@receiver(post_save, sender=Organisation)
def _new_organisation(sender: Any, instance: Organisation, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        from .defaults import install

        install(instance)
