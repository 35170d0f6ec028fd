"""Online payment fixtures: the local Stripe stand-in and an organisation set up for it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from stripe_standin import StripeStandIn

from relance.online import signature


@pytest.fixture
def standin():
    server = StripeStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def online(org, standin):
    from relance.online.models import OnlinePaymentSettings

    return OnlinePaymentSettings.objects.create(
        organisation=org,
        enabled=True,
        secret_key=standin.secret_key,
        webhook_secret=standin.webhook_secret,
        accept_card=True,
        accept_sepa_debit=True,
        api_base=standin.url,
    )


@pytest.fixture
def payer(new_acme):
    """A French client with a billing contact."""
    return new_acme(language="fr")


@pytest.fixture
def two_invoices(payer, make_invoice):
    older = make_invoice(payer, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    newer = make_invoice(payer, "300.00", issue_date=date(2026, 2, 2), due=date(2026, 3, 4))
    return older, newer


@pytest.fixture
def post_event(client, online):
    """post_event(body, header=None, token=None): Stripe's request to the webhook."""
    from django.urls import reverse

    def post(body, header=None, token=None, secret=None, at=None):
        import time

        if isinstance(body, dict):
            body = json.dumps(body).encode()
        if header is None:
            header = signature.header(
                body, secret or online.webhook_secret, at if at is not None else int(time.time())
            )
        url = reverse("online:stripe_webhook", args=[token or online.webhook_token])
        return client.post(
            url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    return post
