"""The live accrual of a late invoice, read from the register."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.fees import accrual
from relance.fees.models import FeeSettings, ReferenceRate
from relance.ledger import settlement
from relance.ledger.models import ClientKind, ClientStatus

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def contract_15(org):
    return FeeSettings.objects.create(organisation=org, policy="contractual", contract_rate=15)


def test_worked_case_from_the_register(client_acme, make_invoice, contract_15):
    invoice = make_invoice(
        client_acme, "15000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    got = accrual.for_invoice(invoice, date(2025, 3, 2))
    assert (got.principal, got.interest, got.indemnity, got.booked) == (
        D("15000.00"),
        D("184.93"),
        D("40"),
        D(0),
    )
    assert got.total == D("15224.93") and got.blocked is None
    [line] = got.lines
    assert (line.from_, line.to, line.days, line.rate) == (
        date(2025, 2, 1),
        date(2025, 3, 2),
        30,
        D(15),
    )


def test_partial_payment_is_read_with_its_date(client_acme, make_invoice, contract_15):
    invoice = make_invoice(
        client_acme, "6000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    settlement.record_payment(
        client=client_acme,
        amount=D("2000.00"),
        currency="EUR",
        date=date(2025, 2, 15),
        shares=[settlement.Share(invoice, D("2000.00"))],
        thank=False,
    )
    invoice.refresh_from_db()
    got = accrual.for_invoice(invoice, date(2025, 3, 2))
    assert got.interest == D("61.65") and got.indemnity == D("40")
    assert got.principal == D("4000.00")
    # Before the payment, as that day would have seen it.
    before = accrual.for_invoice(invoice, date(2025, 2, 10))
    assert before.principal == D("6000.00")


def test_missing_rate_blocks_with_a_clear_message_then_import_unblocks(client_acme, make_invoice):
    invoice = make_invoice(
        client_acme, "1000.00", issue_date=date(2026, 5, 1), due=date(2026, 6, 1)
    )
    got = accrual.for_invoice(invoice, date(2026, 7, 15))
    assert got.blocked is not None and "ECB_MRO" in got.blocked and "2026-H2" in got.blocked
    assert (got.interest, got.indemnity) == (0, 0)
    ReferenceRate.objects.create(
        series="ECB_MRO",
        valid_from=date(2026, 2, 6),
        valid_to=date(2026, 12, 31),
        rate=D("2.00"),
        source="test",
    )
    got = accrual.for_invoice(invoice, date(2026, 7, 15))
    assert got.blocked is None and got.interest > 0


def test_consumer_and_insolvent_clients(client_acme, make_invoice, org):
    client_acme.kind = ClientKind.INDIVIDUAL
    client_acme.save()
    invoice = make_invoice(
        client_acme, "1000.00", issue_date=date(2025, 8, 1), due=date(2025, 9, 1)
    )
    got = accrual.for_invoice(invoice, date(2025, 10, 1))
    assert (got.interest, got.indemnity) == (0, 0) and got.blocked is None
    client_acme.kind = ClientKind.COMPANY
    client_acme.status = ClientStatus.INSOLVENT
    client_acme.save()
    invoice.refresh_from_db()
    got = accrual.for_invoice(invoice, date(2025, 10, 1))
    assert (got.interest, got.indemnity) == (0, 0)


def test_for_client_lists_the_late_open_invoices(client_acme, make_invoice):
    make_invoice(client_acme, "100.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31))
    make_invoice(client_acme, "200.00", issue_date=date(2025, 3, 1), due=date(2025, 3, 31))
    got = accrual.for_client(client_acme, date(2025, 3, 15))
    assert [a.principal for a in got] == [D("100.00")]
    assert got[0].indemnity == D("40")


def test_each_installment_bears_interest_from_its_own_due_date(
    client_acme, make_invoice, contract_15
):
    from relance.ledger import issuing

    draft = make_invoice(
        client_acme, "12000.00", issue_date=date(2025, 1, 1), due=date(2025, 2, 28), issue=False
    )
    issuing.set_installments(
        draft, [(date(2025, 1, 31), D("6000.00")), (date(2025, 2, 28), D("6000.00"))]
    )
    invoice = issuing.issue(draft, as_of=date(2025, 1, 1))
    got = accrual.for_invoice(invoice, date(2025, 3, 2))
    # 6000 x 15 % x 30 days / 365 = 73.97 and 6000 x 15 % x 2 days / 365 = 4.93; 40 € once.
    assert [(ln.from_, ln.days, ln.amount) for ln in got.lines] == [
        (date(2025, 2, 1), 30, D("73.97")),
        (date(2025, 3, 1), 2, D("4.93")),
    ]
    assert (got.interest, got.indemnity) == (D("78.90"), D("40"))
    first = invoice.installments.order_by("position").first()
    settlement.record_payment(
        client=client_acme,
        amount=D("3000.00"),
        currency="EUR",
        date=date(2025, 2, 15),
        shares=[settlement.Share(invoice, D("3000.00"), installment=first)],
        thank=False,
    )
    invoice.refresh_from_db()
    got = accrual.for_invoice(invoice, date(2025, 3, 2))
    # The first installment: 15 days on 6000 (36.99), then 15 days on 3000 (18.49).
    assert [(ln.base, ln.days, ln.amount) for ln in got.lines] == [
        (D("6000.00"), 15, D("36.99")),
        (D("3000.00"), 15, D("18.49")),
        (D("6000.00"), 2, D("4.93")),
    ]
    assert got.interest == D("60.41") and got.principal == D("9000.00")


def test_the_bulk_path_of_the_pages_agrees_with_the_one_invoice_path(
    org, client_acme, make_invoice, contract_15
):
    """for_client and the dashboard read value queries; for_invoice reads the
    invoice's relations: both must see the same facts."""
    from relance.fees.models import LateFee
    from relance.ledger import issuing

    plain = make_invoice(client_acme, "1000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31))
    paid_part = make_invoice(
        client_acme, "600.00", issue_date=date(2025, 1, 5), due=date(2025, 2, 4)
    )
    settlement.record_payment(
        client=client_acme,
        amount=D("250.00"),
        currency="EUR",
        date=date(2025, 2, 20),
        shares=[settlement.Share(paid_part, D("250.00"))],
        thank=False,
    )
    issuing.credit_partially(
        paid_part,
        lines=[("Remise", D(1), D("50.00"), D(20))],
        as_of=date(2025, 2, 25),
    )
    draft = make_invoice(
        client_acme, "1200.00", issue_date=date(2025, 1, 6), due=date(2025, 2, 28), issue=False
    )
    issuing.set_installments(
        draft, [(date(2025, 1, 31), D("400.00")), (date(2025, 2, 28), D("800.00"))]
    )
    split = issuing.issue(draft, as_of=date(2025, 1, 6))
    LateFee.objects.create(
        organisation=org,
        client=client_acme,
        invoice=plain,
        kind="indemnity",
        amount=D("40.00"),
        currency="EUR",
        booked_on=date(2025, 2, 10),
        source="test",
        waived_on=date(2025, 2, 12),
        waived_reason="goodwill",
    )
    as_of = date(2025, 3, 15)
    bulk = {a.invoice_id: a for a in accrual.for_client(client_acme, as_of)}
    assert set(bulk) == {plain.pk, paid_part.pk, split.pk}
    for invoice in (plain, paid_part, split):
        invoice.refresh_from_db()
        assert accrual.for_invoice(invoice, as_of) == bulk[invoice.pk]
    assert bulk[plain.pk].indemnity == 0 and bulk[plain.pk].waived == D("40.00")
    assert len(bulk[split.pk].lines) == 2 and bulk[paid_part.pk].principal == D("290.00")


def test_one_invoice_takes_the_same_queries_however_many_payments(
    client_acme, make_invoice, contract_15, django_assert_max_num_queries
):
    invoice = make_invoice(
        client_acme, "1000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )

    def pay(day):
        settlement.record_payment(
            client=client_acme,
            amount=D("10.00"),
            currency="EUR",
            date=day,
            shares=[settlement.Share(invoice, D("10.00"))],
            thank=False,
        )

    pay(date(2025, 2, 1))
    invoice.refresh_from_db()
    with django_assert_max_num_queries(12) as few:
        accrual.for_invoice(invoice, date(2025, 3, 1))
    for day in range(2, 12):
        pay(date(2025, 2, day))
    invoice.refresh_from_db()
    with django_assert_max_num_queries(len(few.captured_queries)):
        got = accrual.for_invoice(invoice, date(2025, 3, 1))
    assert got.principal == D("890.00") and len(got.lines) == 12
