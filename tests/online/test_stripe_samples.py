"""Every checkout and payment event among the Stripe samples in ../shared/data/stripe
parses, in the older (2020-08-27, no api_version) and the current API shapes, and
reaches the webhook without an error."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from online_support import metadata_for

from relance.ledger.models import Invoice, Payment
from relance.online import events
from relance.online.models import EventOutcome

STRIPE = Path(__file__).resolve().parents[3] / "shared" / "data" / "stripe"
OLD = STRIPE / "stripe-ruby-mock-webhook-fixtures"
CURRENT = STRIPE / "stripe-openapi" / "resources"
PAYMENT_PREFIXES = ("checkout.session.", "payment_intent.", "charge.", "invoice.paid")


def old_samples() -> list[Path]:
    if not OLD.is_dir():
        return []
    return sorted(p for p in OLD.glob("*.json") if p.name.startswith(PAYMENT_PREFIXES))


def load(path: Path) -> dict:
    if not path.exists():
        pytest.skip(f"{path} absent (../shared/data/stripe is not beside the repository)")
    return json.loads(path.read_text())


def current_checkout_event() -> dict:
    """The current-shape Checkout Session fixture, in the current event envelope."""
    envelope = load(CURRENT / "event.json")
    envelope = copy.deepcopy(envelope)
    envelope.update(
        id="evt_current_shape", type="checkout.session.completed", api_version="2025-03-31.basil"
    )
    envelope["data"] = {"object": load(CURRENT / "checkout.session.json")}
    return envelope


def test_the_samples_are_there_or_the_test_says_so():
    if not old_samples():
        pytest.skip("../shared/data/stripe absent: the sample tests are skipped")
    assert len(old_samples()) >= 10


@pytest.mark.parametrize("path", old_samples(), ids=lambda p: p.stem)
def test_every_older_payment_sample_parses(path):
    payload = load(path)
    event = events.parse_event(payload)
    assert event.type == path.stem.removesuffix(".payment_mode").removesuffix(".setup_mode")
    assert event.id.startswith("evt_") and event.created > 0
    if event.type.startswith("checkout.session."):
        found = events.checkout(event.object)
        assert found.session_id.startswith("cs_")
        assert found.payment_status in ("paid", "unpaid", "no_payment_required")
        if found.mode == "payment":
            assert found.amount_total and found.currency == "USD"
            assert found.payment_intent.startswith("pi_")
    if event.type.startswith("charge."):
        news = events.charge_news(event.object)
        assert news.payment_intent.startswith("pi_") or news.payment_intent == ""
        if event.type == "charge.refunded":
            assert news.full and news.amount == event.object["amount_refunded"]


def test_the_current_checkout_session_fixture_parses():
    event = events.parse_event(current_checkout_event())
    found = events.checkout(event.object)
    assert found.session_id.startswith("cs_test_")
    assert found.payment_intent.startswith("pi_")
    assert found.payment_method_types  # the current fixture lists them


@pytest.mark.django_db
@pytest.mark.parametrize("path", old_samples(), ids=lambda p: p.stem)
def test_every_older_sample_is_answered_200_and_records_nothing_foreign(path, post_event):
    answer = post_event(load(path))
    assert answer.status_code == 200
    assert answer.json()["outcome"] in (EventOutcome.IGNORED,)
    assert not Payment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "shape", ["checkout.session.completed", "checkout.session.completed.payment_mode", "current"]
)
def test_relance_s_own_payment_in_each_shape_is_recorded(shape, post_event, payer, make_invoice):
    """The same relance checkout, wrapped the 2020 way (with api_version), the oldest way
    (no api_version at all) and the current way, records the same payment."""
    invoice = make_invoice(payer, "30.00", currency="USD")
    payload = current_checkout_event() if shape == "current" else load(OLD / f"{shape}.json")
    session = payload["data"]["object"]
    session.update(
        metadata=metadata_for([invoice]),
        amount_total=3000,
        currency="usd",
        payment_status="paid",
        mode="payment",
    )
    if shape == "current":
        session["payment_method_types"] = ["card"]
    answer = post_event(payload)
    assert answer.status_code == 200, answer.content
    assert answer.json()["outcome"] == EventOutcome.RECORDED
    payment = Payment.objects.get()
    assert payment.amount == Decimal("30.00") and payment.currency == "USD"
    assert payment.reference == session["payment_intent"]
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
