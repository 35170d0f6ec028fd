"""Money received, and which invoices (or installments) it settles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.fields import MoneyField
from relance.ledger.models.clients import Client
from relance.ledger.models.invoices import Installment, Invoice
from relance.organisations.models import CURRENCY_CHOICES, Organisation, TenantQuerySet
from relance.rules.money import ZERO


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="payments"
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="payments", verbose_name=_("client")
    )
    date = models.DateField(_("date received"))
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    method = models.CharField(
        _("method"), max_length=15, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # What is not allocated to an invoice: the client's credit.
    unallocated = MoneyField(_("client credit"), default=ZERO)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A rejected direct debit, a bounced transfer, a card refund: the payment stays on
    # record, its allocations and credit are undone (see settlement.reverse_payment).
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True)
    reversal_reason = models.TextField(_("reason of the reversal"), blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated__gte=0) & Q(unallocated__lte=models.F("amount")),
                name="payment_unallocated_range",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "-date"], name="payment_org_date"),
            models.Index(fields=["client", "-date"], name="payment_client_date"),
            # Client credit (unallocated > 0) on the dashboard; a plain index,
            # as SQLite cannot match a partial one against a bound parameter.
            models.Index(fields=["organisation", "unallocated"], name="payment_org_credit"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} — {self.date}"

    @property
    def is_reversed(self) -> bool:
        return self.reversed_on is not None


class Allocation(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(
        Installment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.invoice}"


class Refund(models.Model):
    """Client credit paid back to the client, drawn on one payment's credit.

    A refund larger than one payment's credit is saved as one row per payment
    it draws on (oldest credit first), all with the same date and reference.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    date = models.DateField(_("date of the refund"))
    amount = MoneyField(_("amount"))
    method = models.CharField(
        _("method"), max_length=15, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"-{self.amount} {self.payment.currency} — {self.date}"


class PaymentThanks(models.Model):
    """The queue of thank-you emails: one row per payment, sent once by the worker."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="thanks")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the worker that claims the row (a conditional update): never sent twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    # Why it was not (or will not be) sent: no contact, payment reversed, SMTP error.
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("thank-you message")
        verbose_name_plural = _("thank-you messages")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="thanks_pending",
                condition=Q(claimed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"thanks for {self.payment_id}"
