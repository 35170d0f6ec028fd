"""Payment plans (a schedule agreed for an overdue balance) and settlement offers
(a discount for paying the whole overdue balance by a date)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.fields import MoneyField
from relance.organisations.models import CURRENCY_CHOICES, TenantQuerySet
from relance.rules.money import ZERO


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Every month")
    BIMONTHLY = "bimonthly", _("Every two months")
    CUSTOM = "custom", _("Dates of my choice")


class PaymentPlan(models.Model):
    """An overdue balance spread over dated installments, agreed with the client.

    While it is active its invoices are paused (``Pause`` of kind "plan") and the
    ladder chases each installment instead.
    """

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey(
        "ledger.Client",
        on_delete=models.PROTECT,
        related_name="payment_plans",
        verbose_name=_("client"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    invoices = models.ManyToManyField(
        "ledger.Invoice", related_name="payment_plans", verbose_name=_("invoices covered")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    balance = MoneyField(_("balance covered"))
    total = MoneyField(_("total to pay"))
    down_payment = MoneyField(_("down payment"), default=ZERO)
    fee_amount = MoneyField(_("fee"), default=ZERO)
    fees_waived = models.BooleanField(
        _("late fees and interest waived"),
        default=True,
        help_text=_("While the plan is kept, no late fee or interest is claimed."),
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=5,
        help_text=_("An installment unpaid this many days after its date breaks the plan."),
    )
    proposed_on = models.DateField(_("proposed on"))
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    broken_on = models.DateField(_("broken on"), null=True, blank=True)
    pdf = models.FileField(upload_to="plans/", blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_on", "-id"]
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        constraints = [
            # One plan at a time per client: a second would pause the same invoices twice.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["proposed", "active"]),
                name="plan_one_open_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="plan_org_status"),
        ]

    def __str__(self) -> str:
        return _("Payment plan #%(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE)

    @property
    def amount_paid(self) -> Decimal:
        return sum((row.amount_paid for row in self.installments.all()), ZERO)

    def next_installment(self) -> PlanInstallment | None:
        for row in self.installments.all():
            if row.remaining > 0:
                return row
        return None


class PlanInstallment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    position = models.PositiveSmallIntegerField()
    due_date = models.DateField(_("due date"))
    amount = MoneyField(_("amount"))
    amount_paid = MoneyField(_("paid"), default=ZERO)

    class Meta:
        ordering = ["position"]
        verbose_name = _("plan installment")
        verbose_name_plural = _("plan installments")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="plan_installment_pos"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_installment_positive"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=models.F("amount")),
                name="plan_installment_paid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.position}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.amount_paid


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percentage")
    AMOUNT = "amount", _("Amount")


class SettlementOffer(models.Model):
    """ "Pay X instead of Y before D": accepted when the payments received by D add up
    to X, the discount then booked as credit notes; expired, nothing changes."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey(
        "ledger.Client",
        on_delete=models.PROTECT,
        related_name="settlement_offers",
        verbose_name=_("client"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    invoices = models.ManyToManyField(
        "ledger.Invoice", related_name="settlement_offers", verbose_name=_("invoices covered")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    balance = MoneyField(_("overdue balance"))
    discount_kind = models.CharField(
        _("discount"), max_length=10, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    discount_value = models.DecimalField(_("discount value"), max_digits=15, decimal_places=2)
    discount = MoneyField(_("discount amount"))
    offered_on = models.DateField(_("offered on"))
    expires_on = models.DateField(_("pay by"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_on", "-id"]
        verbose_name = _("settlement offer")
        verbose_name_plural = _("settlement offers")
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status="offered"),
                name="offer_one_open_per_client",
            ),
            models.CheckConstraint(condition=Q(discount__gt=0), name="offer_discount_positive"),
        ]

    def __str__(self) -> str:
        return _("Settlement offer #%(id)s") % {"id": self.pk}

    @property
    def to_pay(self) -> Decimal:
        return self.balance - self.discount
