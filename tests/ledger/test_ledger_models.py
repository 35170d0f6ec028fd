"""The register's guarantees: issued documents are frozen, the timeline is append-only."""

from datetime import date
from decimal import Decimal

import pytest

from relance.ledger import issuing
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Client,
    FrozenInvoiceError,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from relance.ledger.models.timeline import AppendOnlyError, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(client_acme, make_invoice):
    return make_invoice(client_acme, "120.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number", "F2026-09999"),
        ("issue_date", date(2026, 1, 6)),
        ("due_date", date(2026, 12, 31)),
        ("currency", "USD"),
        ("total_gross", Decimal("1.00")),
        ("total_net", Decimal("1.00")),
        ("total_vat", Decimal("0.00")),
        ("kind", "credit_note"),
        ("purchase_order", "PO-1"),
    ],
)
def test_the_frozen_fields_of_an_issued_invoice_cannot_change(issued, field, value):
    setattr(issued, field, value)
    with pytest.raises(FrozenInvoiceError, match=field):
        issued.save()
    fresh = Invoice.objects.get(pk=issued.pk)
    assert getattr(fresh, field) != value


def test_an_issued_invoice_never_becomes_a_draft_again(issued):
    issued.status = InvoiceStatus.DRAFT
    with pytest.raises(FrozenInvoiceError, match="status"):
        issued.save()
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).update(status=InvoiceStatus.DRAFT)
    assert Invoice.objects.get(pk=issued.pk).status == InvoiceStatus.ISSUED


def test_an_issued_invoice_cannot_move_to_another_client(issued, org):
    other = Client.objects.create(organisation=org, name="Other")
    issued.client = other
    with pytest.raises(FrozenInvoiceError, match="client_id"):
        issued.save()


def test_a_freshly_loaded_issued_invoice_is_frozen_too(issued):
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.total_gross = Decimal("1.00")
    with pytest.raises(FrozenInvoiceError):
        invoice.save()


def test_the_settlement_fields_and_notes_of_an_issued_invoice_may_change(issued):
    issued.notes = "Called on Monday"
    issued.save()
    assert Invoice.objects.get(pk=issued.pk).notes == "Called on Monday"


def test_a_stale_copy_of_a_draft_cannot_undo_its_issuing(client_acme, make_invoice):
    draft = make_invoice(client_acme, "120.00", issue=False)
    stale = Invoice.objects.get(pk=draft.pk)
    issuing.issue(draft, as_of=date(2026, 1, 5))
    stale.notes = "edited in another tab"
    with pytest.raises(FrozenInvoiceError):
        stale.save()
    fresh = Invoice.objects.get(pk=draft.pk)
    assert (fresh.status, fresh.number) == ("issued", "F2026-00001")


def test_frozen_fields_cannot_be_changed_by_a_bulk_update(issued):
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).update(total_gross=Decimal("1.00"))
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).update(number="")
    assert Invoice.objects.get(pk=issued.pk).total_gross == Decimal("120.00")


def test_drafts_and_settlement_fields_may_be_bulk_updated(client_acme, make_invoice, issued):
    draft = make_invoice(client_acme, "50.00", issue=False)
    assert Invoice.objects.filter(pk=draft.pk).update(due_date=date(2026, 6, 1)) == 1
    assert Invoice.objects.filter(pk=issued.pk).update(notes="x") == 1


def test_an_issued_invoice_cannot_be_deleted(issued):
    with pytest.raises(FrozenInvoiceError):
        issued.delete()
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).delete()
    assert Invoice.objects.filter(pk=issued.pk).exists()


def test_a_draft_can_be_deleted_with_its_lines(client_acme, make_invoice):
    draft = make_invoice(client_acme, "50.00", issue=False)
    draft.delete()
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    assert not InvoiceLine.objects.filter(invoice_id=draft.pk).exists()


def test_a_draft_is_not_frozen(client_acme, make_invoice):
    draft = make_invoice(client_acme, "50.00", issue=False)
    draft.due_date = date(2026, 6, 1)
    draft.save()
    line = draft.lines.get()
    line.unit_price = Decimal("100")
    line.save()
    draft.recompute_totals()
    assert Invoice.objects.get(pk=draft.pk).total_gross == Decimal("120.00")


def test_the_lines_of_an_issued_invoice_cannot_be_edited_added_or_deleted(issued):
    line = issued.lines.get()
    line.unit_price = Decimal("1")
    with pytest.raises(FrozenInvoiceError):
        line.save()
    with pytest.raises(FrozenInvoiceError):
        line.delete()
    with pytest.raises(FrozenInvoiceError):
        InvoiceLine(invoice=issued, description="Extra", unit_price=Decimal("5")).save()
    with pytest.raises(FrozenInvoiceError):
        InvoiceLine.objects.bulk_create(
            [InvoiceLine(invoice=issued, description="Extra", unit_price=Decimal("5"))]
        )
    with pytest.raises(FrozenInvoiceError):
        issued.lines.update(unit_price=Decimal("1"))
    with pytest.raises(FrozenInvoiceError):
        issued.lines.all().delete()
    assert [(x.description, x.unit_price) for x in issued.lines.all()] == [
        ("Prestation", Decimal("100.0000"))
    ]


def test_the_totals_of_an_issued_invoice_cannot_be_recomputed(issued):
    with pytest.raises(FrozenInvoiceError):
        issued.recompute_totals()


@pytest.fixture
def user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create(username="alice")  # no password: no slow hashing


def test_the_timeline_is_append_only(client_acme, user):
    entry = record(client=client_acme, kind=ActivityKind.NOTE, author=user, text="Called")
    entry.text = "Never called"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        Activity.objects.filter(pk=entry.pk).update(text="Never called")
    with pytest.raises(AppendOnlyError):
        Activity.objects.filter(pk=entry.pk).delete()
    assert Activity.objects.get(pk=entry.pk).text == "Called"


def test_a_timeline_entry_keeps_its_organisation_and_author(client_acme, user):
    entry = record(client=client_acme, kind=ActivityKind.CALL, author=user, call_outcome="promise")
    assert entry.organisation_id == client_acme.organisation_id
    assert (entry.author, entry.call_outcome) == (user, "promise")


def test_for_org_none_is_empty(client_acme, make_invoice):
    make_invoice(client_acme)
    assert Invoice.objects.for_org(None).count() == 0
    assert Client.objects.for_org(None).count() == 0
    assert Activity.objects.for_org(None).count() == 0


def test_for_org_sees_only_its_organisation(client_acme, other_org, make_invoice):
    make_invoice(client_acme)
    theirs = Client.objects.create(organisation=other_org, name="Theirs")
    make_invoice(theirs)
    assert [c.name for c in Client.objects.for_org(client_acme.organisation)] == ["ACME Industries"]
    assert Invoice.objects.for_org(other_org).get().client == theirs


def test_an_invoice_knows_when_it_is_overdue(issued):
    assert issued.due_date == date(2026, 2, 4)
    assert not issued.is_overdue(date(2026, 2, 4))
    assert issued.is_overdue(date(2026, 2, 5))
    assert issued.days_late(date(2026, 3, 6)) == 30
    assert issued.status == InvoiceStatus.ISSUED
    assert str(issued) == "F2026-00001"


def test_today_is_the_organisations_local_date(org):
    from datetime import UTC, datetime

    late_evening_utc = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert org.today(late_evening_utc) == date(2026, 3, 11)  # already tomorrow in Paris
    org.time_zone = "America/Martinique"
    assert org.today(late_evening_utc) == date(2026, 3, 10)


def test_an_unknown_time_zone_is_refused(org):
    from django.core.exceptions import ValidationError

    org.time_zone = "Europe/Lyon"
    with pytest.raises(ValidationError) as info:
        org.full_clean()
    assert "Unknown time zone: Europe/Lyon." in info.value.message_dict["time_zone"]


def test_the_schedule_of_an_issued_invoice_is_frozen_but_payments_move(client_acme):
    from relance.ledger import issuing, settlement
    from relance.ledger.models import FrozenInvoiceError, Installment

    draft = issuing.create_draft(
        client=client_acme,
        lines=[("Forfait", Decimal(1), Decimal("100.00"), Decimal(20))],
        issue_date=date(2026, 1, 5),
        due_date=date(2026, 3, 5),
    )
    Installment.objects.create(
        invoice=draft, position=1, due_date=date(2026, 2, 5), amount=Decimal("60.00")
    )
    Installment.objects.create(
        invoice=draft, position=2, due_date=date(2026, 3, 5), amount=Decimal("60.00")
    )
    invoice = issuing.issue(draft, as_of=date(2026, 1, 5))
    first = invoice.installments.get(position=1)
    first.due_date = date(2026, 6, 5)
    with pytest.raises(FrozenInvoiceError):
        first.save()
    with pytest.raises(FrozenInvoiceError):
        invoice.installments.get(position=2).delete()
    settlement.record_payment(
        client=client_acme,
        amount=Decimal("70.00"),
        currency="EUR",
        date=date(2026, 2, 5),
        shares=[settlement.Share(invoice, Decimal("70.00"))],
    )
    paid = list(invoice.installments.order_by("position").values_list("due_date", "amount_paid"))
    assert paid == [(date(2026, 2, 5), Decimal("60.00")), (date(2026, 3, 5), Decimal("10.00"))]
