"""Options the reminder commands share: which organisation, which day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import CommandError

from relance.organisations.models import Organisation


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None


def organisations(selector: str | None) -> list[Any]:
    """All organisations, or the one given by id or exact legal name."""
    if not selector:
        return list(Organisation.objects.order_by("pk"))
    found = (
        Organisation.objects.filter(pk=int(selector))
        if selector.isdigit()
        else (Organisation.objects.filter(legal_name=selector))
    )
    if not found:
        raise CommandError(f"No organisation {selector!r}.")
    return list(found)
