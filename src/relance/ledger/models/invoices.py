"""Invoices and credit notes: the register of what is owed.

An issued document is frozen: its lines, amounts, dates and parties never
change again; corrections are made by a credit note. Only the settlement
fields (paid, credited, balance, status) move, and only through
``refresh_settlement`` under a row lock.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.fields import MoneyField, MoneySum, cents
from relance.ledger.models.clients import Client
from relance.organisations.models import CURRENCY_CHOICES, Organisation, TenantQuerySet
from relance.rules import aging
from relance.rules.money import ZERO
from relance.rules.totals import Totals, compute_totals


class FrozenInvoiceError(Exception):
    """Raised when code tries to change the content of an issued document."""


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Cancelled by credit note")
    WRITTEN_OFF = "written_off", _("Written off")


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class InvoiceSource(models.TextChoices):
    RELANCE = "relance", _("Made in relance")
    IMPORT = "import", _("Imported")


class OperationCategory(models.TextChoices):
    """French mention (décret 2022-1299): what the invoice is for."""

    GOODS = "goods", _("Goods")
    SERVICES = "services", _("Services")
    MIXED = "mixed", _("Goods and services")


class VatCategory(models.TextChoices):
    """EN 16931 VAT categories (UNTDID 5305) a line can fall in."""

    STANDARD = "S", _("VAT at the rate shown")
    ZERO = "Z", _("Zero-rated")
    EXEMPT = "E", _("Exempt from VAT")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    INTRA_EU = "K", _("Intra-EU supply")
    EXPORT = "G", _("Export outside the EU")
    NOT_SUBJECT = "O", _("Outside the scope of VAT")


class InvoiceQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        # A bulk update bypasses save(): refuse it on the frozen fields of issued documents.
        touches_content = FROZEN_NAMES.intersection(kwargs) or (
            kwargs.get("status") == InvoiceStatus.DRAFT
        )
        if touches_content and self.exclude(status=InvoiceStatus.DRAFT).exists():
            raise FrozenInvoiceError("an issued document's content cannot change")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.exclude(status=InvoiceStatus.DRAFT).exists():
            raise FrozenInvoiceError("an issued document cannot be deleted (numbers are gapless)")
        return super().delete()

    def open(self) -> InvoiceQuerySet:
        """Issued invoices with money still owed."""
        return self.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES)

    def overdue(self, as_of: date) -> InvoiceQuerySet:
        return self.open().filter(due_date__lt=as_of)


class Invoice(models.Model):
    FROZEN_FIELDS = (
        "client_id",
        "kind",
        "corrects_id",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "total_net",
        "total_vat",
        "total_gross",
        "purchase_order",
        "operation_category",
        "vat_on_debits",
        "vat_exemption_reason",
        "delivery_date",
        "terms",
    )

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invoices"
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client")
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrected invoice"),
    )
    number = models.CharField(
        _("number"), max_length=40, blank=True, help_text=_("Given when the document is issued.")
    )
    status = models.CharField(
        _("status"), max_length=15, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR"
    )
    purchase_order = models.CharField(_("purchase order number"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=InvoiceSource.choices, default=InvoiceSource.RELANCE
    )
    operation_category = models.CharField(
        _("operation"),
        max_length=10,
        choices=OperationCategory.choices,
        default=OperationCategory.SERVICES,
    )
    vat_on_debits = models.BooleanField(
        _("VAT on debits"),
        default=False,
        help_text=_("The seller opted to pay VAT on debits (mention printed on the invoice)."),
    )
    vat_exemption_reason = models.CharField(
        _("VAT exemption mention"),
        max_length=200,
        blank=True,
        help_text=_("e.g. TVA non applicable, art. 293 B du CGI"),
    )
    delivery_date = models.DateField(
        _("date of delivery or service"),
        null=True,
        blank=True,
        help_text=_("Only when it differs from the issue date."),
    )
    terms_template = models.ForeignKey(
        "invoicing.PaymentTermsTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment terms"),
    )
    dunning_policy = models.ForeignKey(
        "dunning.Policy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder policy"),
        help_text=_("Leave empty to use the client's policy."),
    )
    # The terms as applied when the document was issued (see PaymentTermsTemplate.as_dict).
    terms = models.JSONField(_("payment terms"), default=dict, blank=True)
    pdf = models.FileField(upload_to="invoices/", blank=True)
    send_on = models.DateField(
        _("send on"), null=True, blank=True, help_text=_("Send the invoice by email that day.")
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    total_net = MoneyField(_("total excl. VAT"), default=ZERO)
    total_vat = MoneyField(_("VAT"), default=ZERO)
    total_gross = MoneyField(_("total incl. VAT"), default=ZERO)
    amount_paid = MoneyField(_("paid"), default=ZERO)
    amount_credited = MoneyField(_("credited"), default=ZERO)
    balance = MoneyField(_("balance"), default=ZERO)
    written_off_reason = models.TextField(_("write-off reason"), blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"],
                condition=~Q(number=""),
                name="invoice_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="invoice_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice") | Q(corrects__isnull=False),
                name="credit_note_corrects_an_invoice",
            ),
        ]
        indexes = [
            # relance worker, every minute: invoices to send later (very few rows).
            models.Index(
                fields=["send_on"], name="invoice_send_on", condition=Q(send_on__isnull=False)
            ),
            # Dashboard, aging and client balances read only open invoices.
            models.Index(
                fields=["organisation", "due_date"],
                name="invoice_open_due",
                condition=Q(kind="invoice", status__in=["issued", "partially_paid"]),
            ),
            models.Index(
                fields=["organisation", "client", "due_date"],
                name="invoice_open_client",
                condition=Q(kind="invoice", status__in=["issued", "partially_paid"]),
            ),
            models.Index(fields=["organisation", "-issue_date", "-id"], name="invoice_org_issued"),
            models.Index(fields=["organisation", "status", "due_date"], name="invoice_org_status"),
            models.Index(fields=["client", "-issue_date", "-id"], name="invoice_client_issued"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft #%(id)s") % {"id": self.pk}

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded = getattr(self, "_loaded", None)
        if loaded and getattr(self, "_loaded_status", None) != InvoiceStatus.DRAFT:
            changed = [f for f, v in loaded.items() if getattr(self, f) != v]
            if self.status == InvoiceStatus.DRAFT:
                changed.append("status")  # an issued document never becomes a draft again
            if changed:
                raise FrozenInvoiceError(
                    f"{self} is issued: {', '.join(changed)} cannot change (use a credit note)"
                )
        elif loaded and self._issued_meanwhile():
            # A copy read while it was a draft would overwrite the number and totals.
            raise FrozenInvoiceError(f"{self} was issued meanwhile: reload it")
        super().save(*args, **kwargs)
        self._loaded = {f: getattr(self, f) for f in self.FROZEN_FIELDS}
        self._loaded_status = self.status

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Invoice:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded = {
            f: getattr(instance, f) for f in cls.FROZEN_FIELDS if f in instance.__dict__
        }
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._issued_meanwhile() or not self.is_draft:
            raise FrozenInvoiceError(f"{self} is issued: it cannot be deleted (use a credit note)")
        return super().delete(*args, **kwargs)

    def _issued_meanwhile(self) -> bool:
        """True when the stored row is no longer a draft (whatever this copy says)."""
        if self.pk is None:
            return False
        stored = Invoice.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored not in (None, InvoiceStatus.DRAFT)

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def is_open(self) -> bool:
        return self.kind == InvoiceKind.INVOICE and self.status in OPEN_STATUSES

    def is_overdue(self, as_of: date) -> bool:
        return self.is_open and self.due_date is not None and self.due_date < as_of

    def days_late(self, as_of: date) -> int:
        if not self.is_open or self.due_date is None:
            return 0
        return aging.days_late(self.due_date, as_of=as_of)

    def compute_totals(self) -> Totals:
        return compute_totals(
            ((line.quantity, line.unit_price, line.vat_rate) for line in self.lines.all()),
            self.currency,
        )

    def recompute_totals(self) -> None:
        """Store the totals of the lines (drafts only)."""
        if not self.is_draft:
            raise FrozenInvoiceError(f"{self} is issued: its totals are frozen")
        totals = self.compute_totals()
        self.total_net, self.total_vat, self.total_gross = totals.net, totals.vat, totals.gross
        # A draft may total zero or less while it is written (issuing refuses it).
        self.balance = max(ZERO, totals.gross) if self.kind == InvoiceKind.INVOICE else ZERO
        self.save(update_fields=["total_net", "total_vat", "total_gross", "balance", "updated_at"])

    def refresh_settlement(self) -> None:
        """Recompute paid, credited, balance and status from the database.

        Call it inside a transaction holding this invoice's row lock.
        """
        if self.kind != InvoiceKind.INVOICE or self.is_draft:
            return
        paid = cents(self.allocations.aggregate(s=MoneySum("amount"))["s"])
        credited = cents(
            self.credit_notes.exclude(status=InvoiceStatus.DRAFT).aggregate(
                s=MoneySum("total_gross")
            )["s"]
        )
        self.amount_paid, self.amount_credited = paid, credited
        self.balance = max(ZERO, self.total_gross - paid - credited)
        if self.status != InvoiceStatus.WRITTEN_OFF:
            self.status = settlement_status(self.total_gross, paid, credited)
        self.save(
            update_fields=["amount_paid", "amount_credited", "balance", "status", "updated_at"]
        )


# Field names a bulk update may use for the frozen fields ("client" or "client_id").
FROZEN_NAMES = frozenset(Invoice.FROZEN_FIELDS) | {
    name.removesuffix("_id") for name in Invoice.FROZEN_FIELDS
}


def settlement_status(total: Decimal, paid: Decimal, credited: Decimal) -> str:
    if credited and credited >= total:
        return InvoiceStatus.CREDITED
    if paid + credited >= total:
        return InvoiceStatus.PAID
    if paid + credited > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


class LineQuerySet(models.QuerySet):
    """Bulk writes bypass save() and delete(): refuse them on issued documents."""

    def _check_drafts(self, invoice_ids: Any) -> None:
        issued = Invoice.objects.filter(pk__in=invoice_ids).exclude(status=InvoiceStatus.DRAFT)
        if issued.exists():
            raise FrozenInvoiceError("the lines of an issued document are frozen")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        self._check_drafts({obj.invoice_id for obj in objs})
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_drafts(self.values("invoice_id"))
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_drafts(self.values("invoice_id"))
        return super().delete()


class DraftOnlyMixin:
    """Refuse any write to a line of an issued document."""

    invoice: Invoice

    def _check_draft(self) -> None:
        status = Invoice.objects.filter(pk=self.invoice.pk).values_list("status", flat=True).first()
        if status not in (None, InvoiceStatus.DRAFT):
            raise FrozenInvoiceError(f"{self.invoice} is issued: its content is frozen")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_draft()
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_draft()
        return super().delete(*args, **kwargs)  # type: ignore[misc]


class InvoiceLine(DraftOnlyMixin, models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=4, default=Decimal(1)
    )
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=15, decimal_places=4)
    vat_rate = models.DecimalField(
        _("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal(20)
    )
    vat_category = models.CharField(
        _("VAT category"), max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD
    )

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lte=100), name="line_vat_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def net_amount(self) -> Decimal:
        from relance.rules.totals import line_net

        return line_net(self.quantity, self.unit_price, self.invoice.currency)


class Installment(DraftOnlyMixin, models.Model):
    """One dated part of an invoice's amount (a row of its schedule).

    The schedule is part of the issued document: only what has been paid
    on a row (``amount_paid``, written by settlement) moves after issuing.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="installments")
    position = models.PositiveSmallIntegerField()
    due_date = models.DateField(_("due date"))
    amount = MoneyField(_("amount"))
    amount_paid = MoneyField(_("paid"), default=ZERO)

    class Meta:
        ordering = ["position"]
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="installment_unique_pos"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_paid__lte=models.F("amount")), name="installment_not_overpaid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} #{self.position}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if set(kwargs.get("update_fields") or ()) == {"amount_paid"}:
            models.Model.save(self, *args, **kwargs)
            return
        super().save(*args, **kwargs)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.amount_paid


class NumberSequence(models.Model):
    """The last number given in one series: locked while the next is taken,
    so numbers stay gapless and chronological under concurrent issuing."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    series = models.CharField(max_length=20)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "series"], name="sequence_unique_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series}: {self.last_value}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.organisation_id}/{instance.invoice_id}/{filename}"


class Attachment(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name
