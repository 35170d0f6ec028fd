"""After a payment: lift a work stop once nothing is overdue (see holds.after_payment).

Hooked on the allocations, as the plans app is (every way a payment is recorded
makes them), and run once the payment is committed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from relance.ledger.models import Allocation


@receiver(post_save, sender=Allocation)
def _allocated(sender: Any, instance: Allocation, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        from .holds import after_payment

        client_id = instance.payment.client_id
        transaction.on_commit(partial(after_payment, client_id), robust=True)
