"""The sample documents: always the same, varied, with totals and identifiers that hold."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from stdnum import iban, iso11649
from stdnum.eu import vat
from stdnum.fr import siren, siret

from relance.einvoice.document import (
    VAT_EXEMPT,
    VAT_EXPORT,
    VAT_INTRA_EU,
    VAT_NOT_SUBJECT,
    VAT_REVERSE_CHARGE,
    VAT_STANDARD,
)
from relance.einvoice.samples import varied_documents
from relance.rules.money import round_money

N = 60


@pytest.fixture(scope="module")
def documents():
    return varied_documents(N)


def test_the_same_seed_gives_the_same_documents_and_a_longer_run_extends_a_shorter_one():
    assert varied_documents(24, seed=3) == varied_documents(24, seed=3)
    assert varied_documents(200, seed=3)[:24] == varied_documents(24, seed=3)
    assert varied_documents(24, seed=3) != varied_documents(24, seed=4)
    assert varied_documents(0) == []
    with pytest.raises(ValueError):
        varied_documents(-1)


def test_numbers_are_unique(documents):
    assert len({d.number for d in documents}) == N


def test_the_cases_an_e_invoice_writer_must_handle_are_all_there(documents):
    categories = Counter(line.vat_category for d in documents for line in d.lines)
    for category in (
        VAT_STANDARD,
        VAT_EXEMPT,
        VAT_REVERSE_CHARGE,
        VAT_INTRA_EU,
        VAT_EXPORT,
        VAT_NOT_SUBJECT,
    ):
        assert categories[category] > 0, category
    rates = {line.vat_rate for d in documents for line in d.lines if line.vat_category == "S"}
    assert {Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1")} <= rates
    assert {d.currency for d in documents} == {"EUR", "GBP", "CHF", "USD", "JPY"}
    credit_notes = [d for d in documents if d.is_credit_note]
    assert credit_notes and all(d.corrected_number and d.corrected_issue_date for d in credit_notes)
    consumers = [d for d in documents if d.client_kind == "b2c"]
    assert consumers and all(not d.buyer.siren and d.recovery_indemnity is None for d in consumers)
    assert any(d.installments and d.amount_prepaid > 0 for d in documents)
    assert any(d.discount for d in documents)
    assert any(line.unit_price < 0 for d in documents for line in d.lines)  # discount lines
    assert any(d.vat_on_debits and d.purchase_order for d in documents)
    assert any(d.delivery_address for d in documents)
    assert any(len(line.description) > 300 for d in documents for line in d.lines)
    assert any(len(d.lines) >= 20 for d in documents)
    assert any(not d.seller.vat_number for d in documents)  # franchise en base
    assert {d.language for d in documents} == {"fr", "en"}
    assert {d.operation_category for d in documents} == {"goods", "services", "mixed"}


def test_totals_add_up_the_en16931_way(documents):
    for d in documents:
        assert sum(line.net for line in d.lines) == d.total_net, d.number
        assert sum(row.base for row in d.vat_breakdown) == d.total_net, d.number
        assert sum(row.amount for row in d.vat_breakdown) == d.total_vat, d.number
        for row in d.vat_breakdown:
            assert row.amount == round_money(row.base * row.rate / 100, d.currency)
            if row.category != VAT_STANDARD:
                assert row.amount == 0 and row.exemption_reason and row.exemption_code
        assert d.total_gross == d.total_net + d.total_vat
        assert d.amount_due == d.total_gross - d.amount_prepaid
        if d.installments:
            assert sum(i.amount for i in d.installments) == d.amount_due
            assert d.due_date == d.installments[-1].due_date
        if d.discount:
            assert d.discount.amount_then < d.amount_due


def test_identifiers_have_valid_check_digits(documents):
    for d in documents:
        for party in (d.seller, d.buyer):
            if party.siren:
                assert siren.is_valid(party.siren), party.siren
            if party.siret:
                assert siret.is_valid(party.siret) and party.siret.startswith(party.siren)
            if party.vat_number and party.address.country in ("FR", "DE", "IT", "BE"):
                assert vat.is_valid(party.vat_number), party.vat_number
        assert iban.is_valid(d.iban)
        if d.creditor_reference:
            assert iso11649.is_valid(d.creditor_reference), d.creditor_reference
