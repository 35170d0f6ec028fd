"""The plan and offer pages: from the client page to an active plan, and back."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from relance.dunning.models import Pause
from relance.plans.models import OfferStatus, PaymentPlan, PlanStatus, SettlementOffer

NOW = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _monday_2_march():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


FORM = {
    "currency": "EUR",
    "count": "4",
    "frequency": "monthly",
    "day": "10",
    "dates": "",
    "down_payment": "",
    "fee": "",
    "fees_waived": "on",
    "grace_days": "5",
}


def test_the_client_page_offers_a_plan_and_a_discount(as_alice, debtor, overdue):
    page = as_alice.get(f"/clients/{debtor.pk}/").content.decode()
    assert "Propose a payment plan" in page
    assert f"/plans/new/{debtor.pk}/" in page
    assert f"/plans/offers/new/{debtor.pk}/" in page


def test_the_form_starts_on_the_client_s_day_and_previews_the_schedule(as_alice, debtor, overdue):
    page = as_alice.get(f"/plans/new/{debtor.pk}/").content.decode()
    assert 'name="day" value="10"' in page
    preview = as_alice.post(f"/plans/new/{debtor.pk}/preview/", FORM).content.decode()
    assert "€2,000.00 overdue on 2 invoices" in preview.replace("\xa0", " ")
    assert "Mar 10, 2026" in preview and "Jun 10, 2026" in preview
    assert preview.count("€500.00") == 4
    bad = as_alice.post(f"/plans/new/{debtor.pk}/preview/", {**FORM, "down_payment": "2000"})
    assert "The down payment must be less than the balance." in bad.content.decode()


def test_recorded_agreed_and_sent_at_once(as_alice, debtor, overdue, smtp_server):
    response = as_alice.post(f"/plans/new/{debtor.pk}/", {**FORM, "agreed": "on", "send": "on"})
    plan = PaymentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    assert plan.status == PlanStatus.ACTIVE
    assert Pause.objects.filter(kind="plan").count() == 2
    assert len(smtp_server.messages) == 1
    detail = as_alice.get(f"/plans/{plan.pk}/").content.decode()
    assert "Active" in detail and detail.count("€500.00") >= 4
    listing = as_alice.get("/plans/").content.decode()
    assert "ACME Industries" in listing and "€500.00 · 03/10/2026" in listing
    pdf = as_alice.get(f"/plans/{plan.pk}/agreement.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    client_page = as_alice.get(f"/clients/{debtor.pk}/").content.decode()
    assert "next: €500.00 on" in client_page.replace("\xa0", " ")
    as_alice.post(f"/plans/{plan.pk}/cancel/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED


def test_proposed_then_marked_agreed(as_alice, debtor, overdue):
    as_alice.post(f"/plans/new/{debtor.pk}/", FORM)
    plan = PaymentPlan.objects.get()
    assert plan.status == PlanStatus.PROPOSED and not plan.sent_at
    as_alice.post(f"/plans/{plan.pk}/agree/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": "0"}, "greater than or equal to 1"),
        ({"count": "40"}, "less than or equal to 36"),
        ({"down_payment": "2000"}, "The down payment must be less than the balance."),
        ({"fee": "1.234"}, "at most 2 decimals"),
        ({"frequency": "custom", "dates": "2026-04-01"}, "Give exactly 4 dates"),
        ({"frequency": "custom", "dates": "soon"}, "is not a date"),
    ],
)
def test_bad_input_saves_nothing(as_alice, debtor, overdue, change, message):
    response = as_alice.post(f"/plans/new/{debtor.pk}/", {**FORM, **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_an_offer_from_the_client_page(as_alice, debtor, overdue, smtp_server):
    response = as_alice.post(
        f"/plans/offers/new/{debtor.pk}/",
        {"currency": "EUR", "discount_kind": "percent", "discount_value": "10",
         "expires_on": "2026-03-13", "send": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    offer = SettlementOffer.objects.get()
    assert offer.to_pay == 1800
    assert len(smtp_server.messages) == 1
    page = as_alice.get(f"/clients/{debtor.pk}/").content.decode().replace("\xa0", " ")
    assert "Offer: €1,800.00 instead of €2,000.00 if paid by" in page
    as_alice.post(f"/plans/offers/{offer.pk}/withdraw/")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN


def test_another_organisation_sees_nothing(client, charlie, debtor, overdue):
    from relance.plans import service

    plan = service.propose(debtor, overdue, service.Proposal(count=2), as_of=NOW.date())
    client.force_login(charlie)
    assert client.get(f"/plans/{plan.pk}/").status_code == 404
    assert client.get(f"/plans/{plan.pk}/agreement.pdf").status_code == 404
    assert client.post(f"/plans/{plan.pk}/cancel/").status_code == 404
    assert client.get(f"/plans/new/{debtor.pk}/").status_code == 404
    assert "ACME" not in client.get("/plans/").content.decode()


def test_read_only_cannot_act(client, rita, debtor, overdue):
    client.force_login(rita)
    assert client.post(f"/plans/new/{debtor.pk}/", FORM).status_code == 403
    assert not PaymentPlan.objects.exists()
