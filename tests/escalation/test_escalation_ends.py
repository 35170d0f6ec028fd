"""End of the ladder: agency, court, write-off, insolvency; the ladder stops and
the decisions stay on the timeline."""

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine

from relance.dunning import engine
from relance.dunning.models import Chase
from relance.escalation import documents, ends, notices
from relance.escalation.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    Task,
)
from relance.ledger.models import Activity, ClientStatus, Invoice, InvoiceStatus

AS_OF = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 10, 0)


def test_the_proposal_follows_amount_and_age(debtor, overdue):
    proposal = ends.proposal(debtor, AS_OF)  # 2,000 €, 117 days late
    assert [o.value for o in proposal.options] == [
        "agency",
        "small_claims",
        "order_for_payment",
        "write_off",
    ]
    assert proposal.days_late == 117
    assert ends.proposal(debtor, date(2026, 2, 4)) is None  # nothing overdue yet


def test_nothing_is_proposed_to_a_client_already_in_court(debtor, overdue, alice):
    ends.go_to_court(debtor, procedure="order_for_payment", as_of=AS_OF, author=alice)
    assert ends.proposal(debtor, AS_OF) is None


def test_handing_off_stops_the_ladder_until_the_case_ends(org, debtor, overdue, alice):
    engine.run(org, date(2026, 2, 5))
    case = ends.hand_off(debtor, agency="Recouvre SA", as_of=AS_OF, author=alice)
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.IN_COLLECTION
    assert case.amount == Decimal("2000.00") and case.agency == "Recouvre SA"
    engine.run(org, AS_OF)
    assert not Chase.objects.filter(client=debtor, closed=False).exists()
    with pytest.raises(ends.EndRefused, match="already in progress"):
        ends.go_to_court(debtor, procedure="order_for_payment", as_of=AS_OF)
    ends.close_case(case, as_of=date(2026, 7, 1), author=alice, outcome="agency gave up")
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE
    assert Chase.objects.filter(client=debtor, closed=False).count() == 2
    texts = list(Activity.objects.filter(client=debtor).values_list("text", flat=True))
    assert any("Recouvre SA" in t for t in texts)
    assert any("agency gave up" in t for t in texts)


def test_court_small_claims_only_up_to_5000(debtor, overdue, make_invoice, alice):
    make_invoice(debtor, "3000.01", issue_date=date(2026, 1, 25), due=date(2026, 2, 24))
    with pytest.raises(ends.EndRefused, match="5,000"):
        ends.go_to_court(debtor, procedure="small_claims", as_of=AS_OF, author=alice)
    case = ends.go_to_court(debtor, procedure="order_for_payment", as_of=AS_OF, author=alice)
    assert case.kind == EscalationKind.COURT
    assert "injonction" in case.procedure_display
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.IN_COLLECTION


def test_a_court_claim_interrupts_the_limitation(debtor, overdue, alice):
    assert ends.limitation_of(overdue[0]).ends_on == date(2031, 2, 4)
    ends.go_to_court(debtor, procedure="small_claims", as_of=AS_OF, author=alice)
    assert ends.limitation_of(overdue[0]).ends_on == date(2031, 6, 1)


def test_write_off_below_the_limit_with_an_accounting_line(org, debtor, overdue, alice):
    EscalationSettings.objects.create(organisation=org, write_off_limit=Decimal("900.00"))
    with pytest.raises(ends.EndRefused, match="above the write-off limit"):
        ends.write_off(debtor, overdue, reason="gone", as_of=AS_OF, author=alice)
    with pytest.raises(ends.EndRefused, match="reason"):
        ends.write_off(debtor, [overdue[1]], reason=" ", as_of=AS_OF, author=alice)
    case = ends.write_off(debtor, [overdue[1]], reason="Client vanished", as_of=AS_OF, author=alice)
    overdue[1].refresh_from_db()
    assert overdue[1].status == InvoiceStatus.WRITTEN_OFF
    assert case.status == EscalationStatus.CLOSED
    rows = list(
        csv.reader(io.StringIO(documents.write_off_csv(case).decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][:8] == [
        "date", "journal", "piece", "client", "invoice", "debit_654", "debit_44571", "credit_411",
    ]  # fmt: skip
    # 800.00 incl. 20 % VAT: 666.67 loss + 133.33 VAT.
    assert rows[1][:8] == [
        "2026-06-01", "OD", f"WO-{case.pk}", "ACME Industries", overdue[1].number,
        "666.67", "133.33", "800.00",
    ]  # fmt: skip
    assert rows[1][-1] == "Client vanished"


@time_machine.travel(NOW, tick=False)
def test_insolvency_stops_reminders_and_fees_and_sets_the_task(org, debtor, overdue, alice):
    from relance.fees.accrual import for_invoice

    engine.run(org, date(2026, 2, 5))
    waiting = notices.prepare(debtor, as_of=AS_OF, author=alice)
    case = ends.mark_insolvent(
        debtor,
        procedure="recovery",
        judgment_on=date(2026, 5, 20),
        published_on=date(2026, 5, 29),
        as_of=AS_OF,
        author=alice,
    )
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.INSOLVENT
    task = Task.objects.get(escalation=case)
    assert task.due_on == date(2026, 7, 29)  # two months from the BODACC publication
    assert "R622-24" in task.legal_basis
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"  # no letter to the debtor any more
    assert "2 000,00" in task.text or "2,000.00" in task.text
    engine.run(org, AS_OF)
    assert not Chase.objects.filter(client=debtor, closed=False).exists()
    accrual = for_invoice(Invoice.objects.get(pk=overdue[0].pk), AS_OF)
    assert accrual.interest == 0 and accrual.indemnity == 0
    with pytest.raises(notices.NoticeRefused):
        notices.prepare(debtor, as_of=AS_OF)
    with pytest.raises(ends.EndRefused, match="already marked insolvent"):
        ends.mark_insolvent(
            debtor,
            procedure="recovery",
            judgment_on=date(2026, 5, 20),
            published_on=date(2026, 5, 29),
            as_of=AS_OF,
        )


def test_insolvency_dates_must_make_sense(debtor, overdue):
    with pytest.raises(ends.EndRefused, match="before the judgment"):
        ends.mark_insolvent(
            debtor,
            procedure="liquidation",
            judgment_on=date(2026, 5, 20),
            published_on=date(2026, 5, 1),
            as_of=AS_OF,
        )


def test_limitation_alerts_start_90_days_before(org, consumer, make_invoice):
    # A consumer's debt due 1 September 2024 is time-barred after 1 September 2026.
    old = make_invoice(consumer, "90.00", issue_date=date(2024, 2, 1), due=date(2024, 9, 1))
    alerts = ends.limitation_alerts(org, date(2026, 6, 3))  # 90 days before
    assert [(a["invoice"], a["state"]) for a in alerts] == [(old, "soon")]
    assert alerts[0]["limitation"].ends_on == date(2026, 9, 1)
    assert ends.limitation_alerts(org, date(2026, 6, 2)) == []
    assert ends.limitation_alerts(org, date(2026, 9, 2))[0]["state"] == "expired"


@time_machine.travel(NOW, tick=False)
def test_the_case_file_zip_holds_everything(debtor, overdue, alice, pdf_text):
    debtor.language = "en"
    debtor.save()
    notice = notices.approve(notices.prepare(debtor, as_of=AS_OF, author=alice), author=alice)
    notice = notices.mark_sent(notice, sent_on=AS_OF, as_of=AS_OF, author=alice)
    from django.core.files.uploadedfile import SimpleUploadedFile

    notices.attach_receipt(notice, SimpleUploadedFile("ar.jpg", b"JPEG"), author=alice)
    data = documents.case_file_zip(debtor, overdue, AS_OF, Decimal(20))
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert names == {
        "case-file.pdf",
        f"invoices/{overdue[0].number}.pdf",
        f"invoices/{overdue[1].number}.pdf",
        f"formal-notices/2026-06-01-{notice.pk}.pdf",
        f"formal-notices/2026-06-01-{notice.pk}-receipt.jpg",
        "statement.csv",
        "timeline.csv",
        "contacts.csv",
    }
    assert archive.read(f"formal-notices/2026-06-01-{notice.pk}-receipt.jpg") == b"JPEG"
    assert overdue[0].number in pdf_text(archive.read(f"invoices/{overdue[0].number}.pdf"))
    summary = " ".join(pdf_text(archive.read("case-file.pdf")).split())
    for block in (
        "Case file for a collection agency",
        "Agency fee estimate",
        "Usual commission (10 % to 25 %)",
        "Expected recovery, net of commission",
        "Statement of account",
        "Contacts at the debtor",
        "Claire Martin",
        "Formal notice sent on Jun 1, 2026",
    ):
        assert block in summary, block
    contacts = archive.read("contacts.csv").decode("utf-8-sig")
    assert "factures@acme.example" in contacts and "direction@acme.example" in contacts
    statement = archive.read("statement.csv").decode("utf-8-sig")
    assert overdue[0].number in statement and "1200.00" in statement
    assert "Formal notice sent" in archive.read("timeline.csv").decode("utf-8-sig")


def test_the_court_dossier(debtor, overdue, pdf_text):
    debtor.language = "en"
    debtor.save()
    text = " ".join(pdf_text(documents.dossier_pdf(debtor, overdue, AS_OF)).split())
    for block in (
        "Court claim dossier",
        "commercial court (tribunal de commerce) with jurisdiction over the debtor's domicile: "
        "69002 Lyon",
        "Simplified procedure for small claims",
        "one month",
        "borne by the creditor",
        "within six months",
        "750-1",
        "Documents to attach",
        f"Invoice {overdue[0].number}",
        "No formal notice has been sent yet",
        "claim in court by Feb 4, 2031",
    ):
        assert block in text, block


def test_proposals_and_cases_stay_listed(debtor, overdue, alice):
    ends.hand_off(debtor, agency="", as_of=AS_OF, author=alice)
    case = Escalation.objects.get(client=debtor)
    ends.close_case(case, as_of=AS_OF, author=alice)
    assert Escalation.objects.filter(client=debtor, status="closed").count() == 1


def test_old_company_debts_do_not_crowd_out_a_consumer_alert(org, debtor, consumer, make_invoice):
    for month in range(1, 7):  # six company debts of 2023: time-barred only in 2028
        make_invoice(debtor, "100.00", issue_date=date(2023, month, 1), due=date(2023, month, 28))
    old = make_invoice(consumer, "90.00", issue_date=date(2024, 2, 1), due=date(2024, 9, 1))
    alerts = ends.limitation_alerts(org, date(2026, 6, 3), limit=1)
    assert [a["invoice"] for a in alerts] == [old]
