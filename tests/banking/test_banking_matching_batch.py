"""The matching receiver works in one pass: the answers of many lines written in
bulk, a transaction per chunk, payments recorded as it goes and known to the
lines after them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_matching_shell import camt, entry

from relance.banking import matching
from relance.banking.importing import import_statement
from relance.banking.models import BankLine
from relance.banking.signals import statement_imported
from relance.ledger.models import Payment
from relance.rules.payment_reference import creditor_reference

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def three(client_acme, make_invoice):
    return [
        make_invoice(client_acme, gross, due=date(2026, 2, day))
        for gross, day in (("120.00", 4), ("80.50", 12), ("64.20", 20))
    ]


def statuses(org):
    lines = BankLine.objects.filter(organisation=org).order_by("bank_reference")
    return {line.bank_reference: line.status for line in lines}


def test_chunks_of_a_few_lines_give_the_same_answers(org, three, client_acme, monkeypatch):
    # A transaction per two lines, or per payment: six lines, five transactions.
    monkeypatch.setattr(matching, "CHUNK", 2)
    monkeypatch.setattr(matching, "CHUNK_PAYMENTS", 1)
    entries = [
        entry(str(invoice.balance), f"C{k}", rf=creditor_reference(invoice.number), payer="ACME")
        for k, invoice in enumerate(three)
    ]
    entries += [
        entry("999.99", "C3", text="REMBOURSEMENT ASSURANCE", payer="AXA"),
        entry("45.10", "C4", text="PRLV EDF", payer="EDF", debit=True),
        entry("120.00", "C5", text=f"Facture {three[0].number}", payer="ACME"),
    ]
    import_statement(org, camt(*entries))
    assert statuses(org) == {
        "C0": "auto",
        "C1": "auto",
        "C2": "auto",
        "C3": "unmatched",
        "C4": "ignored",
        # Matched to an invoice the line before it paid: the ledger refuses, a person decides.
        "C5": "review",
    }
    assert Payment.objects.count() == 3
    for invoice in three:
        invoice.refresh_from_db()
        assert invoice.status == "paid"
    paid = BankLine.objects.get(bank_reference="C0")
    assert paid.payment.amount == D("120.00") and paid.client == client_acme
    assert paid.proposal == [{"invoice": three[0].pk, "amount": "120.00"}]
    assert paid.reasons[0] == "reference" and paid.confidence >= 90
    late = BankLine.objects.get(bank_reference="C5")
    assert late.payment is None and "not open" in late.note


def test_the_same_credit_twice_in_one_file_is_paid_once(org, three):
    rf = creditor_reference(three[1].number)
    import_statement(
        org,
        camt(
            entry("80.50", "T1", rf=rf, payer="ACME Industries"),
            entry("80.50", "T2", rf=rf, payer="ACME Industries"),
        ),
    )
    # The payment of the first line is known to the second, though not yet in the
    # database when the second was matched: a second record, for a person to check.
    assert statuses(org) == {"T1": "auto", "T2": "review"}
    assert "already recorded" in BankLine.objects.get(bank_reference="T2").note
    assert Payment.objects.count() == 1


@pytest.fixture
def unmatched_import():
    """Import without the receiver: the lines stay NEW."""
    statement_imported.disconnect(dispatch_uid="relance.banking.matching")
    yield
    statement_imported.connect(
        matching.on_statement_imported, dispatch_uid="relance.banking.matching"
    )


def test_many_line_ids_are_read_in_chunks(org, three, unmatched_import, monkeypatch):
    monkeypatch.setattr(matching, "ID_CHUNK", 2)
    entries = [
        entry(str(invoice.balance), f"I{k}", rf=creditor_reference(invoice.number))
        for k, invoice in enumerate(three)
    ]
    entries.append(entry("45.10", "I3", text="PRLV EDF", payer="EDF", debit=True))
    import_statement(org, camt(*entries))
    assert set(statuses(org).values()) == {"new"}
    ids = list(BankLine.objects.filter(organisation=org).values_list("pk", flat=True))
    counts = matching.match_lines(org, ids)
    assert counts == {"auto": 3, "ignored": 1}
    assert Payment.objects.count() == 3
    assert matching.match_lines(org, ids) == {}  # nothing NEW left


def test_only_the_given_lines_are_matched(org, three, unmatched_import):
    rf = [creditor_reference(invoice.number) for invoice in three]
    import_statement(org, camt(entry("120.00", "L1", rf=rf[0]), entry("80.50", "L2", rf=rf[1])))
    first = BankLine.objects.get(bank_reference="L1")
    assert matching.match_lines(org, [first.pk]) == {"auto": 1}
    assert statuses(org) == {"L1": "auto", "L2": "new"}
    assert matching.match_lines(org) == {"auto": 1}


def test_the_signal_lines_are_model_instances_when_a_receiver_reads_them(org):
    seen = []

    def receiver(sender, statement, lines, **kwargs):
        seen.append((len(lines), bool(lines), lines[0], list(lines), lines[1:]))

    statement_imported.connect(receiver)
    try:
        import_statement(
            org,
            camt(
                entry("80.50", "S1", text="VIREMENT", payer="ACME Industries"),
                entry("45.10", "S2", text="PRLV EDF", payer="EDF", debit=True),
            ),
        )
    finally:
        statement_imported.disconnect(receiver)
    [(count, truthy, first, every, rest)] = seen
    assert (count, truthy) == (2, True)
    assert (first.bank_reference, first.amount, first.payer_name) == (
        "S1",
        D("80.50"),
        "ACME Industries",
    )
    assert [line.bank_reference for line in every] == ["S1", "S2"] and rest == every[1:]
    assert first.pk == BankLine.objects.get(bank_reference="S1").pk and not first._state.adding
    first.note = "vu"
    first.save(update_fields=["note"])  # a real row: saving it updates, never inserts
    assert BankLine.objects.get(bank_reference="S1").note == "vu"
