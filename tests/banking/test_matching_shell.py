"""Matching imported bank lines through the real import service, and the review queue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.banking import matching
from relance.banking.importing import import_statement
from relance.banking.models import BankLine, BankLineStatus
from relance.ledger.models import Activity, Client, Payment
from relance.ledger.settlement import record_payment
from relance.rules.payment_reference import creditor_reference

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def camt(*entries: str) -> bytes:
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
{"".join(entries)}</Stmt></BkToCstmrStmt></Document>""".encode()


def entry(amount, ref, *, rf="", text="", payer="", iban="", debit=False, booked="2026-03-02"):
    strd = f"<Strd><CdtrRefInf><Ref>{rf}</Ref></CdtrRefInf></Strd>" if rf else ""
    ustrd = f"<Ustrd>{text}</Ustrd>" if text else ""
    account = f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>" if iban else ""
    side = "DBIT" if debit else "CRDT"
    return f"""<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr>{account}</RltdPties>
<RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>"""


@pytest.fixture
def invoices(client_acme, make_invoice):
    first = make_invoice(client_acme, "120.00", due=date(2026, 2, 4))
    second = make_invoice(client_acme, "80.50", due=date(2026, 2, 20))
    return first, second


def line(ref):
    return BankLine.objects.get(bank_reference=ref)


def test_a_referenced_credit_is_paid_automatically(org, invoices, client_acme):
    first, _ = invoices
    rf = creditor_reference(first.number)
    import_statement(org, camt(entry("120.00", "A1", rf=rf, payer="ACME INDUSTRIES")))
    bank = line("A1")
    assert bank.status == BankLineStatus.AUTO and bank.confidence >= 90
    assert bank.client == client_acme and "reference" in bank.reasons
    payment = bank.payment
    assert (payment.amount, payment.method, payment.reference) == (D("120.00"), "transfer", rf)
    first.refresh_from_db()
    assert (first.status, first.balance) == ("paid", 0)


def test_statuses_review_unmatched_and_debits(org, invoices, client_acme):
    _, second = invoices
    import_statement(
        org,
        camt(
            entry("80.50", "B1", text="VIREMENT", payer="ACME Industries SAS"),  # name + amount
            entry("999.99", "B2", text="REMBOURSEMENT ASSURANCE", payer="AXA"),
            entry("45.10", "B3", text="PRLV EDF", payer="EDF", debit=True),
        ),
    )
    review = line("B1")
    assert review.status == BankLineStatus.REVIEW and review.payment is None
    assert review.client == client_acme
    assert review.proposal == [{"invoice": second.pk, "amount": "80.50"}]
    assert line("B2").status == BankLineStatus.UNMATCHED
    assert line("B3").status == BankLineStatus.IGNORED
    assert not Payment.objects.exists()
    assert matching.clients_with_pending_credit(org) == {client_acme.pk}
    assert matching.last_statement_import(org) is not None


def test_bad_checksum_is_flagged_for_review(org, invoices):
    first, _ = invoices
    rf = creditor_reference(first.number)
    wrong = rf[:2] + f"{(int(rf[2:4]) + 1) % 100:02d}" + rf[4:]
    import_statement(org, camt(entry("120.00", "C1", rf=wrong)))
    bank = line("C1")
    assert bank.status == BankLineStatus.REVIEW
    assert "bad_reference_checksum" in bank.flags
    assert bank.proposal == [{"invoice": first.pk, "amount": "120.00"}]


def test_a_payment_recorded_by_hand_is_linked_not_recorded_twice(org, invoices, client_acme):
    first, _ = invoices
    rf = creditor_reference(first.number)
    # Entered by hand the day before, kept as credit (not yet allocated).
    manual = record_payment(
        client=client_acme, amount=D("120.00"), currency="EUR", date=date(2026, 3, 1),
        shares=[], reference=rf, payer_name="ACME Industries", keep_excess_as_credit=True,
    )  # fmt: skip
    import_statement(org, camt(entry("120.00", "D1", rf=rf, payer="ACME Industries")))
    bank = line("D1")
    assert bank.status == BankLineStatus.AUTO and bank.payment == manual
    assert "already_recorded" in bank.flags
    assert Payment.objects.count() == 1


def test_a_failing_line_goes_to_review_the_others_proceed(org, invoices, client_acme):
    first, second = invoices
    for day in (1, 2):  # two earlier payments like this one: which one is it?
        record_payment(
            client=client_acme, amount=D("80.50"), currency="EUR", date=date(2026, 3, day),
            shares=[], reference=f"Facture {second.number}", payer_name="ACME",
            keep_excess_as_credit=True,
        )  # fmt: skip
    import_statement(
        org,
        camt(
            entry("80.50", "E1", text=f"Facture {second.number}", payer="ACME"),
            entry("120.00", "E2", rf=creditor_reference(first.number), payer="ACME"),
        ),
    )
    failed = line("E1")
    assert failed.status == BankLineStatus.REVIEW and "already recorded" in failed.note
    assert line("E2").status == BankLineStatus.AUTO


def test_lines_of_another_organisation_are_not_matched_to_our_invoices(org, other_org, invoices):
    first, _ = invoices
    import_statement(other_org, camt(entry("120.00", "F1", rf=creditor_reference(first.number))))
    assert line("F1").status == BankLineStatus.UNMATCHED
    assert line("F1").client is None


# -- review queue -------------------------------------------------------------------


@pytest.fixture
def queued(org, invoices, client_acme):
    import_statement(
        org,
        camt(
            entry("80.50", "R1", text="VIREMENT", payer="ACME Industries"),
            entry("300.00", "R2", text="VIR DIVERS", payer="Inconnu"),
        ),
    )
    return line("R1"), line("R2")


def test_review_page_lists_the_proposal_and_why(client, alice, queued, invoices):
    client.force_login(alice)
    response = client.get("/bank/review/")
    assert response.status_code == 200
    body = response.content.decode()
    assert invoices[1].number in body and "ACME Industries" in body
    assert "the payer&#x27;s name is close to the client&#x27;s" in body
    unmatched = client.get("/bank/unmatched/")
    assert unmatched.status_code == 200 and "VIR DIVERS" in unmatched.content.decode()


def test_confirm_records_the_payment_and_the_timeline(client, alice, queued, invoices):
    review, _ = queued
    client.force_login(alice)
    response = client.post(f"/bank/lines/{review.pk}/match/", {"action": "confirm"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == BankLineStatus.CONFIRMED and review.reviewed_by == alice
    invoices[1].refresh_from_db()
    assert invoices[1].status == "paid"
    assert Activity.objects.filter(client=review.client, text__contains="matched by hand").exists()
    again = client.post(f"/bank/lines/{review.pk}/match/", {"action": "confirm"})
    assert again.status_code == 400 and Payment.objects.count() == 1


def test_choose_other_invoices_for_an_unmatched_credit(client, alice, queued, invoices):
    _, unknown = queued
    first, second = invoices
    client.force_login(alice)
    page = client.get(f"/bank/lines/{unknown.pk}/match/", {"q": "ACME"})
    assert first.number in page.content.decode()
    response = client.post(
        f"/bank/lines/{unknown.pk}/match/",
        {"action": "choose", "invoice": [second.pk, first.pk]},
    )
    assert response.status_code == 302
    unknown.refresh_from_db()
    assert unknown.status == BankLineStatus.CONFIRMED
    payment = unknown.payment
    assert payment.amount == D("300.00") and payment.unallocated == D("99.50")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "paid"


def test_ignore_needs_a_note(client, alice, queued):
    _, unknown = queued
    client.force_login(alice)
    refused = client.post(f"/bank/lines/{unknown.pk}/match/", {"action": "ignore", "note": ""})
    assert refused.status_code == 400
    client.post(f"/bank/lines/{unknown.pk}/match/", {"action": "ignore", "note": "Remboursement"})
    unknown.refresh_from_db()
    assert (unknown.status, unknown.note) == (BankLineStatus.IGNORED, "Remboursement")


def test_bad_input_is_a_clear_4xx(client, alice, queued, other_org):
    review, unknown = queued
    client.force_login(alice)
    assert client.post(f"/bank/lines/{review.pk}/match/", {"action": "x"}).status_code == 400
    bad = client.post(f"/bank/lines/{unknown.pk}/match/", {"action": "choose", "invoice": "a"})
    assert bad.status_code == 400
    none = client.post(f"/bank/lines/{unknown.pk}/match/", {"action": "choose"})
    assert none.status_code == 400 and not Payment.objects.exists()


def test_read_only_and_other_organisations(client, rita, charlie, queued):
    review, _ = queued
    client.force_login(rita)
    assert client.get("/bank/review/").status_code == 200
    assert client.post(f"/bank/lines/{review.pk}/match/", {"action": "confirm"}).status_code == 403
    client.force_login(charlie)
    assert client.get(f"/bank/lines/{review.pk}/match/").status_code == 404
    assert "VIREMENT" not in client.get("/bank/review/").content.decode()
    assert Client.objects.count() == 1
