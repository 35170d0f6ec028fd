"""Payment helpers for templates that other views render (client and invoice pages)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from relance.ledger.models import Client
from relance.ledger.settlement import credit_of

register = template.Library()


@register.simple_tag
def client_credit(client: Client, currency: str) -> Decimal:
    """The client's unallocated credit in one currency."""
    return credit_of(client, currency)
