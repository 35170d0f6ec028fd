"""The dashboard (what is owed, how late, by whom) and the organisation switch."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from relance.ledger import balances
from relance.ledger.models import Activity
from relance.organisations.middleware import SESSION_KEY
from relance.organisations.models import Membership
from relance.rules import aging
from relance.rules.money import ZERO
from relance.web.access import member_view, scoped

RECENT_ACTIVITIES = 10
WORST_CLIENTS = 10
MAX_ID_DIGITS = 18  # larger ids cannot exist (BIGINT)
BUCKET_LABELS = {
    "1-30": _("1 to 30 days"),
    "31-60": _("31 to 60 days"),
    "61-90": _("61 to 90 days"),
    "90+": _("over 90 days"),
}
BAR_CLASSES = {"1-30": "", "31-60": "b-31-60", "61-90": "b-61-90", "90+": "b-90"}
# The tallest bar fills this share of the chart, leaving room for its figures.
BAR_MAX_PERCENT = 75


def aging_bars(figures: balances.CurrencyFigures) -> list[dict[str, Any]]:
    """One bar per aging bucket, heights relative to the largest."""
    amounts = {key: figures.buckets.get(key, ZERO) for key, _first, _last in aging.BUCKETS}
    largest = max(amounts.values()) or 1
    invoice_list = reverse("invoice_list")
    return [
        {
            "key": key,
            "label": BUCKET_LABELS[key],
            "amount": amount,
            "height": int(amount * BAR_MAX_PERCENT / largest),
            "css": BAR_CLASSES[key],
            "url": f"{invoice_list}?overdue=1&aging={key}",
        }
        for key, amount in amounts.items()
    ]


@member_view
def dashboard(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    as_of = organisation.today()
    currency = organisation.currency
    figures = balances.organisation_figures(organisation, as_of=as_of)
    main = figures.get(currency) or balances.CurrencyFigures(currency=currency)
    activities = (
        scoped(request, Activity)
        .select_related("client", "invoice", "author")
        .order_by("-at", "-id")[:RECENT_ACTIVITIES]
    )
    context = {
        "as_of": as_of,
        "main": main,
        "others": [f for code, f in sorted(figures.items()) if code != currency],
        "bars": aging_bars(main),
        "worst": balances.worst_overdue_clients(
            organisation, as_of=as_of, currency=currency, limit=WORST_CLIENTS
        ),
        "activities": activities,
    }
    return render(request, "web/dashboard/dashboard.html", context)


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    """Work in another organisation the user belongs to (any role: it changes no data)."""
    value = request.POST.get("organisation", "")
    if not value.isdigit() or len(value) > MAX_ID_DIGITS:
        raise Http404("no such organisation")
    membership = Membership.objects.filter(user=request.user, organisation_id=int(value)).first()
    if membership is None:
        raise Http404("no such organisation")
    request.session[SESSION_KEY] = membership.organisation_id
    return redirect("dashboard")
