"""Work stop (seeds 001, 002): the client is put on hold with a reason, told that
work resumes when payment arrives, new work for them asks for an explicit
override, and a payment that clears what is overdue lifts the hold.

The ladder keeps chasing a client on hold: stopping work is leverage, not a pause.
"""

from __future__ import annotations

import smtplib
from datetime import date
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from relance.dunning import context as reminder_context
from relance.dunning import templating
from relance.dunning.models import MessageTemplate
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import ActivityKind, Client, ClientStatus, Invoice
from relance.ledger.models.timeline import record

from .models import Escalation, EscalationKind, EscalationSettings, EscalationStatus

# Only an active client can be put on hold: the other statuses already stop more.
HOLDABLE = (ClientStatus.ACTIVE,)
OVERRIDE_FIELD = "override_work_stop"


class HoldRefused(ValueError):
    pass


class NotifyFailed(Exception):
    """The work-stop message could not be sent (the hold itself stands)."""


def open_hold(client: Client) -> Escalation | None:
    return Escalation.objects.filter(
        client=client, kind=EscalationKind.WORK_STOP, status=EscalationStatus.OPEN
    ).first()


def overdue_invoices(client: Client, as_of: date) -> list[Invoice]:
    return list(Invoice.objects.filter(client=client).overdue(as_of).order_by("due_date", "pk"))


def overdue_total(client: Client, as_of: date) -> Any:
    return cents(
        Invoice.objects.filter(client=client).overdue(as_of).aggregate(s=MoneySum("balance"))["s"]
    )


def put_on_hold(
    client: Client,
    *,
    reason: str,
    as_of: date,
    author: Any = None,
    reminder: Any = None,
) -> Escalation:
    """Stop work for the client (status "on hold"), recorded with its reason.
    Idempotent: a client already on hold keeps its hold."""
    if not reason.strip():
        raise HoldRefused(_("Give the reason for stopping work."))
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        existing = open_hold(client)
        if existing is not None:
            return existing
        if client.status not in HOLDABLE:
            raise HoldRefused(
                _("%(client)s is %(status)s: work cannot be stopped as well.")
                % {"client": client, "status": client.get_status_display().lower()}
            )
        hold = Escalation.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            kind=EscalationKind.WORK_STOP,
            status=EscalationStatus.OPEN,
            reason=reason,
            amount=overdue_total(client, as_of),
            currency=client.organisation.currency,
            opened_on=as_of,
            reminder=reminder,
            previous_status=client.status,
            created_by=author,
        )
        hold.invoices.set(overdue_invoices(client, as_of))
        Client.objects.filter(pk=client.pk).update(status=ClientStatus.ON_HOLD)
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("Work stopped until payment: %(reason)s") % {"reason": reason},
        )
    return hold


def lift_hold(client: Client, *, as_of: date, author: Any = None, why: str = "") -> bool:
    """Resume work: the hold ends and the client is active again."""
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        hold = open_hold(client)
        if hold is None and client.status != ClientStatus.ON_HOLD:
            return False
        if hold is not None:
            Escalation.objects.filter(pk=hold.pk).update(
                status=EscalationStatus.CLOSED, closed_on=as_of
            )
        if client.status == ClientStatus.ON_HOLD:
            # A hold set before this app (an import, the demo) has no record: active again.
            previous = hold.previous_status if hold is not None else ""
            Client.objects.filter(pk=client.pk).update(status=previous or ClientStatus.ACTIVE)
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("Work resumed: %(why)s") % {"why": why} if why else _("Work resumed."),
        )
    return True


def after_payment(client_id: int) -> None:
    """Run after a payment is committed: lift the hold when nothing is overdue any
    more and the organisation wants it (the default)."""
    client = Client.objects.select_related("organisation").filter(pk=client_id).first()
    if client is None or client.status != ClientStatus.ON_HOLD:
        return
    if not EscalationSettings.for_org(client.organisation).lift_hold_on_payment:
        return
    today = client.organisation.today()
    if Invoice.objects.filter(client=client).overdue(today).exists():
        return
    lift_hold(client, as_of=today, why=_("the overdue balance is paid"))


# -- telling the client -------------------------------------------------------------


def language_of(client: Client) -> str:
    return templating.normalise_language(client.language or client.organisation.locale or "fr")


def message(client: Client, as_of: date) -> tuple[templating.Rendered, list[str]]:
    """The work-stop email (the reminders' own "work_stop" wording) and its recipients."""
    items = [
        reminder_context.Item(invoice, None, invoice.balance)
        for invoice in overdue_invoices(client, as_of)
    ]
    contacts, addresses = reminder_context.recipients(client, "email")
    language = language_of(client)
    with translation.override(language):
        data = reminder_context.build(
            client,
            items,
            day=as_of,
            template="work_stop",
            tone="firm",
            contact=contacts[0] if contacts else None,
        )
    # The organisation's own wording of the work stop, when it wrote one.
    override = MessageTemplate.objects.filter(
        organisation_id=client.organisation_id, key="work_stop", channel="email", language=language
    ).first()
    return templating.render("work_stop", "email", language, data, override), addresses


def notify(client: Client, *, as_of: date, author: Any = None) -> list[str]:
    """Email the client's billing people that work is stopped until payment."""
    rendered, addresses = message(client, as_of)
    if not addresses:
        raise NotifyFailed(
            _("%(client)s has no contact with an email address to tell.") % {"client": client}
        )
    organisation = client.organisation
    sender_address = organisation.email or settings.DEFAULT_FROM_EMAIL
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=formataddr((str(organisation), sender_address)),
        to=addresses,
        reply_to=[organisation.email] if organisation.email else [],
        headers={"Message-ID": make_msgid(domain=sender_address.rsplit("@", 1)[-1])},
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    try:
        email.send()
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyFailed(
            _("The work-stop message could not be sent (%(error)s).") % {"error": exc}
        ) from exc
    record(
        client=client,
        kind=ActivityKind.SENT,
        author=author,
        text=_("Work-stop message emailed to %(to)s.") % {"to": ", ".join(addresses)},
    )
    return addresses


# -- the blocking warning on new work ---------------------------------------------------


def needs_override(client: Client | None, data: Any) -> Escalation | None:
    """The open hold when new work for ``client`` was asked without the explicit
    override (``OVERRIDE_FIELD`` in the posted data); None when it may go on."""
    if client is None or client.status != ClientStatus.ON_HOLD:
        return None
    if data.get(OVERRIDE_FIELD) == "1":
        return None
    return open_hold(client) or Escalation(client=client, reason="")


def refusal() -> str:
    return _("Work is stopped for this client until they pay: tick the box to go ahead anyway.")


def record_override(client: Client | None, *, what: str, author: Any = None) -> None:
    """Leave a trace when someone went past the warning."""
    if client is None or client.status != ClientStatus.ON_HOLD:
        return
    record(
        client=client,
        kind=ActivityKind.NOTE,
        author=author,
        text=_("Work stop overridden: %(what)s") % {"what": what},
    )
