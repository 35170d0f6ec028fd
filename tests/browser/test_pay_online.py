"""A client pays an overdue invoice online, in a real Chromium, through the local
Stripe stand-in: the stand-in's signed webhook records the payment, the invoice
is paid, and the reminder waiting in the outbox is not sent."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "online"))
from stripe_standin import StripeStandIn

from relance.dunning import context as reminder_context
from relance.dunning import dispatch, engine
from relance.dunning.models import Message, MessageStatus
from relance.ledger.models import Client, Contact, ContactRole, Invoice, Payment
from relance.online.models import OnlinePaymentSettings, WebhookEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
DUE = date(2026, 2, 4)  # a Wednesday
RUN_DAY = date(2026, 2, 5)  # the day after: the friendly reminder is due
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def standin():
    server = StripeStandIn().start()
    yield server
    server.stop()


def test_paying_online_records_the_payment_and_cancels_the_pending_reminder(
    page, live_server, org, make_invoice, standin, smtp_server, settings
):
    settings.SITE_URL = live_server.url
    online = OnlinePaymentSettings.objects.create(
        organisation=org,
        enabled=True,
        secret_key=standin.secret_key,
        webhook_secret=standin.webhook_secret,
        accept_card=True,
        accept_sepa_debit=True,
        api_base=standin.url,
    )
    standin.webhook_url = live_server.url + reverse(
        "online:stripe_webhook", args=[online.webhook_token]
    )
    acme = Client.objects.create(
        organisation=org, name="ACME Industries", siren="552100554",
        address_line1="3 quai Rambaud", postcode="69002", city="Lyon", language="fr",
    )  # fmt: skip
    Contact.objects.create(
        organisation=org, client=acme, first_name="Claire", last_name="Martin",
        role=ContactRole.BILLING, email="factures@acme.example",
    )  # fmt: skip
    invoice = make_invoice(acme, "1200.00", issue_date=date(2026, 1, 5), due=DUE)

    # The daily run queues the friendly reminder in the outbox.
    engine.run(org, RUN_DAY)
    queued = list(Message.objects.filter(client=acme, status=MessageStatus.QUEUED))
    [message] = [m for m in queued if m.channel == "email"]

    # The link the reminder carries.
    context = reminder_context.build(
        acme, [reminder_context.Item(invoice, None, invoice.balance)], day=RUN_DAY,
        template=message.template, tone=message.tone,
    )  # fmt: skip
    link = context["payment_link"]
    assert link.startswith(live_server.url + "/pay/")

    page.goto(link)
    main = page.inner_text("main")
    assert invoice.number in main and "1\u202f200,00\xa0€" in main
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pay_online_page.png"), full_page=True)
    assert page.locator(".pay-qr svg").count() == 1  # the EPC QR code for a transfer

    page.click("main form button[type=submit]")  # "Payer en ligne"
    page.wait_for_url(re.compile(re.escape(standin.url) + r"/pay/cs_test_"))
    assert "1200.00 EUR" in page.inner_text("#amount")
    page.click("#pay")
    page.wait_for_url(re.compile(r"/thanks/\?session_id=cs_test_"))
    assert standin.deliveries == [("checkout.session.completed", 200)]

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.status == "paid" and invoice.balance == Decimal("0.00")
    payment = Payment.objects.get(client=acme)
    assert payment.method == "card" and payment.reference.startswith("pi_")
    assert WebhookEvent.objects.get(organisation=org).outcome == "recorded"

    page.goto(link)  # the same link now says it is paid, without a button
    assert page.locator("main form button[type=submit]").count() == 0

    # The outbox's pass on the run day at 10:00 in Paris: nothing left to ask.
    report = dispatch.dispatch(datetime.combine(RUN_DAY, time(10), tzinfo=PARIS))
    assert report.sent == 0 and report.cancelled == len(queued)
    assert smtp_server.messages == []
    cancelled = Message.objects.get(pk=message.pk)
    assert cancelled.status == MessageStatus.CANCELLED
    assert "paid" in cancelled.last_error
