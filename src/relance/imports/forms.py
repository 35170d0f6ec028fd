"""Forms of the import pages: the upload, and the column mapping of a CSV file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from relance.imports.batches import MAX_FILE_SIZE, MAX_FILES
from relance.imports.csv_import import DATE_FORMATS, DECIMAL_MARKS, FIELDS, Options
from relance.imports.models import ImportKind
from relance.organisations.models import CURRENCY_CHOICES

TERMS_HELP = _("Used when the file gives no due date.")
COLUMN = "column_"  # the mapping selects: "column_number" is the column of the invoice number


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of file?"),
        choices=ImportKind.choices,
        initial=ImportKind.CSV,
        widget=forms.RadioSelect,
    )
    files = MultipleFileField(
        label=_("File"),
        required=False,
        help_text=_("Several files at once for e-invoices (PDF or XML)."),
    )
    terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=TERMS_HELP,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        files = data.get("files") or []
        if not files:
            self.add_error("files", _("Choose a file."))
            return data
        if data.get("kind") in (ImportKind.CSV, ImportKind.FEC) and len(files) > 1:
            self.add_error("files", _("Import one CSV or FEC file at a time."))
        if len(files) > MAX_FILES:
            self.add_error("files", _("At most %(n)s files at a time.") % {"n": MAX_FILES})
        for upload in files:
            if upload.size > MAX_FILE_SIZE:
                self.add_error(
                    "files",
                    _("%(name)s is larger than %(mb)s MB.")
                    % {"name": upload.name, "mb": MAX_FILE_SIZE // (1024 * 1024)},
                )
        return data


class MappingForm(forms.Form):
    """One select per field (the file's columns), and how to read the values."""

    date_format = forms.ChoiceField(label=_("Dates"))
    decimal_mark = forms.ChoiceField(label=_("Decimal mark"))
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=CURRENCY_CHOICES,
        help_text=_("Used when the file has no currency column."),
    )
    terms_days = forms.IntegerField(
        label=_("Payment terms (days)"), min_value=0, max_value=365, help_text=TERMS_HELP
    )
    pad_to = forms.IntegerField(
        label=_("Restore leading zeros of invoice numbers to (digits)"),
        min_value=0,
        max_value=40,
        required=False,
        help_text=_("0: leave the numbers as they are."),
    )

    def __init__(self, *args: Any, header: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header = header
        columns = [("", gettext("— not in the file —"))] + [
            (str(i), name or gettext("(column %(n)s)") % {"n": i + 1})
            for i, name in enumerate(header)
        ]
        mapped = {}
        for name, label in FIELDS.items():
            mapped[COLUMN + name] = forms.ChoiceField(
                label=_(label), choices=columns, required=False
            )
        # The column selects first, in the order of FIELDS.
        self.fields = {**mapped, **self.fields}
        self.fields["date_format"].choices = [("auto", gettext("Detect from the file"))] + [
            (key, _(label)) for key, label in DATE_FORMATS.items()
        ]
        self.fields["decimal_mark"].choices = [("auto", gettext("Detect from the file"))] + [
            (key, _(label)) for key, label in DECIMAL_MARKS.items()
        ]

    def column_fields(self) -> list[forms.BoundField]:
        return [self[COLUMN + name] for name in FIELDS]

    def setting_fields(self) -> list[forms.BoundField]:
        return [
            self[n] for n in ("date_format", "decimal_mark", "currency", "terms_days", "pad_to")
        ]

    @staticmethod
    def initial_from(options: Options) -> dict[str, Any]:
        initial: dict[str, Any] = {COLUMN + n: str(i) for n, i in options.mapping.items()}
        initial.update(
            date_format=options.date_format,
            decimal_mark=options.decimal_mark,
            currency=options.currency,
            terms_days=options.terms_days,
            pad_to=options.pad_to,
        )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = {name for name in FIELDS if data.get(COLUMN + name)}
        if "number" not in chosen:
            self.add_error(COLUMN + "number", _("Choose the column of the invoice number."))
        if not chosen & {"client_name", "client_reference"}:
            self.add_error(
                COLUMN + "client_name", _("Choose the column of the client name or reference.")
            )
        if "issue_date" not in chosen:
            self.add_error(COLUMN + "issue_date", _("Choose the column of the issue date."))
        if not chosen & {"total_gross", "total_net"}:
            self.add_error(COLUMN + "total_gross", _("Choose the column of the total."))
        return data

    def options(self) -> Options:
        data = self.cleaned_data
        return Options(
            mapping={name: int(data[COLUMN + name]) for name in FIELDS if data.get(COLUMN + name)},
            date_format=data["date_format"],
            decimal_mark=data["decimal_mark"],
            currency=data["currency"],
            terms_days=data["terms_days"],
            pad_to=data.get("pad_to") or 0,
        )
