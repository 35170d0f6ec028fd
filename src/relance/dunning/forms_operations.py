"""Forms of the reminder pages a person works in every day. They only parse
what was typed; the rules (a promise needs a date not in the past…) live in
``actions`` and come back as form errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Invoice, NonPaymentReason
from relance.web.forms.invoices import amount_field, date_field

from .models import CallOutcome, Channel, MessageStatus, PauseKind

PAUSE_KINDS = [
    (PauseKind.PROMISE, _("Promise to pay")),
    (PauseKind.DISPUTE, _("Dispute")),
    (PauseKind.SNOOZE, _("Snooze")),
]


class PauseForm(forms.Form):
    """Hold the reminders of a client, or of one of its invoices."""

    kind = forms.ChoiceField(label=_("What holds the reminders"), choices=PAUSE_KINDS)
    invoice = forms.ModelChoiceField(
        label=_("Invoice"),
        queryset=Invoice.objects.none(),
        required=False,
        empty_label=_("Every invoice of the client"),
    )
    until = date_field(
        label=_("Date"),
        required=False,
        help_text=_(
            "Promise: the day the client will pay by. Dispute and snooze: the day the "
            "reminders resume (a dispute may stay open until lifted)."
        ),
    )
    amount = amount_field(
        label=_("Promised amount"),
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Promise only. Empty: the whole balance."),
    )
    reason = forms.CharField(
        label=_("Reason or note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for a dispute: what the client contests."),
    )

    def __init__(self, *args: Any, invoices: Any = None, fixed_invoice: Any = None, **kw: Any):
        super().__init__(*args, **kw)
        if fixed_invoice is not None:
            self.fields["invoice"].queryset = Invoice.objects.filter(pk=fixed_invoice.pk)
            self.fields["invoice"].initial = fixed_invoice.pk
            self.fields["invoice"].widget = forms.HiddenInput()
        elif invoices is not None:
            self.fields["invoice"].queryset = invoices
            self.fields["invoice"].label_from_instance = lambda i: f"{i.number} ({i.currency})"


class CallLogForm(forms.Form):
    """How a reminder call went."""

    outcome = forms.ChoiceField(
        label=_("How did the call go?"), choices=CallOutcome.choices, widget=forms.RadioSelect
    )
    promise_until = date_field(label=_("Promised payment date"), required=False)
    promise_amount = amount_field(
        label=_("Promised amount"), required=False, min_value=Decimal("0.01")
    )
    dispute_reason = forms.CharField(
        label=_("What the client disputes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    """Why the client does not pay."""

    reason = forms.ChoiceField(
        label=_("Reason for non-payment"),
        choices=[("", _("Not known")), *NonPaymentReason.choices],
        required=False,
    )
    detail = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why not send it"), required=False, max_length=2000)


class SentFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All")), *Channel.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *MessageStatus.choices], required=False
    )
