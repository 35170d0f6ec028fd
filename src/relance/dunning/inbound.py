"""Mail coming back: bounces and replies to reminders.

A bounce (an RFC 3464 delivery status notification) marks the contacts whose
address failed; a reply from the client is something a person must read. Both
pause the client's ladder with a task for a person, so relance never keeps
chasing an address that does not work or a client who answered. The mail is
matched to the reminder by the Message-ID relance chose before sending.

Feed it from the mail server (e.g. a Postfix alias ``| relance inbound``) or
with files: ``relance inbound message.eml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from django.utils import timezone
from django.utils.translation import gettext as _

from relance.ledger.models import ActivityKind
from relance.ledger.models.timeline import record

from .dispatch import pause_for_contact_problem
from .models import Message

MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass
class Outcome:
    kind: str  # "bounce", "reply" or "unknown"
    message: Message | None = None
    recipients: tuple[str, ...] = ()


def _ids(*values: str | None) -> list[str]:
    found: list[str] = []
    for value in values:
        found += MESSAGE_ID.findall(value or "")
    return found


def _find(ids: list[str]) -> Message | None:
    if not ids:
        return None
    return Message.objects.filter(message_id__in=ids).select_related("client").first()


def _bounce(mail: EmailMessage) -> tuple[list[str], list[str]] | None:
    """(failed recipients, Message-IDs of the original) of a delivery status report."""
    if mail.get_content_type() != "multipart/report":
        return None
    failed: list[str] = []
    ids: list[str] = []
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            # Its payload is a list of header blocks: one per message, then one per recipient.
            for block in part.get_payload():
                if str(block.get("Action", "")).strip().lower() == "failed":
                    recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient"))
                    failed.append(recipient.split(";", 1)[-1].strip())
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                ids += _ids(payload[0].get("Message-ID"))
            else:
                ids += _ids(*re.findall(r"(?im)^message-id:\s*(.+)$", part.get_content()))
    return failed, ids


def handle(raw: bytes, now: datetime | None = None) -> Outcome:
    now = now or timezone.now()
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    bounce = _bounce(mail)
    if bounce is not None:
        failed, ids = bounce
        message = _find(ids)
        if message is None or not failed:
            return Outcome("unknown")
        from .dispatch import bounced

        bounced(message, failed, _("the address was refused (delivery report)"), now)
        return Outcome("bounce", message, tuple(failed))
    message = _find(_ids(mail.get("In-Reply-To"), mail.get("References")))
    if message is None:
        return Outcome("unknown")
    client = message.client
    body = mail.get_body(preferencelist=("plain", "html"))
    excerpt = " ".join((body.get_content() if body else "").split())[:500]
    sender = str(mail.get("From", ""))
    record(
        client=client,
        kind=ActivityKind.NOTE,
        text=_("Reply from %(sender)s to the reminder of %(day)s: %(excerpt)s")
        % {"sender": sender, "day": message.day.isoformat(), "excerpt": excerpt},
    )
    pause_for_contact_problem(
        client,
        _("%(sender)s replied to a reminder: read the reply, then lift the pause.")
        % {"sender": sender},
        client.organisation.today(now),
    )
    return Outcome("reply", message, (sender,))
