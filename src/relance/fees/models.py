"""Late fees: the reference rates imported over the shipped table, each
organisation's fee settings, and the fee documents booked on late invoices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.fields import MoneyField
from relance.organisations.models import CURRENCY_CHOICES, TenantQuerySet
from relance.rules import interest
from relance.rules.rates import SERIES, Rate


class ReferenceRate(models.Model):
    """A rate row imported by ``relance import-rates``: it overrides the
    shipped table (``rules/data/rates.csv``) on the days it covers."""

    series = models.CharField(_("series"), max_length=20, choices=[(key, key) for key in SERIES])
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    rate = models.DecimalField(_("rate (% per year)"), max_digits=7, decimal_places=4)
    source = models.TextField(_("source"))
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reference rate")
        verbose_name_plural = _("reference rates")
        ordering = ["series", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="rate_valid_period"
            ),
            models.CheckConstraint(condition=~Q(source=""), name="rate_source_required"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.valid_from}..{self.valid_to}: {self.rate} %"

    def as_rate(self) -> Rate:
        return Rate(self.series, self.valid_from, self.valid_to, self.rate, self.source)


class FeePolicy(models.TextChoices):
    STATUTORY = interest.STATUTORY, _("Statutory (the law of your country)")
    CONTRACTUAL = interest.CONTRACTUAL, _("Contractual rate")
    CUSTOM = interest.CUSTOM, _("Custom (fixed fee, % per month)")


class DayCount(models.TextChoices):
    ACTUAL_365 = "actual/365", _("Actual days / 365")
    ACTUAL_360 = "actual/360", _("Actual days / 360")
    ACTUAL_ACTUAL = "actual/actual", _("Actual days / actual days in the year")


class Rounding(models.TextChoices):
    LINE = "line", _("Each period to the cent")
    TOTAL = "total", _("The total only")


class FeeSettings(models.Model):
    """How an organisation charges late fees (defaults: the law, actual/365,
    rounding per period)."""

    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="fee_settings"
    )
    policy = models.CharField(
        _("late-fee policy"),
        max_length=12,
        choices=FeePolicy.choices,
        default=FeePolicy.STATUTORY,
    )
    contract_rate = models.DecimalField(
        _("contractual rate (% per year)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    monthly_rate = models.DecimalField(
        _("interest (% per month)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    fixed_fee = MoneyField(_("fixed fee per late invoice"), null=True, blank=True)
    grace_days = models.PositiveSmallIntegerField(
        _("grace days"),
        default=0,
        help_text=_("No fee is charged on what is paid within this many days after the due date."),
    )
    day_count = models.CharField(
        _("day count"), max_length=15, choices=DayCount.choices, default=DayCount.ACTUAL_365
    )
    rounding = models.CharField(
        _("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.LINE
    )

    class Meta:
        verbose_name = _("late-fee settings")
        verbose_name_plural = _("late-fee settings")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.policy}"

    @classmethod
    def for_org(cls, organisation: object) -> FeeSettings:
        """The stored settings, or the defaults (unsaved) when there are none."""
        found = cls.objects.filter(organisation=organisation).first()
        return found or cls(organisation=organisation)  # type: ignore[misc]

    def terms(self, *, country: str, b2b: bool) -> interest.FeeTerms:
        return interest.FeeTerms(
            country=country,
            b2b=b2b,
            policy=self.policy,
            contract_rate=self.contract_rate,
            monthly_rate=self.monthly_rate,
            fixed_fee=self.fixed_fee,
            grace_days=self.grace_days,
            day_count=self.day_count,
            rounding=self.rounding,
        )


class FeeKind(models.TextChoices):
    INTEREST = "interest", _("Late-payment interest")
    INDEMNITY = "indemnity", _("Fixed recovery indemnity")
    FIXED = "fixed", _("Late fee")


class LateFee(models.Model):
    """A fee booked on a late invoice: its own document, the invoice is never
    modified. Unique per (invoice, late-fee reminder, kind), and the indemnity
    and fixed fee once per invoice: reruns and crashes book once."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey("ledger.Client", on_delete=models.PROTECT, related_name="late_fees")
    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.PROTECT, related_name="late_fees"
    )
    reminder = models.ForeignKey(
        "dunning.Reminder", on_delete=models.SET_NULL, null=True, related_name="late_fees"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    booked_on = models.DateField(_("booked on"))
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    rate = models.DecimalField(
        _("rate (% per year)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    source = models.TextField(_("source"))
    # The itemised periods (interest): start, end, base, rate, days, amount, source.
    lines = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    waived_on = models.DateField(_("waived on"), null=True, blank=True)
    waived_reason = models.TextField(_("reason for waiving"), blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("late fee")
        verbose_name_plural = _("late fees")
        ordering = ["booked_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "reminder", "kind"], name="late_fee_once_per_step"
            ),
            # The indemnity and a fixed fee are due once per late invoice.
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(kind__in=["indemnity", "fixed"]),
                name="late_fee_once_per_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="late_fee_amount_positive"),
        ]
        indexes = [models.Index(fields=["invoice", "kind"], name="late_fee_invoice")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.invoice_id})"

    @property
    def is_waived(self) -> bool:
        return self.waived_on is not None
