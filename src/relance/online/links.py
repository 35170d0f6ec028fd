"""The "pay online" link: a signed token naming a client and, optionally, the
invoices it is about. The token is short (it goes into SMS) and cannot be
forged or altered without the site's secret key; it does not expire, as an
invoice PDF may be opened months later — the page re-reads every balance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "relance.online.pay"


@dataclass(frozen=True)
class PayTarget:
    client_id: int
    invoice_ids: tuple[int, ...]  # empty: every open invoice of the client


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def make_token(client_id: int, invoice_ids: Iterable[int] = ()) -> str:
    ids = sorted(set(invoice_ids))
    value = _b36(client_id) + "." + "-".join(_b36(i) for i in ids)
    return signing.Signer(salt=SALT).sign(value)


def read_token(token: str) -> PayTarget | None:
    """The target of a token; None when it was not made here or was altered."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        client, _sep, invoices = value.partition(".")
        ids = tuple(int(part, 36) for part in invoices.split("-") if part)
        return PayTarget(client_id=int(client, 36), invoice_ids=ids)
    except (signing.BadSignature, ValueError):
        return None


def site_url() -> str:
    return str(getattr(settings, "SITE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def pay_url(client, invoices: Iterable = ()) -> str:
    """The absolute address of the pay page for ``invoices`` of ``client`` (all
    of its open invoices when none are given); empty when the organisation
    does not offer online payment."""
    from relance.online.models import OnlinePaymentSettings

    organisation = client.organisation
    # Read once per organisation object: a dispatch pass builds many messages.
    online = getattr(organisation, "_online_payment_settings", None)
    if online is None:
        online = OnlinePaymentSettings.for_org(organisation)
        organisation._online_payment_settings = online
    if not online.is_ready:
        return ""
    token = make_token(client.pk, (invoice.pk for invoice in invoices))
    return site_url() + reverse("online:pay", args=[token])
