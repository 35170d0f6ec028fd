"""Bank statements imported from files, and the lines they carry.

A ``StatementImport`` is one file (camt, MT940, OFX or CSV); each credit or
debit in it becomes a ``BankLine``. Lines carry a fingerprint unique per
organisation, so importing the same statement twice, or an intraday camt.052
and then the day's camt.053, adds each booking once. The matching fields
(status, client, payment, proposal...) are filled by ``banking.matching``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.fields import MoneyField
from relance.ledger.models import Client, Payment
from relance.organisations.models import CURRENCY_CHOICES, Organisation, TenantQuerySet


class StatementFormat(models.TextChoices):
    CAMT052 = "camt052", "camt.052"
    CAMT053 = "camt053", "camt.053"
    CAMT054 = "camt054", "camt.054"
    MT940 = "mt940", "MT940"
    OFX = "ofx", "OFX"
    CSV = "csv", "CSV"


class Direction(models.TextChoices):
    CREDIT = "credit", _("Credit")
    DEBIT = "debit", _("Debit")


class BankLineStatus(models.TextChoices):
    NEW = "new", _("New")
    AUTO = "auto", _("Matched automatically")
    REVIEW = "review", _("To review")
    CONFIRMED = "confirmed", _("Confirmed")
    UNMATCHED = "unmatched", _("Unmatched")
    IGNORED = "ignored", _("Ignored")


class StatementImport(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="statement_imports"
    )
    format = models.CharField(_("format"), max_length=10, choices=StatementFormat.choices)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    account_iban = models.CharField(_("account"), max_length=64, blank=True)
    statement_id = models.CharField(_("statement"), max_length=140, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    opening_balance = MoneyField(_("opening balance"), null=True, blank=True)
    closing_balance = MoneyField(_("closing balance"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    # Lines added by this import (lines already known are not counted).
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")
        indexes = [
            # The dunning run warns when the latest import is too old.
            models.Index(fields=["organisation", "-imported_at"], name="stmt_org_imported"),
        ]

    def __str__(self) -> str:
        return self.filename or self.statement_id or f"#{self.pk}"


class BankLine(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="bank_lines"
    )
    statement = models.ForeignKey(StatementImport, on_delete=models.CASCADE, related_name="lines")
    booking_date = models.DateField(_("booking date"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    # Always positive; the sign is in ``direction``.
    amount = MoneyField(_("amount"))
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    remittance = models.TextField(_("remittance information"), blank=True)
    structured_reference = models.CharField(_("structured reference"), max_length=64, blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=64, blank=True)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_iban = models.CharField(_("payer account"), max_length=64, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True)
    transaction_code = models.CharField(_("transaction code"), max_length=64, blank=True)
    fingerprint = models.CharField(max_length=64)

    # Matching (filled by banking.matching).
    status = models.CharField(
        _("status"), max_length=10, choices=BankLineStatus.choices, default=BankLineStatus.NEW
    )
    confidence = models.PositiveSmallIntegerField(_("confidence"), null=True, blank=True)
    client = models.ForeignKey(
        Client,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bank_lines",
        verbose_name=_("client"),
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bank_lines",
        verbose_name=_("payment"),
    )
    # [{"invoice": id, "amount": "12.34"}, ...]
    proposal = models.JSONField(default=list, blank=True)
    # e.g. "bad_reference_checksum"
    flags = models.JSONField(default=list, blank=True)
    # Why the matcher proposed what it did (codes of relance.rules.matching, e.g. "reference").
    reasons = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["booking_date", "id"]
        verbose_name = _("bank line")
        verbose_name_plural = _("bank lines")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fingerprint"], name="bankline_org_fingerprint"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bankline_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="bankline_org_status"),
            models.Index(fields=["organisation", "booking_date"], name="bankline_org_booking"),
        ]

    def __str__(self) -> str:
        sign = "+" if self.direction == Direction.CREDIT else "-"
        return f"{self.booking_date} {sign}{self.amount} {self.currency}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == Direction.CREDIT else -self.amount


class CsvMapping(models.Model):
    """The organisation's last CSV column mapping, offered again on the next upload."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="bank_csv_mapping"
    )
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"CSV mapping of {self.organisation_id}"


class StatementUpload(models.Model):
    """A CSV file waiting for its column mapping, between the upload and the import.

    Kept in the database so any web process can serve the mapping step; deleted
    once imported, and forgotten after a day.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255, blank=True)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return self.filename or f"#{self.pk}"
