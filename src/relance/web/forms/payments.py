"""Forms of the payment pages: recording a payment, and the payment list filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Client, Installment, Invoice, PaymentMethod
from relance.ledger.settlement import Share
from relance.organisations.models import CURRENCY_CHOICES
from relance.web.forms.invoices import amount_field, check_decimals, date_field


class PaymentForm(forms.Form):
    """What every recorded payment says: how much, when, how, from whom."""

    amount = amount_field(label=_("Amount received"), min_value=Decimal("0.01"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    date = date_field(label=_("Date received"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=140,
        required=False,
        help_text=_("The bank's reference or the cheque number."),
    )
    payer_name = forms.CharField(label=_("Payer"), max_length=200, required=False)
    keep_excess_as_credit = forms.BooleanField(
        label=_("Record what exceeds the balance as client credit"), required=False
    )
    record_anyway = forms.BooleanField(
        label=_("This is a different payment: record it anyway"), required=False
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        check_decimals(self, "amount", data.get("amount"), data.get("currency", ""))
        if data.get("date") and data["date"] > self.today:
            self.add_error("date", _("A payment cannot be received in the future."))
        return data


class InvoicePaymentForm(PaymentForm):
    """A payment of one invoice, optionally of one of its installments."""

    installment = forms.ModelChoiceField(
        label=_("Installment"),
        queryset=Installment.objects.none(),
        required=False,
        empty_label=_("The earliest due first"),
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        unpaid = invoice.installments.filter(amount_paid__lt=F("amount")).order_by("due_date")
        if unpaid.exists():
            self.fields["installment"].queryset = unpaid
            self.fields["installment"].label_from_instance = self._installment_label
        else:
            del self.fields["installment"]

    @staticmethod
    def _installment_label(row: Installment) -> str:
        return _("due %(date)s: %(remaining)s left") % {
            "date": row.due_date.isoformat(),
            "remaining": row.remaining,
        }

    def shares(self) -> list[Share]:
        """What goes on the invoice; any excess is left to the credit rule."""
        amount = self.cleaned_data["amount"]
        installment = self.cleaned_data.get("installment")
        room = installment.remaining if installment else self.invoice.balance
        return [Share(invoice=self.invoice, amount=min(amount, room), installment=installment)]


class ClientPaymentForm(PaymentForm):
    """A payment from a client, spread over its open invoices."""

    OLDEST, MANUAL = "oldest", "manual"

    allocation = forms.ChoiceField(
        label=_("Allocation"),
        widget=forms.RadioSelect,
        initial=OLDEST,
        choices=[
            (OLDEST, _("Oldest invoices first")),
            (MANUAL, _("The amounts I give below")),
        ],
    )

    def __init__(self, *args: Any, open_invoices: list[Invoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_invoices = open_invoices
        for invoice in open_invoices:
            self.fields[self.share_field(invoice)] = amount_field(
                label=_("Amount for %(doc)s") % {"doc": invoice},
                required=False,
                min_value=Decimal("0.01"),
            )

    @staticmethod
    def share_field(invoice: Invoice) -> str:
        return f"share_{invoice.pk}"

    def rows(self) -> list[tuple[Invoice, forms.BoundField]]:
        return [(invoice, self[self.share_field(invoice)]) for invoice in self.open_invoices]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("allocation") != self.MANUAL:
            return data
        currency = data.get("currency", "")
        for invoice in self.open_invoices:
            name = self.share_field(invoice)
            amount = data.get(name)
            if amount is None:
                continue
            if invoice.currency != currency:
                self.add_error(
                    name,
                    _("%(doc)s is in %(currency)s: it cannot be settled in another currency.")
                    % {"doc": invoice, "currency": invoice.currency},
                )
            elif amount > invoice.balance:
                self.add_error(name, _("More than the balance of this invoice."))
            else:
                check_decimals(self, name, amount, currency)
        return data

    def manual_shares(self) -> list[Share]:
        return [
            Share(invoice=invoice, amount=self.cleaned_data[self.share_field(invoice)])
            for invoice in self.open_invoices
            if self.cleaned_data.get(self.share_field(invoice))
        ]


class PaymentFilterForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), required=False, empty_label=_("All")
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=[("", _("All")), *PaymentMethod.choices], required=False
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", _("All")), *CURRENCY_CHOICES], required=False
    )
    date_from = date_field(label=_("Received from"), required=False)
    date_to = date_field(label=_("Received until"), required=False)
    credit = forms.BooleanField(label=_("With client credit only"), required=False)

    def __init__(self, *args: Any, clients: QuerySet[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients


class RefundForm(forms.Form):
    """Client credit paid back to the client."""

    amount = amount_field(label=_("Amount refunded"), min_value=Decimal("0.01"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    date = date_field(label=_("Date of the refund"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=140, required=False)

    def __init__(self, *args: Any, today: date, credit: dict[str, Decimal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.credit = credit
        self.fields["currency"].choices = [(code, code) for code in credit]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        check_decimals(self, "amount", data.get("amount"), data.get("currency", ""))
        if data.get("date") and data["date"] > self.today:
            self.add_error("date", _("A refund cannot be made in the future."))
        amount, currency = data.get("amount"), data.get("currency")
        if amount is not None and currency and amount > self.credit.get(currency, Decimal(0)):
            self.add_error("amount", _("More than the client's credit."))
        return data


class ReversalForm(forms.Form):
    """Why and when a payment did not hold."""

    date = date_field(label=_("Date of the reversal"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("e.g. direct debit rejected, transfer returned, card payment refunded."),
    )

    def __init__(self, *args: Any, today: date, received: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.received = received

    def clean_date(self) -> date:
        value = self.cleaned_data["date"]
        if value > self.today:
            raise forms.ValidationError(_("A reversal cannot be dated in the future."))
        if value < self.received:
            raise forms.ValidationError(_("A payment cannot be reversed before it was received."))
        return value
