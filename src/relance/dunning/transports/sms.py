"""SMS: Twilio's Messages API, or the console while no provider is configured.

Configuration, read when a transport is asked for (``transport_for("sms")``):
``settings.RELANCE_SMS`` if defined, a dict with the keys BACKEND,
ACCOUNT_SID, AUTH_TOKEN, FROM, BASE_URL, TIMEOUT; otherwise the environment
variables RELANCE_SMS_BACKEND (``console``, the default, ``twilio`` or
``locmem``), RELANCE_TWILIO_ACCOUNT_SID, RELANCE_TWILIO_AUTH_TOKEN,
RELANCE_TWILIO_FROM (an E.164 number, an alphanumeric sender id, or a
Messaging Service SID "MG…"), RELANCE_TWILIO_BASE_URL (default
https://api.twilio.com) and RELANCE_TWILIO_TIMEOUT (seconds, default 15).

Twilio is spoken with the standard library (no SDK): one form-encoded POST
per recipient to ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` with
HTTP Basic authentication; 201 answers a JSON message with its ``sid``;
errors answer ``{"code": 21211, "message": …, "status": 400}``
(https://www.twilio.com/docs/usage/twilios-response).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, TextIO

from django.conf import settings
from django.utils.translation import gettext as _

from .base import (
    ChannelDown,
    Delivery,
    MessageRejected,
    Outgoing,
    RecipientRejected,
    TemporaryError,
    Transport,
    TransportError,
    Uncertain,
)

log = logging.getLogger(__name__)

# What the locmem backend sent, for tests (like django.core.mail.outbox).
outbox: list[Outgoing] = []


class ConsoleSms:
    """Prints each SMS instead of sending it (development, demo)."""

    channel = "sms"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: Outgoing) -> Delivery:
        if not message.to:
            raise RecipientRejected((), _("no recipient"))
        provider_id = f"console-{uuid.uuid4()}"
        stream = self.stream or sys.stdout
        sender = message.sender or "(default sender)"
        stream.write(
            f"SMS {provider_id}\nFrom: {sender}\nTo: {', '.join(message.to)}\n\n"
            f"{message.text}\n{'-' * 60}\n"
        )
        stream.flush()
        log.info("SMS %s to %s printed on the console", provider_id, ", ".join(message.to))
        return Delivery(provider_id=provider_id)


class LocmemSms:
    """Keeps each SMS in ``outbox`` (tests)."""

    channel = "sms"

    def send(self, message: Outgoing) -> Delivery:
        if not message.to:
            raise RecipientRejected((), _("no recipient"))
        outbox.append(message)
        return Delivery(provider_id=f"locmem-{uuid.uuid4()}")


# Twilio error codes (https://www.twilio.com/docs/api/errors) that concern the
# number written to: the message goes nowhere, the others still can.
RECIPIENT_CODES = {
    21211,  # invalid 'To' phone number
    21214,  # 'To' phone number cannot be reached
    21265,  # 'To' number is a short code
    21266,  # 'To' and 'From' are the same number
    21268,  # premium rate or information service number
    21408,  # sending to that country is not enabled on the account
    21608,  # trial account: unverified 'To' number
    21610,  # the recipient opted out (replied STOP)
    21612,  # 'To' cannot be reached from this 'From'
    21614,  # 'To' is not a mobile number
}
# Codes that break every message: credentials, account, sender configuration.
CHANNEL_CODES = {
    10001,  # account is not active
    20003,  # authentication failed
    20005,  # account not active
    21212,  # invalid 'From' number
    21606,  # 'From' is not an SMS-capable number of the account
    21659,  # 'From' is not a Twilio number
    21660,  # 'From' does not belong to the account
}
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


class TwilioSms:
    """Twilio's Programmable Messaging, one POST per recipient."""

    channel = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        base_url: str = "https://api.twilio.com",
        timeout: int = 15,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @property
    def url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, message: Outgoing) -> Delivery:
        missing = [
            name
            for name, value in [
                (_("account SID"), self.account_sid),
                (_("auth token"), self.auth_token),
                (_("sender"), message.sender or self.sender),
            ]
            if not value
        ]
        if missing:
            raise ChannelDown(
                _("Twilio is not configured: missing %(missing)s") % {"missing": ", ".join(missing)}
            )
        if not message.to:
            raise RecipientRejected((), _("no recipient"))
        sids: list[str] = []
        refused: list[str] = []
        reasons: list[str] = []
        for position, number in enumerate(message.to):
            try:
                sids.append(self._create(number, message))
            except RecipientRejected as exc:
                refused.append(number)
                reasons.append(f"{number}: {exc}")
            except TransportError:
                if not sids:
                    raise
                # Some numbers already have it: stop here and report the rest as not
                # reached rather than have the whole message retried (twice for them).
                refused.extend(message.to[position:])
                log.warning("SMS reached %s only; failed from %s on", sids, number, exc_info=True)
                break
        if not sids:
            raise RecipientRejected(tuple(refused), "; ".join(reasons))
        return Delivery(provider_id=",".join(sids), rejected=tuple(refused))

    def _create(self, number: str, message: Outgoing) -> str:
        """POST one message; its SID."""
        sender = message.sender or self.sender
        fields = {"To": number, "Body": message.text}
        if MESSAGING_SERVICE_SID.match(sender):
            fields["MessagingServiceSid"] = sender
        else:
            fields["From"] = sender
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": "relance",
            },
        )
        status, body = self._post(request)
        if status in (200, 201):
            try:
                return str(json.loads(body)["sid"])
            except (ValueError, KeyError, TypeError) as exc:
                raise Uncertain(
                    _("Twilio answered %(status)s without a message SID") % {"status": status}
                ) from exc
        raise _classify(status, body, number)

    def _post(self, request: urllib.request.Request) -> tuple[int, bytes]:
        # urllib wraps in URLError what fails while connecting or sending the
        # request; what fails while waiting for the answer comes out raw. Twilio
        # can only have taken the message in the second case.
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()
        except urllib.error.URLError as error:
            if isinstance(error.reason, ssl.SSLCertVerificationError):
                raise ChannelDown(
                    _("Twilio's certificate is not trusted: %(error)s") % {"error": error.reason}
                ) from error
            raise TemporaryError(
                _("Twilio cannot be reached: %(error)s") % {"error": error.reason}
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise Uncertain(
                _(
                    "no answer from Twilio after the message was sent (%(error)s): "
                    "it may have been accepted"
                )
                % {"error": repr(error)}
            ) from error


def _classify(status: int, body: bytes, number: str) -> TransportError:
    """The transport error of an HTTP error answer from Twilio."""
    try:
        error: Any = json.loads(body)
        code = int(error.get("code") or 0)
        text = str(error.get("message") or "")
    except (ValueError, TypeError, AttributeError):
        code, text = 0, body[:200].decode(errors="replace")
    values = {"status": status, "code": code, "message": text}
    if code:
        detail = _("Twilio answered %(status)s, error %(code)s: %(message)s") % values
    else:
        detail = _("Twilio answered %(status)s: %(message)s") % values
    if status == 429 or code == 20429:
        return TemporaryError(detail)
    if code in RECIPIENT_CODES:
        return RecipientRejected((number,), detail)
    if code in CHANNEL_CODES or status in (401, 403, 404):
        # 404: no such account (a wrong SID) or a wrong base URL.
        return ChannelDown(detail)
    if status == 504:
        # A gateway gave up waiting: Twilio may have taken it meanwhile.
        return Uncertain(detail)
    if status >= 500:
        return TemporaryError(detail)
    if 400 <= status < 500:
        return MessageRejected(detail)
    return TemporaryError(detail)


def _config() -> dict[str, Any]:
    configured = getattr(settings, "RELANCE_SMS", None)
    if configured is not None:
        return dict(configured)
    env = os.environ
    return {
        "BACKEND": env.get("RELANCE_SMS_BACKEND", "console"),
        "ACCOUNT_SID": env.get("RELANCE_TWILIO_ACCOUNT_SID", ""),
        "AUTH_TOKEN": env.get("RELANCE_TWILIO_AUTH_TOKEN", ""),
        "FROM": env.get("RELANCE_TWILIO_FROM", ""),
        "BASE_URL": env.get("RELANCE_TWILIO_BASE_URL", ""),
        "TIMEOUT": env.get("RELANCE_TWILIO_TIMEOUT", ""),
    }


def sms_transport() -> Transport:
    """The SMS transport the settings (or environment) choose."""
    config = _config()
    backend = (config.get("BACKEND") or "console").strip().lower()
    if backend == "console":
        return ConsoleSms()
    if backend == "locmem":
        return LocmemSms()
    if backend == "twilio":
        try:
            timeout = int(config.get("TIMEOUT") or 15)
        except ValueError as exc:
            raise ChannelDown(
                _("the Twilio timeout is not a number of seconds: %(error)s") % {"error": exc}
            ) from exc
        return TwilioSms(
            account_sid=config.get("ACCOUNT_SID") or "",
            auth_token=config.get("AUTH_TOKEN") or "",
            sender=config.get("FROM") or "",
            base_url=config.get("BASE_URL") or "https://api.twilio.com",
            timeout=timeout,
        )
    raise ChannelDown(
        _("unknown SMS backend %(backend)s (console, twilio or locmem)")
        % {"backend": repr(backend)}
    )
