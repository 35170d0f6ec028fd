"""Email through Django's configured mailer, with failures told apart.

Django's SMTP backend sends with ``smtplib.sendmail``, which hides two things
a reminder engine needs: the recipients refused while others were accepted
(the return value is dropped) and *when* a connection was lost. So with the
SMTP backend the transaction is driven here, on the backend's own
connection (same host, port, TLS, login and timeout settings): MAIL, RCPT
for each recipient, DATA, the content and the final dot, then the reply.

The moment that matters is the final dot. A server delivers nothing before
it has the dot (RFC 5321 §4.1.1.4), so a connection lost or timed out
before it is sent is a plain ``TemporaryError``: sending again cannot
duplicate anything. Once the dot is sent and the reply does not come, the
server may have queued the message: ``Uncertain``.

Other backends (locmem in tests, console or file in development) have no
such detail: the message goes through ``send_messages`` and an ``OSError``
is temporary.
"""

from __future__ import annotations

import email.policy
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.translation import gettext as _

from .base import (
    ChannelDown,
    Delivery,
    MessageRejected,
    Outgoing,
    RecipientRejected,
    TemporaryError,
    TransportError,
    Uncertain,
)

log = logging.getLogger(__name__)

CRLF = b"\r\n"


def build(message: Outgoing) -> tuple[EmailMultiAlternatives, str]:
    """The Django email of ``message`` and its Message-ID (chosen here when not given)."""
    sender = message.sender or settings.DEFAULT_FROM_EMAIL
    message_id = message.message_id
    if not message_id:
        domain = parseaddr(sender)[1].rpartition("@")[2] or "relance.local"
        message_id = make_msgid(domain=domain)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=sender,
        to=list(message.to),
        reply_to=list(message.reply_to),
        headers={"Message-ID": message_id},
    )
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    for filename, content, mimetype in message.attachments:
        mail.attach(filename, content, mimetype)
    return mail, message_id


class EmailTransport:
    channel = "email"

    def __init__(self, mailer: str = "default") -> None:
        self.mailer = mailer  # an alias of settings.MAILERS
        self._keeping = False
        self._kept: SmtpBackend | None = None  # the SMTP connection kept open, if any

    @contextmanager
    def keep_open(self) -> Iterator[EmailTransport]:
        """Send everything inside the block over one SMTP connection (a dispatch
        pass): no connection, greeting and QUIT per message."""
        self._keeping = True
        try:
            yield self
        finally:
            self._keeping = False
            if self._kept is not None:
                _close(self._kept)
                self._kept = None

    def send(self, message: Outgoing) -> Delivery:
        if not message.to:
            raise RecipientRejected((), _("no recipient"))
        backend = self._kept or mailers[self.mailer]
        if not isinstance(backend, SmtpBackend):
            mail, message_id = _build(message)
            try:
                backend.send_messages([mail])
            except OSError as exc:
                raise TemporaryError(_("sending failed: %(error)s") % {"error": exc}) from exc
            return Delivery(provider_id=message_id)
        if not self._keeping:
            return _send_smtp(backend, message)
        self._kept = backend
        return _send_smtp(backend, message, keep=True)


def _build(message: Outgoing) -> tuple[EmailMultiAlternatives, str]:
    try:
        mail, message_id = build(message)
        mail.message()  # headers are checked here (no line breaks, valid addresses)
    except ValueError as exc:
        raise MessageRejected(_("the email cannot be built: %(error)s") % {"error": exc}) from exc
    return mail, message_id


def _send_smtp(backend: SmtpBackend, message: Outgoing, keep: bool = False) -> Delivery:
    """Deliver over SMTP, to the addresses that can be written in an envelope.

    ``keep``: leave the connection open for the next message (closed after a failure).
    A kept connection the server dropped meanwhile fails before the final dot, where
    nothing can have been delivered: it is opened again once and the message sent."""
    try:
        sender = backend.prep_address(message.sender or settings.DEFAULT_FROM_EMAIL)
    except ValueError as exc:
        raise ChannelDown(
            _("the sender address cannot be used: %(error)s") % {"error": exc}
        ) from exc
    addresses: dict[str, str] = {}  # envelope address -> as the caller wrote it
    invalid: list[str] = []
    for original in message.to:
        try:
            addresses.setdefault(backend.prep_address(original), original)
        except ValueError:
            invalid.append(original)
    if not addresses:
        raise RecipientRejected(
            tuple(invalid),
            _("invalid addresses: %(addresses)s") % {"addresses": ", ".join(invalid)},
        )
    # An invalid address is left out of the To header too (it could not even be written).
    mail, message_id = build(replace(message, to=tuple(addresses.values())))
    try:
        # Built once, with the SMTP policy; headers are checked here (no line breaks…).
        content = mail.message(policy=email.policy.SMTP).as_bytes()
    except ValueError as exc:
        raise MessageRejected(_("the email cannot be built: %(error)s") % {"error": exc}) from exc
    reused = keep and backend.connection is not None
    done = False
    try:
        try:
            backend.open()
            refused = _transaction(backend.connection, sender, list(addresses), content)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            # Dropped while idle (before the dot: nothing delivered): once more, afresh.
            _close(backend)
            backend.open()
            refused = _transaction(backend.connection, sender, list(addresses), content)
        done = True
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        raise _classify(exc, addresses) from exc
    finally:
        if not (keep and done):
            _close(backend)
    rejected = tuple(invalid) + tuple(addresses[address] for address in refused)
    return Delivery(provider_id=message_id, rejected=rejected)


def _transaction(
    connection: smtplib.SMTP, sender: str, recipients: list[str], content: bytes
) -> dict[str, tuple[int, bytes]]:
    """``smtplib.SMTP.sendmail``, with the final reply awaited apart (see the module)."""
    connection.ehlo_or_helo_if_needed()
    options: list[str] = []
    if connection.does_esmtp and connection.has_extn("size"):
        options.append(f"size={len(content)}")
    code, reply = connection.mail(sender, options)
    if code != 250:
        _abort(connection, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = connection.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == 421:
            connection.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _abort(connection, 0)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = connection.docmd("data")
    if code != 354:
        _abort(connection, code)
        raise smtplib.SMTPDataError(code, reply)
    # Dot-stuffing and the terminating line, as smtplib.SMTP.data does.
    payload = re.sub(rb"(?m)^\.", b"..", content)
    if not payload.endswith(CRLF):
        payload += CRLF
    connection.send(payload + b"." + CRLF)  # lost here: no dot, nothing delivered
    try:
        code, reply = connection.getreply()
    except smtplib.SMTPServerDisconnected as exc:
        raise Uncertain(
            _(
                "the connection was lost after the message was handed over (%(error)s): "
                "the server may have accepted it"
            )
            % {"error": exc}
        ) from exc
    if code != 250:
        _abort(connection, code)
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _abort(connection: smtplib.SMTP, code: int) -> None:
    """End a failed transaction the way smtplib does: 421 closes, others reset."""
    if code == 421:
        connection.close()
        return
    try:
        connection.rset()
    except smtplib.SMTPException:
        connection.close()


def _close(backend: SmtpBackend) -> None:
    # The outcome is known by now: a failing QUIT changes nothing to it.
    try:
        backend.close()
    except (OSError, smtplib.SMTPException) as exc:
        log.info("closing the SMTP connection failed: %s", exc)


def _reply(exc: smtplib.SMTPResponseException) -> dict[str, str]:
    """The server's reply, for the ``%(reply)s`` of a message."""
    error = exc.smtp_error
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return {"reply": f"{exc.smtp_code} {text}"}


def _classify(exc: OSError | ValueError, addresses: dict[str, str]) -> TransportError:
    """The transport error an SMTP or network failure means (module docstring, base.py)."""
    # smtplib's exceptions are OSErrors: the specific ones are tested first.
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return ChannelDown(_("the SMTP server refused the login: %(reply)s") % _reply(exc))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ChannelDown(
            _("the SMTP server lacks a required feature: %(error)s") % {"error": exc}
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        details = "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}"
            for address, (code, reply) in exc.recipients.items()
        )
        codes = [code for code, _reply_text in exc.recipients.values()]
        if len(exc.recipients) < len(addresses) or any(code < 500 for code in codes):
            return TemporaryError(
                _("recipients refused for now: %(details)s") % {"details": details}
            )
        refused = tuple(addresses[address] for address in exc.recipients)
        return RecipientRejected(
            refused, _("recipients refused: %(details)s") % {"details": details}
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code < 500:
            return TemporaryError(_("the sender was refused for now: %(reply)s") % _reply(exc))
        return ChannelDown(
            _("the SMTP server refuses the sender %(sender)s: %(reply)s")
            % (_reply(exc) | {"sender": exc.sender})
        )
    if isinstance(exc, smtplib.SMTPDataError):
        if exc.smtp_code < 500:
            return TemporaryError(_("the message was deferred: %(reply)s") % _reply(exc))
        return MessageRejected(_("the SMTP server refused the message: %(reply)s") % _reply(exc))
    if isinstance(exc, smtplib.SMTPConnectError):
        return TemporaryError(_("the SMTP server refused the connection: %(reply)s") % _reply(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        # HELO/EHLO or STARTTLS refused: a server shutting down (421) or busy says 4xx.
        if exc.smtp_code < 500:
            return TemporaryError(_("the SMTP server is unavailable: %(reply)s") % _reply(exc))
        return ChannelDown(_("the SMTP server refuses the session: %(reply)s") % _reply(exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ChannelDown(
            _("the SMTP server's certificate is not trusted: %(error)s") % {"error": exc}
        )
    if isinstance(exc, OSError):
        # Refused or reset connections, timeouts and disconnections before the
        # final dot, unknown host names: the message is not there, try again.
        return TemporaryError(
            _("the connection to the SMTP server failed: %(error)s") % {"error": exc}
        )
    # A ValueError: something in the message SMTP cannot carry.
    return MessageRejected(_("the message cannot be sent over SMTP: %(error)s") % {"error": exc})
