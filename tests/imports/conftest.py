"""Fixtures of the import tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def register_counts():
    """A snapshot of every table an import writes to: equal before and after
    a rejected import proves it wrote nothing."""
    from relance.imports.models import ImportBatch
    from relance.ledger.models import (
        Activity,
        Allocation,
        Client,
        Contact,
        Invoice,
        InvoiceLine,
        Payment,
    )

    models = (Activity, Allocation, Client, Contact, Invoice, InvoiceLine, Payment)

    def counts():
        snapshot = {model.__name__: model.objects.count() for model in models}
        snapshot["done"] = ImportBatch.objects.filter(status="done").count()
        return snapshot

    return counts
