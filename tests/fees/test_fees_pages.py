"""Late fees on the pages: accrued live, booked with a waive action, settings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from relance.fees.models import FeeSettings, LateFee

D = Decimal
PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2025, 3, 2)


@pytest.fixture
def now():
    with time_machine.travel(datetime(2025, 3, 2, 10, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def late(org, client_acme, make_invoice):
    FeeSettings.objects.create(organisation=org, policy="contractual", contract_rate=15)
    return make_invoice(client_acme, "15000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31))


@pytest.fixture
def fee(late):
    return LateFee.objects.create(
        organisation=late.organisation,
        client=late.client,
        invoice=late,
        kind="indemnity",
        amount=D("40.00"),
        currency="EUR",
        booked_on=TODAY,
        source="D441-5",
    )


def test_invoice_page_shows_the_accrued_fees(client, alice, late, now):
    client.force_login(alice)
    box = reverse("fees_invoice", args=[late.pk])
    assert (
        f'hx-get="{box}"' in client.get(reverse("invoice_detail", args=[late.pk])).content.decode()
    )
    page = client.get(box).content.decode()
    assert 'data-testid="fees-accrued"' in page
    assert "€184.93" in page and "€40.00" in page and "€15,224.93" in page


def test_client_page_and_dashboard_show_the_fees(client, alice, late, now):
    client.force_login(alice)
    box = reverse("fees_client", args=[late.client_id])
    page = client.get(reverse("client_detail", args=[late.client_id])).content.decode()
    assert f'hx-get="{box}"' in page
    assert "€184.93" in client.get(box).content.decode()
    assert (
        f'hx-get="{reverse("fees_dashboard")}"' in client.get(reverse("dashboard")).content.decode()
    )
    page = client.get(reverse("fees_dashboard")).content.decode()
    assert 'id="late-fees"' in page and "€184.93" in page


def test_a_missing_rate_is_a_visible_alert(client, alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00", issue_date=date(2026, 6, 1), due=date(2026, 7, 1))
    client.force_login(alice)
    with time_machine.travel(datetime(2026, 8, 1, 10, tzinfo=PARIS), tick=False):
        dashboard = client.get(reverse("fees_dashboard")).content.decode()
        detail = client.get(reverse("fees_invoice", args=[invoice.pk])).content.decode()
    for page in (dashboard, detail):
        assert 'data-testid="fees-blocked"' in page
        assert "ECB_MRO" in page and "2026-H2" in page


def test_waive_a_booked_fee_with_a_reason(client, alice, fee, now):
    client.force_login(alice)
    url = reverse("late_fee_waive", args=[fee.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 302
    fee.refresh_from_db()
    assert not fee.is_waived
    client.post(url, {"reason": "Paid at once"})
    fee.refresh_from_db()
    assert fee.is_waived and fee.waived_reason == "Paid at once"
    page = client.get(reverse("fees_invoice", args=[fee.invoice_id])).content.decode()
    assert "Waived" in page and "Paid at once" in page


def test_read_only_and_other_organisations_cannot_waive(client, rita, charlie, fee):
    url = reverse("late_fee_waive", args=[fee.pk])
    client.force_login(rita)
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert (
        "Waive</button>"
        not in client.get(reverse("fees_invoice", args=[fee.invoice_id])).content.decode()
    )
    client.force_login(charlie)
    assert client.post(url, {"reason": "x"}).status_code == 404
    for name, pk in (("fees_invoice", fee.invoice_id), ("fees_client", fee.client_id)):
        assert client.get(reverse(name, args=[pk])).status_code == 404
    fee.refresh_from_db()
    assert not fee.is_waived


def test_settings_refuse_a_contractual_rate_under_the_french_floor(client, alice, org, now):
    client.force_login(alice)
    url = reverse("fee_settings")
    page = client.get(url).content.decode()
    assert "ECB main refinancing operations rate" in page and "retout.fr" in page
    data = {"policy": "contractual", "contract_rate": "10", "grace_days": "0"}
    data |= {"day_count": "actual/365", "rounding": "line"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "L441-10" in response.content.decode()
    assert not FeeSettings.objects.filter(organisation=org).exists()
    response = client.post(url, data | {"contract_rate": "11.13"})  # 3 x 3.71 % in H1 2025
    assert response.status_code == 302
    assert FeeSettings.objects.get(organisation=org).contract_rate == D("11.13")


def test_members_cannot_change_the_settings(client, bob, org, now):
    client.force_login(bob)
    data = {"policy": "statutory", "grace_days": "0", "day_count": "actual/360"}
    assert client.post(reverse("fee_settings"), data | {"rounding": "line"}).status_code == 403


def test_the_dashboard_box_needs_the_same_queries_for_3_or_30_invoices(
    client, alice, client_acme, make_invoice, django_assert_max_num_queries, now
):
    from relance.ledger import settlement

    client.force_login(alice)

    def add(count):
        for _ in range(count):
            invoice = make_invoice(
                client_acme, "100.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
            )
            settlement.record_payment(
                client=client_acme,
                amount=D("10.00"),
                currency="EUR",
                date=date(2025, 2, 10),
                shares=[settlement.Share(invoice, D("10.00"))],
                thank=False,
            )

    add(3)
    with django_assert_max_num_queries(20) as few:
        assert client.get(reverse("fees_dashboard")).status_code == 200
    add(27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("fees_dashboard")).content.decode()
    assert "€1,200.00" in page  # 30 indemnities of 40 €


def test_the_organisation_page_links_to_the_fee_settings(client, alice):
    client.force_login(alice)
    page = client.get(reverse("organisation_settings")).content.decode()
    assert f'href="{reverse("fee_settings")}"' in page
