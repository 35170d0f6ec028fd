"""The organisation's own details: what every invoice and reminder says about it."""

from __future__ import annotations

from django import forms

from relance.organisations.models import Organisation


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "legal_name", "trade_name", "legal_form", "share_capital", "siren", "siret",
            "vat_number", "rcs_city", "address_line1", "address_line2", "postcode", "city",
            "country", "email", "phone", "website", "iban", "bic", "currency", "time_zone",
            "locale", "logo", "operation_category", "vat_on_debits", "vat_exemption_reason",
            "invoice_prefix", "credit_note_prefix", "apply_credit_automatically",
            "thank_for_payments",
        ]  # fmt: skip
        widgets = {"time_zone": forms.TextInput(attrs={"list": "time-zones"})}

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()
