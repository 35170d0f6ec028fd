"""The payment-terms template form: what each kind of terms needs, checked
in the user's words before the pure rules check the rest."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from relance.invoicing.models import PaymentTermsTemplate, TermsKind
from relance.rules.money import D, MoneyError
from relance.web.forms.invoices import DecimalText, date_field

HUNDRED = Decimal(100)
# Which of the numbers each kind uses; the others are cleared on save.
USES = {
    TermsKind.IMMEDIATE: set(),
    TermsKind.NET: {"days"},
    TermsKind.EOM_THEN_DAYS: {"days"},
    TermsKind.DAYS_THEN_EOM: {"days"},
    TermsKind.DEPOSIT: {"days", "deposit_percent"},
    TermsKind.INSTALLMENTS: {"days", "count", "every_months", "custom"},
}
MAX_DAYS = 3650
CUSTOM_ROW = re.compile(r"^\s*(\d{1,4})\s*[:;,\s]\s*([0-9]+(?:[.,][0-9]+)?)\s*%?\s*$")


def percent_field(label: Any) -> DecimalText:
    return DecimalText(
        label=label,
        max_digits=5,
        decimal_places=2,
        required=False,
        min_value=Decimal(0),
        max_value=HUNDRED,
    )


def parse_custom(text: str) -> list[list[Any]]:
    """ "0 30" / "60: 70 %" lines -> [[0, "30"], [60, "70"]], refused line by line."""
    rows: list[list[Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = CUSTOM_ROW.match(line)
        if not match:
            raise ValidationError(
                _(
                    "Line %(n)d: write the days after the invoice date, then the percentage, "
                    "e.g. 30 50."
                )
                % {"n": number}
            )
        try:
            percent = D(match.group(2))
        except (MoneyError, ArithmeticError):
            message = _("Line %(n)d: the percentage is not a number.")
            raise ValidationError(message % {"n": number}) from None
        rows.append([int(match.group(1)), format(percent.normalize(), "f")])
    if rows:
        if [d for d, _p in rows] != sorted(d for d, _p in rows):
            raise ValidationError(_("Write the payments in date order."))
        if any(not 0 < Decimal(p) <= HUNDRED for _d, p in rows):
            raise ValidationError(_("Each percentage is more than 0 and at most 100."))
        total = sum((Decimal(p) for _d, p in rows), Decimal(0))
        if total != HUNDRED:
            raise ValidationError(
                _("The percentages add up to %(total)s, not 100.")
                % {"total": format(total.normalize(), "f")}
            )
    return rows


def custom_text(rows: list[list[Any]]) -> str:
    return "\n".join(f"{days} {percent}" for days, percent in rows)


class TermsForm(forms.ModelForm):
    """One template. The view sets the instance's organisation first."""

    deposit_percent = percent_field(_("deposit (%)"))
    discount_percent = percent_field(_("early-payment discount (%)"))
    custom_rows = forms.CharField(
        label=_("Custom schedule"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One payment a line: the days after the invoice date, then the percentage, "
            "e.g. “0 30” then “60 70”. Leave empty for equal installments."
        ),
    )
    example_date = date_field(
        label=_("Example invoice date"),
        required=False,
        help_text=_("For the preview only."),
    )

    class Meta:
        model = PaymentTermsTemplate
        fields = [
            "name", "kind", "days", "business_days", "deposit_percent", "count",
            "every_months", "discount_percent", "discount_days", "agreed_45_eom",
        ]  # fmt: skip
        help_texts = {
            "days": _(
                "Net: days after the invoice date. End of month: days after (or before) the "
                "month's end. Deposit: days until the balance. Installments: days until the "
                "first one (0: on issue)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].widget.attrs["max"] = MAX_DAYS
        for name in ("days", "count"):
            self.fields[name].required = False
        if self.instance.pk and not self.is_bound:
            self.initial["custom_rows"] = custom_text(self.instance.custom)
            for name in ("deposit_percent", "discount_percent"):
                value = getattr(self.instance, name)
                self.initial[name] = format(value.normalize(), "f") if value is not None else ""

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        same = PaymentTermsTemplate.objects.for_org(self.instance.organisation).filter(
            name__iexact=name
        )
        if same.exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("Other payment terms already have this name."))
        return name

    def clean_days(self) -> int:
        days = self.cleaned_data["days"] or 0
        if days > MAX_DAYS:
            raise ValidationError(_("At most %(n)d days.") % {"n": MAX_DAYS})
        return days

    def clean_count(self) -> int:
        return self.cleaned_data["count"] or 0

    def clean_custom_rows(self) -> list[list[Any]]:
        return parse_custom(self.cleaned_data.get("custom_rows", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind is None:
            return data
        uses = USES[TermsKind(kind)]
        self._clear_unused(data, uses)
        if kind == TermsKind.DEPOSIT:
            pct = data.get("deposit_percent")
            if pct is None or not 0 < pct < HUNDRED:
                self.add_error("deposit_percent", _("Give a deposit between 0 and 100 %."))
            if not data.get("days"):
                self.add_error("days", _("Give the days between the invoice and the balance."))
        installments = kind == TermsKind.INSTALLMENTS and not data.get("custom_rows")
        if installments and (data.get("count") or 0) < 2:
            self.add_error("count", _("Give at least 2 installments, or a custom schedule."))
        has_pct = data.get("discount_percent") is not None
        has_days = data.get("discount_days") is not None
        if has_pct != has_days:
            self.add_error(
                "discount_days" if has_pct else "discount_percent",
                _("An early-payment discount needs both its percentage and its days."),
            )
        elif has_pct and not 0 < data["discount_percent"] < HUNDRED:
            self.add_error("discount_percent", _("Give a discount between 0 and 100 %."))
        return data

    def _clear_unused(self, data: dict[str, Any], uses: set[str]) -> None:
        """A template keeps only the numbers its kind uses: no stale deposit on a net."""
        if "days" not in uses:
            data["days"] = 0
        if "deposit_percent" not in uses:
            data["deposit_percent"] = None
        if "count" not in uses:
            data["count"] = 0
            data["every_months"] = 1
        if "custom" not in uses:
            data["custom_rows"] = []
        elif data.get("custom_rows"):
            data["count"] = 0

    def _post_clean(self) -> None:
        if hasattr(self, "cleaned_data"):
            self.instance.custom = self.cleaned_data.get("custom_rows") or []
        super()._post_clean()
