"""The late-fee settings form and the waive form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.rules import interest, law
from relance.rules.rates import MissingRate

from . import accrual
from .models import FeePolicy, FeeSettings


class FeeSettingsForm(forms.ModelForm):
    class Meta:
        model = FeeSettings
        fields = [
            "policy",
            "contract_rate",
            "monthly_rate",
            "fixed_fee",
            "grace_days",
            "day_count",
            "rounding",
        ]

    def __init__(self, *args: Any, today: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        policy = data.get("policy")
        for name in ("contract_rate", "monthly_rate", "fixed_fee"):
            value = data.get(name)
            if value is not None and value < 0:
                self.add_error(name, _("Enter a positive number."))
        if policy == FeePolicy.CONTRACTUAL and data.get("contract_rate") is None:
            self.add_error("contract_rate", _("A contractual policy needs its rate."))
        if policy == FeePolicy.CUSTOM and not (data.get("monthly_rate") or data.get("fixed_fee")):
            self.add_error(
                "monthly_rate", _("A custom policy needs a rate per month, a fixed fee or both.")
            )
        self._check_floor(policy, data)
        return data

    def _check_floor(self, policy: str | None, data: dict[str, Any]) -> None:
        """French B2B: a contractual rate under 3 x the legal rate is refused (L441-10)."""
        organisation = self.instance.organisation
        if (organisation.country or "FR") != "FR" or self.today is None:
            return
        rate = None
        if policy == FeePolicy.CONTRACTUAL:
            rate, field = data.get("contract_rate"), "contract_rate"
        elif policy == FeePolicy.CUSTOM and data.get("monthly_rate"):
            rate, field = data["monthly_rate"] * 12, "monthly_rate"
        if rate is None:
            return
        try:
            interest.check_contract_rate(rate, self.today, accrual.rate_table())
        except interest.ContractRateTooLow:
            legal = accrual.rate_table().rate("FR_LEGAL_PRO", self.today).rate
            multiple = law.constant("late_penalty_min_legal_rate_multiple", "FR", self.today).value
            self.add_error(
                field,
                _(
                    "Refused: the rate must be at least %(floor)s %% a year (3 times the legal "
                    "interest rate of %(legal)s %%), article L441-10 of the French Commercial "
                    "Code."
                )
                % {"floor": legal * multiple, "legal": legal},
            )
        except MissingRate as exc:
            self.add_error(
                field,
                _("The legal interest rate is missing, so the floor cannot be checked: %(e)s")
                % {"e": exc},
            )


class WaiveForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for waiving"), max_length=500)
