"""The recurring-invoice form: a retainer's client, lines and schedule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice
from relance.ledger.models import Client
from relance.organisations.models import CURRENCY_CHOICES
from relance.rules.totals import Totals, compute_totals
from relance.web.forms.invoices import (
    MONEY_LIMIT,
    DateInput,
    PlainLineFormSet,
    RowFormSet,
    plain,
)


class RecurringForm(forms.ModelForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)

    class Meta:
        model = RecurringInvoice
        fields = [
            "client", "name", "currency", "frequency", "next_date", "end_date",
            "terms_template", "send",
        ]  # fmt: skip
        widgets = {"next_date": DateInput(), "end_date": DateInput()}
        help_texts = {
            "name": _("e.g. Monthly maintenance; printed in the invoice's notes."),
            "next_date": _("The worker issues the invoice on this day, then moves it on."),
            "end_date": _("Empty: until you pause it."),
            "terms_template": _("Empty: the client's or the organisation's default terms."),
        }

    def __init__(
        self,
        *args: Any,
        clients: QuerySet[Client],
        terms: QuerySet[PaymentTermsTemplate],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        self.fields["terms_template"].queryset = terms
        self.fields["terms_template"].empty_label = _("The client's or the organisation's default")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("next_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last invoice date cannot be before the next one."))
        return data


def rows_of(lines: list[dict[str, str]]) -> list[dict[str, str]]:
    """The stored JSON lines as form rows."""
    return [
        {
            "description": row.get("description", ""),
            "quantity": plain(Decimal(row.get("quantity", "1"))),
            "unit_price": plain(Decimal(row.get("unit_price", "0"))),
            "vat_rate": plain(Decimal(row.get("vat_rate", "0"))),
        }
        for row in lines
    ]


def totals_of(lines: list[dict[str, str]], currency: str) -> Totals:
    return compute_totals(
        (
            (Decimal(row["quantity"]), Decimal(row["unit_price"]), Decimal(row["vat_rate"]))
            for row in lines
        ),
        currency,
    )


@dataclass
class RecurringEditor:
    form: RecurringForm
    lines: RowFormSet

    @classmethod
    def build(
        cls,
        data: Any = None,
        *,
        instance: RecurringInvoice,
        clients: QuerySet[Client],
        terms: QuerySet[PaymentTermsTemplate],
        initial: dict[str, Any] | None = None,
    ) -> RecurringEditor:
        form = RecurringForm(data, instance=instance, initial=initial, clients=clients, terms=terms)
        if data is not None:
            return cls(form, PlainLineFormSet(data, prefix="lines"))
        rows = rows_of(instance.lines) + [{}] * (3 if not instance.lines else 1)
        return cls(form, PlainLineFormSet(initial=rows, prefix="lines"))

    @property
    def errors(self) -> list[str]:
        return list(self.lines.non_form_errors())

    def is_valid(self) -> bool:
        if not all([self.form.is_valid(), self.lines.is_valid()]):
            return False
        if not self.lines.filled():
            self.lines._non_form_errors.append(_("Add at least one line."))
            return False
        totals = totals_of(self.json_lines(), self.form.cleaned_data["currency"])
        if totals.gross >= MONEY_LIMIT:
            self.lines._non_form_errors.append(_("The total is too large."))
            return False
        if totals.gross <= 0:
            self.lines._non_form_errors.append(_("The total must be greater than zero."))
            return False
        return True

    def json_lines(self) -> list[dict[str, str]]:
        return [
            {
                "description": f.cleaned_data["description"],
                "quantity": str(f.cleaned_data["quantity"]),
                "unit_price": str(f.cleaned_data["unit_price"]),
                "vat_rate": str(f.cleaned_data["vat_rate"]),
            }
            for f in self.lines.filled()
        ]

    def save(self) -> RecurringInvoice:
        schedule: RecurringInvoice = self.form.save(commit=False)
        schedule.lines = self.json_lines()
        schedule.save()
        return schedule
