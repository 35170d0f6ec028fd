"""Every business URL that takes an id answers 404 to another organisation.

The list of URLs is read from the URL map itself, so a new page that takes
an id is covered the day it is added (or this test fails until it is
mapped to its model below).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, reverse

from relance.banking import urls as bank_urls
from relance.banking.models import BankLine, StatementImport, StatementUpload
from relance.dunning import urls_operations as dunning_operations
from relance.dunning import urls_policies as dunning_policies
from relance.dunning.models import Message, Pause, Policy
from relance.escalation import urls as escalation_urls
from relance.escalation.models import Escalation, FormalNotice, Task
from relance.fees import urls as fee_urls
from relance.fees.models import LateFee
from relance.imports import batches
from relance.imports import urls as import_urls
from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice
from relance.ledger import settlement
from relance.ledger.models import Activity, Attachment, Client, Contact, Invoice, Payment
from relance.plans import offers as plan_offers
from relance.plans import service as plan_service
from relance.plans import urls as plan_urls
from relance.plans.models import PaymentPlan, SettlementOffer
from relance.web import urls as web_urls

# URL name -> the kind of object its <pk> names.
PK_KIND = {
    "client_detail": "client", "client_edit": "client", "client_note": "client",
    "client_call": "client", "contact_create": "client", "client_payment_create": "client",
    "contact_edit": "contact",
    "invoice_detail": "invoice", "invoice_edit": "invoice", "invoice_issue": "invoice",
    "credit_note_create": "invoice", "invoice_write_off": "invoice", "invoice_note": "invoice",
    "attachment_upload": "invoice", "invoice_payment_create": "invoice",
    "attachment_download": "attachment",
    "payment_detail": "payment",
    "import_mapping": "batch", "import_preview": "batch", "import_confirm": "batch",
    "import_result": "batch",
    "invoice_pdf": "invoice", "invoice_send": "invoice", "invoice_send_later": "invoice",
    "terms_edit": "terms", "terms_delete": "terms", "terms_default": "terms",
    "recurring_edit": "recurring", "recurring_pause": "recurring", "recurring_resume": "recurring",
    "reminder_policy_edit": "policy", "reminder_policy_duplicate": "policy",
    "reminder_policy_delete": "policy", "reminder_policy_default": "policy",
    "reminder_approve": "message", "reminder_reject": "message", "reminder_resolve": "message",
    "reminder_call_log": "call", "reminder_cancel": "call",
    "reminder_letter_pdf": "letter", "reminder_letter_printed": "letter",
    "reminder_client_pause": "client", "reminder_client_reason": "client",
    "reminder_client_history_csv": "client", "reminder_client_history_pdf": "client",
    "reminder_invoice_pause": "invoice", "reminder_invoice_panel": "invoice",
    "reminder_invoice_history_csv": "invoice", "reminder_invoice_history_pdf": "invoice",
    "reminder_pause_lift": "pause",
    "payment_reverse": "payment", "invoice_apply_credit": "invoice",
    "client_apply_credit": "client", "client_refund_create": "client",
    "bank_line_match": "bank_line", "bank_statement_columns": "upload",
    "bank_statement_detail": "statement",
    "plan_detail": "plan", "plan_pdf": "plan", "plan_agree": "plan", "plan_cancel": "plan",
    "plan_send": "plan", "offer_withdraw": "offer",
    "plan_create": "client", "plan_preview": "client", "offer_create": "client",
    "escalation_hold": "client", "escalation_resume": "client", "escalation_notice": "client",
    "escalation_handoff": "client", "escalation_court": "client",
    "escalation_write_off": "client", "escalation_insolvent": "client",
    "escalation_case_file": "client", "escalation_dossier": "client",
    "notice_approve": "notice", "notice_sent": "notice", "notice_receipt": "notice",
    "notice_cancel": "notice", "notice_pdf": "notice", "notice_receipt_file": "notice",
    "escalation_close": "case", "escalation_decline": "case",
    "escalation_write_off_csv": "write_off", "escalation_task_done": "task",
    "fees_invoice": "invoice", "fees_client": "client", "late_fee_waive": "fee",
}  # fmt: skip


def pk_patterns() -> list[URLPattern]:
    patterns = [
        *web_urls.urlpatterns,
        *import_urls.urlpatterns,
        *dunning_policies.urlpatterns,
        *dunning_operations.urlpatterns,
        *bank_urls.urlpatterns,
        *plan_urls.urlpatterns,
        *escalation_urls.urlpatterns,
        *fee_urls.urlpatterns,
    ]
    return [
        p for p in patterns if "<int:pk>" in str(p.pattern) or "<int:client_pk>" in str(p.pattern)
    ]


@pytest.fixture
def alices_things(alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "240.00", due=date(2026, 2, 4))
    draft = make_invoice(client_acme, "60.00", issue=False)
    contact = Contact.objects.create(
        organisation=client_acme.organisation,
        client=client_acme,
        last_name="Martin",
        email="compta@example.com",
    )
    attachment = Attachment(organisation=client_acme.organisation, invoice=invoice, name="bc.pdf")
    attachment.file.save("bc.pdf", ContentFile(b"%PDF-1.4 purchase order"), save=True)
    payment = settlement.record_payment(
        client=client_acme,
        amount=Decimal("40.00"),
        currency="EUR",
        date=date(2026, 2, 10),
        shares=[settlement.Share(invoice, Decimal("40.00"))],
    )
    batch = batches.start(client_acme.organisation, "csv", [("f.csv", b"Number,Client\nF1,A\n")])
    terms = PaymentTermsTemplate.objects.create(
        organisation=client_acme.organisation, name="30 jours", kind="net", days=30
    )
    recurring = RecurringInvoice.objects.create(
        organisation=client_acme.organisation,
        client=client_acme,
        name="Maintenance",
        lines=[{"description": "Upkeep", "quantity": "1", "unit_price": "500", "vat_rate": "20"}],
        next_date=date(2026, 3, 1),
        terms_template=terms,
    )
    org = client_acme.organisation
    outbox = {"organisation": org, "client": client_acme, "day": date(2026, 2, 5)}
    message = Message.objects.create(
        **outbox, channel="email", tone="firm", template="firm", status="approval"
    )
    call = Message.objects.create(
        **outbox, channel="call", tone="friendly", template="friendly", status="todo"
    )
    letter = Message(**outbox, channel="letter", tone="formal", template="formal", status="todo")
    letter.pdf.save("letter.pdf", ContentFile(b"%PDF-1.4 letter"), save=True)
    pause = Pause.objects.create(
        organisation=org, client=client_acme, kind="snooze", starts_on=date(2026, 2, 5),
        until=date(2026, 3, 1),
    )  # fmt: skip
    statement = StatementImport.objects.create(
        organisation=org, format="camt053", sha256="0" * 64, currency="EUR"
    )
    bank_line = BankLine.objects.create(
        organisation=org, statement=statement, booking_date=date(2026, 2, 11),
        amount=Decimal("200.00"), direction="credit", currency="EUR", fingerprint="f" * 64,
        status="review",
    )  # fmt: skip
    upload = StatementUpload.objects.create(organisation=org, filename="s.csv", data=b"a;b\n")
    plan = plan_service.propose(
        client_acme, [invoice], plan_service.Proposal(count=2), as_of=date(2026, 3, 1)
    )
    offer = plan_offers.make(
        client_acme, [invoice], kind="percent", value=Decimal("5"),
        expires_on=date(2026, 3, 10), as_of=date(2026, 3, 1),
    )  # fmt: skip
    notice = FormalNotice.objects.create(
        organisation=org, client=client_acme, prepared_on=date(2026, 3, 1), status="approval"
    )
    notice.invoices.add(invoice)
    notice.receipt.save("receipt.pdf", ContentFile(b"%PDF-1.4 receipt"), save=True)
    case = Escalation.objects.create(
        organisation=org, client=client_acme, kind="collection", status="proposed",
        currency="EUR", opened_on=date(2026, 3, 1),
    )  # fmt: skip
    write_off = Escalation.objects.create(
        organisation=org, client=client_acme, kind="write_off", status="closed",
        currency="EUR", opened_on=date(2026, 3, 1), closed_on=date(2026, 3, 1),
        amount=Decimal("60.00"), reason="Too small to chase",
    )  # fmt: skip
    task = Task.objects.create(
        organisation=org, client=client_acme, escalation=case, kind="declare_claim",
        text="Declare the claim", due_on=date(2026, 5, 1),
    )  # fmt: skip
    fee = LateFee.objects.create(
        organisation=org, client=client_acme, invoice=invoice, kind="indemnity",
        amount=Decimal("40.00"), currency="EUR", booked_on=date(2026, 3, 1), source="D441-5",
    )  # fmt: skip
    return {
        "notice": notice,
        "case": case,
        "write_off": write_off,
        "task": task,
        "fee": fee,
        "bank_line": bank_line,
        "statement": statement,
        "upload": upload,
        "plan": plan,
        "offer": offer,
        "policy": Policy.objects.get(organisation=org, builtin="gentle"),
        "message": message,
        "call": call,
        "letter": letter,
        "pause": pause,
        "terms": terms,
        "recurring": recurring,
        "batch": batch,
        "client": client_acme,
        "contact": contact,
        "invoice": invoice,
        "draft": draft,
        "attachment": attachment,
        "payment": payment,
    }


def test_it_maps_every_url_that_takes_an_id():
    names = {p.name for p in pk_patterns()}
    assert names == set(PK_KIND), "map the new URL to the kind of object it names"


def _snapshot():
    return (
        Activity.objects.count(),
        Payment.objects.count(),
        Invoice.objects.count(),
        Contact.objects.count(),
        Attachment.objects.count(),
        list(Invoice.objects.order_by("pk").values_list("status", "balance", "number")),
        list(PaymentTermsTemplate.objects.order_by("pk").values_list("name", "is_default")),
        list(RecurringInvoice.objects.order_by("pk").values_list("name", "active", "next_date")),
        list(Message.objects.order_by("pk").values_list("status", "outcome")),
        list(Pause.objects.order_by("pk").values_list("ended_on", "kind")),
        list(Policy.objects.order_by("pk").values_list("name", "is_default")),
        list(BankLine.objects.order_by("pk").values_list("status", "payment_id", "client_id")),
        StatementUpload.objects.count(),
        list(PaymentPlan.objects.order_by("pk").values_list("status", "agreed_on")),
        list(SettlementOffer.objects.order_by("pk").values_list("status", "sent_at")),
        list(FormalNotice.objects.order_by("pk").values_list("status", "sent_on", "receipt")),
        list(Escalation.objects.order_by("pk").values_list("status", "kind", "closed_on")),
        list(Task.objects.order_by("pk").values_list("done_on", flat=True)),
        list(LateFee.objects.order_by("pk").values_list("waived_on", flat=True)),
        list(Client.objects.order_by("pk").values_list("status", flat=True)),
    )


@pytest.mark.parametrize("name", sorted(PK_KIND))
def test_another_organisation_gets_404(client, charlie, alices_things, name):
    client.force_login(charlie)
    before = _snapshot()
    targets = [alices_things[PK_KIND[name]]]
    if PK_KIND[name] == "invoice":
        targets.append(alices_things["draft"])
    for target in targets:
        url = reverse(name, args=[target.pk])
        assert client.get(url).status_code == 404, url
        response = client.post(
            url,
            {
                "text": "x",
                "kind": "note",
                "amount": "1",
                "reason": "x",
                "last_name": "X",
                "name": "X",
            },
        )
        assert response.status_code == 404, url
    assert _snapshot() == before


@pytest.mark.parametrize("name", sorted(PK_KIND))
def test_anonymous_is_sent_to_login(client, alices_things, name):
    target = alices_things[PK_KIND[name]]
    response = client.get(reverse(name, args=[target.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_owner_reaches_the_same_urls(client, alice, alices_things):
    client.force_login(alice)
    for name, kind in PK_KIND.items():
        if name in (
            "invoice_issue",
            "invoice_write_off",
            "client_note",
            "client_call",
            "invoice_note",
            "attachment_upload",
        ):
            continue  # POST-only actions
        target = alices_things[kind]
        response = client.get(reverse(name, args=[target.pk]))
        # 405: a POST-only action, reached (another organisation gets 404 above).
        assert response.status_code in (200, 302, 405), f"{name}: {response.status_code}"
