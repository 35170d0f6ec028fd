"""Stripe Checkout through Stripe's own Python library (StripeClient).

Only what relance needs: create a Checkout Session for some invoices. Stripe's
errors (an error object in a 4xx answer, a network failure) become a
CheckoutError whose message can be shown to the client as is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import stripe
from django.utils.translation import gettext as _

from relance.online.amounts import to_minor

TIMEOUT_SECONDS = 15


class CheckoutError(Exception):
    """Stripe did not give a payment page; the message is for the payer."""


@dataclass(frozen=True)
class Line:
    name: str
    amount: Decimal  # in the currency's major unit


@dataclass(frozen=True)
class CheckoutRequest:
    currency: str  # ISO code, any case
    lines: list[Line]
    payment_method_types: list[str]
    success_url: str
    cancel_url: str
    client_reference_id: str
    metadata: dict[str, str] = field(default_factory=dict)
    customer_email: str = ""
    locale: str = ""

    def params(self) -> dict:
        currency = self.currency.lower()
        params: dict = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": to_minor(line.amount, self.currency.upper()),
                        "product_data": {"name": line.name},
                    },
                }
                for line in self.lines
            ],
            "payment_method_types": list(self.payment_method_types),
            "client_reference_id": self.client_reference_id,
            "metadata": dict(self.metadata),
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
        }
        if self.customer_email:
            params["customer_email"] = self.customer_email
        if self.locale:
            params["locale"] = self.locale
        return params

    def idempotency_key(self) -> str:
        """The same request twice (a double click) gets the same session back."""
        parts = [self.client_reference_id, self.currency.lower(), *self.payment_method_types]
        parts += [f"{line.name}={line.amount}" for line in self.lines]
        return "relance-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def create_checkout_session(
    secret_key: str, api_base: str, request: CheckoutRequest
) -> CheckoutSession:
    client = stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base.rstrip("/")},
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=1,
    )
    try:
        session = client.v1.checkout.sessions.create(
            params=request.params(),  # type: ignore[arg-type]
            options={"idempotency_key": request.idempotency_key()},
        )
    except stripe.APIConnectionError:
        raise CheckoutError(
            _("The payment service cannot be reached right now. Please try again later.")
        ) from None
    except stripe.AuthenticationError:
        raise CheckoutError(
            _("Online payment is not set up correctly. Please pay by bank transfer.")
        ) from None
    except stripe.StripeError as exc:
        detail = exc.user_message or str(exc) or exc.__class__.__name__
        raise CheckoutError(
            _("The payment service refused this payment: %(detail)s") % {"detail": detail}
        ) from None
    url = getattr(session, "url", None) or ""
    if not url.startswith(("https://", "http://")):
        raise CheckoutError(_("The payment service gave no payment page. Please try again."))
    return CheckoutSession(id=session.id, url=url)
