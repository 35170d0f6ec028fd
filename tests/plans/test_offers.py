"""Settlement offers: pay less by a date, the discount booked as credit notes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relance.ledger.models import Invoice, InvoiceKind
from relance.plans import offers
from relance.plans.models import OfferStatus

D = Decimal
AS_OF = date(2026, 3, 2)
LAST_DAY = date(2026, 3, 13)


@pytest.fixture
def offer(debtor, overdue):
    return offers.make(
        debtor, overdue, kind="percent", value=D("10"), expires_on=LAST_DAY, as_of=AS_OF
    )


def owed(client):
    return sum((i.balance for i in Invoice.objects.open().filter(client=client)), D("0"))


def test_worked_example_paid_on_the_last_day(org, debtor, overdue, offer, pay):
    assert (offer.balance, offer.discount, offer.to_pay) == (
        D("2000.00"),
        D("200.00"),
        D("1800.00"),
    )
    pay(debtor, "1800.00", LAST_DAY)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    notes = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, client=debtor)
    assert sum(n.total_gross for n in notes) == D("200.00")
    assert owed(debtor) == 0
    assert {i.status for i in Invoice.objects.filter(pk__in=[i.pk for i in overdue])} == {"paid"}
    # The VAT of the discount follows the invoice's (20 %): 166.67 + 33.33.
    assert sum(n.total_vat for n in notes) == D("33.33")


def test_worked_example_paid_a_day_late(org, debtor, offer, pay):
    pay(debtor, "1800.00", LAST_DAY + timedelta(days=1))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED
    assert owed(debtor) == D("200.00")
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    # The daily check lets late statements arrive, then the offer expires; nothing changes.
    assert offers.check(org, LAST_DAY + timedelta(days=3)) == (0, 0)
    assert offers.check(org, LAST_DAY + timedelta(days=4)) == (0, 1)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert owed(debtor) == D("200.00")


def test_two_transfers_before_the_day_add_up(org, debtor, offer, pay):
    pay(debtor, "1000.00", AS_OF)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED
    pay(debtor, "800.00", AS_OF + timedelta(days=3))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert owed(debtor) == 0


def test_found_by_the_daily_check_when_the_hook_did_not_run(org, debtor, offer):
    from relance.ledger import settlement

    settlement.record_payment(
        client=debtor,
        amount=D("1800.00"),
        currency="EUR",
        date=LAST_DAY,
        shares=settlement.oldest_first(debtor, D("1800.00"), "EUR"),
    )
    assert offers.check(org, LAST_DAY + timedelta(days=2)) == (1, 0)
    assert owed(debtor) == 0


def test_an_amount_discount_and_refusals(debtor, overdue):
    with pytest.raises(offers.OfferRefused, match="between 0 and 100"):
        offers.make(debtor, overdue, kind="percent", value=D("100"), expires_on=LAST_DAY,
                    as_of=AS_OF)  # fmt: skip
    with pytest.raises(offers.OfferRefused, match="less than the balance"):
        offers.make(debtor, overdue, kind="amount", value=D("2000"), expires_on=LAST_DAY,
                    as_of=AS_OF)  # fmt: skip
    with pytest.raises(offers.OfferRefused, match="before today"):
        offers.make(debtor, overdue, kind="amount", value=D("50"), expires_on=AS_OF - timedelta(1),
                    as_of=AS_OF)  # fmt: skip
    offer = offers.make(
        debtor, overdue, kind="amount", value=D("150.00"), expires_on=LAST_DAY, as_of=AS_OF
    )
    assert offer.to_pay == D("1850.00")
    with pytest.raises(offers.OfferRefused, match="already has an offer"):
        offers.make(debtor, overdue, kind="amount", value=D("1"), expires_on=LAST_DAY,
                    as_of=AS_OF)  # fmt: skip
    offers.withdraw(offer, as_of=AS_OF)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("amount", "rates"),
    [
        ("0.03", [("20", "100")]),  # no net at 20 % gives 0.03: a rounding cent
        ("200.00", [("20", "100"), ("5.5", "50.00")]),
        ("13.37", [("10", "33.33"), ("0", "12.00"), ("20", "7.77")]),
    ],
)
def test_credit_lines_add_up_to_the_amount(debtor, amount, rates):
    from relance.ledger import issuing
    from relance.rules.totals import compute_totals

    invoice = issuing.create_draft(
        client=debtor,
        lines=[("x", D(1), D(net), D(rate)) for rate, net in rates],
        issue_date=AS_OF,
        due_date=AS_OF,
    )
    lines = offers.credit_lines(invoice, D(amount), "Discount")
    assert compute_totals(((q, p, r) for _d, q, p, r, *_ in lines), "EUR").gross == D(amount)
