"""Payment-term templates and recurring invoices.

A template is what people pick ("30 jours", "45 jours fin de mois",
"acompte 30 %"); the organisation has one default, a client may override it,
an invoice may override both. When an invoice is issued its terms are copied
onto it (``Invoice.terms``), so changing a template never changes an issued
invoice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.organisations.models import Organisation, TenantQuerySet
from relance.rules import terms as rules


class TermsKind(models.TextChoices):
    IMMEDIATE = "immediate", _("On receipt")
    NET = "net", _("N days")
    EOM_THEN_DAYS = "eom_then_days", _("End of month, then N days")
    DAYS_THEN_EOM = "days_then_eom", _("N days, then end of month")
    DEPOSIT = "deposit", _("Deposit up front, balance later")
    INSTALLMENTS = "installments", _("Installments")


class PaymentTermsTemplate(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="payment_terms"
    )
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=15, choices=TermsKind.choices)
    days = models.PositiveSmallIntegerField(_("days"), default=0)
    business_days = models.BooleanField(
        _("business days"),
        default=False,
        help_text=_("Count only working days (Monday to Friday, public holidays excluded)."),
    )
    deposit_percent = models.DecimalField(
        _("deposit (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    count = models.PositiveSmallIntegerField(_("number of installments"), default=0)
    every_months = models.PositiveSmallIntegerField(
        _("months between installments"), default=1, choices=[(1, "1"), (2, "2")]
    )
    # Custom schedule: [[days after the invoice date, "percent"], ...], summing to 100.
    custom = models.JSONField(_("custom schedule"), default=list, blank=True)
    discount_percent = models.DecimalField(
        _("early-payment discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    discount_days = models.PositiveSmallIntegerField(
        _("discount if paid within (days)"), null=True, blank=True
    )
    agreed_45_eom = models.BooleanField(
        _("45 days end of month expressly agreed in the contract"),
        default=False,
        help_text=_("French law allows 45 days end of month only when the contract says so."),
    )
    is_default = models.BooleanField(_("default for the organisation"), default=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("payment terms")
        verbose_name_plural = _("payment terms")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(is_default=True),
                name="terms_one_default_per_org",
            ),
            models.UniqueConstraint(fields=["organisation", "name"], name="terms_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def as_dict(self) -> dict[str, Any]:
        """The terms as stored on an invoice (JSON-safe, no dates)."""
        return {
            "kind": self.kind,
            "days": self.days,
            "business_days": self.business_days,
            "deposit_percent": str(self.deposit_percent) if self.deposit_percent else None,
            "count": self.count,
            "every_months": self.every_months,
            "custom": [[int(d), str(p)] for d, p in self.custom],
            "discount_percent": str(self.discount_percent) if self.discount_percent else None,
            "discount_days": self.discount_days,
            "agreed_45_eom": self.agreed_45_eom,
        }

    def clean(self) -> None:
        try:
            terms_from_dict(self.as_dict(), date(2026, 1, 15), holiday_country="FR")
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise ValidationError(str(exc)) from None


def terms_from_dict(
    data: dict[str, Any], invoice_date: date, *, holiday_country: str = "FR"
) -> rules.PaymentTerms:
    """Rebuild the pure terms of a stored dict for one invoice date.

    A deposit's balance and custom rows are stored as days after the invoice
    date, so one template serves every invoice.
    """
    kind = data["kind"]
    fields: dict[str, Any] = {
        "kind": kind,
        "business_days": bool(data.get("business_days")),
        "holiday_country": holiday_country,
    }
    if kind != "immediate":
        fields["days"] = int(data.get("days") or 0)
    if kind == "deposit":
        fields["deposit_percent"] = Decimal(data["deposit_percent"] or "0")
    if kind == "installments":
        custom = data.get("custom") or []
        if custom:
            fields["custom"] = tuple(
                (invoice_date + timedelta(days=int(d)), Decimal(p)) for d, p in custom
            )
            fields.pop("days", None)
        else:
            fields["count"] = int(data.get("count") or 0)
            fields["every_months"] = int(data.get("every_months") or 1)
    if data.get("discount_percent"):
        fields["discount_percent"] = Decimal(data["discount_percent"])
        fields["discount_days"] = int(data.get("discount_days") or 0)
    return rules.PaymentTerms(**fields)


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


FREQUENCY_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}


class RecurringInvoice(models.Model):
    """A retainer: the same lines invoiced on a schedule, issued and sent by the worker."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="recurring_invoices"
    )
    client = models.ForeignKey(
        "ledger.Client",
        on_delete=models.CASCADE,
        related_name="recurring_invoices",
        verbose_name=_("client"),
    )
    name = models.CharField(_("name"), max_length=120)
    # [{"description": ..., "quantity": "1", "unit_price": "500.00", "vat_rate": "20"}, ...]
    lines = models.JSONField(_("lines"), default=list)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    next_date = models.DateField(_("next invoice date"))
    end_date = models.DateField(_("last invoice date"), null=True, blank=True)
    terms_template = models.ForeignKey(
        PaymentTermsTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("payment terms"),
    )
    send = models.BooleanField(_("send by email when issued"), default=True)
    active = models.BooleanField(_("active"), default=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["next_date", "id"]
        verbose_name = _("recurring invoice")
        verbose_name_plural = _("recurring invoices")
        indexes = [
            # relance worker: due recurring invoices.
            models.Index(fields=["next_date"], name="recurring_due", condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return self.name
