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

from relance.imports import bulk
from relance.ledger.models import Installment, Invoice, InvoiceKind
from relance.ledger.signals import invoices_issued
from relance.organisations.models import Organisation

from .models import Chase

BATCH = 5000
CHASE_COLUMNS = (
    "organisation_id",
    "client_id",
    "invoice_id",
    "installment_id",
    "due_date",
    "next_action_on",
)


def open_for(invoice_ids: Iterable[int], today: date | None = None) -> int:
    """Create the missing chases of these invoices; returns how many were made."""
    ids = list(invoice_ids)
    made = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        issued = Invoice.objects.filter(pk__in=chunk, kind=InvoiceKind.INVOICE).exclude(
            status="draft"
        )
        invoices = list(
            issued.values_list("pk", "organisation_id", "client_id", "due_date", "issue_date")
        )
        # Sub-queries, not lists of ids: Django checks every value of a related "__in"
        # list one by one, which costs more than the query itself on big imports.
        schedules: dict[int, list[tuple[int, date]]] = {}
        for invoice_id, installment_id, due in Installment.objects.filter(
            invoice__in=issued.values("pk")
        ).values_list("invoice_id", "pk", "due_date"):
            schedules.setdefault(invoice_id, []).append((installment_id, due))
        existing = set(
            Chase.objects.filter(invoice__in=issued.values("pk")).values_list(
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
                rows.append((org_id, client_id, invoice_id, installment_id, part_due, look))
        # Plain multi-row INSERTs (COPY on PostgreSQL): an import issues 100,000 invoices at
        # once, and model instances would cost more than the rows themselves.
        bulk.insert(Chase, CHASE_COLUMNS, rows)
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
