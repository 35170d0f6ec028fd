"""The dashboard's figures, aging chart, lists, and the organisation switch."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance.ledger import issuing, settlement
from relance.ledger.models import Client, Invoice
from relance.ledger.models.timeline import record
from relance.organisations.middleware import SESSION_KEY
from relance.organisations.models import Membership

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=PARIS)
URL = reverse("dashboard")


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_outstanding_is_the_sum_of_the_open_balances(client, alice, client_acme, make_invoice, now):
    other = Client.objects.create(organisation=client_acme.organisation, name="Boulangerie")
    paid_part = make_invoice(client_acme, "120.00", due=days_ago(10))
    credited = make_invoice(client_acme, "240.00", due=days_ago(40))
    untouched = make_invoice(other, "360.00", due=TODAY + timedelta(days=20))
    settled = make_invoice(other, "60.00", due=days_ago(5))
    settlement.record_payment(
        client=client_acme, amount=Decimal("45.50"), currency="EUR", date=TODAY,
        shares=[settlement.Share(paid_part, Decimal("45.50"))],
    )  # fmt: skip
    settlement.record_payment(
        client=other, amount=Decimal("70.00"), currency="EUR", date=TODAY,
        shares=[settlement.Share(settled, Decimal("60.00"))], keep_excess_as_credit=True,
    )  # fmt: skip
    issuing.credit_partially(
        credited, lines=[("Remise", Decimal(1), Decimal("50.00"), Decimal(20))], as_of=TODAY
    )
    client.force_login(alice)

    response = client.get(URL)

    assert response.status_code == 200
    main = response.context["main"]
    open_balances = [i.balance for i in Invoice.objects.open()]
    assert main.outstanding == sum(open_balances) == Decimal("74.50") + Decimal("180.00") + 360
    assert main.overdue == Decimal("254.50")
    assert main.overdue_count == 2
    assert main.not_due == Decimal("360.00")
    assert main.credit == Decimal("10.00")
    assert untouched.pk  # issued, not yet due: counted in "not yet due" only
    assert response.content.decode().count('data-testid="outstanding"') == 1


def test_aging_buckets_place_invoices_by_days_late_at_the_boundaries(
    client, alice, client_acme, make_invoice, now
):
    # Gross amounts that cannot add up to one another by accident.
    for days, gross in [(0, "1200.00"), (1, "12.00"), (30, "24.00"), (31, "48.00"),
                        (60, "96.00"), (61, "192.00"), (90, "384.00"), (91, "768.00")]:  # fmt: skip
        make_invoice(client_acme, gross, due=days_ago(days))
    client.force_login(alice)

    response = client.get(URL)

    bars = {bar["key"]: bar["amount"] for bar in response.context["bars"]}
    assert bars == {
        "1-30": Decimal("36.00"),
        "31-60": Decimal("144.00"),
        "61-90": Decimal("576.00"),
        "90+": Decimal("768.00"),
    }
    main = response.context["main"]
    assert main.overdue == sum(bars.values())
    assert main.overdue_count == 7
    assert main.not_due == Decimal("1200.00")  # due today is not late


def test_each_bucket_links_to_the_invoice_list_filtered_on_it(client, alice, org, now):
    client.force_login(alice)

    html = client.get(URL).content.decode()

    for key in ("1-30", "31-60", "61-90", "90+"):
        assert f'href="{reverse("invoice_list")}?overdue=1&amp;aging={key}"' in html
    assert 'role="img"' in html
    assert 'aria-label="' in html


def test_the_chart_bars_are_scaled_to_the_largest_bucket(
    client, alice, client_acme, make_invoice, now
):
    make_invoice(client_acme, "120.00", due=days_ago(10))
    make_invoice(client_acme, "480.00", due=days_ago(100))
    client.force_login(alice)

    bars = {bar["key"]: bar for bar in client.get(URL).context["bars"]}

    assert bars["90+"]["height"] == 75
    assert bars["1-30"]["height"] == 18
    assert bars["31-60"]["height"] == 0


def test_today_is_the_organisations_local_date(client, alice, client_acme, make_invoice):
    make_invoice(client_acme, "120.00", due=date(2026, 6, 14))
    client.force_login(alice)
    # 22:30 UTC on the 14th is already the 15th in Paris: the invoice is late.
    with time_machine.travel(datetime(2026, 6, 14, 22, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        main = client.get(URL).context["main"]
    assert main.overdue == Decimal("120.00")


def test_other_currencies_are_shown_apart_and_never_added(
    client, alice, client_acme, make_invoice, now
):
    make_invoice(client_acme, "120.00", due=days_ago(3))
    make_invoice(client_acme, "240.00", due=days_ago(3), currency="USD")
    client.force_login(alice)

    response = client.get(URL)

    assert response.context["main"].outstanding == Decimal("120.00")
    others = response.context["others"]
    assert [(f.currency, f.outstanding) for f in others] == [("USD", Decimal("240.00"))]
    assert "$240.00" in response.content.decode() or "240,00" in response.content.decode()


def test_worst_overdue_clients_are_listed_largest_first(
    client, alice, client_acme, make_invoice, now
):
    small = Client.objects.create(organisation=client_acme.organisation, name="Petit client")
    make_invoice(small, "60.00", due=days_ago(70))
    make_invoice(client_acme, "600.00", due=days_ago(12))
    make_invoice(client_acme, "120.00", due=days_ago(45))
    client.force_login(alice)

    response = client.get(URL)

    worst = response.context["worst"]
    assert [(w["name"], w["overdue"], w["days_late"]) for w in worst] == [
        ("ACME Industries", Decimal("720.00"), 45),
        ("Petit client", Decimal("60.00"), 70),
    ]
    assert reverse("client_detail", args=[small.pk]) in response.content.decode()


def test_recent_activity_shows_the_last_ten_entries(client, alice, client_acme, now):
    for i in range(12):
        record(client=client_acme, kind="note", author=alice, text=f"note number {i:02d}")
    client.force_login(alice)

    html = client.get(URL).content.decode()

    assert "note number 11" in html
    assert "note number 02" in html
    assert "note number 01" not in html
    assert 'id="todo-title"' in html  # the placeholder for the dunning engine


def test_the_dashboard_needs_the_same_queries_for_3_or_30_clients(
    client, alice, org, make_invoice, django_assert_max_num_queries, now
):
    def populate(count: int) -> None:
        for i in range(count):
            debtor = Client.objects.create(organisation=org, name=f"Client {i:02d}")
            make_invoice(debtor, "120.00", due=days_ago(i * 4))
            record(client=debtor, kind="note", author=alice, text="called")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(alice)
    populate(3)
    few = queries()
    populate(27)
    with django_assert_max_num_queries(few):
        client.get(URL)
    assert queries() == few


# The organisation switch ----------------------------------------------------------


SWITCH = reverse("switch_organisation")


def test_a_member_of_two_organisations_switches(client, alice, org, other_org):
    Membership.objects.create(user=alice, organisation=other_org, role="member")
    client.force_login(alice)
    assert 'name="organisation"' in client.get(URL).content.decode()  # the switcher

    response = client.post(SWITCH, {"organisation": str(other_org.pk)})

    assert response.status_code == 302
    assert response["Location"] == URL
    assert client.session[SESSION_KEY] == other_org.pk
    assert client.get(URL).context["organisation"] == other_org


def test_the_switcher_is_hidden_with_a_single_membership(client, alice, org):
    client.force_login(alice)
    assert 'name="organisation"' not in client.get(URL).content.decode()


def test_switching_to_an_organisation_one_is_not_in_is_404(client, charlie, org, other_org):
    client.force_login(charlie)

    response = client.post(SWITCH, {"organisation": str(org.pk)})

    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    assert client.get(URL).context["organisation"] == other_org


@pytest.mark.parametrize("value", ["", "abc", "-1", "1.5", "9" * 30, "0"])
def test_junk_organisation_values_are_404(client, alice, org, value):
    client.force_login(alice)
    assert client.post(SWITCH, {"organisation": value}).status_code == 404


def test_switching_needs_a_post_and_a_login(client, alice, org):
    assert client.post(SWITCH, {"organisation": str(org.pk)})["Location"].startswith(
        reverse("login")
    )
    client.force_login(alice)
    assert client.get(SWITCH).status_code == 405


def test_a_read_only_member_may_still_switch(client, rita, org, other_org):
    # Switching changes no business data: rita may be an owner elsewhere.
    Membership.objects.create(user=rita, organisation=other_org, role="owner")
    client.force_login(rita)

    assert client.post(SWITCH, {"organisation": str(other_org.pk)}).status_code == 302
    assert client.get(URL).context["membership"].role == "owner"
