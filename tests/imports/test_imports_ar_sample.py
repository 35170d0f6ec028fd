"""The IBM accounts-receivable sample (facts in ../shared/data/ar/README.md):
2,466 paid invoices of 100 clients, and its copy whose invoice numbers lost
their leading zeros."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from importdata import DAMAGED_CSV, GOOD_CSV, import_file, shared

from relance.imports import batches, service
from relance.imports.service import ImportRejected
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import Activity, Allocation, Client, Invoice, Payment

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SUM = Decimal("147703.18")


def money_sum(queryset, field):
    return cents(queryset.aggregate(s=MoneySum(field))["s"])


def test_the_good_copy_imports_every_invoice_paid(org):
    batch = import_file(org, shared(GOOD_CSV), "ar.csv")
    assert (batch.created_count, batch.skipped_count, batch.clients_created) == (2466, 0, 100)
    invoices = Invoice.objects.filter(organisation=org)
    assert invoices.count() == 2466
    assert invoices.values("number").distinct().count() == 2466
    assert money_sum(invoices, "total_gross") == SUM
    assert money_sum(invoices, "amount_paid") == SUM
    assert money_sum(invoices, "balance") == 0
    assert set(invoices.values_list("status", "source").distinct()) == {("paid", "import")}
    assert money_sum(Allocation.objects.filter(organisation=org), "amount") == SUM
    assert Payment.objects.filter(organisation=org).count() == 2466
    assert Client.objects.filter(organisation=org).count() == 100
    per_client = invoices.values("client").annotate(n=MoneySum("total_gross"))
    assert per_client.count() == 100


def test_an_imported_invoice_reads_like_the_file(org):
    import_file(org, shared(GOOD_CSV), "ar.csv")
    # 391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,...
    invoice = Invoice.objects.get(organisation=org, number="0000611365")
    assert (invoice.issue_date, invoice.due_date) == (date(2013, 1, 2), date(2013, 2, 1))
    assert (invoice.total_gross, invoice.balance, invoice.status) == (
        Decimal("55.94"),
        Decimal("0.00"),
        "paid",
    )
    assert invoice.client.reference == invoice.client.name == "0379-NEVHP"
    (allocation,) = invoice.allocations.select_related("payment")
    assert (allocation.payment.date, allocation.amount) == (date(2013, 1, 15), Decimal("55.94"))
    assert invoice.compute_totals().gross == invoice.total_gross
    (entry,) = Activity.objects.filter(client=invoice.client)
    count = invoice.client.invoices.count()
    assert entry.text == f"{count} invoices imported from ar.csv"


def test_the_stored_settlement_matches_what_refresh_settlement_computes(org):
    import_file(org, shared(GOOD_CSV), "ar.csv")
    invoices = list(Invoice.objects.filter(organisation=org).order_by("?")[:25])
    for invoice in invoices:
        stored = (invoice.amount_paid, invoice.balance, invoice.status)
        invoice.refresh_settlement()
        invoice.refresh_from_db()
        assert (invoice.amount_paid, invoice.balance, invoice.status) == stored


def test_the_same_file_twice_adds_nothing(org, register_counts):
    import_file(org, shared(GOOD_CSV), "ar.csv")
    before = register_counts()
    again = batches.start(org, "csv", [("ar (1).csv", shared(GOOD_CSV))])
    assert batches.earlier_import(again) is not None
    parsed, columns = batches.read(again)
    result = service.plan(org, parsed, columns)
    assert (len(result.create), len(result.skip), result.errors) == (0, 2466, [])
    done = service.run(again, parsed, columns=columns)
    assert (done.created_count, done.skipped_count) == (0, 2466)
    after = register_counts()
    assert after == {**before, "done": before["done"] + 1}


def test_the_damaged_copy_is_detected_as_lost_leading_zeros(org):
    batch = batches.start(org, "csv", [("damaged.csv", shared(DAMAGED_CSV))])
    parsed, _columns = batches.read(batch)
    (warning,) = parsed.warnings
    text = warning.text()
    assert "266 of 2466 invoice numbers have fewer digits than the 10 of the others" in text
    assert "line 2: 611365, probably 0000611365" in text
    assert parsed.facts["pad_to"] == "10"


def test_the_damaged_copy_after_the_good_one_is_caught_and_nothing_written(org, register_counts):
    import_file(org, shared(GOOD_CSV), "ar.csv")
    before = register_counts()
    with pytest.raises(ImportRejected) as caught:
        import_file(org, shared(DAMAGED_CSV), "damaged.csv")
    problems = caught.value.problems
    assert len(problems) == 266
    first = problems[0]
    assert (first.line, first.column) == (2, "invoiceNumber")
    assert "611365 is not in the register but 0000611365 is" in first.text()
    assert register_counts() == before


def test_restoring_the_zeros_makes_the_damaged_copy_the_same_invoices(org, register_counts):
    import_file(org, shared(GOOD_CSV), "ar.csv")
    before = register_counts()
    batch = import_file(org, shared(DAMAGED_CSV), "damaged.csv", pad_to=10)
    assert (batch.created_count, batch.skipped_count) == (0, 2466)
    assert register_counts() == {**before, "done": before["done"] + 1}
