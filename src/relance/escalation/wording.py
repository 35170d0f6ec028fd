"""The rules' refusals in the user's words."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from relance import formats
from relance.rules.escalation import EscalationRefused

REFUSALS = {
    "agency_rate": _(
        "An agency commission of %(rate)s %% is outside the usual %(low)s-%(high)s %%."
    ),
    "nothing_to_write_off": _("Nothing is left to write off."),
    "above_write_off_limit": _(
        "%(amount)s is above the write-off limit of %(limit)s set by the owner: refused."
    ),
    "nothing_due": _("Choose at least one overdue invoice."),
    "not_due": _(
        "A formal notice can only claim a debt that is due: an invoice is due on %(due_date)s."
    ),
}


def refusal_text(error: EscalationRefused, currency: str = "EUR") -> str:
    params = dict(error.params)
    for key in ("amount", "limit"):
        if key in params:
            params[key] = formats.money(params[key], currency)
    if "due_date" in params:
        params["due_date"] = formats.day(params["due_date"])
    return str(REFUSALS[error.code]) % params
