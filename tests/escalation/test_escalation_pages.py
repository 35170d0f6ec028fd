"""The escalation pages: the client panel's actions, each confirmed; the blocking
warning on new work for a client on hold; roles and tenants."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relance.escalation import holds
from relance.escalation.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    FormalNotice,
    NoticeStatus,
    Task,
)
from relance.ledger import issuing
from relance.ledger.models import Activity, ClientStatus, Invoice, InvoiceStatus

NOW = datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
AS_OF = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _monday_1_june():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def page(response):
    return response.content.decode().replace("\xa0", " ")


def test_the_client_page_shows_the_panel(as_alice, debtor, overdue):
    text = page(as_alice.get(f"/clients/{debtor.pk}/"))
    assert 'id="escalation"' in text
    assert "Overdue for 117 days." in text
    assert "Advice: hand the case to a collection agency." in text
    assert "An agency would keep €" in text
    assert "claim in court by" in text
    for name in (
        "escalation_hold",
        "escalation_handoff",
        "escalation_court",
        "escalation_insolvent",
    ):
        assert reverse(name, args=[debtor.pk]) in text


def test_stopping_work_needs_a_confirmation_then_tells_the_client(
    as_alice, debtor, overdue, smtp_server
):
    url = reverse("escalation_hold", args=[debtor.pk])
    assert "I confirm" in page(as_alice.get(url))
    refused = as_alice.post(url, {"reason": "Unpaid since February", "notify": "on"})
    assert refused.status_code == 400 and "Tick the box to confirm." in page(refused)
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE and not smtp_server.messages
    done = as_alice.post(
        url, {"reason": "Unpaid since February", "notify": "on", "confirm": "on"}, follow=True
    )
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    assert "Work is stopped for this client until they pay." in page(done)
    assert len(smtp_server.messages) == 1
    resume = as_alice.post(
        reverse("escalation_close", args=[Escalation.objects.get().pk]), {"confirm": "on"}
    )
    assert resume.status_code == 302
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE


def editor_data(client_obj, **extra):
    return {
        "client": str(client_obj.pk),
        "issue_date": "2026-06-01",
        "due_date": "2026-07-01",
        "currency": "EUR",
        "operation_category": "services",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "installments-TOTAL_FORMS": "1",
        "installments-INITIAL_FORMS": "0",
        "lines-0-description": "Design",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-vat_rate": "20",
        **extra,
    }


def test_new_work_for_a_client_on_hold_must_be_overridden(as_alice, debtor, overdue):
    holds.put_on_hold(debtor, reason="Unpaid since February", as_of=AS_OF)
    form = page(as_alice.get(reverse("invoice_create") + f"?client={debtor.pk}"))
    assert "Work is stopped for ACME Industries until they pay." in form
    assert holds.OVERRIDE_FIELD in form
    before = Invoice.objects.count()
    refused = as_alice.post(reverse("invoice_create"), editor_data(debtor))
    assert refused.status_code == 200
    assert "tick the box to go ahead anyway" in page(refused)
    assert "Unpaid since February" in page(refused)
    assert Invoice.objects.count() == before
    created = as_alice.post(
        reverse("invoice_create"), editor_data(debtor, **{holds.OVERRIDE_FIELD: "1"})
    )
    assert created.status_code == 302
    draft = Invoice.objects.get(status=InvoiceStatus.DRAFT)
    assert Activity.objects.filter(client=debtor, text__contains="Work stop overridden").exists()

    detail = page(as_alice.get(reverse("invoice_detail", args=[draft.pk])))
    assert 'id="work-stop-warning"' in detail
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT
    as_alice.post(
        reverse("invoice_issue", args=[draft.pk]), {"mode": "none", holds.OVERRIDE_FIELD: "1"}
    )
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.ISSUED


def test_an_active_client_gets_no_warning(as_alice, debtor):
    form = page(as_alice.get(reverse("invoice_create") + f"?client={debtor.pk}"))
    assert "work-stop-warning" not in form
    assert as_alice.post(reverse("invoice_create"), editor_data(debtor)).status_code == 302


def test_the_formal_notice_from_preparation_to_proof(as_alice, debtor, overdue):
    as_alice.post(reverse("escalation_notice", args=[debtor.pk]))
    notice = FormalNotice.objects.get()
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    draft = as_alice.get(reverse("notice_pdf", args=[notice.pk]))
    assert draft["Content-Type"] == "application/pdf"
    as_alice.post(reverse("notice_approve", args=[notice.pk]))  # not confirmed
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    as_alice.post(reverse("notice_approve", args=[notice.pk]), {"confirm": "on"})
    as_alice.post(reverse("notice_sent", args=[notice.pk]), {"sent_on": "2026-06-01"})
    receipt = SimpleUploadedFile("ar.pdf", b"%PDF receipt", "application/pdf")
    as_alice.post(reverse("notice_receipt", args=[notice.pk]), {"receipt": receipt})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.sent_on == AS_OF
    assert notice.receipt_name == "ar.pdf"
    download = as_alice.get(reverse("notice_receipt_file", args=[notice.pk]))
    assert b"".join(download.streaming_content) == b"%PDF receipt"


def test_a_notice_for_a_debt_not_due_is_refused(as_alice, debtor, make_invoice):
    make_invoice(debtor, "300.00", issue_date=date(2026, 5, 2), due=date(2026, 6, 1))
    response = as_alice.post(reverse("escalation_notice", args=[debtor.pk]), follow=True)
    assert "Choose at least one overdue invoice." in page(response)
    assert not FormalNotice.objects.exists()


def test_write_off_above_the_owner_s_limit_is_refused(as_alice, org, debtor, overdue):
    EscalationSettings.objects.create(organisation=org, write_off_limit=Decimal("500.00"))
    url = reverse("escalation_write_off", args=[debtor.pk])
    data = {"invoices": [overdue[1].pk], "reason": "Gone", "confirm": "on"}
    refused = as_alice.post(url, data, follow=True)
    assert "€800.00 is above the write-off limit of €500.00 set by the owner" in page(refused)
    overdue[1].refresh_from_db()
    assert overdue[1].status == InvoiceStatus.ISSUED


def test_write_off_then_its_accounting_line(as_alice, debtor, overdue):
    url = reverse("escalation_write_off", args=[debtor.pk])
    as_alice.post(url, {"invoices": [overdue[1].pk], "reason": "Gone", "confirm": "on"})
    case = Escalation.objects.get(kind=EscalationKind.WRITE_OFF)
    line = as_alice.get(reverse("escalation_write_off_csv", args=[case.pk])).content
    assert b"666.67;133.33;800.00;EUR;Gone" in line
    assert reverse("escalation_write_off_csv", args=[case.pk]) in page(
        as_alice.get(reverse("escalation_list"))
    )


def test_agency_court_and_insolvency_from_the_panel(as_alice, debtor, overdue):
    archive = as_alice.get(reverse("escalation_case_file", args=[debtor.pk]))
    assert "case-file.pdf" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    dossier = as_alice.get(reverse("escalation_dossier", args=[debtor.pk]))
    assert dossier.content.startswith(b"%PDF")
    as_alice.post(
        reverse("escalation_handoff", args=[debtor.pk]), {"agency": "Recouvre SA", "confirm": "on"}
    )
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.IN_COLLECTION
    text = page(as_alice.get(f"/clients/{debtor.pk}/"))
    assert "Recouvre SA" in text and "End the case" in text
    insolvent = as_alice.post(
        reverse("escalation_insolvent", args=[debtor.pk]),
        {
            "procedure": "liquidation",
            "judgment_on": "2026-05-20",
            "published_on": "2026-05-29",
            "confirm": "on",
        },
    )
    assert insolvent.status_code == 302
    task = Task.objects.get()
    assert task.due_on == date(2026, 7, 29)
    listing = page(as_alice.get(reverse("escalation_list")))
    assert "Declare the claim" in listing and "7/29/2026" in listing.replace(
        "07/29/2026", "7/29/2026"
    )


def test_read_only_and_other_tenants(client, rita, charlie, debtor, overdue):
    client.force_login(rita)
    assert (
        client.post(
            reverse("escalation_hold", args=[debtor.pk]), {"reason": "x", "confirm": "on"}
        ).status_code
        == 403
    )
    assert client.get(reverse("escalation_list")).status_code == 200
    assert client.get(reverse("escalation_settings")).status_code == 403
    client.force_login(charlie)
    for name in ("escalation_hold", "escalation_case_file", "escalation_dossier"):
        assert client.get(reverse(name, args=[debtor.pk])).status_code == 404, name
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE


def test_only_the_owner_sets_the_limit(client, bob, alice, org):
    client.force_login(bob)
    assert client.get(reverse("escalation_settings")).status_code == 403
    client.force_login(alice)
    data = {
        "lift_hold_on_payment": "on",
        "write_off_threshold": "100",
        "write_off_limit": "2500",
        "agency_from": "1000",
        "agency_after_days": "90",
        "agency_fee_percent": "30",  # outside 10-25 %
        "notice_days": "8",
    }
    assert client.post(reverse("escalation_settings"), data).status_code == 200
    client.post(reverse("escalation_settings"), {**data, "agency_fee_percent": "15"})
    assert EscalationSettings.objects.get(organisation=org).write_off_limit == Decimal("2500")


def test_nothing_unlawful_is_offered(as_alice, debtor, overdue):
    """No action or field reaches anyone but the debtor itself."""
    text = page(as_alice.get(f"/clients/{debtor.pk}/")).lower()
    panel = text[text.index('id="escalation"') :]
    panel = panel[: panel.index("</section>")]
    for word in ("employer", "investor", "family", "neighbour", "publish", "blacklist"):
        assert word not in panel


def test_issuing_by_the_ledger_is_not_blocked(debtor, overdue):
    """The warning is for people; imports and recurring invoices are not stopped."""
    holds.put_on_hold(debtor, reason="x", as_of=AS_OF)
    draft = issuing.create_draft(
        client=debtor,
        lines=[("x", Decimal(1), Decimal(10), Decimal(20))],
        issue_date=AS_OF,
        due_date=date(2026, 7, 1),
    )
    assert issuing.issue(draft, as_of=AS_OF).status == InvoiceStatus.ISSUED


def test_a_hold_set_elsewhere_is_resumed_from_the_panel(as_alice, debtor):
    debtor.status = ClientStatus.ON_HOLD
    debtor.save()
    assert 'id="resume-work"' in page(as_alice.get(f"/clients/{debtor.pk}/"))
    as_alice.post(reverse("escalation_resume", args=[debtor.pk]), {"confirm": "on"})
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE


def test_the_invoice_page_shows_its_limitation_date(as_alice, consumer, make_invoice):
    old = make_invoice(consumer, "90.00", issue_date=date(2024, 2, 1), due=date(2024, 9, 1))
    text = page(as_alice.get(reverse("invoice_detail", args=[old.pk])))
    assert 'id="limitation-date"' in text and "less than 90 days left" not in text
    with time_machine.travel(datetime(2026, 6, 3, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        text = page(as_alice.get(reverse("invoice_detail", args=[old.pk])))
    assert "Sept. 1, 2026" in text and "less than 90 days left" in text


def test_the_invoice_page_s_write_off_keeps_to_the_limit(as_alice, org, debtor, overdue):
    EscalationSettings.objects.create(organisation=org, write_off_limit=Decimal("1000.00"))
    url = reverse("invoice_write_off", args=[overdue[0].pk])  # 1,200.00
    refused = as_alice.post(url, {"reason": "Gone"}, follow=True)
    assert "above the write-off limit" in page(refused)
    overdue[0].refresh_from_db()
    assert overdue[0].status == InvoiceStatus.ISSUED
    as_alice.post(reverse("invoice_write_off", args=[overdue[1].pk]), {"reason": "Gone"})
    overdue[1].refresh_from_db()
    assert overdue[1].status == InvoiceStatus.WRITTEN_OFF
    assert Escalation.objects.get(kind=EscalationKind.WRITE_OFF).invoices.get() == overdue[1]


def test_the_dashboard_lists_what_escalation_waits_for(as_alice, debtor, overdue):
    box = reverse("reminder_dashboard_box")
    assert "0 formal notices to approve or send" in page(as_alice.get(box))
    as_alice.post(reverse("escalation_notice", args=[debtor.pk]))
    assert "1 formal notice to approve or send" in page(as_alice.get(box))
    as_alice.post(
        reverse("escalation_insolvent", args=[debtor.pk]),
        {"procedure": "liquidation", "judgment_on": "2026-05-20", "published_on": "2026-05-29",
         "confirm": "on"},
    )  # fmt: skip
    text = page(as_alice.get(box))
    assert "0 formal notices to approve or send" in text  # insolvency cancelled it
    assert "1 claim to declare" in text
