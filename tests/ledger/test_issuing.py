"""Issuing: gapless chronological numbers, the checks before freezing, credit notes, write-offs."""

from datetime import date
from decimal import Decimal

import pytest

from relance.ledger import balances, issuing, settlement
from relance.ledger.issuing import IssueError
from relance.ledger.models import (
    Activity,
    Client,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    NumberSequence,
)

pytestmark = pytest.mark.django_db

D = Decimal
JAN_5 = date(2026, 1, 5)


def draft(client, *lines, **fields):
    fields.setdefault("issue_date", JAN_5)
    fields.setdefault("due_date", date(2026, 2, 4))
    return issuing.create_draft(
        client=client,
        lines=[(desc, D(q), D(p), D(v)) for desc, q, p, v in lines]
        or [("Prestation", D(1), D("100"), D(20))],
        **fields,
    )


def credit_note(invoice, amount_excl_vat, vat="20", **fields):
    fields.setdefault("issue_date", JAN_5)
    fields.setdefault("currency", invoice.currency)
    return issuing.create_draft(
        client=invoice.client,
        lines=[("Remise", D(1), D(amount_excl_vat), D(vat))],
        kind=InvoiceKind.CREDIT_NOTE,
        corrects=invoice,
        **fields,
    )


# Numbers ---------------------------------------------------------------------------


def test_numbers_follow_each_other_without_gaps(client_acme):
    numbers = [issuing.issue(draft(client_acme), as_of=JAN_5).number for _ in range(3)]
    assert numbers == ["F2026-00001", "F2026-00002", "F2026-00003"]


def test_credit_notes_have_their_own_series(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    note = issuing.issue(credit_note(invoice, "10"), as_of=JAN_5)
    following = issuing.issue(draft(client_acme), as_of=JAN_5)
    assert (note.number, following.number) == ("AV2026-00001", "F2026-00002")


def test_each_year_starts_a_new_series(client_acme):
    last_of_2025 = issuing.issue(
        draft(client_acme, issue_date=date(2025, 12, 31), due_date=date(2026, 1, 30)),
        as_of=date(2025, 12, 31),
    )
    first_of_2026 = issuing.issue(draft(client_acme), as_of=JAN_5)
    assert (last_of_2025.number, first_of_2026.number) == ("F2025-00001", "F2026-00001")


def test_each_organisation_has_its_own_numbers(client_acme, other_org):
    theirs = Client.objects.create(organisation=other_org, name="Theirs")
    ours = issuing.issue(draft(client_acme), as_of=JAN_5)
    other = issuing.issue(draft(theirs), as_of=JAN_5)
    assert ours.number == other.number == "F2026-00001"


def test_the_prefix_is_the_organisations(client_acme, org):
    org.invoice_prefix = "FA-"
    org.save()
    assert issuing.issue(draft(client_acme), as_of=JAN_5).number == "FA-2026-00001"


def test_a_draft_without_issue_date_is_dated_as_of_issuing(client_acme):
    invoice = issuing.issue(draft(client_acme, issue_date=None), as_of=date(2026, 1, 20))
    assert invoice.issue_date == date(2026, 1, 20)
    assert invoice.issued_at is not None


def test_numbers_follow_the_dates(client_acme):
    """A back-dated draft cannot take a number after a later-dated invoice."""
    issuing.issue(draft(client_acme, issue_date=date(2026, 1, 20)), as_of=date(2026, 1, 20))
    late = draft(client_acme, issue_date=date(2026, 1, 10))
    with pytest.raises(IssueError, match="F2026-00001 is dated"):
        issuing.issue(late, as_of=date(2026, 1, 21))
    assert Invoice.objects.get(pk=late.pk).status == InvoiceStatus.DRAFT
    # Nothing was taken from the series: the next number is still 2.
    same_day = issuing.issue(draft(client_acme, issue_date=date(2026, 1, 20)), as_of=JAN_5)
    assert same_day.number == "F2026-00002"


def test_a_failed_issue_takes_no_number(client_acme):
    with pytest.raises(IssueError):
        issuing.issue(draft(client_acme, due_date=date(2026, 1, 1)), as_of=JAN_5)
    assert issuing.issue(draft(client_acme), as_of=JAN_5).number == "F2026-00001"
    assert NumberSequence.objects.get().last_value == 1


# Checks before issuing -------------------------------------------------------------


def test_issuing_freezes_the_totals_and_opens_the_balance(client_acme):
    invoice = issuing.issue(
        draft(client_acme, ("A", "3", "33.333", "20"), ("B", "1", "10", "5.5")), as_of=JAN_5
    )
    assert (invoice.total_net, invoice.total_vat, invoice.total_gross) == (
        D("110.00"),
        D("20.55"),
        D("130.55"),
    )
    assert (invoice.status, invoice.balance) == (InvoiceStatus.ISSUED, D("130.55"))
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.number, stored.balance) == ("F2026-00001", D("130.55"))
    assert Activity.objects.filter(invoice=invoice, kind="issued").count() == 1


def test_an_issued_document_is_not_issued_again(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    with pytest.raises(IssueError, match="already issued"):
        issuing.issue(invoice, as_of=JAN_5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_date": None}, "Give the due date"),
        ({"due_date": date(2026, 1, 4)}, "due date cannot be before the issue date"),
    ],
)
def test_dates_are_checked(client_acme, changes, message):
    invoice = draft(client_acme, **changes)
    with pytest.raises(IssueError, match=message):
        issuing.issue(invoice, as_of=JAN_5)
    assert not Invoice.objects.exclude(number="").exists()


def test_a_document_without_lines_is_not_issued(client_acme):
    invoice = draft(client_acme)
    invoice.lines.all().delete()
    with pytest.raises(IssueError, match="at least one line"):
        issuing.issue(invoice, as_of=JAN_5)


@pytest.mark.parametrize("price", ["0", "-10"])
def test_a_document_totalling_zero_or_less_is_not_issued(client_acme, price):
    invoice = draft(client_acme, ("Free", "1", price, "20"))
    with pytest.raises(IssueError, match="greater than zero"):
        issuing.issue(invoice, as_of=JAN_5)


def test_installments_must_add_up_to_the_total(client_acme):
    invoice = draft(client_acme)  # 120.00
    for position, (due, amount) in enumerate(
        [(date(2026, 2, 4), "60"), (date(2026, 3, 4), "59.99")]
    ):
        Installment.objects.create(
            invoice=invoice, position=position, due_date=due, amount=D(amount)
        )
    with pytest.raises(IssueError, match=r"119\.99, not the total 120\.00"):
        issuing.issue(invoice, as_of=JAN_5)
    Installment.objects.filter(invoice=invoice, position=1).update(amount=D("60.00"))
    assert issuing.issue(invoice, as_of=JAN_5).status == InvoiceStatus.ISSUED


# Credit notes ----------------------------------------------------------------------


def test_a_partial_credit_note_leaves_the_invoice_partly_settled(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)  # 120.00
    note = issuing.issue(credit_note(invoice, "25"), as_of=JAN_5)  # 30.00
    invoice.refresh_from_db()
    assert (note.status, note.balance, note.total_gross) == ("issued", D("0"), D("30.00"))
    assert (invoice.status, invoice.amount_credited, invoice.balance) == (
        InvoiceStatus.PARTIALLY_PAID,
        D("30.00"),
        D("90.00"),
    )
    assert Activity.objects.filter(invoice=invoice, kind="credit_note").count() == 1


def test_a_credit_note_for_what_is_left_after_a_payment_settles_the_invoice(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    settlement.record_payment(
        client=client_acme,
        amount=D("90.00"),
        currency="EUR",
        date=JAN_5,
        shares=[settlement.Share(invoice=invoice, amount=D("90.00"))],
    )
    issuing.issue(credit_note(invoice, "25"), as_of=JAN_5)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PAID, D("0.00"))


def test_crediting_in_full_cancels_the_invoice(client_acme):
    invoice = issuing.issue(
        draft(client_acme, ("A", "1", "100", "20"), ("B", "2", "10", "5.5")), as_of=JAN_5
    )
    note = issuing.credit_in_full(invoice, as_of=date(2026, 1, 8))
    invoice.refresh_from_db()
    assert note.number == "AV2026-00001"
    assert note.total_gross == invoice.total_gross == D("141.10")
    assert note.compute_totals().by_rate == invoice.compute_totals().by_rate
    assert (invoice.status, invoice.balance) == (InvoiceStatus.CREDITED, D("0.00"))
    assert not invoice.is_open


def test_a_credit_note_larger_than_the_balance_is_refused(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    note = credit_note(invoice, "100.01")  # 120.01 incl. VAT
    with pytest.raises(IssueError, match=r"\(120.01\) is more than the 120.00 left to pay"):
        issuing.issue(note, as_of=JAN_5)
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (D("120.00"), InvoiceStatus.ISSUED)
    assert not Invoice.objects.filter(number__startswith="AV").exists()


def test_a_credit_note_in_another_currency_is_refused(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    note = credit_note(invoice, "10", currency="USD")
    with pytest.raises(IssueError, match="currency of the invoice it corrects"):
        issuing.issue(note, as_of=JAN_5)


def test_a_credit_note_for_another_clients_invoice_is_refused(client_acme, org):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    other = Client.objects.create(organisation=org, name="Someone else")
    note = issuing.create_draft(
        client=other,
        lines=[("Remise", D(1), D(10), D(20))],
        kind=InvoiceKind.CREDIT_NOTE,
        corrects=invoice,
        issue_date=JAN_5,
    )
    with pytest.raises(IssueError, match="same client"):
        issuing.issue(note, as_of=JAN_5)
    invoice.refresh_from_db()
    assert invoice.balance == D("120.00")


def test_a_settled_invoice_cannot_be_credited(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    issuing.credit_in_full(invoice, as_of=JAN_5)
    invoice.refresh_from_db()
    with pytest.raises(IssueError, match="nothing left to pay"):
        issuing.credit_in_full(invoice, as_of=JAN_5)
    with pytest.raises(IssueError, match="nothing left to pay"):
        issuing.issue(credit_note(invoice, "1"), as_of=JAN_5)


def test_crediting_in_full_an_invoice_paid_meanwhile_leaves_nothing_behind(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    stale = Invoice.objects.get(pk=invoice.pk)
    settlement.record_payment(
        client=client_acme,
        amount=D("120.00"),
        currency="EUR",
        date=JAN_5,
        shares=[settlement.Share(invoice=invoice, amount=D("120.00"))],
    )
    with pytest.raises(IssueError, match="nothing left to pay"):
        issuing.credit_in_full(stale, as_of=JAN_5)
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


def test_crediting_in_full_a_partly_paid_invoice_is_refused(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    settlement.record_payment(
        client=client_acme,
        amount=D("20.00"),
        currency="EUR",
        date=JAN_5,
        shares=[settlement.Share(invoice=invoice, amount=D("20.00"))],
    )
    invoice.refresh_from_db()
    with pytest.raises(IssueError, match="partly settled"):
        issuing.credit_in_full(invoice, as_of=JAN_5)


def test_credit_notes_are_not_receivables(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    note = issuing.issue(credit_note(invoice, "25"), as_of=JAN_5)
    assert list(Invoice.objects.open()) == [invoice]
    assert not note.is_open


# Write-offs ------------------------------------------------------------------------


def test_a_write_off_needs_a_reason(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    with pytest.raises(IssueError, match="reason"):
        issuing.write_off(invoice, reason="   ")
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.ISSUED


def test_a_written_off_invoice_no_longer_counts_as_outstanding(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    kept = issuing.issue(draft(client_acme, ("B", "1", "10", "20")), as_of=JAN_5)
    issuing.write_off(invoice, reason="Client in liquidation")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.written_off_reason) == ("written_off", "Client in liquidation")
    figures = balances.organisation_figures(client_acme.organisation, as_of=date(2026, 6, 1))
    assert figures["EUR"].outstanding == kept.total_gross == D("12.00")
    assert Activity.objects.filter(invoice=invoice, kind="written_off").get().text == (
        "Client in liquidation"
    )
    with pytest.raises(IssueError, match="Only an open invoice"):
        issuing.write_off(invoice, reason="again")


def test_a_written_off_invoice_takes_no_payment(client_acme):
    invoice = issuing.issue(draft(client_acme), as_of=JAN_5)
    issuing.write_off(invoice, reason="Gone")
    with pytest.raises(settlement.PaymentError, match="not open"):
        settlement.record_payment(
            client=client_acme,
            amount=D("10.00"),
            currency="EUR",
            date=JAN_5,
            shares=[settlement.Share(invoice=invoice, amount=D("10.00"))],
        )


def test_numbers_already_taken_by_an_import_are_skipped(client_acme, make_invoice):
    from relance.ledger.models import InvoiceSource

    imported = make_invoice(client_acme, issue=False)
    Invoice.objects.filter(pk=imported.pk).update(
        number="F2026-00001", status="issued", source=InvoiceSource.IMPORT
    )
    invoice = make_invoice(client_acme)
    assert invoice.number == "F2026-00002"


def test_a_line_may_carry_its_vat_category(client_acme):
    invoice = issuing.create_draft(
        client=client_acme,
        lines=[("Cours", D(1), D(50), D(0), "E"), ("Livre", D(1), D(9), D(20))],
    )
    assert [line.vat_category for line in invoice.lines.all()] == ["E", "S"]
