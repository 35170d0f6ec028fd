"""Fees where other parts of relance read them: reminder templates and the
formal notice that starts a consumer's interest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from relance.dunning import context as reminder_context
from relance.fees import accrual
from relance.fees.models import FeeSettings
from relance.ledger.models import ClientKind

D = Decimal
pytestmark = pytest.mark.django_db


def test_reminders_can_print_the_accrued_fees(org, client_acme, make_invoice):
    FeeSettings.objects.create(organisation=org, policy="contractual", contract_rate=15)
    invoice = make_invoice(
        client_acme, "15000.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    items = [reminder_context.Item(invoice, None, invoice.balance)]
    with translation.override("fr"):
        fees = reminder_context.build(
            client_acme, items, day=date(2025, 3, 2), template="firm", tone="firm"
        )["fees"]
    assert fees == {
        "interest": "184,93\u00a0€",
        "indemnity": "40,00\u00a0€",
        "total": "15\u202f224,93\u00a0€",
        "any": True,
    }


def test_nothing_to_print_before_the_due_date(client_acme, make_invoice):
    invoice = make_invoice(
        client_acme, "100.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    items = [reminder_context.Item(invoice, None, invoice.balance)]
    fees = reminder_context.accrued_fees(items, date(2025, 1, 31))
    assert fees["any"] is False and fees["interest"] == ""


def test_a_sent_formal_notice_starts_a_consumers_legal_interest(org, client_acme, make_invoice):
    from relance.escalation.models import FormalNotice, NoticeStatus

    client_acme.kind = ClientKind.INDIVIDUAL
    client_acme.save()
    invoice = make_invoice(
        client_acme, "1200.00", issue_date=date(2025, 8, 1), due=date(2025, 9, 1)
    )
    assert accrual.for_invoice(invoice, date(2025, 12, 31)).interest == 0
    notice = FormalNotice.objects.create(
        organisation=org,
        client=client_acme,
        status=NoticeStatus.APPROVED,
        prepared_on=date(2025, 11, 25),
    )
    notice.invoices.add(invoice)
    assert accrual.for_invoice(invoice, date(2025, 12, 31)).interest == 0  # not sent yet
    FormalNotice.objects.filter(pk=notice.pk).update(
        status=NoticeStatus.SENT, sent_on=date(2025, 11, 30)
    )
    got = accrual.for_invoice(invoice, date(2025, 12, 31))
    # 1200 x 2.76 % (legal rate H2 2025) x 31 days / 365
    assert (got.interest, got.indemnity) == (D("2.81"), D(0))
    [line] = got.lines
    assert line.from_ == date(2025, 12, 1)
    # The same through the prefetching path the pages use.
    [again] = accrual.for_client(client_acme, date(2025, 12, 31))
    assert again.interest == D("2.81")


def test_the_late_fee_notice_announces_the_organisations_own_policy(org, client_acme, make_invoice):
    invoice = make_invoice(
        client_acme, "100.00", issue_date=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    items = [reminder_context.Item(invoice, None, invoice.balance)]
    statutory = reminder_context.late_fee(client_acme, items, date(2025, 2, 8))["items"]
    assert "ECB" in statutory[1]
    FeeSettings.objects.create(organisation=org, policy="contractual", contract_rate=D("12.5"))
    announced = reminder_context.late_fee(client_acme, items, date(2025, 2, 8))["items"]
    assert "D441-5" in announced[0]
    assert announced[1] == "late-payment interest at the contractual rate of 12.5 % a year"
    FeeSettings.objects.filter(organisation=org).update(
        policy="custom", monthly_rate=D("1.5"), fixed_fee=D("15.00")
    )
    announced = reminder_context.late_fee(client_acme, items, date(2025, 2, 8))["items"]
    assert announced[1:] == [
        "late-payment interest of 1.5 % per month",
        "a late fee of €15.00 per invoice",
    ]
