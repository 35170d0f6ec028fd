"""Balances and aging, exact to the cent against sums done in Python with Decimal."""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from relance.ledger import balances, issuing
from relance.ledger.models import Client, Invoice, Payment
from relance.rules import aging

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = date(2026, 3, 31)
CENT = D("0.01")


def stored(organisation, client, *, total, balance, due, status="issued", **extra):
    return Invoice(
        organisation=organisation,
        client=client,
        status=status,
        issue_date=due - timedelta(days=30),
        due_date=due,
        total_net=total,
        total_gross=total,
        balance=balance,
        **extra,
    )


class Expected:
    """What the figures must be, summed in Python with Decimal."""

    def __init__(self):
        self.outstanding = defaultdict(lambda: D("0.00"))
        self.overdue = defaultdict(lambda: D("0.00"))
        self.open_count = defaultdict(int)
        self.overdue_count = defaultdict(int)
        self.buckets = defaultdict(lambda: {key: D("0.00") for key, *_ in aging.BUCKETS})
        self.by_client = defaultdict(lambda: [D("0.00"), D("0.00"), None])

    def add(self, invoice):
        currency, balance = invoice.currency, invoice.balance
        self.outstanding[currency] += balance
        self.open_count[currency] += 1
        key = (invoice.client_id, currency)
        self.by_client[key][0] += balance
        if invoice.due_date < AS_OF:
            self.overdue[currency] += balance
            self.overdue_count[currency] += 1
            bucket = aging.bucket_for(aging.days_late(invoice.due_date, as_of=AS_OF))
            self.buckets[currency][bucket] += balance
            self.by_client[key][1] += balance
            oldest = self.by_client[key][2]
            self.by_client[key][2] = min(oldest, invoice.due_date) if oldest else invoice.due_date


def build_register(org, clients, count, seed=2026):
    """A register of every kind of document; returns the expected figures."""
    rng = random.Random(seed)
    anchor = Invoice.objects.create(
        organisation=org, client=clients[0], status="paid", total_gross=D("1.00"), balance=0
    )
    expected = Expected()
    rows = []
    for _ in range(count):
        # Small cents that binary floats cannot hold, and amounts close to the column's
        # limit whose sums go past the 15-16 digits a float keeps.
        cents = rng.choice([10, 20, 30, 1, 7, 99, 12345, rng.randint(1, 10**8),
                            rng.randint(10**13, 10**15 - 1)])  # fmt: skip
        total = D(cents) * CENT
        fields = {
            "client": rng.choice(clients),
            "total": total,
            "balance": total,
            "due": AS_OF + timedelta(days=rng.randint(-200, 60)),
            "currency": rng.choice(["EUR", "EUR", "USD"]),
        }
        kind = rng.choice(["issued", "partially_paid", "paid", "written_off", "credited", "draft",
                           "credit_note"])  # fmt: skip
        if kind == "partially_paid":
            fields["balance"] = D(rng.randint(1, cents)) * CENT
        elif kind in ("paid", "credited", "credit_note"):
            fields["balance"] = D("0.00")
        if kind == "credit_note":
            invoice = stored(org, status="issued", kind="credit_note", corrects=anchor, **fields)
        else:
            invoice = stored(org, status=kind, **fields)
        if kind in ("issued", "partially_paid"):
            expected.add(invoice)
        rows.append(invoice)
    Invoice.objects.bulk_create(rows, batch_size=500)
    return expected


@pytest.fixture
def clients(org):
    return [Client.objects.create(organisation=org, name=f"Client {i:02d}") for i in range(12)]


def test_organisation_figures_are_exact_over_a_large_register(
    org, clients, django_assert_num_queries
):
    expected = build_register(org, clients, 3000)
    with django_assert_num_queries(2):
        figures = balances.organisation_figures(org, as_of=AS_OF)
    assert set(figures) == {"EUR", "USD"}
    for currency, got in figures.items():
        assert got.outstanding == expected.outstanding[currency]
        assert got.overdue == expected.overdue[currency]
        assert got.not_due == expected.outstanding[currency] - expected.overdue[currency]
        assert got.open_count == expected.open_count[currency]
        assert got.overdue_count == expected.overdue_count[currency]
        assert got.buckets == expected.buckets[currency]
        assert sum(got.buckets.values()) == got.overdue


def test_client_summaries_are_exact_per_client_and_currency(
    org, clients, django_assert_num_queries
):
    expected = build_register(org, clients, 1500, seed=7)
    with django_assert_num_queries(1):
        summaries = balances.client_summaries(org, as_of=AS_OF)
    got = {
        (s.client_id, s.currency): [s.balance, s.overdue, s.oldest_due]
        for rows in summaries.values()
        for s in rows
    }
    assert got == dict(expected.by_client)
    for rows in summaries.values():
        for s in rows:
            assert s.days_late == (
                aging.days_late(s.oldest_due, as_of=AS_OF) if s.oldest_due else 0
            )


def test_client_summaries_of_chosen_clients(org, clients):
    expected = build_register(org, clients, 300, seed=3)
    chosen = [clients[0].pk, clients[5].pk]
    summaries = balances.client_summaries(org, chosen, as_of=AS_OF)
    assert set(summaries) <= set(chosen)
    for client_id, rows in summaries.items():
        for s in rows:
            assert s.balance == expected.by_client[(client_id, s.currency)][0]


def test_client_figures_are_exact(org, clients):
    expected = build_register(org, clients, 600, seed=11)
    client = clients[3]
    figures = balances.client_figures(client, as_of=AS_OF)
    for currency, got in figures.items():
        assert [got.outstanding, got.overdue] == expected.by_client[(client.pk, currency)][:2]


def test_worst_overdue_clients_are_ranked_by_exact_overdue_amounts(org, clients):
    expected = build_register(org, clients, 1200, seed=5)
    worst = balances.worst_overdue_clients(org, as_of=AS_OF, currency="USD", limit=5)
    ranking = sorted(
        ((amounts[1], client_id) for (client_id, cur), amounts in expected.by_client.items()
         if cur == "USD" and amounts[1] > 0),
        reverse=True,
    )[:5]  # fmt: skip
    assert [(row["overdue"], row["client_id"]) for row in worst] == ranking
    for row in worst:
        oldest = expected.by_client[(row["client_id"], "USD")][2]
        assert row["days_late"] == aging.days_late(oldest, as_of=AS_OF)
        assert row["currency"] == "USD"


def test_cents_that_floats_get_wrong_are_summed_exactly(org, client_acme):
    rows = [
        stored(org, client_acme, total=D(amount), balance=D(amount), due=date(2026, 3, 1))
        for amount in ["0.10", "0.20"] * 5 + ["0.01"] * 7 + ["9999999999999.99"] * 3
    ]
    Invoice.objects.bulk_create(rows)
    # A floating-point SUM (SQLite keeps decimals as binary floats) gives 30000000000001.5.
    figures = balances.organisation_figures(org, as_of=AS_OF)["EUR"]
    assert figures.outstanding == D("30000000000001.54")
    assert figures.buckets["1-30"] == D("30000000000001.54")
    worst = balances.worst_overdue_clients(org, as_of=AS_OF, currency="EUR")
    assert worst[0]["overdue"] == D("30000000000001.54")
    summary = balances.client_summaries(org, as_of=AS_OF)[client_acme.pk][0]
    assert summary.balance == summary.overdue == D("30000000000001.54")


def test_currencies_are_never_added_together(org, client_acme, make_invoice):
    make_invoice(client_acme, "100.00", currency="EUR")
    make_invoice(client_acme, "40.00", currency="USD")
    figures = balances.organisation_figures(org, as_of=AS_OF)
    assert (figures["EUR"].outstanding, figures["USD"].outstanding) == (D("100.00"), D("40.00"))
    summaries = balances.client_summaries(org, as_of=AS_OF)[client_acme.pk]
    assert sorted((s.currency, s.balance) for s in summaries) == [
        ("EUR", D("100.00")),
        ("USD", D("40.00")),
    ]
    assert balances.worst_overdue_clients(org, as_of=AS_OF, currency="USD")[0]["overdue"] == D(
        "40.00"
    )


def test_only_open_invoices_count(org, client_acme, make_invoice):
    open_one = make_invoice(client_acme, "100.00")
    make_invoice(client_acme, "500.00", issue=False)  # a draft
    written_off = make_invoice(client_acme, "200.00")
    issuing.write_off(written_off, reason="Liquidation")
    credited = make_invoice(client_acme, "300.00")
    issuing.credit_in_full(credited, as_of=date(2026, 1, 5))
    partly_credited = make_invoice(client_acme, "60.00")
    issuing.issue(
        issuing.create_draft(
            client=client_acme,
            lines=[("Remise", D(1), D("10"), D(20))],
            kind="credit_note",
            corrects=partly_credited,
            issue_date=date(2026, 1, 5),
        ),
        as_of=date(2026, 1, 5),
    )
    figures = balances.organisation_figures(org, as_of=AS_OF)["EUR"]
    assert figures.outstanding == open_one.balance + D("48.00")
    assert figures.open_count == 2


def test_client_credit_is_reported_per_currency(org, client_acme):
    payments = [
        ("50.00", "20.10", "EUR"),
        ("30.00", "0.20", "EUR"),
        ("10.00", "10.00", "GBP"),
        ("5.00", "0", "EUR"),
    ]
    for amount, unallocated, currency in payments:
        Payment.objects.create(
            organisation=org,
            client=client_acme,
            date=AS_OF,
            amount=D(amount),
            unallocated=D(unallocated),
            currency=currency,
        )
    figures = balances.organisation_figures(org, as_of=AS_OF)
    assert figures["EUR"].credit == D("20.30")
    assert (figures["GBP"].credit, figures["GBP"].outstanding) == (D("10.00"), D("0"))
    assert figures["GBP"].buckets == {key: D("0") for key, *_ in aging.BUCKETS}
    assert balances.client_figures(client_acme, as_of=AS_OF)["EUR"].credit == D("20.30")


def test_figures_are_scoped_to_the_organisation(org, other_org, client_acme, make_invoice):
    make_invoice(client_acme, "100.00")
    theirs = Client.objects.create(organisation=other_org, name="Theirs")
    make_invoice(theirs, "999.00")
    assert balances.organisation_figures(org, as_of=AS_OF)["EUR"].outstanding == D("100.00")
    assert set(balances.client_summaries(org, as_of=AS_OF)) == {client_acme.pk}
    assert [
        r["name"] for r in balances.worst_overdue_clients(org, as_of=AS_OF, currency="EUR")
    ] == ["ACME Industries"]
    assert balances.organisation_figures(None, as_of=AS_OF) == {}


def test_an_empty_register_has_no_figures(org):
    assert balances.organisation_figures(org, as_of=AS_OF) == {}
    assert balances.client_summaries(org, as_of=AS_OF) == {}
    assert balances.worst_overdue_clients(org, as_of=AS_OF, currency="EUR") == []
