"""Display helpers: amounts in the user's language, dates, days late."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from relance import formats

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """1234.5, "EUR" -> "1 234,50 €" in French, "€1,234.50" in English."""
    if amount is None or amount == "":
        return ""
    return formats.money(amount, currency or "EUR")


@register.filter
def number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return formats.number(value)


@register.simple_tag(takes_context=True)
def url_replace(context: dict[str, Any], **kwargs: Any) -> str:
    """The current query string with some parameters replaced (for sort/pages)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def startswith(text: str, prefix: str) -> bool:
    return str(text).startswith(str(prefix))
