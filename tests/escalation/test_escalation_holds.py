"""Work stop: on hold with a reason, the client told, payment lifts it."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine

from relance.escalation import holds
from relance.escalation.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
)
from relance.ledger.models import Activity, ClientStatus

AS_OF = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 10, 0)


def test_it_puts_the_client_on_hold_with_the_reason(debtor, overdue, alice):
    hold = holds.put_on_hold(debtor, reason="No payment since February", as_of=AS_OF, author=alice)
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    assert hold.kind == EscalationKind.WORK_STOP and hold.status == EscalationStatus.OPEN
    assert hold.amount == Decimal("2000.00")
    assert set(hold.invoices.all()) == set(overdue)
    assert Activity.objects.filter(
        client=debtor, text__contains="No payment since February"
    ).exists()
    # Again: the same hold, nothing new.
    assert holds.put_on_hold(debtor, reason="again", as_of=AS_OF).pk == hold.pk
    assert Escalation.objects.filter(client=debtor).count() == 1


def test_a_hold_needs_a_reason(debtor):
    with pytest.raises(holds.HoldRefused, match="reason"):
        holds.put_on_hold(debtor, reason="  ", as_of=AS_OF)


def test_an_insolvent_client_is_not_put_on_hold(debtor):
    debtor.status = ClientStatus.INSOLVENT
    debtor.save()
    with pytest.raises(holds.HoldRefused, match="insolvent"):
        holds.put_on_hold(debtor, reason="x", as_of=AS_OF)


def test_the_client_is_told_work_resumes_on_payment(debtor, overdue, smtp_server):
    holds.put_on_hold(debtor, reason="x", as_of=AS_OF)
    sent_to = holds.notify(debtor, as_of=AS_OF)
    assert sent_to == ["factures@acme.example"]  # billing, not the manager
    (message,) = smtp_server.messages
    body = message.get_body(("plain",)).get_content()
    assert "suspendre les travaux" in body
    assert "reprendront dès réception de votre paiement" in body
    assert overdue[0].number in body
    assert Activity.objects.filter(client=debtor, kind="sent").exists()


def test_a_client_without_an_email_cannot_be_told(debtor, overdue):
    debtor.contacts.update(email="", preferred_channel="letter")
    with pytest.raises(holds.NotifyFailed):
        holds.notify(debtor, as_of=AS_OF)


@time_machine.travel(NOW, tick=False)
def test_a_payment_that_clears_the_overdue_lifts_the_hold(debtor, overdue, pay):
    holds.put_on_hold(debtor, reason="x", as_of=AS_OF)
    pay(debtor, "1200.00", AS_OF)  # 800.00 still overdue
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    pay(debtor, "800.00", AS_OF)
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE
    hold = Escalation.objects.get(client=debtor)
    assert hold.status == EscalationStatus.CLOSED and hold.closed_on == AS_OF
    assert Activity.objects.filter(client=debtor, text__contains="Work resumed").exists()


@time_machine.travel(NOW, tick=False)
def test_the_organisation_can_keep_the_hold_after_payment(org, debtor, overdue, pay):
    EscalationSettings.objects.create(organisation=org, lift_hold_on_payment=False)
    holds.put_on_hold(debtor, reason="x", as_of=AS_OF)
    pay(debtor, "2000.00", AS_OF)
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD


def test_lifting_by_hand(debtor, overdue, bob):
    holds.put_on_hold(debtor, reason="x", as_of=AS_OF)
    assert holds.lift_hold(debtor, as_of=date(2026, 6, 3), author=bob, why="agreed by phone")
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE
    assert not holds.lift_hold(debtor, as_of=date(2026, 6, 3))


def test_new_work_needs_the_explicit_override(debtor, overdue):
    assert holds.needs_override(debtor, {}) is None
    holds.put_on_hold(debtor, reason="unpaid", as_of=AS_OF)
    debtor.refresh_from_db()
    assert holds.needs_override(debtor, {}).reason == "unpaid"
    assert holds.needs_override(debtor, {holds.OVERRIDE_FIELD: "1"}) is None


def test_a_hold_without_a_record_can_be_lifted(debtor):
    """Clients put on hold before escalation existed (imports, the demo)."""
    debtor.status = ClientStatus.ON_HOLD
    debtor.save()
    assert holds.lift_hold(debtor, as_of=AS_OF, why="paid")
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ACTIVE


def test_the_organisation_s_own_wording_is_used(org, debtor, overdue, smtp_server):
    from relance.dunning.models import MessageTemplate

    MessageTemplate.objects.create(
        organisation=org,
        key="work_stop",
        channel="email",
        language="fr",
        subject="Chantier arrêté",
        text="Bonjour, le chantier reprendra au paiement de {{ total }}.",
    )
    holds.notify(debtor, as_of=AS_OF)
    (message,) = smtp_server.messages
    assert message["Subject"] == "Chantier arrêté"
    assert "reprendra au paiement de 2" in message.get_body(("plain",)).get_content()
