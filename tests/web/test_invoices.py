"""The invoice pages: the register, a document's page, the draft editor,
issuing, credit notes, write-offs, attachments and the invoice timeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance.ledger import issuing, settlement
from relance.ledger.models import Activity, Attachment, Client, Invoice, InvoiceLine

pytestmark = pytest.mark.django_db

# 2026-03-10 noon in Paris: invoices due on 2026-02-04 are 34 days late.
TODAY = "2026-03-10 11:00:00+00:00"
TODAY_DATE = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def logged_in(client, user):
    # English pages: the assertions read the msgids, whatever the catalogue says.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def as_alice(client, alice):
    return logged_in(client, alice)


@pytest.fixture
def as_rita(client, rita):
    return logged_in(client, rita)


def editor_data(client_obj, lines, installments=(), **header):
    """POST data of the draft editor."""
    data = {
        "client": str(client_obj.pk),
        "issue_date": "2026-03-10",
        "due_date": "2026-04-09",
        "currency": "EUR",
        "operation_category": "services",
        "purchase_order": "",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
        "installments-TOTAL_FORMS": str(len(installments) + 1),
        "installments-INITIAL_FORMS": "0",
        **header,
    }
    for i, (description, quantity, price, rate) in enumerate(lines):
        data.update(
            {
                f"lines-{i}-description": description,
                f"lines-{i}-quantity": quantity,
                f"lines-{i}-unit_price": price,
                f"lines-{i}-vat_rate": rate,
            }
        )
    # A blank row, as the page always offers one.
    data[f"lines-{len(lines)}-quantity"] = "1"
    data[f"lines-{len(lines)}-vat_rate"] = "20"
    for i, (due, amount) in enumerate(installments):
        data.update({f"installments-{i}-due_date": due, f"installments-{i}-amount": amount})
    return data


def errors_of(response):
    return response.content.decode()


# The register ---------------------------------------------------------------------


def test_it_lists_invoices_with_their_status_and_lateness(as_alice, client_acme, make_invoice):
    make_invoice(client_acme, "120.00", due=date(2026, 2, 4))
    make_invoice(client_acme, "60.00", issue=False)
    response = as_alice.get(reverse("invoice_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "F2026-00001" in html
    assert "ACME Industries" in html
    assert "late 34 days" in html


def test_the_overdue_filter_uses_the_organisations_date(as_alice, client_acme, make_invoice):
    late = make_invoice(client_acme, "120.00", due=date(2026, 3, 9))
    make_invoice(client_acme, "80.00", due=date(2026, 3, 10))  # due today: not late
    response = as_alice.get(reverse("invoice_list"), {"status": "overdue"})
    assert [i.pk for i in response.context["page"].object_list] == [late.pk]


def test_the_aging_filter_of_the_dashboard_selects_one_bucket(as_alice, client_acme, make_invoice):
    make_invoice(client_acme, "10.00", due=date(2026, 3, 1))  # 9 days late
    in_bucket = make_invoice(client_acme, "20.00", due=date(2026, 2, 4))  # 34 days late
    make_invoice(client_acme, "30.00", issue_date=date(2025, 11, 1), due=date(2025, 12, 1))
    response = as_alice.get(reverse("invoice_list"), {"overdue": "1", "aging": "31-60"})
    assert [i.pk for i in response.context["page"].object_list] == [in_bucket.pk]


def test_it_filters_by_client_search_currency_and_dates(as_alice, org, client_acme, make_invoice):
    other = Client.objects.create(organisation=org, name="Boulangerie Dupont")
    acme = make_invoice(client_acme, "10.00", issue_date=date(2026, 1, 5))
    dupont = make_invoice(other, "20.00", issue_date=date(2026, 2, 5), due=date(2026, 3, 5))
    usd = make_invoice(
        other, "30.00", currency="USD", issue_date=date(2026, 2, 6), due=date(2026, 3, 6)
    )

    def listed(**params):
        response = as_alice.get(reverse("invoice_list"), params)
        assert response.status_code == 200
        return {i.pk for i in response.context["page"].object_list}

    assert listed(client=client_acme.pk) == {acme.pk}
    assert listed(q="boulang") == {dupont.pk, usd.pk}
    assert listed(q=dupont.number) == {dupont.pk}
    assert listed(currency="USD") == {usd.pk}
    assert listed(issued_from="2026-02-01", issued_to="2026-02-05") == {dupont.pk}
    assert listed(due_to="2026-02-04") == {acme.pk}


def test_it_sorts_and_keeps_filters_in_page_links(as_alice, client_acme, make_invoice):
    for gross in ("30.00", "10.00", "20.00"):
        make_invoice(client_acme, gross)
    response = as_alice.get(reverse("invoice_list"), {"sort": "total"})
    totals = [i.total_gross for i in response.context["page"].object_list]
    assert totals == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00")]
    response = as_alice.get(reverse("invoice_list"), {"sort": "-total"})
    totals = [i.total_gross for i in response.context["page"].object_list]
    assert totals == [Decimal("30.00"), Decimal("20.00"), Decimal("10.00")]


def test_it_paginates_by_50_keeping_the_filters(as_alice, client_acme, make_invoice):
    for _ in range(51):
        make_invoice(client_acme, "12.00", issue=False)
    response = as_alice.get(reverse("invoice_list"), {"status": "draft"})
    assert len(response.context["page"].object_list) == 50
    assert "status=draft&amp;page=2" in response.content.decode()
    second = as_alice.get(reverse("invoice_list"), {"status": "draft", "page": "2"})
    assert len(second.context["page"].object_list) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"page": "-1"},
        {"page": "abc"},
        {"page": "99999999999999999999999"},
        {"sort": "drop table"},
        {"sort": "-"},
        {"issued_from": "2026-02-30"},
        {"due_to": "not a date"},
        {"client": "abc"},
        {"client": "99999999999999999999999"},
        {"status": "nonsense"},
        {"aging": "1000+"},
        {"q": "x" * 500},
    ],
)
def test_junk_filters_never_fail(as_alice, client_acme, make_invoice, params):
    make_invoice(client_acme)
    response = as_alice.get(reverse("invoice_list"), params)
    assert response.status_code == 200


def test_a_bad_filter_is_reported_and_lists_nothing(as_alice, client_acme, make_invoice):
    make_invoice(client_acme)
    response = as_alice.get(reverse("invoice_list"), {"issued_from": "2026-02-30"})
    assert list(response.context["page"].object_list) == []
    assert response.context["form"].errors["issued_from"]


def test_the_list_takes_the_same_queries_for_3_or_30_invoices(
    as_alice, client_acme, make_invoice, org
):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert as_alice.get(reverse("invoice_list")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        make_invoice(Client.objects.create(organisation=org, name=f"Client {i}"))
    few = count_queries()
    for i in range(27):
        make_invoice(Client.objects.create(organisation=org, name=f"More {i}"), issue=i % 2)
    assert count_queries() == few
    assert few <= 8


# A document's page ------------------------------------------------------------------


def test_the_page_shows_lines_vat_per_rate_and_what_is_owed(as_alice, client_acme):
    draft = issuing.create_draft(
        client=client_acme,
        lines=[
            ("Design", Decimal("3"), Decimal("33.333"), Decimal("20")),
            ("Books", Decimal("1"), Decimal("10"), Decimal("5.5")),
        ],
        issue_date=date(2026, 1, 5),
        due_date=date(2026, 2, 4),
    )
    invoice = issuing.issue(draft, as_of=date(2026, 1, 5))
    response = as_alice.get(reverse("invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals.net, totals.vat, totals.gross) == (
        Decimal("110.00"),
        Decimal("20.55"),
        Decimal("130.55"),
    )
    html = response.content.decode()
    assert "€33.333" in html  # the unit price is not rounded
    assert reverse("invoice_payment_create", args=[invoice.pk]) in html
    assert reverse("credit_note_create", args=[invoice.pk]) in html


def busy_invoice(client_obj, n):
    """An invoice with n lines, n payments, n credit notes, n attachments and n notes."""
    lines = [(f"Work {i}", Decimal(1), Decimal(100), Decimal(20)) for i in range(n)]
    draft = issuing.create_draft(
        client=client_obj, lines=lines, issue_date=date(2026, 1, 5), due_date=date(2026, 2, 4)
    )
    invoice = issuing.issue(draft, as_of=date(2026, 1, 5))
    for _ in range(n):
        settlement.record_payment(
            client=client_obj, amount=Decimal(10), currency="EUR", date=date(2026, 2, 1),
            shares=[settlement.Share(invoice, Decimal(10))],
        )  # fmt: skip
        issuing.credit_partially(
            invoice, lines=[("Discount", Decimal(1), Decimal(5), Decimal(20))],
            as_of=date(2026, 2, 2),
        )  # fmt: skip
        attachment = Attachment(organisation=client_obj.organisation, invoice=invoice, name="a.pdf")
        attachment.file.save("a.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return invoice


def test_the_page_takes_the_same_queries_however_busy_the_invoice(as_alice, client_acme):
    def count_queries(invoice):
        with CaptureQueriesContext(connection) as ctx:
            response = as_alice.get(reverse("invoice_detail", args=[invoice.pk]))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    quiet, busy = busy_invoice(client_acme, 1), busy_invoice(client_acme, 4)
    assert count_queries(busy) == count_queries(quiet) <= 16


def test_rita_sees_the_page_without_any_action(as_rita, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    draft = make_invoice(client_acme, issue=False)
    for doc in (invoice, draft):
        html = as_rita.get(reverse("invoice_detail", args=[doc.pk])).content.decode()
        for name in ("invoice_edit", "invoice_issue", "credit_note_create", "invoice_note"):
            assert reverse(name, args=[doc.pk]) not in html
        assert reverse("invoice_payment_create", args=[doc.pk]) not in html
        assert reverse("invoice_write_off", args=[doc.pk]) not in html
        assert reverse("attachment_upload", args=[doc.pk]) not in html
    assert reverse("invoice_create") not in as_rita.get(reverse("invoice_list")).content.decode()


# The draft editor ---------------------------------------------------------------------


def test_the_editor_preselects_the_client_and_the_organisations_currency(as_alice, client_acme):
    response = as_alice.get(reverse("invoice_create"), {"client": client_acme.pk})
    assert response.status_code == 200
    form = response.context["editor"].form
    assert form.initial["client"] == client_acme
    assert form.initial["currency"] == "EUR"
    assert form.initial["issue_date"] == date(2026, 3, 10)


def test_creating_a_draft_computes_exact_totals_over_several_rates(as_alice, client_acme):
    data = editor_data(
        client_acme,
        [
            ("Design", "3", "33,333", "20"),
            ("Books", "1", "10", "5.5"),
            ("Repairs", "2", "1 234,50", "10"),
            ("Exempt", "1", "0,99", "0"),
        ],
    )
    response = as_alice.post(reverse("invoice_create"), data)
    assert response.status_code == 302, errors_of(response)
    invoice = Invoice.objects.get()
    assert invoice.status == "draft" and invoice.number == ""
    # Nets: 100.00 @20, 10.00 @5.5, 2469.00 @10, 0.99 @0.
    assert invoice.total_net == Decimal("2579.99")
    assert invoice.total_vat == Decimal("20.00") + Decimal("0.55") + Decimal("246.90")
    assert invoice.total_gross == Decimal("2847.44")
    assert [line.unit_price for line in invoice.lines.all()] == [
        Decimal("33.3330"),
        Decimal("10.0000"),
        Decimal("1234.5000"),
        Decimal("0.9900"),
    ]


def test_a_draft_needs_at_least_one_line(as_alice, client_acme):
    response = as_alice.post(reverse("invoice_create"), editor_data(client_acme, []))
    assert response.status_code == 200
    assert "Add at least one line." in response.content.decode()
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("line", "header", "message"),
    [
        (("Work", "1", "abc", "20"), {}, "Enter a number"),
        (("Work", "1", "1e999", "20"), {}, "too large"),
        (("Work", "1", "12,345.67891", "20"), {}, "at most 4 decimals"),
        (("Work", "-1", "10", "20"), {}, "0 or more"),
        (("Work", "1", "-10", "20"), {}, "cannot be negative"),
        (("Work", "1", "10", "101"), {}, "100 or less"),
        (("Work", "99999999", "99999999999", "20"), {}, "too large"),
        (("Work", "1", "10", "20"), {"due_date": "2026-02-30"}, "valid date"),
        (("Work", "1", "10", "20"), {"due_date": "2026-03-01"}, "before the issue date"),
        (("Work", "1", "10", "20"), {"currency": "XXX"}, "valid choice"),
        (("Work", "1", "10", "20"), {"client": "abc"}, "valid choice"),
    ],
)
def test_bad_input_in_the_editor_is_an_error_and_saves_nothing(
    as_alice, client_acme, line, header, message
):
    response = as_alice.post(reverse("invoice_create"), editor_data(client_acme, [line], **header))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invoice.objects.exists()


def test_the_installments_must_add_up_to_the_total(as_alice, client_acme):
    line = [("Work", "1", "100", "20")]  # 120.00 incl. VAT
    bad = editor_data(client_acme, line, [("2026-04-09", "60"), ("2026-05-09", "50")])
    response = as_alice.post(reverse("invoice_create"), bad)
    assert "add up to 110.00" in response.content.decode()
    assert not Invoice.objects.exists()
    too_precise = editor_data(client_acme, line, [("2026-04-09", "60.001")])
    assert (
        "at most 2 decimals"
        in as_alice.post(reverse("invoice_create"), too_precise).content.decode()
    )
    good = editor_data(client_acme, line, [("2026-04-09", "60"), ("2026-05-09", "60,00")])
    assert as_alice.post(reverse("invoice_create"), good).status_code == 302
    invoice = Invoice.objects.get()
    assert [(i.due_date, i.amount) for i in invoice.installments.all()] == [
        (date(2026, 4, 9), Decimal("60.00")),
        (date(2026, 5, 9), Decimal("60.00")),
    ]


def test_yen_amounts_take_no_decimals(as_alice, client_acme):
    schedule = [("2026-04-09", "999.50"), ("2026-05-09", "0.50")]
    data = editor_data(client_acme, [("Work", "1", "1000", "0")], schedule, currency="JPY")
    response = as_alice.post(reverse("invoice_create"), data)
    assert "at most 0 decimals" in response.content.decode()


def test_the_editor_refuses_another_organisations_client(as_alice, other_org, client_acme):
    theirs = Client.objects.create(organisation=other_org, name="Not yours")
    assert as_alice.get(reverse("invoice_create"), {"client": theirs.pk}).status_code == 404
    assert as_alice.get(reverse("invoice_create"), {"client": "abc"}).status_code == 404
    response = as_alice.post(
        reverse("invoice_create"),
        editor_data(client_acme, [("W", "1", "1", "20")], client=str(theirs.pk)),
    )
    assert response.status_code == 200
    assert not Invoice.objects.exists()


def test_editing_a_draft_replaces_its_lines(as_alice, client_acme, make_invoice):
    draft = make_invoice(client_acme, "120.00", issue=False)
    page = as_alice.get(reverse("invoice_edit", args=[draft.pk]))
    assert page.context["editor"].lines.initial[0]["unit_price"] == "100"
    data = editor_data(client_acme, [("New work", "2", "50", "10")], purchase_order="PO-7")
    response = as_alice.post(reverse("invoice_edit", args=[draft.pk]), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert [line.description for line in draft.lines.all()] == ["New work"]
    assert (draft.total_net, draft.total_gross, draft.purchase_order) == (
        Decimal("100.00"),
        Decimal("110.00"),
        "PO-7",
    )


def test_an_issued_invoice_cannot_be_edited(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    page = as_alice.get(reverse("invoice_edit", args=[invoice.pk]), follow=True)
    assert "frozen" in page.content.decode()
    data = editor_data(client_acme, [("Changed", "1", "1", "20")])
    as_alice.post(reverse("invoice_edit", args=[invoice.pk]), data)
    invoice.refresh_from_db()
    assert invoice.total_gross == Decimal("120.00")
    assert [line.description for line in InvoiceLine.objects.filter(invoice=invoice)] == [
        "Prestation"
    ]


# Issuing, credit notes, write-offs --------------------------------------------------------


def test_issuing_numbers_the_drafts_in_order(as_alice, client_acme, make_invoice):
    first = make_invoice(client_acme, issue=False, issue_date=None, due=date(2026, 4, 9))
    second = make_invoice(client_acme, issue=False, issue_date=None, due=date(2026, 4, 9))
    for draft in (first, second):
        response = as_alice.post(reverse("invoice_issue", args=[draft.pk]))
        assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.number, second.number) == ("F2026-00001", "F2026-00002")
    assert first.issue_date == date(2026, 3, 10)
    assert first.status == "issued"


def test_issuing_twice_is_an_error_message(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    response = as_alice.post(reverse("invoice_issue", args=[invoice.pk]), follow=True)
    assert "already issued" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.number == "F2026-00001"


def test_a_credit_note_cancels_the_whole_invoice(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    response = as_alice.post(reverse("credit_note_create", args=[invoice.pk]), {"mode": "full"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    note = invoice.credit_notes.get()
    assert (note.number, note.total_gross) == ("AV2026-00001", Decimal("120.00"))
    assert (invoice.status, invoice.balance) == ("credited", Decimal("0.00"))
    assert response["Location"] == reverse("invoice_detail", args=[note.pk])


def credit_data(*lines):
    data = {
        "mode": "partial",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
    }
    for i, (description, quantity, price, rate) in enumerate(lines):
        data.update(
            {
                f"lines-{i}-description": description,
                f"lines-{i}-quantity": quantity,
                f"lines-{i}-unit_price": price,
                f"lines-{i}-vat_rate": rate,
            }
        )
    return data


def test_a_partial_credit_note_lowers_the_balance(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    data = credit_data(("Late delivery", "1", "25", "20"))
    assert as_alice.post(reverse("credit_note_create", args=[invoice.pk]), data).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.balance) == (Decimal("30.00"), Decimal("90.00"))
    assert invoice.status == "partially_paid"


def test_a_credit_note_larger_than_the_balance_is_refused(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    data = credit_data(("Too much", "1", "101", "20"))
    response = as_alice.post(reverse("credit_note_create", args=[invoice.pk]), data)
    assert response.status_code == 200
    assert "more than the 120.00 left to pay" in response.content.decode()
    assert not Invoice.objects.filter(kind="credit_note").exists()  # not even a draft
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("120.00")


def test_a_partly_paid_invoice_cannot_be_cancelled_in_full(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    settlement.record_payment(
        client=client_acme, amount=Decimal("20"), currency="EUR", date=date(2026, 2, 1),
        shares=[settlement.Share(invoice, Decimal("20"))],
    )  # fmt: skip
    response = as_alice.post(reverse("credit_note_create", args=[invoice.pk]), {"mode": "full"})
    assert response.status_code == 200
    assert "partly settled" in response.content.decode()
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_writing_off_needs_a_reason(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    url = reverse("invoice_write_off", args=[invoice.pk])
    response = as_alice.post(url, {"reason": "   "})
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert as_alice.post(url, {"reason": "Liquidation closed"}).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.written_off_reason) == ("written_off", "Liquidation closed")


# The timeline ---------------------------------------------------------------------------


def test_a_note_is_added_to_the_invoice_timeline(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    url = reverse("invoice_note", args=[invoice.pk])
    response = as_alice.post(url, {"kind": "note", "text": "Sent by post too"})
    assert response.status_code == 302
    note = Activity.objects.get(kind="note")
    assert (note.invoice, note.client, note.author.username) == (invoice, client_acme, "alice")


def test_htmx_gets_the_timeline_back_alone(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    url = reverse("invoice_note", args=[invoice.pk])
    response = as_alice.post(
        url,
        {"kind": "call", "call_outcome": "promise", "text": "Pays Friday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="invoice-timeline"' in html and "Pays Friday" in html
    assert "<html" not in html
    assert Activity.objects.get(kind="call").call_outcome == "promise"


def test_a_call_without_its_outcome_is_refused(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    response = as_alice.post(reverse("invoice_note", args=[invoice.pk]), {"kind": "call"})
    assert response.status_code == 200
    assert not Activity.objects.filter(kind="call").exists()


# Attachments -----------------------------------------------------------------------------


def upload(as_user, invoice, name, content):
    url = reverse("attachment_upload", args=[invoice.pk])
    return as_user.post(url, {"file": SimpleUploadedFile(name, content)})


def test_a_pdf_is_attached_and_downloaded(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    response = upload(as_alice, invoice, "bon de commande é.pdf", b"%PDF-1.7 order")
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.organisation, attachment.name) == (
        client_acme.organisation,
        "bon de commande é.pdf",
    )
    assert Activity.objects.filter(kind="attachment", invoice=invoice).exists()
    download = as_alice.get(reverse("attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7 order"
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "Only PDF, PNG, JPEG"),
        ("noextension", b"hello", "Only PDF, PNG, JPEG"),
        ("fake.pdf", b"<html>not a pdf", "does not match"),
        ("fake.png", b"%PDF-1.4", "does not match"),
        ("binary.txt", b"\x00\x01\x02", "does not match"),
    ],
)
def test_only_allowed_files_are_attached(
    as_alice, client_acme, make_invoice, name, content, message
):
    invoice = make_invoice(client_acme)
    response = upload(as_alice, invoice, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Attachment.objects.exists()


def test_text_csv_and_images_are_accepted(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    for name, content in [
        ("relevé.csv", "date;montant\n2026-01-05;120,00\n".encode("cp1252")),
        ("notes.txt", "Appelé lundi, promesse vendredi".encode()),
        ("scan.PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 10),
        ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 10),
    ]:
        assert upload(as_alice, invoice, name, content).status_code == 302, name
    assert Attachment.objects.count() == 4


def test_files_over_10_mb_are_refused(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    content = b"%PDF-" + b"0" * (10 * 1024 * 1024 - 4)
    response = upload(as_alice, invoice, "big.pdf", content)
    assert "larger than 10 MB" in response.content.decode()
    assert not Attachment.objects.exists()


# The services behind the editor (relance.ledger.issuing) -------------------------------


def test_update_draft_refuses_an_issued_invoice(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(issuing.IssueError, match="frozen"):
        issuing.update_draft(invoice, lines=[("New", Decimal(1), Decimal(1), Decimal(20))])
    assert Invoice.objects.get(pk=invoice.pk).total_gross == Decimal("120.00")


def test_update_draft_replaces_lines_and_schedule(client_acme, make_invoice):
    draft = make_invoice(client_acme, "120.00", issue=False)
    issuing.set_installments(draft, [(date(2026, 3, 1), Decimal("120.00"))])
    updated = issuing.update_draft(
        draft,
        lines=[("A", Decimal(2), Decimal("50"), Decimal("20"))],
        installments=[(date(2026, 3, 1), Decimal("60")), (date(2026, 4, 1), Decimal("60"))],
        purchase_order="PO-1",
    )
    assert (updated.total_gross, updated.balance) == (Decimal("120.00"), Decimal("120.00"))
    assert [i.position for i in updated.installments.all()] == [1, 2]
    assert issuing.issue(updated, as_of=date(2026, 1, 5)).number == "F2026-00001"


def test_a_refused_partial_credit_note_leaves_no_draft(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(issuing.IssueError):
        issuing.credit_partially(
            invoice, lines=[("Too much", Decimal(1), Decimal(200), Decimal(20))], as_of=TODAY_DATE
        )
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_more_lines_shows_blank_rows_and_saves_nothing(as_alice, client_acme):
    data = editor_data(client_acme, [("Work", "1", "10", "20")], more_lines="1")
    response = as_alice.post(reverse("invoice_create"), data)
    assert response.status_code == 200
    assert response.context["editor"].lines.total_form_count() == 5
    assert 'value="Work"' in response.content.decode()
    assert not Invoice.objects.exists()
