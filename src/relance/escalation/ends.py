"""The end of the ladder: what to propose, and the decisions that stop it.

- hand-off to a collection agency and court (order for payment or small claims)
  put the client "in collection": the daily run closes its chases and the
  dispatcher sends nothing more; ending the case reopens them;
- a write-off marks the invoices written off (below the owner's limit only);
- insolvency stops every reminder and fee and creates the "declare the claim"
  task with its legal deadline.

Each decision is an ``Escalation`` row and a line on the client's timeline.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from relance import formats
from relance.dunning.chases import reopen_for
from relance.ledger import issuing
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import ActivityKind, Client, ClientStatus, Invoice
from relance.ledger.models.timeline import record
from relance.rules import escalation as rules
from relance.rules import law

from . import amounts
from .models import (
    CourtProcedure,
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    FormalNotice,
    InsolvencyProcedure,
    NoticeStatus,
    Task,
    TaskKind,
)
from .wording import refusal_text

# Cases that hold the client "in collection" while they are open.
COLLECTING = (EscalationKind.COLLECTION, EscalationKind.COURT)


class EndRefused(ValueError):
    pass


def overdue(client: Client, as_of: date) -> list[Invoice]:
    return list(
        Invoice.objects.filter(client=client, currency=client.organisation.currency)
        .overdue(as_of)
        .order_by("due_date", "pk")
    )


def debt(client: Client, as_of: date, invoices: list[Invoice] | None = None) -> rules.Debt | None:
    """What the client owes overdue, in the organisation's currency."""
    invoices = overdue(client, as_of) if invoices is None else invoices
    if not invoices:
        return None
    return rules.Debt(
        amount=sum((i.balance for i in invoices), Decimal(0)),
        currency=client.organisation.currency,
        oldest_due=min(i.due_date for i in invoices),
        client_kind=client.kind,
        debtor_country=client.country or "FR",
        insolvent=client.status == ClientStatus.INSOLVENT,
    )


def proposal(
    client: Client,
    as_of: date,
    invoices: list[Invoice] | None = None,
    settings: EscalationSettings | None = None,
) -> rules.Proposal | None:
    if Escalation.objects.filter(
        client=client,
        kind__in=(EscalationKind.COLLECTION, EscalationKind.COURT, EscalationKind.INSOLVENCY),
        status=EscalationStatus.OPEN,
    ).exists():
        return None  # already with an agency, a court or a liquidator: nothing to propose
    found = debt(client, as_of, invoices)
    if found is None:
        return None
    settings = settings or EscalationSettings.for_org(client.organisation)
    return rules.decide(
        found, settings.thresholds(), as_of, seller_country=client.organisation.country or "FR"
    )


def open_case(client: Client, kind: str) -> Escalation | None:
    return Escalation.objects.filter(client=client, kind=kind, status=EscalationStatus.OPEN).first()


def _open(
    client: Client,
    kind: str,
    *,
    as_of: date,
    author: Any,
    reason: str = "",
    invoices: list[Invoice] | None = None,
    **fields: Any,
) -> Escalation:
    invoices = overdue(client, as_of) if invoices is None else invoices
    case = Escalation.objects.create(
        organisation_id=client.organisation_id,
        client=client,
        kind=kind,
        status=EscalationStatus.OPEN,
        reason=reason,
        amount=sum((i.balance for i in invoices), Decimal(0)),
        currency=client.organisation.currency,
        opened_on=as_of,
        previous_status=client.status,
        created_by=author,
        **fields,
    )
    case.invoices.set(invoices)
    # A proposal of the same kind made by a ladder step is now taken up.
    Escalation.objects.filter(client=client, kind=kind, status=EscalationStatus.PROPOSED).update(
        status=EscalationStatus.CLOSED, closed_on=as_of
    )
    return case


def _collecting(client: Client, kind: str, as_of: date, author: Any, **fields: Any) -> Escalation:
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.status in (ClientStatus.INSOLVENT, ClientStatus.CLOSED):
            raise EndRefused(
                _("%(client)s is %(status)s: nothing more can be claimed this way.")
                % {"client": client, "status": client.get_status_display().lower()}
            )
        if any(open_case(client, k) for k in COLLECTING):
            raise EndRefused(_("A collection or court case is already in progress."))
        if not overdue(client, as_of):
            raise EndRefused(_("Nothing is overdue."))
        case = _open(client, kind, as_of=as_of, author=author, **fields)
        if client.status == ClientStatus.ON_HOLD:
            # The work stop ends in the case: the case now says why nothing is done.
            from .holds import lift_hold

            lift_hold(client, as_of=as_of, author=author, why=case.get_kind_display())
            case.previous_status = ClientStatus.ACTIVE
            case.save(update_fields=["previous_status"])
        Client.objects.filter(pk=client.pk).update(status=ClientStatus.IN_COLLECTION)
    return case


def hand_off(client: Client, *, agency: str, as_of: date, author: Any = None) -> Escalation:
    """Give the case to a collection agency: the ladder stops for the client."""
    case = _collecting(
        client, EscalationKind.COLLECTION, as_of, author, agency=agency.strip()[:200]
    )
    record(
        client=client,
        kind=ActivityKind.STATUS,
        author=author,
        text=_("Handed to a collection agency (%(agency)s) for %(amount)s.")
        % {
            "agency": case.agency or _("agency not named"),
            "amount": formats.money(case.amount, case.currency),
        },
    )
    return case


def go_to_court(client: Client, *, procedure: str, as_of: date, author: Any = None) -> Escalation:
    """Start a court procedure: the ladder stops, the case shows "in court"."""
    if procedure not in CourtProcedure.values:
        raise EndRefused(_("Choose the procedure."))
    if procedure == CourtProcedure.SMALL_CLAIMS:
        ceiling = rules.small_claims_max(
            client.organisation.country or "FR", client.organisation.currency, as_of
        )
        claimed = amounts.claim(overdue(client, as_of), as_of)
        if ceiling is None or not claimed.lines or claimed.principal + claimed.interest > ceiling:
            raise EndRefused(
                _("The small-claims procedure is for claims up to %(ceiling)s.")
                % {"ceiling": formats.money(ceiling or Decimal(5000), "EUR")}
            )
    case = _collecting(client, EscalationKind.COURT, as_of, author, procedure=procedure)
    record(
        client=client,
        kind=ActivityKind.STATUS,
        author=author,
        text=_("In court: %(procedure)s, for %(amount)s.")
        % {
            "procedure": case.procedure_display,
            "amount": formats.money(case.amount, case.currency),
        },
    )
    return case


def close_case(case: Escalation, *, as_of: date, author: Any = None, outcome: str = "") -> None:
    """End a collection or court case: the client is active again and the ladder
    looks at what is still open."""
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=case.client_id)
        updated = Escalation.objects.filter(pk=case.pk, status=EscalationStatus.OPEN).update(
            status=EscalationStatus.CLOSED, closed_on=as_of
        )
        if not updated:
            raise EndRefused(_("This case is not in progress."))
        if case.kind in COLLECTING and client.status == ClientStatus.IN_COLLECTION:
            Client.objects.filter(pk=client.pk).update(status=ClientStatus.ACTIVE)
            for invoice in Invoice.objects.filter(client=client).open():
                reopen_for(invoice, as_of)
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("%(case)s ended: %(outcome)s")
            % {"case": case.get_kind_display(), "outcome": outcome or _("no outcome given")},
        )


def decline(case: Escalation, *, as_of: date, author: Any = None) -> None:
    """Turn down a proposal made by a ladder step (kept on the list as declined)."""
    updated = Escalation.objects.filter(pk=case.pk, status=EscalationStatus.PROPOSED).update(
        status=EscalationStatus.DECLINED, closed_on=as_of
    )
    if updated:
        record(
            client=case.client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Proposal declined: %(case)s") % {"case": case.get_kind_display()},
        )


# -- write-off -------------------------------------------------------------------------


def write_off(
    client: Client,
    invoices: list[Invoice],
    *,
    reason: str,
    as_of: date,
    author: Any = None,
) -> Escalation:
    """Write invoices off, with a reason, up to the owner's limit (refused above)."""
    if not reason.strip():
        raise EndRefused(_("Give the reason for writing off."))
    if not invoices or any(i.client_id != client.pk or not i.is_open for i in invoices):
        raise EndRefused(_("Choose open invoices of this client."))
    settings = EscalationSettings.for_org(client.organisation)
    amount = sum((i.balance for i in invoices), Decimal(0))
    try:
        rules.check_write_off(amount, settings.write_off_limit)
    except rules.EscalationRefused as exc:
        raise EndRefused(refusal_text(exc, client.organisation.currency)) from exc
    with transaction.atomic():
        case = _open(
            client,
            EscalationKind.WRITE_OFF,
            as_of=as_of,
            author=author,
            reason=reason,
            invoices=invoices,
        )
        for invoice in invoices:
            issuing.write_off(invoice, reason=reason, author=author)
        # Written off, the case is done at once; it stays on the list and the timeline.
        Escalation.objects.filter(pk=case.pk).update(
            status=EscalationStatus.CLOSED, closed_on=as_of
        )
    case.refresh_from_db()
    return case


# -- insolvency --------------------------------------------------------------------------


def mark_insolvent(
    client: Client,
    *,
    procedure: str,
    judgment_on: date,
    published_on: date,
    as_of: date,
    author: Any = None,
) -> Escalation:
    """The client is in insolvency proceedings: no more reminders or fees, and a task
    to declare the claim to the court's representative by the legal deadline."""
    if procedure not in InsolvencyProcedure.values:
        raise EndRefused(_("Choose the procedure."))
    if published_on < judgment_on:
        raise EndRefused(_("The publication cannot be before the judgment."))
    country = client.organisation.country or "FR"
    try:
        deadline = rules.claim_deadline(country, published_on)
        article = law.constant("claim_declaration_months", country, published_on).article
    except law.MissingLegalRule as exc:
        raise EndRefused(
            _("relance has no rule for declaring a claim in this country: %(error)s")
            % {"error": exc}
        ) from exc
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.status == ClientStatus.INSOLVENT:
            raise EndRefused(_("%(client)s is already marked insolvent.") % {"client": client})
        for kind in (EscalationKind.WORK_STOP, *COLLECTING):
            Escalation.objects.filter(
                client=client, kind=kind, status=EscalationStatus.OPEN
            ).update(status=EscalationStatus.CLOSED, closed_on=as_of)
        # Nothing more is claimed from the debtor itself: proposals and notices lapse.
        Escalation.objects.filter(client=client, status=EscalationStatus.PROPOSED).update(
            status=EscalationStatus.DECLINED, closed_on=as_of
        )
        FormalNotice.objects.filter(
            client=client, status__in=(NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)
        ).update(status=NoticeStatus.CANCELLED)
        invoices = list(Invoice.objects.filter(client=client).open())
        case = _open(
            client,
            EscalationKind.INSOLVENCY,
            as_of=as_of,
            author=author,
            invoices=invoices,
            procedure=procedure,
            judgment_on=judgment_on,
            published_on=published_on,
        )
        Client.objects.filter(pk=client.pk).update(status=ClientStatus.INSOLVENT)
        total = cents(
            Invoice.objects.filter(client=client).open().aggregate(s=MoneySum("balance"))["s"]
        )
        Task.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            escalation=case,
            kind=TaskKind.DECLARE_CLAIM,
            text=_(
                "Declare the claim of %(amount)s (%(count)s invoices, principal only) to the "
                "court's creditors' representative (mandataire judiciaire)."
            )
            % {
                "amount": formats.money(total, client.organisation.currency),
                "count": len(invoices),
            },
            due_on=deadline,
            legal_basis=article,
        )
        record(
            client=client,
            kind=ActivityKind.STATUS,
            author=author,
            text=_(
                "Insolvency proceedings (%(procedure)s), published on %(published)s: "
                "reminders and fees stop; declare the claim by %(deadline)s."
            )
            % {
                "procedure": case.procedure_display,
                "published": formats.day(published_on),
                "deadline": formats.day(deadline),
            },
        )
    return case


def complete_task(task: Task, *, as_of: date, author: Any = None) -> None:
    updated = Task.objects.filter(pk=task.pk, done_on__isnull=True).update(
        done_on=as_of, done_by=author
    )
    if updated:
        record(
            client=task.client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Done: %(task)s") % {"task": task.get_kind_display()},
        )


# -- prescription ---------------------------------------------------------------------------


def court_dates(organisation: Any, client: Client | None = None) -> dict[int, date]:
    """The day each invoice was first claimed in court (one query)."""
    links = Escalation.invoices.through.objects.filter(
        escalation__organisation=organisation, escalation__kind=EscalationKind.COURT
    )
    if client is not None:
        links = links.filter(escalation__client=client)
    found: dict[int, date] = {}
    for invoice_id, opened_on in links.values_list("invoice_id", "escalation__opened_on"):
        found[invoice_id] = min(opened_on, found.get(invoice_id, opened_on))
    return found


def limitation_of(
    invoice: Invoice, client: Client | None = None, courts: dict[int, date] | None = None
) -> rules.Limitation | None:
    """The invoice's limitation date (None where the law table has no rule). A claim
    in court interrupts it (C. civ. 2241): give ``courts`` (``court_dates``) when
    looking at many invoices."""
    if invoice.due_date is None:
        return None
    client = client or invoice.client
    if courts is None:
        courts = court_dates(client.organisation, client)
    try:
        return rules.limitation(
            client.organisation.country or "FR",
            client.kind,
            invoice.due_date,
            interrupted_on=courts.get(invoice.pk),
        )
    except law.MissingLegalRule:
        return None


def _alert_cutoff(country: str, kind: str, as_of: date) -> date | None:
    """Invoices due after this day cannot be in their alert period yet: the limitation
    lasts at least its number of years from the due date."""
    key = "limitation_years_b2c" if kind == "individual" else "limitation_years_b2b"
    try:
        years = int(law.constant(key, country, as_of).value)
    except law.MissingLegalRule:
        return None
    return rules.add_years(as_of + timedelta(days=rules.ALERT_DAYS), -years)


def limitation_alerts(organisation: Any, as_of: date, limit: int = 200) -> list[dict[str, Any]]:
    """Open invoices whose limitation date is within the alert period (or passed),
    soonest first. Reads only the open invoices old enough to be there (per client
    kind, from the law table), oldest first."""
    country = organisation.country or "FR"
    near = Q(pk__in=[])
    for kind in ("company", "individual"):
        cutoff = _alert_cutoff(country, kind, as_of)
        if cutoff is not None:
            near |= Q(client__kind=kind, due_date__lte=cutoff)
    invoices = (
        Invoice.objects.filter(organisation=organisation)
        .open()
        .filter(near)
        .select_related("client__organisation")
        .order_by("due_date", "pk")
    )
    courts = court_dates(organisation)
    rows = []
    for invoice in invoices[: limit * 2]:
        found = limitation_of(invoice, invoice.client, courts)
        if found is None or found.state(as_of) == "ok":
            continue
        rows.append({"invoice": invoice, "limitation": found, "state": found.state(as_of)})
    rows.sort(key=lambda row: row["limitation"].ends_on)
    return rows[:limit]
