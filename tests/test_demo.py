"""The demo organisation: a register whose every stored figure is what the
services would have written, the same for the same seed and date, loaded
without touching any other organisation."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F, Q
from django.test import override_settings
from stdnum.eu import vat as eu_vat

from relance import demo, demo_escalation
from relance.banking.models import BankLine, BankLineStatus, StatementImport
from relance.dunning.models import Pause, PauseKind, Reminder
from relance.escalation import ends, notices
from relance.escalation.models import (
    CourtProcedure,
    Escalation,
    EscalationKind,
    EscalationStatus,
    FormalNotice,
    InsolvencyProcedure,
    NoticeStatus,
    StepDone,
    Task,
    TaskKind,
)
from relance.fees import booking
from relance.fees.models import FeeKind, LateFee
from relance.ledger import balances, settlement
from relance.ledger.models import (
    Activity,
    Allocation,
    Client,
    Contact,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Payment,
    Refund,
)
from relance.ledger.models.invoices import OPEN_STATUSES, settlement_status
from relance.organisations.models import Membership, Organisation
from relance.plans import service as plans
from relance.plans.models import OfferStatus, PaymentPlan, PlanStatus, SettlementOffer
from relance.rules import aging
from relance.rules import escalation as escalation_rules
from relance.rules.money import ZERO
from relance.rules.totals import compute_totals

AS_OF = date(2026, 3, 15)


def load(**options) -> str:
    out = StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    """The module demo's files (the formal notice's letter and receipt)."""
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, demo_media):
    """The demo, loaded once for the read-only checks of this module."""
    # The hasher of tests/conftest.py, so that the demo users' passwords check.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    media = override_settings(MEDIA_ROOT=demo_media)
    with django_db_blocker.unblock(), fast, media:
        started = time.perf_counter()
        load(as_of=AS_OF)
        print(f"demo loaded in {time.perf_counter() - started:.1f} s")
        yield demo.find_demo()
        demo.delete_organisation(demo.find_demo())
        get_user_model().objects.filter(username__in=["demo", "comptable"]).delete()


@pytest.fixture
def demo_org(loaded, db):
    return loaded


def invoices(demo_org):
    return Invoice.objects.filter(organisation=demo_org, kind=InvoiceKind.INVOICE)


def sums_by(queryset, key: str, value: str) -> dict:
    totals: dict = defaultdict(lambda: ZERO)
    for k, v in queryset.values_list(key, value):
        totals[k] += v
    return totals


def test_it_stores_balances_as_the_services_would(demo_org):
    paid = sums_by(Allocation.objects.filter(organisation=demo_org), "invoice_id", "amount")
    notes = Invoice.objects.filter(organisation=demo_org, kind=InvoiceKind.CREDIT_NOTE)
    credited = sums_by(notes.exclude(status=InvoiceStatus.DRAFT), "corrects_id", "total_gross")
    for invoice in invoices(demo_org):
        assert invoice.amount_paid == paid[invoice.pk]
        assert invoice.amount_credited == credited[invoice.pk]
        owed = invoice.total_gross - invoice.amount_paid - invoice.amount_credited
        assert invoice.balance == owed >= 0, invoice.number
        if invoice.status == InvoiceStatus.DRAFT:
            assert not invoice.number and not invoice.amount_paid
        elif invoice.status == InvoiceStatus.WRITTEN_OFF:
            # Only an open invoice can be written off; its balance stays on record.
            assert invoice.written_off_reason and invoice.balance > 0
        else:
            expected = settlement_status(
                invoice.total_gross, invoice.amount_paid, invoice.amount_credited
            )
            assert invoice.status == expected, invoice.number


def test_it_stores_the_totals_of_the_lines(demo_org):
    lines = defaultdict(list)
    for line in InvoiceLine.objects.filter(invoice__organisation=demo_org):
        lines[line.invoice_id].append((line.quantity, line.unit_price, line.vat_rate))
    documents = Invoice.objects.filter(organisation=demo_org)
    for doc in documents:
        totals = compute_totals(lines[doc.pk], doc.currency)
        assert (doc.total_net, doc.total_vat, doc.total_gross) == (
            totals.net,
            totals.vat,
            totals.gross,
        )
    rates = set(
        InvoiceLine.objects.filter(invoice__organisation=demo_org).values_list(
            "vat_rate", flat=True
        )
    )
    assert {Decimal(20), Decimal(10), Decimal("5.5"), ZERO} <= rates


def test_each_payment_is_allocated_or_kept_as_credit(demo_org):
    allocated = sums_by(Allocation.objects.filter(organisation=demo_org), "payment_id", "amount")
    refunded = sums_by(Refund.objects.filter(organisation=demo_org), "payment_id", "amount")
    for payment in Payment.objects.filter(organisation=demo_org):
        assert allocated[payment.pk] + payment.unallocated + refunded[payment.pk] == payment.amount
    mismatched = Allocation.objects.filter(organisation=demo_org).exclude(
        invoice__currency=F("payment__currency"), invoice__client=F("payment__client")
    )
    assert not mismatched.exists()
    assert Payment.objects.filter(organisation=demo_org, unallocated__gt=0).exists()


def test_installments_add_up_and_carry_their_payments(demo_org):
    scheduled = Installment.objects.filter(invoice__organisation=demo_org)
    assert scheduled.exists()
    per_invoice = sums_by(scheduled, "invoice_id", "amount")
    for invoice in invoices(demo_org).filter(pk__in=per_invoice):
        assert per_invoice[invoice.pk] == invoice.total_gross
    paid = sums_by(Allocation.objects.filter(installment__isnull=False), "installment_id", "amount")
    for row in scheduled:
        assert row.amount_paid == paid[row.pk] <= row.amount
    loose = Allocation.objects.filter(invoice__in=per_invoice.keys(), installment__isnull=True)
    assert not loose.exists()


def test_numbers_are_gapless_and_chronological_per_series(demo_org):
    series = defaultdict(list)
    documents = Invoice.objects.filter(organisation=demo_org).exclude(status=InvoiceStatus.DRAFT)
    for number, issued, issued_at in documents.values_list("number", "issue_date", "issued_at"):
        name, value = number.rsplit("-", 1)
        series[name].append((int(value), issued, issued_at))
    assert {"F2024", "F2025", "F2026", "AV2025"} <= set(series)
    sequences = dict(
        NumberSequence.objects.filter(organisation=demo_org).values_list("series", "last_value")
    )
    for name, rows in series.items():
        rows.sort()
        assert [value for value, _d, _t in rows] == list(range(1, len(rows) + 1)), name
        assert [d for _v, d, _t in rows] == sorted(d for _v, d, _t in rows), name
        assert [t for _v, _d, t in rows] == sorted(t for _v, _d, t in rows), name
        assert all(str(d.year) in name for _v, d, _t in rows)
        assert sequences[name] == len(rows)


def test_the_next_issued_invoice_continues_the_series(demo_org):
    from relance.ledger import issuing

    client = Client.objects.filter(organisation=demo_org, name="Groupe Fontanel SA").get()
    draft = issuing.create_draft(
        client=client,
        lines=[("Atelier", Decimal(1), Decimal(100), Decimal(20))],
        issue_date=AS_OF,
        due_date=date(2026, 4, 14),
    )
    last = invoices(demo_org).filter(number__startswith="F2026-").order_by("-number").first()
    issued = issuing.issue(draft, as_of=AS_OF)
    assert int(issued.number.rsplit("-", 1)[1]) == int(last.number.rsplit("-", 1)[1]) + 1


def test_the_dashboard_figures_match_the_invoices(demo_org):
    figures = balances.organisation_figures(demo_org, as_of=AS_OF)
    expected: dict = defaultdict(lambda: defaultdict(lambda: ZERO))
    for invoice in invoices(demo_org).filter(status__in=OPEN_STATUSES):
        row = expected[invoice.currency]
        row["outstanding"] += invoice.balance
        row["open_count"] += 1
        late = aging.days_late(invoice.due_date, as_of=AS_OF)
        if late:
            row["overdue"] += invoice.balance
            row["overdue_count"] += 1
            row[aging.bucket_for(late)] += invoice.balance
    assert set(figures) == set(expected)
    assert invoices(demo_org).filter(currency="GBP").exists()
    for currency, row in expected.items():
        shown = figures[currency]
        assert shown.outstanding == row["outstanding"]
        assert shown.overdue == row["overdue"]
        assert (shown.open_count, shown.overdue_count) == (row["open_count"], row["overdue_count"])
        assert shown.buckets == {key: row[key] for key, _f, _l in aging.BUCKETS}
    eur = figures["EUR"]
    assert all(eur.buckets[key] > 0 for key, _f, _l in aging.BUCKETS)
    assert eur.credit == Decimal("300.00")


def test_it_tells_the_stories_of_the_dashboard(demo_org):
    statuses = defaultdict(int)
    for status in invoices(demo_org).values_list("status", flat=True):
        statuses[status] += 1
    assert 1400 <= sum(statuses.values()) <= 1600
    assert statuses[InvoiceStatus.DRAFT] >= 3
    assert statuses[InvoiceStatus.PARTIALLY_PAID] >= 3
    assert statuses[InvoiceStatus.WRITTEN_OFF] == 2
    assert statuses[InvoiceStatus.CREDITED] == 1
    partly_credited = invoices(demo_org).filter(amount_credited__gt=0, status=InvoiceStatus.PAID)
    assert partly_credited.count() == 1
    clients = Client.objects.filter(organisation=demo_org)
    assert 55 <= clients.count() <= 65
    assert 8 <= clients.filter(kind="individual").count() <= 12
    statuses = ("on_hold", "insolvent", "closed", "in_collection")
    assert {s: clients.filter(status=s).count() for s in statuses} == {
        "on_hold": 2,
        "insolvent": 1,
        "closed": 1,
        "in_collection": 2,
    }
    assert set(clients.values_list("country", flat=True)) >= {"FR", "BE", "DE", "GB"}
    assert clients.filter(cycle_months__isnull=False).count() >= 2


def test_the_good_client_in_trouble_has_a_story_on_its_timeline(demo_org):
    client = Client.objects.get(organisation=demo_org, name="Verdier Traiteur SAS")
    mine = invoices(demo_org).filter(client=client).exclude(status=InvoiceStatus.DRAFT)
    recent = mine.filter(due_date__gte=date(2025, 11, 10))
    older = mine.filter(due_date__lt=date(2025, 11, 10))
    assert older.count() >= 18 and all(i.status == InvoiceStatus.PAID for i in older)
    assert recent.filter(status__in=OPEN_STATUSES).count() >= 3
    texts = " ".join(Activity.objects.filter(client=client).values_list("text", flat=True))
    assert "difficultés financières" in texts.lower()
    assert "promesse de paiement le 15" in texts.lower()
    assert Activity.objects.filter(client=client, call_outcome="promise").count() >= 2


def test_the_timeline_has_the_entries_of_the_services_and_of_people(demo_org):
    entries = Activity.objects.filter(organisation=demo_org)
    kinds = set(entries.values_list("kind", flat=True))
    expected = {"created", "issued", "payment", "note", "call", "credit_note", "written_off"}
    assert expected <= kinds
    issued = invoices(demo_org).exclude(status=InvoiceStatus.DRAFT).count()
    assert entries.filter(kind="issued", invoice__kind=InvoiceKind.INVOICE).count() == issued
    # Without a person: only what the daily run did (escalation steps, booked fees).
    unattended = entries.filter(author__isnull=True)
    assert entries.filter(author__username="demo").count() + unattended.count() == entries.count()
    run = set(
        StepDone.objects.filter(organisation=demo_org).values_list("reminder__client", flat=True)
    )
    run |= set(LateFee.objects.filter(organisation=demo_org).values_list("client", flat=True))
    assert unattended.exists() and set(unattended.values_list("client", flat=True)) <= run
    latest = entries.order_by("-at").first().at
    assert latest < datetime(2026, 3, 15, tzinfo=demo.TZ)


def test_identifiers_contacts_and_the_organisation_are_valid(demo_org):
    demo_org.full_clean()
    assert demo_org.siren == demo.DEMO_SIREN and demo_org.iban.startswith("FR76")
    for client in Client.objects.filter(organisation=demo_org):
        client.full_clean()
        if client.vat_number:
            assert eu_vat.is_valid(client.vat_number)
    for contact in Contact.objects.filter(organisation=demo_org).select_related("client"):
        phone = contact.phone
        contact.full_clean()
        assert contact.phone == phone  # already in E.164
        assert contact.email.rsplit("@", 1)[1] in ("example.com", "example.org", "example.net")


def test_the_demo_users_can_sign_in(demo_org, client):
    roles = dict(
        Membership.objects.filter(organisation=demo_org).values_list("user__username", "role")
    )
    assert roles == {"demo": "owner", "comptable": "read_only"}
    assert client.login(username="demo", password="demo")
    assert client.login(username="comptable", password="comptable")


def test_if_missing_prints_the_login_and_changes_nothing(demo_org):
    before = demo.counts(demo_org)
    out = load(if_missing=True)
    assert "demo / demo" in out and "http://127.0.0.1:8000/" in out
    assert demo.counts(demo_org) == before
    assert Organisation.objects.filter(legal_name=demo.DEMO_NAME).count() == 1
    with pytest.raises(CommandError, match="--reset"):
        load()


# The tests below load their own demo inside their transaction, with --reset
# because the module's demo may be there (it comes back on rollback).


def digest(org: Organisation) -> str:
    """Every generated row, by natural keys, without ids and automatic timestamps."""
    queries = [
        (Client, "organisation", ["reference", "kind", "name", "siren", "siret", "vat_number",
                                  "address_line1", "postcode", "city", "country", "status",
                                  "cycle_months", "cycle_day", "tags__name"]),
        (Contact, "organisation", ["client__reference", "first_name", "last_name", "role",
                                   "email", "phone", "preferred_channel"]),
        (Invoice, "organisation", ["number", "kind", "client__reference", "corrects__number",
                                   "status", "issue_date", "due_date", "currency", "total_gross",
                                   "total_vat", "amount_paid", "amount_credited", "balance",
                                   "issued_at", "purchase_order", "written_off_reason"]),
        (InvoiceLine, "invoice__organisation", ["invoice__number", "invoice__client__reference",
                                                "position", "description", "quantity",
                                                "unit_price", "vat_rate"]),
        (Installment, "invoice__organisation", ["invoice__number", "position", "due_date",
                                                "amount", "amount_paid"]),
        (Payment, "organisation", ["client__reference", "date", "amount", "currency", "method",
                                   "reference", "unallocated"]),
        (Allocation, "organisation", ["payment__reference", "payment__date", "invoice__number",
                                      "installment__position", "amount"]),
        (Activity, "organisation", ["client__reference", "invoice__number", "kind", "at",
                                    "author__username", "text", "call_outcome"]),
        (NumberSequence, "organisation", ["series", "last_value"]),
        (BankLine, "organisation", ["booking_date", "amount", "direction", "payer_name",
                                    "remittance", "status", "confidence", "client__reference",
                                    "payment__reference", "fingerprint"]),
        (PaymentPlan, "organisation", ["client__reference", "status", "proposed_on",
                                       "agreed_on", "balance", "installments__position",
                                       "installments__due_date", "installments__amount",
                                       "installments__amount_paid"]),
        (SettlementOffer, "organisation", ["client__reference", "status", "offered_on",
                                           "expires_on", "balance", "discount"]),
        (Refund, "organisation", ["client__reference", "date", "amount", "reference"]),
        (Escalation, "organisation", ["client__reference", "kind", "status", "reason",
                                      "amount", "opened_on", "closed_on", "procedure", "agency",
                                      "judgment_on", "published_on", "invoices__number"]),
        (FormalNotice, "organisation", ["client__reference", "status", "prepared_on",
                                        "sent_on", "receipt_name", "invoices__number"]),
        (Task, "organisation", ["client__reference", "kind", "text", "due_on", "done_on"]),
        (LateFee, "organisation", ["invoice__number", "kind", "amount", "booked_on",
                                   "period_start", "period_end", "rate", "source"]),
    ]  # fmt: skip
    hasher = hashlib.sha256()
    for model, path, fields in queries:
        rows = model._default_manager.filter(Q(**{path: org})).values_list(*fields)
        for row in sorted(tuple(map(str, row)) for row in rows):
            hasher.update(repr(row).encode())
    return hasher.hexdigest()


@pytest.mark.slow
@pytest.mark.django_db
def test_the_same_seed_and_date_give_the_same_data():
    load(as_of=AS_OF, seed=7, reset=True)
    first = digest(demo.find_demo())
    load(as_of=AS_OF, seed=7, reset=True)
    assert digest(demo.find_demo()) == first
    load(as_of=AS_OF, seed=8, reset=True)
    assert digest(demo.find_demo()) != first


@pytest.mark.slow
def test_reset_leaves_other_organisations_untouched(client_acme, make_invoice, charlie):
    mine = make_invoice(client_acme, "120.00")
    other = client_acme.organisation
    before = (
        Invoice.objects.filter(organisation=other).count(),
        Activity.objects.filter(organisation=other).count(),
        Client.objects.filter(organisation=other).count(),
    )
    load(as_of=AS_OF, reset=True)
    first_id = demo.find_demo().pk
    stored = [
        Path(f.path)
        for notice in FormalNotice.objects.filter(organisation_id=first_id)
        for f in (notice.pdf, notice.receipt)
        if f
    ]
    assert stored and all(path.exists() for path in stored)
    load(as_of=AS_OF, reset=True)
    assert demo.find_demo().pk != first_id
    assert not any(path.exists() for path in stored)  # the letter and receipt went too
    assert not Invoice.objects.filter(organisation_id=first_id).exists()
    assert Organisation.objects.filter(legal_name=demo.DEMO_NAME).count() == 1
    after = (
        Invoice.objects.filter(organisation=other).count(),
        Activity.objects.filter(organisation=other).count(),
        Client.objects.filter(organisation=other).count(),
    )
    assert after == before
    mine.refresh_from_db()
    assert mine.balance == Decimal("120.00")
    assert charlie.memberships.count() == 1


def test_the_demo_invoices_lawfully_out_of_the_box(demo_org):
    """A draft of the demo can be issued at once: every mandatory mention is there."""
    from relance.invoicing.issuing import issue_invoice
    from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice

    default = PaymentTermsTemplate.objects.get(organisation=demo_org, is_default=True)
    assert default.name == "30 jours"
    assert RecurringInvoice.objects.filter(organisation=demo_org, active=True).exists()
    draft = Invoice.objects.filter(organisation=demo_org, status=InvoiceStatus.DRAFT).first()
    draft.issue_date = None
    draft.save()
    issued = issue_invoice(draft, as_of=AS_OF)
    assert issued.status == InvoiceStatus.ISSUED and issued.pdf


# --- Getting paid: the statement, plans, offers, credit and refunds -------------


def test_a_recent_statement_was_imported_and_matched(demo_org):
    statement = StatementImport.objects.get(organisation=demo_org)
    assert statement.format == "camt053"
    assert statement.imported_at.astimezone(demo.TZ).date() == date(2026, 3, 13)
    assert statement.period_end == date(2026, 3, 12)
    lines = BankLine.objects.filter(organisation=demo_org)
    assert statement.line_count == lines.count()
    statuses = defaultdict(int)
    for status in lines.values_list("status", flat=True):
        statuses[status] += 1
    assert statuses[BankLineStatus.AUTO] >= 10
    assert statuses[BankLineStatus.AUTO] > 3 * (
        statuses[BankLineStatus.REVIEW] + statuses[BankLineStatus.UNMATCHED]
    )
    assert statuses[BankLineStatus.REVIEW] == 3
    assert statuses[BankLineStatus.UNMATCHED] == 3
    assert statuses[BankLineStatus.IGNORED] == 4  # the debits
    assert set(statuses) == {"auto", "review", "unmatched", "ignored"}
    credits = sum(lines.filter(direction="credit").values_list("amount", flat=True), ZERO)
    debits = sum(lines.filter(direction="debit").values_list("amount", flat=True), ZERO)
    assert statement.closing_balance == statement.opening_balance + credits - debits


def test_automatic_matches_recorded_the_payments_the_statement_brings(demo_org):
    auto = BankLine.objects.filter(organisation=demo_org, status=BankLineStatus.AUTO)
    for line in auto.select_related("payment"):
        payment = line.payment
        assert (payment.amount, payment.date, payment.client_id) == (
            line.amount,
            line.booking_date,
            line.client_id,
        )
        assert payment.unallocated == 0
        for allocation in payment.allocations.select_related("invoice"):
            assert allocation.invoice.status == InvoiceStatus.PAID
    entries = Activity.objects.filter(
        organisation=demo_org, kind="payment", at__date__gte=date(2026, 3, 13)
    )
    assert entries.count() >= auto.count()


def test_the_review_queue_and_the_unmatched_credits_tell_why(demo_org):
    review = BankLine.objects.filter(organisation=demo_org, status=BankLineStatus.REVIEW)
    reasons = [set(line.reasons) for line in review]
    assert any("number_typo" in r for r in reasons)  # a typo in the reference
    assert any("amount_partial" in r for r in reasons)  # a partial payment
    assert any(r == {"amount_only"} for r in reasons)  # a payer that is not the client
    for line in review:
        assert line.client_id and line.proposal and line.payment_id is None
        invoice = Invoice.objects.get(pk=line.proposal[0]["invoice"])
        assert invoice.client_id == line.client_id and invoice.status == InvoiceStatus.ISSUED
    unmatched = BankLine.objects.filter(organisation=demo_org, status=BankLineStatus.UNMATCHED)
    assert not unmatched.exclude(client=None).exists()
    assert unmatched.filter(remittance__contains="AVOIR", payer_name__contains="ADOBE").exists()


def test_the_clients_whose_credit_waits_for_review_are_not_chased(demo_org):
    from relance.banking import matching

    review = BankLine.objects.filter(organisation=demo_org, status=BankLineStatus.REVIEW)
    waiting = set(review.values_list("client_id", flat=True))
    assert len(waiting) == 3
    assert waiting <= matching.clients_with_pending_credit(demo_org)


def test_one_plan_is_under_way_and_one_waits_for_agreement(demo_org):
    active = PaymentPlan.objects.get(organisation=demo_org, status=PlanStatus.ACTIVE)
    rows = list(active.installments.order_by("position"))
    assert active.down_payment == rows[0].amount > 0
    assert rows[0].remaining == 0 and rows[1].remaining == 0
    assert all(row.amount_paid == 0 and row.due_date > AS_OF for row in rows[2:])
    assert active.agreed_on < rows[1].due_date < AS_OF
    assert plans.paid_since_agreement(active) == rows[0].amount + rows[1].amount
    covered = active.invoices.all()
    assert covered.filter(status__in=OPEN_STATUSES).exists()
    paused = Pause.objects.filter(kind=PauseKind.PAYMENT_PLAN, ended_on=None, invoice__in=covered)
    assert paused.count() == covered.count()
    # Since the agreement the client pays its new invoices on time.
    assert not Invoice.objects.overdue(AS_OF).filter(client=active.client).exclude(pk__in=covered)
    proposed = PaymentPlan.objects.get(organisation=demo_org, status=PlanStatus.PROPOSED)
    assert proposed.client.name == "Menuiserie Chaput SARL" and proposed.agreed_on is None
    assert AS_OF - proposed.proposed_on < timedelta(days=7)
    assert all(row.due_date > AS_OF for row in proposed.installments.all())
    assert proposed.balance == sum(i.balance for i in proposed.invoices.all())
    assert PaymentPlan.objects.filter(organisation=demo_org).count() == 2
    # Dated as the story goes, not when the demo was loaded.
    assert active.sent_at.astimezone(demo.TZ).date() == active.proposed_on
    assert {p.created_at.astimezone(demo.TZ).date() for p in paused} == {active.agreed_on}


def test_an_offer_is_open(demo_org):
    offer = SettlementOffer.objects.get(organisation=demo_org)
    assert offer.status == OfferStatus.OFFERED
    assert offer.offered_on < AS_OF <= offer.expires_on
    assert offer.balance == sum(i.balance for i in offer.invoices.all())
    assert offer.discount == (offer.balance * Decimal("0.05")).quantize(Decimal("0.01"))


def test_a_client_has_credit_and_a_double_transfer_was_refunded(demo_org):
    refund = Refund.objects.select_related("payment", "client").get(organisation=demo_org)
    twice = refund.payment
    assert refund.amount == twice.amount and twice.unallocated == 0
    assert not twice.allocations.exists()
    first = Payment.objects.filter(
        client=refund.client, amount=twice.amount, reference=twice.reference
    ).exclude(pk=twice.pk)
    assert first.count() == 1 and first.get().date < twice.date < refund.date < AS_OF
    assert settlement.credit_of(refund.client, "EUR") == 0
    lefort = Client.objects.get(organisation=demo_org, name="Cabinet Lefort Avocats")
    assert settlement.credit_of(lefort, "EUR") == Decimal("300.00")


# --- The end of the ladder: work stops, formal notices, agency, court, insolvency ---------

OPENED_BEFORE = datetime(2026, 3, 15, tzinfo=demo.TZ)


def cases(demo_org, kind, status=EscalationStatus.OPEN):
    return Escalation.objects.filter(organisation=demo_org, kind=kind, status=status)


def test_two_clients_are_on_hold_with_their_reason_since_their_story_day(demo_org):
    holds = cases(demo_org, EscalationKind.WORK_STOP).select_related("client")
    assert sorted(h.client.name for h in holds) == [
        "Menuiserie Chaput SARL",
        "Transports Rhodaniens SAS",
    ]
    for hold in holds:
        assert hold.client.status == "on_hold"
        assert hold.reason and hold.opened_on < AS_OF and hold.created_at < OPENED_BEFORE
        assert hold.amount > 0 and hold.invoices.exists()
        stopped = Activity.objects.get(
            client=hold.client, kind="status", text__contains=hold.reason
        )
        assert stopped.at.astimezone(demo.TZ).date() == hold.opened_on
        assert stopped.text.startswith("Travaux suspendus")  # the organisation's French


def test_a_formal_notice_was_sent_with_its_receipt_and_others_await_approval(
    demo_org, demo_media, settings
):
    settings.MEDIA_ROOT = demo_media
    sent = FormalNotice.objects.get(organisation=demo_org, status=NoticeStatus.SENT)
    assert sent.prepared_on <= sent.sent_on < AS_OF
    assert sent.approved_by.username == "demo" and sent.approved_at < OPENED_BEFORE
    assert sent.pdf.read(5) == b"%PDF-" and sent.receipt.read(5) == b"%PDF-"
    assert sent.receipt_name.endswith(".pdf")
    for invoice in sent.invoices.all():
        assert notices.notice_date(invoice) == sent.sent_on
    waiting = FormalNotice.objects.filter(
        organisation=demo_org, status=NoticeStatus.AWAITING_APPROVAL
    )
    assert waiting.exists()
    assert all(n.prepared_on < AS_OF and not n.pdf for n in waiting)


def test_the_unanswered_notice_went_to_court_and_another_client_to_an_agency(demo_org):
    sent = FormalNotice.objects.get(organisation=demo_org, status=NoticeStatus.SENT)
    court = cases(demo_org, EscalationKind.COURT).get()
    assert court.client_id == sent.client_id and court.client.name == "Imprimerie Gauthier SAS"
    assert court.procedure == CourtProcedure.ORDER_FOR_PAYMENT
    assert court.opened_on > sent.sent_on + timedelta(days=sent.deadline_days)
    agency = cases(demo_org, EscalationKind.COLLECTION).get()
    assert agency.agency == demo_escalation.AGENCY and agency.client.name == "Garage Morel SARL"
    for case in (court, agency):
        assert case.client.status == "in_collection" and case.amount >= 1000
        assert case.opened_on < AS_OF and case.created_at < OPENED_BEFORE
        # The ladder leaves them alone: nothing was chased while the case is open,
        # and they stopped ordering before.
        assert not Reminder.objects.filter(client=case.client, fired_on__gte=case.opened_on)
        assert not invoices(demo_org).filter(client=case.client, issue_date__gte=case.opened_on)


def test_small_debts_were_written_off_and_the_ladder_proposals_wait_or_were_declined(demo_org):
    written = cases(demo_org, EscalationKind.WRITE_OFF, EscalationStatus.CLOSED)
    assert written.count() == 2
    for case in written:
        assert case.reason and case.client.kind == "individual"
        assert {i.status for i in case.invoices.all()} == {InvoiceStatus.WRITTEN_OFF}
        assert case.amount <= 1000  # the owner's default limit
    proposals = Escalation.objects.filter(organisation=demo_org, reminder__isnull=False)
    assert proposals.filter(status=EscalationStatus.PROPOSED).exists()
    declined = proposals.get(status=EscalationStatus.DECLINED)
    assert declined.client.name == "Verdier Traiteur SAS" and declined.closed_on < AS_OF


def test_the_insolvent_client_has_its_claim_to_declare_by_the_legal_deadline(demo_org):
    case = cases(demo_org, EscalationKind.INSOLVENCY).get()
    assert case.client.name == "Brasserie des Canuts SARL" and case.client.status == "insolvent"
    assert case.procedure == InsolvencyProcedure.RECOVERY
    assert case.judgment_on < case.published_on < AS_OF
    task = Task.objects.get(escalation=case)
    assert task.kind == TaskKind.DECLARE_CLAIM and task.done_on is None
    assert task.due_on == escalation_rules.claim_deadline("FR", case.published_on) > AS_OF
    assert not task.is_late(AS_OF) and task.legal_basis


def test_an_old_consumer_invoice_is_near_its_limitation_date(demo_org):
    alerts = ends.limitation_alerts(demo_org, AS_OF)
    assert [(a["invoice"].client.kind, a["state"]) for a in alerts] == [("individual", "soon")]
    ends_on = alerts[0]["limitation"].ends_on
    assert AS_OF < ends_on <= AS_OF + timedelta(days=escalation_rules.ALERT_DAYS)


def test_the_late_fees_of_expired_notices_were_booked(demo_org):
    """The demo's date is in 2026-H1, which the shipped rate table covers."""
    fees = LateFee.objects.filter(organisation=demo_org).select_related("reminder")
    assert fees.filter(kind=FeeKind.INTEREST).exists()
    assert fees.filter(kind=FeeKind.INDEMNITY).exists()
    for fee in fees:
        assert fee.reminder.kind == "late_fee_notice"
        assert fee.booked_on == booking.effective_day(fee.reminder) < AS_OF
        assert fee.amount > 0 and fee.source
    # Nothing left that the last daily run (Friday: as-of is a Sunday) would book.
    assert booking.book_due(demo_org, date(2026, 3, 13)).booked == 0


def test_the_ladder_steps_fired_in_the_replayed_weeks_were_acted_on(demo_org):
    from relance.escalation import steps

    assert not steps.pending(demo_org, AS_OF - timedelta(days=1))
    assert StepDone.objects.filter(organisation=demo_org).exists()


def test_the_receipt_is_a_pdf_a_reader_opens():
    from io import BytesIO

    from pypdf import PdfReader

    data = demo_escalation.pdf(["Lettre recommandee (AR)", "Distribue le 04/02/2026"])
    pages = PdfReader(BytesIO(data)).pages
    assert len(pages) == 1
    text = pages[0].extract_text()
    assert "Lettre recommandee (AR)" in text and "Distribue le 04/02/2026" in text
