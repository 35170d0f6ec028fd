"""The one interface every outbound channel implements, and its failures.

A transport takes an ``Outgoing`` (what to deliver, already rendered) and
either returns a ``Delivery`` (the provider's id, and the recipients it
refused while accepting others) or raises one of the ``TransportError``
subclasses below. The class of the error tells the caller what to do next,
whatever the channel:

- ``TemporaryError``: retry later, after ``backoff(attempt)``;
- ``RecipientRejected``: every recipient was refused: a bounce, never retried;
- ``ChannelDown``: the channel is broken for everyone (credentials, account,
  configuration): disable it and warn a person;
- ``Uncertain``: the provider may have taken the message: do NOT resend
  blindly, a person checks (resending could deliver it twice);
- ``MessageRejected``: the provider refused this message itself (content,
  size): it fails, the channel stays up, no retry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.utils.translation import gettext as _

CHANNELS = ("email", "sms", "letter")


@dataclass(frozen=True)
class Outgoing:
    """What to deliver."""

    channel: str  # "email" | "sms" | "letter"
    to: tuple[str, ...]  # email addresses or E.164 phone numbers
    subject: str = ""
    text: str = ""
    html: str = ""
    # "Name <addr>" for email, sender id / number for SMS ("" = the configured default).
    sender: str = ""
    reply_to: tuple[str, ...] = ()
    message_id: str = ""  # email Message-ID, chosen before sending (stored by the caller)
    attachments: tuple[tuple[str, bytes, str], ...] = ()  # (filename, content, mimetype)


@dataclass(frozen=True)
class Delivery:
    """The provider took the message."""

    provider_id: str  # Message-ID for email, the provider's message id(s) for SMS
    # Recipients the message did not reach while it reached others: refused by the
    # server, or (SMS) not tried after a failure mid-way. Never retried: the others
    # would get it twice.
    rejected: tuple[str, ...] = ()


class TransportError(Exception):
    """The message was not delivered; the subclass says what to do next."""


class TemporaryError(TransportError):
    """Try again later (network down, server busy, SMTP 4xx, HTTP 429/5xx)."""


class RecipientRejected(TransportError):
    """Every recipient was refused (bad address or number, opted out): a bounce."""

    def __init__(self, recipients: tuple[str, ...], detail: str = "") -> None:
        self.recipients = tuple(recipients)
        if not detail:
            detail = _("recipients refused: %(details)s") % {"details": ", ".join(self.recipients)}
        super().__init__(detail)


class ChannelDown(TransportError):
    """Permanent and channel-wide: bad credentials, suspended account, misconfiguration."""


class Uncertain(TransportError):
    """The provider may or may not have taken the message (lost after it was handed over)."""


class MessageRejected(TransportError):
    """The provider refused this very message (content, size); others still go through."""


class Transport(Protocol):
    channel: str

    def send(self, message: Outgoing) -> Delivery: ...


def backoff(attempt: int) -> timedelta:
    """The wait before retry ``attempt`` (1, 2, …): 1 min, then 4 times longer, 6 h at most."""
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, not {attempt}")
    # 4**5 minutes already passes the cap: no need to raise huge powers.
    return min(timedelta(minutes=4 ** min(attempt - 1, 5)), timedelta(hours=6))


class PrintQueue:
    """Letters are printed and posted by a person: sending only queues the PDF's message."""

    channel = "letter"

    def send(self, message: Outgoing) -> Delivery:
        return Delivery(provider_id=f"print-{uuid.uuid4()}")


def transport_for(channel: str) -> Transport:
    """The configured transport of a channel ("email", "sms" or "letter")."""
    if channel == "email":
        from .email import EmailTransport

        return EmailTransport()
    if channel == "sms":
        from .sms import sms_transport

        return sms_transport()
    if channel == "letter":
        return PrintQueue()
    raise ValueError(f"no transport for the {channel!r} channel (known: {', '.join(CHANNELS)})")
