"""After a payment: move the client's plan and settle an offer it fulfils.

Hooked on the allocations (made by every way a payment is recorded: by hand, bank
matching, online payment) and run once the payment is committed, so a payment
that rolls back moves nothing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from relance.ledger.models import Allocation


def _schedule(instance: Allocation) -> None:
    from .service import after_payment

    client_id = instance.payment.client_id
    transaction.on_commit(partial(after_payment, client_id), robust=True)


@receiver(post_save, sender=Allocation)
def _allocated(sender: Any, instance: Allocation, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        _schedule(instance)


@receiver(post_delete, sender=Allocation)
def _unallocated(sender: Any, instance: Allocation, **kwargs: Any) -> None:
    _schedule(instance)
