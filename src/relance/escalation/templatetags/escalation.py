"""The client page's "Escalation" panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from relance import formats
from relance.escalation import ends
from relance.escalation.models import EscalationSettings, EscalationStatus, NoticeStatus
from relance.ledger.models import Invoice
from relance.rules import escalation as rules
from relance.rules.money import ZERO

register = template.Library()


@register.simple_tag(takes_context=True)
def escalation_panel(context: Any, client: Any) -> str:
    request = context.get("request")
    organisation = client.organisation
    today = organisation.today()
    settings = EscalationSettings.for_org(organisation)
    proposal = ends.proposal(client, today)
    overdue = ends.overdue(client, today)
    estimate = None
    if proposal and rules.Option.AGENCY in proposal.options:
        total = sum((i.balance for i in overdue), ZERO)
        estimate = rules.agency_estimate(total, organisation.currency, settings.agency_fee_percent)
    limitations = []
    for invoice in Invoice.objects.filter(client=client).open().order_by("due_date")[:20]:
        found = ends.limitation_of(invoice)
        if found is not None:
            limitations.append(
                {"invoice": invoice, "ends_on": found.ends_on, "state": found.state(today)}
            )
    data = {
        "client": client,
        "today": today,
        "proposal": proposal,
        "options": [o.value for o in proposal.options] if proposal else [],
        "estimate": estimate,
        "currency": organisation.currency,
        "overdue": overdue,
        "cases": client.escalations.filter(
            status__in=(EscalationStatus.OPEN, EscalationStatus.PROPOSED)
        ),
        "history": client.escalations.filter(
            status__in=(EscalationStatus.CLOSED, EscalationStatus.DECLINED)
        )[:5],
        "notices": client.formal_notices.exclude(status=NoticeStatus.CANCELLED)[:5],
        "tasks": client.escalation_tasks.filter(done_on__isnull=True),
        "limitations": limitations,
        "membership": context.get("membership"),
        "days_late": proposal.days_late if proposal else 0,
        "small_claims_max": formats.money(proposal.small_claims_max, organisation.currency)
        if proposal and proposal.small_claims_max
        else "",
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
