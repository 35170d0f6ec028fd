"""The forms of the plan and offer pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.organisations.models import CURRENCY_CHOICES
from relance.rules import plans as rules
from relance.web.forms.invoices import amount_field, check_decimals, date_field

from .models import DiscountKind, Frequency

# The refusals of rules.plans, in the user's language.
PLAN_ERRORS = {
    "frequency": _("Unknown frequency."),
    "count": _("The number of installments must be between 1 and %(max)s."),
    "decimals": _("An amount has more decimals than %(currency)s allows."),
    "balance": _("There is no balance to spread."),
    "fee": _("The fee cannot be negative."),
    "down_negative": _("The down payment cannot be negative."),
    "down_too_big": _("The down payment must be less than the balance."),
    "dates_count": _("Give exactly %(count)s dates for the installments."),
    "dates_twice": _("Two installments cannot fall on the same day."),
    "dates_past": _("An installment cannot be due before today."),
    "day": _("The payment day must be between 1 and 31."),
    "too_small": _("The amount is too small for that many installments."),
    "down_same_day": _("The first installment falls today: it cannot follow a down payment."),
}


def plan_error_text(error: rules.PlanError) -> str:
    return str(PLAN_ERRORS[error.code]) % error.params


class PlanForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    count = forms.IntegerField(
        label=_("Number of installments"), min_value=1, max_value=rules.MAX_INSTALLMENTS, initial=3
    )
    frequency = forms.ChoiceField(
        label=_("Frequency"), choices=Frequency.choices, initial=Frequency.MONTHLY
    )
    day = forms.IntegerField(
        label=_("Day of the month"),
        min_value=1,
        max_value=31,
        required=False,
        help_text=_("The client's usual payment day; short months use their last day."),
    )
    dates = forms.CharField(
        label=_("Dates (custom)"),
        required=False,
        help_text=_(
            "With “Dates of my choice”: one date per installment, YYYY-MM-DD, separated by commas."
        ),
    )
    down_payment = amount_field(label=_("Down payment"), required=False, min_value=Decimal(0))
    fee = amount_field(
        label=_("Fee or interest for the plan"), required=False, min_value=Decimal(0)
    )
    fees_waived = forms.BooleanField(
        label=_("Waive late fees and interest while the plan is kept"),
        required=False,
        initial=True,
    )
    grace_days = forms.IntegerField(
        label=_("Grace period (days)"), min_value=0, max_value=60, initial=5
    )
    agreed = forms.BooleanField(label=_("The client already agreed"), required=False)
    send = forms.BooleanField(label=_("Send the agreement by email"), required=False, initial=True)

    def clean_dates(self) -> list[date]:
        text = self.cleaned_data.get("dates") or ""
        found = []
        for piece in text.replace(";", ",").split(","):
            if not piece.strip():
                continue
            try:
                found.append(date.fromisoformat(piece.strip()))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": piece.strip()}
                ) from None
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("down_payment", "fee"):
            check_decimals(self, name, data.get(name), data.get("currency", ""))
        return data


class OfferForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    discount_kind = forms.ChoiceField(
        label=_("Discount"), choices=DiscountKind.choices, initial=DiscountKind.PERCENT
    )
    discount_value = amount_field(label=_("Percentage or amount"), min_value=Decimal("0.01"))
    expires_on = date_field(label=_("Pay by"))
    send = forms.BooleanField(label=_("Send the offer by email"), required=False, initial=True)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["expires_on"].initial = today + timedelta(days=10)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("discount_kind") == DiscountKind.AMOUNT:
            check_decimals(self, "discount_value", data.get("discount_value"), data["currency"])
        if data.get("expires_on") and data["expires_on"] < self.today:
            self.add_error("expires_on", _("Choose today or a later day."))
        return data
