"""Reading Stripe events of any API version into the few facts relance uses.

Stripe's payloads changed over the years (e.g. ``payment_intent`` a string or
an expanded object, ``charges`` on a PaymentIntent before 2022, no
``api_version`` on the oldest envelopes, ``amount_total`` missing before
Checkout knew it). Only the facts below are read, each with a fallback, so an
older or newer shape parses the same. Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EventError(ValueError):
    """Not a Stripe event at all."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    api_version: str
    created: int  # unix time
    object: dict[str, Any]


@dataclass(frozen=True)
class Checkout:
    """A Checkout Session, as far as paying invoices goes."""

    session_id: str
    payment_status: str  # "paid", "unpaid" (a debit on its way), "no_payment_required"
    mode: str
    amount_total: int | None  # minor units
    currency: str  # upper case, "" when missing
    payment_intent: str  # "pi_…", "" when there is none
    payment_method_types: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    client_reference_id: str = ""

    @property
    def invoice_ids(self) -> list[int]:
        """The invoices relance put in the metadata ("12,13")."""
        ids = []
        for part in str(self.metadata.get("invoices", "")).split(","):
            part = part.strip()
            if part.isdigit():
                ids.append(int(part))
        return ids


@dataclass(frozen=True)
class ChargeNews:
    """A refund or a dispute on a charge."""

    object_id: str
    payment_intent: str
    amount: int | None  # refunded or disputed, minor units
    currency: str
    full: bool  # the whole charge was refunded
    reason: str


def parse_event(payload: Any) -> Event:
    if not isinstance(payload, dict) or payload.get("object", "event") != "event":
        raise EventError("not a Stripe event")
    event_id, kind = payload.get("id"), payload.get("type")
    data = payload.get("data")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
        raise EventError("the event has no id or no type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise EventError("the event has no data.object")
    created = payload.get("created")
    return Event(
        id=event_id,
        type=kind,
        api_version=str(payload.get("api_version") or ""),
        created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
        object=data["object"],
    )


def _id_of(value: Any) -> str:
    """An id given as a string or as an expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return ""


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def checkout(obj: dict[str, Any]) -> Checkout:
    metadata = obj.get("metadata")
    types = obj.get("payment_method_types")
    amount = _int_or_none(obj.get("amount_total"))
    if amount is None:
        # Before amount_total: the sum of display_items (2019 and older).
        items = obj.get("display_items")
        if isinstance(items, list) and items:
            amounts = [_int_or_none(i.get("amount")) for i in items if isinstance(i, dict)]
            quantities = [i.get("quantity") or 1 for i in items if isinstance(i, dict)]
            if amounts and all(a is not None for a in amounts):
                amount = sum(a * q for a, q in zip(amounts, quantities, strict=True))  # type: ignore[operator]
    return Checkout(
        session_id=_id_of(obj.get("id")),
        payment_status=str(obj.get("payment_status") or ""),
        mode=str(obj.get("mode") or "payment"),
        amount_total=amount,
        currency=str(obj.get("currency") or "").upper(),
        payment_intent=_id_of(obj.get("payment_intent")),
        payment_method_types=[str(t) for t in types] if isinstance(types, list) else [],
        metadata={str(k): str(v) for k, v in metadata.items()}
        if isinstance(metadata, dict)
        else {},
        client_reference_id=str(obj.get("client_reference_id") or ""),
    )


def charge_news(obj: dict[str, Any]) -> ChargeNews:
    """A charge (charge.refunded) or a dispute (charge.dispute.created)."""
    is_dispute = obj.get("object") == "dispute"
    amount = _int_or_none(obj.get("amount") if is_dispute else obj.get("amount_refunded"))
    total = _int_or_none(obj.get("amount"))
    full = bool(obj.get("refunded")) or (
        not is_dispute and amount is not None and total is not None and amount >= total
    )
    return ChargeNews(
        object_id=_id_of(obj.get("id")),
        payment_intent=_id_of(obj.get("payment_intent")),
        amount=amount,
        currency=str(obj.get("currency") or "").upper(),
        full=full and not is_dispute,
        reason=str(obj.get("reason") or ""),
    )
