"""The escalation actions' forms. Every action asks for an explicit confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance import formats

from .models import CourtProcedure, EscalationSettings, InsolvencyProcedure


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I confirm"),
        required=True,
        error_messages={"required": _("Tick the box to confirm.")},
    )


class HoldForm(ConfirmForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    notify = forms.BooleanField(
        label=_("Tell the client by email that work resumes when payment arrives"),
        required=False,
        initial=True,
    )
    field_order = ["reason", "notify", "confirm"]


class HandOffForm(ConfirmForm):
    agency = forms.CharField(label=_("Collection agency"), max_length=200, required=False)
    field_order = ["agency", "confirm"]


class CourtForm(ConfirmForm):
    procedure = forms.ChoiceField(label=_("Procedure"), choices=CourtProcedure.choices)
    field_order = ["procedure", "confirm"]


class WriteOffForm(ConfirmForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    invoices = forms.ModelMultipleChoiceField(
        label=_("Invoices"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    field_order = ["invoices", "reason", "confirm"]

    def __init__(self, *args: Any, invoices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = invoices
        self.fields["invoices"].label_from_instance = lambda i: (
            f"{i.number} ({formats.money(i.balance, i.currency)})"
        )


class InsolvencyForm(ConfirmForm):
    procedure = forms.ChoiceField(label=_("Procedure"), choices=InsolvencyProcedure.choices)
    judgment_on = forms.DateField(
        label=_("Date of the judgment"), widget=forms.DateInput(attrs={"type": "date"})
    )
    published_on = forms.DateField(
        label=_("Published in the BODACC on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The deadline to declare the claim runs from this publication."),
    )
    field_order = ["procedure", "judgment_on", "published_on", "confirm"]


class SentForm(forms.Form):
    sent_on = forms.DateField(label=_("Sent on"), widget=forms.DateInput(attrs={"type": "date"}))


class ReceiptForm(forms.Form):
    receipt = forms.FileField(label=_("Registered-letter receipt"))


class CloseForm(ConfirmForm):
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    field_order = ["outcome", "confirm"]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = EscalationSettings
        fields = [
            "lift_hold_on_payment",
            "write_off_threshold",
            "write_off_limit",
            "agency_from",
            "agency_after_days",
            "agency_fee_percent",
            "notice_days",
        ]
