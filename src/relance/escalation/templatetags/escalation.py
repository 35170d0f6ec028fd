"""The client page's "Escalation" panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from relance.escalation import ends
from relance.escalation.models import EscalationSettings, EscalationStatus, NoticeStatus
from relance.ledger.models import Invoice
from relance.rules import escalation as rules
from relance.rules.money import ZERO

register = template.Library()


@register.simple_tag(takes_context=True)
def escalation_panel(context: Any, client: Any) -> str:
    """Reads the same few queries however long the client's history (every list is
    fetched once, whatever the template shows)."""
    request = context.get("request")
    organisation = client.organisation
    today = organisation.today()
    settings = EscalationSettings.for_org(organisation)
    overdue = ends.overdue(client, today)
    proposal = ends.proposal(client, today, overdue, settings)
    estimate = None
    if proposal and rules.Option.AGENCY in proposal.options:
        total = sum((i.balance for i in overdue), ZERO)
        estimate = rules.agency_estimate(total, organisation.currency, settings.agency_fee_percent)
    courts = ends.court_dates(organisation, client)
    limitations = []
    for invoice in Invoice.objects.filter(client=client).open().order_by("due_date")[:20]:
        found = ends.limitation_of(invoice, client, courts)
        if found is not None:
            limitations.append(
                {"invoice": invoice, "ends_on": found.ends_on, "state": found.state(today)}
            )
    cases = list(client.escalations.all()[:30])
    data = {
        "client": client,
        "today": today,
        "proposal": proposal,
        "estimate": estimate,
        "currency": organisation.currency,
        "overdue": overdue,
        "cases": [
            c for c in cases if c.status in (EscalationStatus.OPEN, EscalationStatus.PROPOSED)
        ],
        "history": [
            c for c in cases if c.status in (EscalationStatus.CLOSED, EscalationStatus.DECLINED)
        ][:5],
        "notices": list(client.formal_notices.exclude(status=NoticeStatus.CANCELLED)[:5]),
        "tasks": list(client.escalation_tasks.filter(done_on__isnull=True)),
        "limitations": limitations,
        "hold_case": any(
            c.kind == "work_stop" and c.status == EscalationStatus.OPEN for c in cases
        ),
        "membership": context.get("membership"),
        "days_late": proposal.days_late if proposal else 0,
    }
    return render_to_string("escalation/_client_panel.html", data, request=request)


@register.simple_tag
def work_stop_warning(client: Any) -> str:
    """The blocking warning (with its override box) on a form that makes new work for
    a client on hold; nothing otherwise."""
    from relance.escalation import holds

    if client is None or getattr(client, "status", "") != "on_hold":
        return ""
    data = {
        "hold": holds.open_hold(client),
        "client": client,
        "override_field": holds.OVERRIDE_FIELD,
    }
    return render_to_string("escalation/_hold_warning.html", data)


@register.simple_tag
def limitation_fact(invoice: Any) -> str:
    """The open invoice's limitation date for its facts list, flagged 90 days before."""
    if not invoice.is_open or invoice.due_date is None:
        return ""
    found = ends.limitation_of(invoice)
    if found is None:
        return ""
    today = invoice.organisation.today()
    data = {"ends_on": found.ends_on, "state": found.state(today), "article": found.article}
    return render_to_string("escalation/_limitation_fact.html", data)


@register.simple_tag
def escalation_todo(organisation: Any) -> str:
    """The dashboard's to-do line: formal notices to approve or send, claims to declare."""
    from relance.escalation.models import FormalNotice, Task

    notices = FormalNotice.objects.filter(
        organisation=organisation,
        status__in=(NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED),
    ).count()
    tasks = Task.objects.filter(organisation=organisation, done_on__isnull=True).count()
    return render_to_string("escalation/_todo.html", {"notices": notices, "tasks": tasks})
