"""Forms of the invoice pages: filters, the draft editor, credit notes,
write-offs and attachments.

Amounts are typed the French way ("1 234,50") or the English way
("1234.50"); both become exact Decimals through ``rules.money.D``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from relance.dunning.models import Policy
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger.models import Client, InvoiceKind, InvoiceStatus
from relance.ledger.models.invoices import OperationCategory, VatCategory
from relance.organisations.models import CURRENCY_CHOICES
from relance.rules import aging
from relance.rules.money import D, MoneyError, exponent, has_sub_minor_digits
from relance.rules.totals import Totals, compute_totals, line_net

# Common French VAT rates, offered in a datalist; any rate from 0 to 100 may be typed.
VAT_RATES = ("20", "10", "5.5", "2.1", "0")
MONEY_LIMIT = Decimal(10) ** 13  # DECIMAL(15, 2) columns
MAX_NUMBER_LENGTH = 40


class DecimalText(forms.CharField):
    """A decimal typed as text: "1 234,50", "1234.50" or "1,5"."""

    def __init__(
        self,
        *,
        max_digits: int = 15,
        decimal_places: int = 2,
        min_value: Decimal | None = None,
        max_value: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)
        self.widget.attrs["maxlength"] = str(MAX_NUMBER_LENGTH)
        self.limit = Decimal(10) ** (max_digits - decimal_places)
        self.quantum = Decimal(1).scaleb(-decimal_places)
        self.decimal_places = decimal_places
        self.min_value, self.max_value = min_value, max_value

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > MAX_NUMBER_LENGTH:
            raise ValidationError(_("This number is too large."), code="max_length")
        try:
            number = D(text)
        except (MoneyError, ArithmeticError):
            raise ValidationError(_("Enter a number, e.g. 1 234,50."), code="invalid") from None
        # Size first: quantizing a huge number would itself fail.
        if abs(number) >= self.limit:
            raise ValidationError(_("This number is too large."), code="max_digits")
        if number != number.quantize(self.quantum):
            raise ValidationError(
                _("Use at most %(n)d decimals.") % {"n": self.decimal_places}, code="decimals"
            )
        return number.quantize(self.quantum)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(
                _("Enter %(min)s or more.") % {"min": self.min_value}, code="min_value"
            )
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(
                _("Enter %(max)s or less.") % {"max": self.max_value}, code="max_value"
            )


def amount_field(**kwargs: Any) -> DecimalText:
    return DecimalText(max_digits=15, decimal_places=2, **kwargs)


def plain(number: Decimal | None) -> str:
    """A Decimal as a form shows it: "1.5", not "1.5000" nor "1.5E+1"."""
    if number is None:
        return ""
    return format(number.normalize(), "f")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def date_field(**kwargs: Any) -> forms.DateField:
    return forms.DateField(widget=DateInput(), **kwargs)


def check_decimals(form: forms.Form, name: str, amount: Decimal | None, currency: str) -> None:
    """Refuse an amount that has more decimals than its currency allows."""
    if amount is not None and currency and has_sub_minor_digits(amount, currency):
        form.add_error(
            name,
            _("Amounts in %(currency)s have at most %(n)d decimals.")
            % {"currency": currency, "n": exponent(currency)},
        )


# The invoice list -----------------------------------------------------------

STATUS_FILTERS = [
    ("", _("All")),
    ("open", _("Open (unpaid)")),
    ("overdue", _("Overdue")),
    *InvoiceStatus.choices,
]
SORTS = {
    "number": "number",
    "issue_date": "issue_date",
    "due_date": "due_date",
    "client": "client__name",
    "total": "total_gross",
    "balance": "balance",
}


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Number or client"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTERS, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All")), *InvoiceKind.choices], required=False
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", _("All")), *CURRENCY_CHOICES], required=False
    )
    aging = forms.ChoiceField(
        label=_("Days late"),
        choices=[("", _("All")), *[(key, key) for key, _f, _l in aging.BUCKETS]],
        required=False,
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    client = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    issued_from = date_field(label=_("Issued from"), required=False)
    issued_to = date_field(label=_("Issued until"), required=False)
    due_from = date_field(label=_("Due from"), required=False)
    due_to = date_field(label=_("Due until"), required=False)


# The draft editor -------------------------------------------------------------


class InvoiceForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    issue_date = date_field(
        label=_("Issue date"),
        required=False,
        help_text=_("Leave empty to use the day the invoice is issued."),
    )
    terms_template = forms.ModelChoiceField(
        label=_("Payment terms"),
        queryset=PaymentTermsTemplate.objects.none(),
        required=False,
        empty_label=_("The client's or the organisation's default terms"),
    )
    due_date = date_field(
        label=_("Due date"),
        required=False,
        help_text=_("Leave empty: the payment terms give it when the invoice is issued."),
    )
    dunning_policy = forms.ModelChoiceField(
        label=_("Reminder policy"),
        queryset=Policy.objects.none(),
        required=False,
        empty_label=_("The client's or the organisation's default policy"),
        help_text=_("Only for an invoice that needs other reminders than the client's."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    operation_category = forms.ChoiceField(
        label=_("Operation"), choices=OperationCategory.choices, initial=OperationCategory.SERVICES
    )
    delivery_date = date_field(
        label=_("Date of delivery or service"),
        required=False,
        help_text=_("Only when it differs from the issue date."),
    )
    vat_exemption_reason = forms.CharField(
        label=_("VAT exemption mention"),
        max_length=200,
        required=False,
        help_text=_(
            "For lines without VAT, e.g. TVA non applicable, art. 293 B du CGI. "
            "Empty: the organisation's mention."
        ),
    )
    purchase_order = forms.CharField(
        label=_("Purchase order number"), max_length=50, required=False
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        clients: QuerySet[Client],
        terms: QuerySet[PaymentTermsTemplate] | None = None,
        policies: QuerySet[Policy] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        if terms is not None:
            self.fields["terms_template"].queryset = terms
        if policies is None:
            # Without the organisation's policies the field would only offer "none"
            # and clear a stored choice on save: leave it out entirely.
            del self.fields["dunning_policy"]
        else:
            self.fields["dunning_policy"].queryset = policies

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        issued, due = data.get("issue_date"), data.get("due_date")
        if issued and due and due < issued:
            self.add_error("due_date", _("The due date cannot be before the issue date."))
        if due and data.get("terms_template"):
            self.add_error(
                "due_date",
                _("Choose payment terms or a due date, not both: the terms give the due date."),
            )
        return data


# Short names: the select sits in a narrow column of the lines table.
LINE_CATEGORIES = [
    (VatCategory.STANDARD, _("Standard")),
    (VatCategory.ZERO, _("Zero-rated")),
    (VatCategory.EXEMPT, _("Exempt")),
    (VatCategory.REVERSE_CHARGE, _("Reverse charge")),
    (VatCategory.INTRA_EU, _("Intra-EU")),
    (VatCategory.EXPORT, _("Export")),
    (VatCategory.NOT_SUBJECT, _("Outside VAT")),
]


class RowForm(forms.Form):
    """A row of a formset: blank rows are skipped, however many there are."""

    row_fields: tuple[str, ...] = ()

    def has_changed(self) -> bool:
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip() for name in self.row_fields
        )


class LineForm(RowForm):
    row_fields = ("description", "unit_price")
    # The recurring-invoice editor has no VAT category: its lines are standard-rated.
    with_category = True

    description = forms.CharField(label=_("Description"), max_length=500)
    quantity = DecimalText(
        label=_("Quantity"), max_digits=12, decimal_places=4, initial="1", min_value=Decimal(0)
    )
    unit_price = DecimalText(label=_("Unit price excl. VAT"), max_digits=15, decimal_places=4)
    vat_rate = DecimalText(
        label=_("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        initial="20",
        min_value=Decimal(0),
        max_value=Decimal(100),
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "list": "vat-rates", "autocomplete": "off"}
        ),
    )
    vat_category = forms.ChoiceField(
        label=_("VAT category"),
        choices=LINE_CATEGORIES,
        initial=VatCategory.STANDARD,
        required=False,  # a row posted without it is standard-rated
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.with_category:
            del self.fields["vat_category"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        category, rate = data.get("vat_category"), data.get("vat_rate")
        if category and category != VatCategory.STANDARD and rate:
            self.add_error(
                "vat_rate",
                _("A line exempt from VAT or outside its scope has a VAT rate of 0."),
            )
        quantity, price = data.get("quantity"), data.get("unit_price")
        if quantity is not None and price is not None:
            if quantity * price < 0:
                self.add_error(
                    "unit_price",
                    _("A line cannot be negative: correct an issued invoice with a credit note."),
                )
            elif quantity * price >= MONEY_LIMIT:
                self.add_error("unit_price", _("This line's amount is too large."))
        return data

    def as_tuple(self) -> tuple[str, Decimal, Decimal, Decimal]:
        data = self.cleaned_data
        return (data["description"], data["quantity"], data["unit_price"], data["vat_rate"])

    @property
    def category(self) -> str:
        return self.cleaned_data.get("vat_category") or VatCategory.STANDARD


class PlainLineForm(LineForm):
    with_category = False


class InstallmentForm(RowForm):
    row_fields = ("due_date", "amount")

    due_date = date_field(label=_("Due date"))
    amount = amount_field(label=_("Amount incl. VAT"), min_value=Decimal("0.01"))


class RowFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row may stay blank (an existing line is removed by clearing it).
        return {**super().get_form_kwargs(index), "empty_permitted": True}

    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if form.cleaned_data]


LineFormSet = forms.formset_factory(LineForm, formset=RowFormSet, extra=0, max_num=200)
PlainLineFormSet = forms.formset_factory(PlainLineForm, formset=RowFormSet, extra=0, max_num=200)
InstallmentFormSet = forms.formset_factory(InstallmentForm, formset=RowFormSet, extra=0, max_num=60)


def line_initial(lines: Any) -> list[dict[str, str]]:
    return [
        {
            "description": line.description,
            "quantity": plain(line.quantity),
            "unit_price": plain(line.unit_price),
            "vat_rate": plain(line.vat_rate),
            "vat_category": line.vat_category,
        }
        for line in lines
    ]


def installment_initial(installments: Any) -> list[dict[str, Any]]:
    return [{"due_date": row.due_date, "amount": plain(row.amount)} for row in installments]


@dataclass
class InvoiceEditor:
    """The header form, the lines and the optional schedule, checked together."""

    form: InvoiceForm
    lines: RowFormSet
    installments: RowFormSet
    totals: Totals | None = None

    @classmethod
    def build(
        cls,
        data: Any = None,
        *,
        clients: QuerySet[Client],
        terms: QuerySet[PaymentTermsTemplate] | None = None,
        policies: QuerySet[Policy] | None = None,
        initial: dict[str, Any] | None = None,
        lines: list[dict[str, str]] = (),  # type: ignore[assignment]
        installments: list[dict[str, Any]] = (),  # type: ignore[assignment]
        blank_lines: int = 3,
        blank_installments: int = 2,
    ) -> InvoiceEditor:
        if data is not None:
            if cls.wants_more_lines(data):
                data = data.copy()
                try:
                    count = int(data.get("lines-TOTAL_FORMS", "0"))
                except ValueError:
                    count = 0
                data["lines-TOTAL_FORMS"] = str(min(count, 197) + 3)
            return cls(
                InvoiceForm(data, clients=clients, terms=terms, policies=policies),
                LineFormSet(data, prefix="lines"),
                InstallmentFormSet(data, prefix="installments"),
            )
        line_rows = list(lines) + [{}] * blank_lines
        schedule = list(installments) + [{}] * blank_installments
        return cls(
            InvoiceForm(initial=initial, clients=clients, terms=terms, policies=policies),
            LineFormSet(initial=line_rows, prefix="lines"),
            InstallmentFormSet(initial=schedule, prefix="installments"),
        )

    @staticmethod
    def wants_more_lines(data: Any) -> bool:
        """The "more lines" button: show the form again with blank rows, save nothing."""
        return "more_lines" in data

    @property
    def errors(self) -> list[str]:
        return [*self.lines.non_form_errors(), *self.installments.non_form_errors()]

    def is_valid(self) -> bool:
        valid = all([self.form.is_valid(), self.lines.is_valid(), self.installments.is_valid()])
        if not valid:
            return False
        currency = self.form.cleaned_data["currency"]
        if not self.lines.filled():
            self.lines._non_form_errors.append(_("Add at least one line."))
            return False
        self.totals = compute_totals(
            ((f.cleaned_data["quantity"], f.cleaned_data["unit_price"], f.cleaned_data["vat_rate"])
             for f in self.lines.filled()),
            currency,
        )  # fmt: skip
        if self.totals.gross >= MONEY_LIMIT:
            self.lines._non_form_errors.append(_("The total is too large."))
            return False
        return self._check_schedule(currency, self.totals.gross)

    def _check_schedule(self, currency: str, total: Decimal) -> bool:
        rows = self.installments.filled()
        for form in rows:
            check_decimals(form, "amount", form.cleaned_data.get("amount"), currency)
        if any(form.errors for form in rows):
            return False
        if rows and self.form.cleaned_data.get("terms_template"):
            self.installments._non_form_errors.append(
                _(
                    "The chosen payment terms make their own schedule: clear the installments "
                    "or the payment terms."
                )
            )
            return False
        scheduled = sum((form.cleaned_data["amount"] for form in rows), Decimal(0))
        if rows and scheduled != total:
            self.installments._non_form_errors.append(
                _(
                    "The installments add up to %(sum)s, not the total incl. VAT of %(total)s "
                    "%(currency)s."
                )
                % {"sum": scheduled, "total": total, "currency": currency}
            )
            return False
        return True

    def header(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        names = (
            "issue_date",
            "due_date",
            "currency",
            "purchase_order",
            "notes",
            "terms_template",
            "operation_category",
            "delivery_date",
            "vat_exemption_reason",
        )
        header = {name: data[name] for name in names}
        if "dunning_policy" in self.form.fields:
            header["dunning_policy"] = data["dunning_policy"]
        schedule = self.schedule()
        if header["due_date"] is None and schedule:
            # A schedule typed by hand ends on the due date; default terms would replace it.
            header["due_date"] = max(due for due, _amount in schedule)
        header["vat_exemption_reason"] = header["vat_exemption_reason"].strip()
        return header

    def line_tuples(self) -> list[tuple[str, Decimal, Decimal, Decimal, str]]:
        """The filled lines with their VAT category (``ledger.issuing.LineSpec``)."""
        return [(*form.as_tuple(), form.category) for form in self.lines.filled()]  # type: ignore[attr-defined]

    def schedule(self) -> list[tuple[date, Decimal]]:
        return [
            (form.cleaned_data["due_date"], form.cleaned_data["amount"])
            for form in self.installments.filled()
        ]


def preview_net(form: LineForm, currency: str) -> Decimal | None:
    data = getattr(form, "cleaned_data", None) or {}
    if "quantity" in data and "unit_price" in data:
        return line_net(data["quantity"], data["unit_price"], currency)
    return None


# Credit notes and write-offs ----------------------------------------------------


class CreditNoteForm(forms.Form):
    FULL, PARTIAL = "full", "partial"

    mode = forms.ChoiceField(
        label=_("Credit note"),
        widget=forms.RadioSelect,
        choices=[
            (FULL, _("Cancel the whole invoice")),
            (PARTIAL, _("Credit part of it (the lines below)")),
        ],
        initial=FULL,
    )


# Issuing and sending ------------------------------------------------------------


class IssueForm(forms.Form):
    SEND, LATER, KEEP = "send", "later", "none"

    mode = forms.ChoiceField(
        label=_("Issue"),
        widget=forms.RadioSelect,
        choices=[
            (SEND, _("Issue and send by email")),
            (LATER, _("Issue, send later on")),
            (KEEP, _("Issue without sending")),
        ],
        initial=SEND,
        required=False,  # the default: issue and send
    )
    send_on = date_field(label=_("Send on"), required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or self.SEND

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == self.LATER:
            on = data.get("send_on")
            if on is None:
                self.add_error("send_on", _("Give the day to send the invoice."))
            elif on < self.today:
                self.add_error("send_on", _("Choose today or a later day."))
        return data


class SendLaterForm(forms.Form):
    send_on = date_field(label=_("Send on"))

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_send_on(self) -> date:
        on: date = self.cleaned_data["send_on"]
        if on < self.today:
            raise ValidationError(_("Choose today or a later day."))
        return on


class WriteOffForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the write-off"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for writing this invoice off."))
        return reason


# Attachments ----------------------------------------------------------------

MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
# Extension -> (content type, how the file must start; None for text).
ALLOWED_FILES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        # Incremental: a character cut at the end of the sample is fine.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return True


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG, JPEG, text or CSV, 10 MB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.txt,.csv"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_ATTACHMENT_SIZE:
            raise ValidationError(_("This file is larger than 10 MB."), code="size")
        name = upload.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in ALLOWED_FILES:
            raise ValidationError(
                _("Only PDF, PNG, JPEG, text and CSV files can be attached."), code="type"
            )
        upload.seek(0)
        head = upload.read(2048)
        upload.seek(0)
        _type, signatures = ALLOWED_FILES[extension]
        matches = (
            _looks_like_text(head)
            if signatures is None
            else any(head.startswith(sign) for sign in signatures)
        )
        if not matches:
            raise ValidationError(
                _("The content of this file does not match its .%(ext)s name.")
                % {"ext": extension},
                code="content",
            )
        return upload
