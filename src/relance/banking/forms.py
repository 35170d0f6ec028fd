"""Forms of the bank statement pages: the upload, and the columns of a CSV statement."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.banking.parsers import FORMATS

MAX_FILE_SIZE = 100 * 1024 * 1024
AUTO = ""

FORMAT_CHOICES = [
    (AUTO, _("Detect from the file")),
    ("camt053", _("camt.053 (ISO 20022 statement)")),
    ("camt052", _("camt.052 (ISO 20022 intraday report)")),
    ("camt054", _("camt.054 (ISO 20022 notification)")),
    ("mt940", _("MT940 / MT942 (SWIFT)")),
    ("ofx", _("OFX")),
    ("csv", _("CSV (spreadsheet export)")),
]
assert {code for code, _label in FORMAT_CHOICES if code} == set(FORMATS)


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Statement file"),
        help_text=_("camt.052/053/054, MT940, OFX or CSV, as your bank exports it."),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=FORMAT_CHOICES, required=False, initial=AUTO
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": MAX_FILE_SIZE // 2**20}
            )
        if not upload.size:
            raise forms.ValidationError(_("The file is empty."))
        return upload


# The CSV columns the user maps, in the order of the form.
CSV_FIELDS: list[tuple[str, Any, str]] = [
    ("date", _("Booking date"), ""),
    ("value_date", _("Value date"), ""),
    ("amount", _("Amount (signed)"), _("Negative for a debit. Or use the two columns below.")),
    ("debit", _("Debit"), ""),
    ("credit", _("Credit"), ""),
    ("currency", _("Currency"), _("Without it, the organisation's currency.")),
    ("remittance", _("Label / remittance text"), ""),
    ("reference", _("Reference"), ""),
    ("payer_name", _("Payer name"), ""),
    ("payer_iban", _("Payer IBAN"), ""),
]


class CsvMappingForm(forms.Form):
    """One select per field, listing the file's columns."""

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("(none)"))] + [(name, name) for name in header if name]
        for name, label, help_text in CSV_FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=label, choices=choices, required=name == "date", help_text=help_text
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("amount") and not (data.get("debit") or data.get("credit")):
            raise forms.ValidationError(
                _("Choose the amount column, or the debit and credit columns.")
            )
        chosen = [column for column in self.mapping().values()]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError(_("A column can be used for one field only."))
        return data

    def mapping(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name]
            for name, _label, _help in CSV_FIELDS
            if self.cleaned_data.get(name)
        }
