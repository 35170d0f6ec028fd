"""Delivering reminders: one interface (base.py) for email, SMS and letters."""

from .base import (
    ChannelDown,
    Delivery,
    MessageRejected,
    Outgoing,
    PrintQueue,
    RecipientRejected,
    TemporaryError,
    Transport,
    TransportError,
    Uncertain,
    backoff,
    transport_for,
)

__all__ = [
    "ChannelDown",
    "Delivery",
    "MessageRejected",
    "Outgoing",
    "PrintQueue",
    "RecipientRejected",
    "TemporaryError",
    "Transport",
    "TransportError",
    "Uncertain",
    "backoff",
    "transport_for",
]
