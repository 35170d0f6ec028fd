"""The client page's payment plan and settlement offer panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from relance.plans.models import OfferStatus, PlanStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def plans_panel(context: Any, client: Any) -> str:
    plan = (
        client.payment_plans.filter(status__in=(PlanStatus.PROPOSED, PlanStatus.ACTIVE))
        .prefetch_related("installments")
        .first()
    )
    offer = client.settlement_offers.filter(status=OfferStatus.OFFERED).first()
    past = client.payment_plans.exclude(pk=plan.pk if plan else None)[:5]
    data = {
        "client": client,
        "plan": plan,
        "next": plan.next_installment() if plan else None,
        "offer": offer,
        "past": past,
        "membership": context.get("membership"),
    }
    return render_to_string("plans/_client_panel.html", data, request=context.get("request"))
