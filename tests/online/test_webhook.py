"""Stripe's webhook: verified, idempotent, and what each event does to the register."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from online_support import metadata_for

from relance.ledger.models import Activity, Invoice, Payment
from relance.online.models import EventOutcome, OnlinePaymentSettings, WebhookEvent

pytestmark = pytest.mark.django_db


def session(invoices, amount_minor, *, currency="eur", status="paid", types=("card",)):
    return {
        "id": "cs_test_abc",
        "object": "checkout.session",
        "amount_total": amount_minor,
        "currency": currency,
        "metadata": metadata_for(invoices),
        "mode": "payment",
        "payment_intent": "pi_test_123",
        "payment_method_types": list(types),
        "payment_status": status,
        "status": "complete",
    }


def event(kind, obj, event_id="evt_test_1", created=None):
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created or int(time.time()),
        "data": {"object": obj},
        "type": kind,
    }


def reload(*invoices):
    return [Invoice.objects.get(pk=i.pk) for i in invoices]


def test_a_paid_checkout_records_the_payment_oldest_invoice_first(post_event, two_invoices, org):
    older, newer = two_invoices
    answer = post_event(event("checkout.session.completed", session([newer, older], 130000)))
    assert answer.status_code == 200
    assert answer.json()["outcome"] == EventOutcome.RECORDED
    older, newer = reload(older, newer)
    assert older.status == "paid" and older.balance == 0
    assert newer.balance == Decimal("200.00")  # 1300 - 1200 left 100 for it
    [payment] = Payment.objects.filter(organisation=org)
    assert payment.amount == Decimal("1300.00") and payment.currency == "EUR"
    assert payment.method == "card" and payment.reference == "pi_test_123"
    assert payment.unallocated == 0
    stored = WebhookEvent.objects.get(event_id="evt_test_1")
    assert stored.organisation == org and stored.type == "checkout.session.completed"
    assert stored.api_version == "2025-03-31.basil" and stored.payload["id"] == "evt_test_1"


def test_the_payment_date_is_the_organisation_s_local_day_of_the_event(
    post_event, two_invoices, org
):
    older, _newer = two_invoices
    # 23:30 UTC on 31 March 2026 is already 1 April in Paris. The event is old, but
    # the request itself is signed now (Stripe retries old events).
    created = int(datetime(2026, 3, 31, 23, 30, tzinfo=UTC).timestamp())
    body = event("checkout.session.completed", session([older], 120000), created=created)
    assert post_event(body).status_code == 200
    assert Payment.objects.get(organisation=org).date == date(2026, 4, 1)


def test_a_replayed_event_answers_200_and_changes_nothing(post_event, two_invoices, org):
    older, _newer = two_invoices
    body = event("checkout.session.completed", session([older], 60000))
    assert post_event(body).status_code == 200
    again = post_event(body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert Payment.objects.filter(organisation=org).count() == 1
    assert reload(older)[0].balance == Decimal("600.00")
    assert WebhookEvent.objects.count() == 1


def test_the_same_payment_in_another_event_is_not_counted_twice(post_event, two_invoices, org):
    older, _newer = two_invoices
    post_event(event("checkout.session.completed", session([older], 60000), "evt_a"))
    answer = post_event(
        event("checkout.session.async_payment_succeeded", session([older], 60000), "evt_b")
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == EventOutcome.IGNORED
    assert Payment.objects.filter(organisation=org).count() == 1


def test_a_payment_larger_than_the_balance_keeps_the_excess_as_credit_and_flags_it(
    post_event, two_invoices, org, make_invoice
):
    older, _newer = two_invoices
    # The client paid 1 250 € online for an invoice of 1 200 €.
    answer = post_event(event("checkout.session.completed", session([older], 125000)))
    assert answer.json()["outcome"] == EventOutcome.CREDIT
    payment = Payment.objects.get(organisation=org)
    assert payment.amount == Decimal("1250.00") and payment.unallocated == Decimal("50.00")
    assert reload(older)[0].status == "paid"
    note = Activity.objects.filter(client=older.client, kind="note").first()
    assert (
        note is not None and "conservé en crédit client" in note.text
    )  # the organisation's French
    assert "50,00" in WebhookEvent.objects.get().detail  # in the organisation's language


def test_paying_an_invoice_already_paid_meanwhile_keeps_all_as_credit(
    post_event, two_invoices, org
):
    from relance.ledger import settlement

    older, _newer = two_invoices
    settlement.record_payment(
        client=older.client, amount=Decimal("1200.00"), currency="EUR",
        date=older.due_date, shares=[settlement.Share(older, Decimal("1200.00"))],
    )  # fmt: skip
    answer = post_event(event("checkout.session.completed", session([older], 120000)))
    assert answer.json()["outcome"] == EventOutcome.CREDIT
    online = Payment.objects.get(organisation=org, reference="pi_test_123")
    assert online.unallocated == Decimal("1200.00")


def test_a_currency_mismatch_records_nothing_answers_200_and_is_visible(
    post_event, two_invoices, org
):
    older, _newer = two_invoices
    answer = post_event(
        event("checkout.session.completed", session([older], 120000, currency="usd"))
    )
    assert answer.status_code == 200
    assert answer.json()["outcome"] == EventOutcome.ATTENTION
    assert not Payment.objects.filter(organisation=org).exists()
    assert reload(older)[0].balance == Decimal("1200.00")
    note = Activity.objects.get(client=older.client, kind="note")
    assert "EUR" in note.text and "rien n'a été enregistré" in note.text


def test_sepa_debit_pending_then_succeeded(post_event, two_invoices, org):
    older, _newer = two_invoices
    pending = session([older], 120000, status="unpaid", types=("sepa_debit",))
    answer = post_event(event("checkout.session.completed", pending, "evt_1"))
    assert answer.json()["outcome"] == EventOutcome.PENDING
    assert not Payment.objects.exists()
    assert reload(older)[0].status == "issued"

    paid = session([older], 120000, status="paid", types=("sepa_debit",))
    answer = post_event(event("checkout.session.async_payment_succeeded", paid, "evt_2"))
    assert answer.json()["outcome"] == EventOutcome.RECORDED
    payment = Payment.objects.get(organisation=org)
    assert payment.method == "direct_debit"
    assert reload(older)[0].status == "paid"


def test_a_failed_sepa_debit_leaves_a_note_and_records_nothing(post_event, two_invoices):
    older, _newer = two_invoices
    failed = session([older], 120000, status="unpaid", types=("sepa_debit",))
    answer = post_event(event("checkout.session.async_payment_failed", failed))
    assert answer.json()["outcome"] == EventOutcome.NOTED
    assert not Payment.objects.exists()
    assert "a échoué" in Activity.objects.get(client=older.client, kind="note").text


def test_a_partial_refund_and_a_dispute_are_put_before_a_person(post_event, two_invoices):
    older, _newer = two_invoices
    post_event(event("checkout.session.completed", session([older], 120000), "evt_pay"))
    refund = {
        "id": "ch_1", "object": "charge", "amount": 120000, "amount_refunded": 20000,
        "currency": "eur", "payment_intent": "pi_test_123", "refunded": False,
    }  # fmt: skip
    answer = post_event(event("charge.refunded", refund, "evt_refund"))
    assert answer.json()["outcome"] == EventOutcome.ATTENTION
    assert reload(older)[0].status == "paid"  # a person decides what the refund means
    dispute = {
        "id": "dp_1", "object": "dispute", "amount": 120000, "currency": "eur",
        "charge": "ch_1", "payment_intent": "pi_test_123", "reason": "fraudulent",
    }  # fmt: skip
    answer = post_event(event("charge.dispute.created", dispute, "evt_dispute"))
    assert answer.json()["outcome"] == EventOutcome.ATTENTION
    notes = Activity.objects.filter(client=older.client, kind="note").values_list("text", flat=True)
    assert any("200,00" in n for n in notes) and any("fraudulent" in n for n in notes)


def test_a_full_refund_reverses_the_payment_and_reopens_the_invoice(post_event, two_invoices):
    older, _newer = two_invoices
    post_event(event("checkout.session.completed", session([older], 120000), "evt_pay"))
    assert reload(older)[0].status == "paid"
    refund = {
        "id": "ch_1", "object": "charge", "amount": 120000, "amount_refunded": 120000,
        "currency": "eur", "payment_intent": "pi_test_123", "refunded": True,
    }  # fmt: skip
    answer = post_event(event("charge.refunded", refund, "evt_refund"))
    assert answer.json()["outcome"] == EventOutcome.NOTED
    older = reload(older)[0]
    assert older.status == "issued" and older.balance == Decimal("1200.00")
    assert Payment.objects.get().is_reversed


def test_unknown_event_types_are_stored_and_ignored(post_event, org):
    answer = post_event(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert answer.status_code == 200 and answer.json()["outcome"] == EventOutcome.IGNORED
    assert WebhookEvent.objects.get(organisation=org).type == "customer.created"


def test_a_checkout_not_made_by_relance_is_ignored(post_event, org):
    foreign = {"id": "cs_x", "object": "checkout.session", "amount_total": 500,
               "currency": "eur", "metadata": {}, "payment_status": "paid"}  # fmt: skip
    answer = post_event(event("checkout.session.completed", foreign))
    assert answer.json()["outcome"] == EventOutcome.IGNORED
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "missing"),
        ("t=1,v1=" + "0" * 64, "s old"),
        (None, "no signature matches"),  # signed with another secret below
    ],
)
def test_bad_or_old_signatures_are_refused_with_a_reason(post_event, two_invoices, header, reason):
    older, _newer = two_invoices
    body = event("checkout.session.completed", session([older], 120000))
    answer = (
        post_event(body, secret="whsec_not_ours") if header is None else post_event(body, header)
    )
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()


def test_an_old_timestamp_is_refused(post_event, two_invoices):
    older, _newer = two_invoices
    body = event("checkout.session.completed", session([older], 120000))
    with time_machine.travel(time.time(), tick=False):  # the check reads the same clock
        answer = post_event(body, at=int(time.time()) - 301)
    assert answer.status_code == 400 and "301 s old" in answer.json()["error"]


def test_an_event_signed_for_organisation_a_is_refused_at_organisation_b(
    post_event, two_invoices, other_org
):
    """Tenant isolation: B's endpoint checks with B's secret."""
    older, _newer = two_invoices
    other = OnlinePaymentSettings.objects.create(
        organisation=other_org, enabled=True, secret_key="sk_test_b", webhook_secret="whsec_b"
    )
    body = event("checkout.session.completed", session([older], 120000))
    answer = post_event(body, token=other.webhook_token)  # signed with A's secret
    assert answer.status_code == 400
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()


def test_an_event_naming_another_organisation_records_nothing(post_event, two_invoices, other_org):
    older, _newer = two_invoices
    foreign = session([older], 120000)
    foreign["metadata"]["organisation"] = str(other_org.pk)
    answer = post_event(event("checkout.session.completed", foreign))
    assert answer.status_code == 200 and answer.json()["outcome"] == EventOutcome.ATTENTION
    assert not Payment.objects.exists()


def test_the_webhook_accepts_only_post_and_known_endpoints(client, online, post_event):
    from django.urls import reverse

    url = reverse("online:stripe_webhook", args=[online.webhook_token])
    assert client.get(url).status_code == 405
    assert post_event(event("customer.created", {"id": "c"}), token="nope").status_code == 404


def test_a_body_that_is_not_an_event_is_refused(post_event):
    assert post_event(b"not json").status_code == 400
    assert post_event({"id": "evt_1", "object": "event"}).status_code == 400
