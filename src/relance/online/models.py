"""An organisation's online payment settings (Stripe Checkout) and the webhook
events Stripe sent it, kept so that a replayed event changes nothing."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.organisations.models import Organisation, TenantQuerySet

DEFAULT_API_BASE = "https://api.stripe.com"


def new_webhook_token() -> str:
    return secrets.token_urlsafe(18)


class OnlinePaymentSettings(models.Model):
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="online_payment"
    )
    enabled = models.BooleanField(_("offer online payment"), default=False)
    secret_key = models.CharField(_("Stripe secret key"), max_length=255, blank=True)
    webhook_secret = models.CharField(_("webhook signing secret"), max_length=255, blank=True)
    accept_card = models.BooleanField(_("card (with Apple Pay and Google Pay)"), default=True)
    accept_sepa_debit = models.BooleanField(_("SEPA direct debit"), default=False)
    accept_paypal = models.BooleanField(_("PayPal"), default=False)
    api_base = models.URLField(_("Stripe API address"), default=DEFAULT_API_BASE)
    # The webhook's address names this token, never the organisation's id.
    webhook_token = models.CharField(max_length=40, unique=True, default=new_webhook_token)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("online payment settings")
        verbose_name_plural = _("online payment settings")

    def __str__(self) -> str:
        return f"online payment · {self.organisation}"

    @classmethod
    def for_org(cls, organisation: Organisation) -> OnlinePaymentSettings:
        found = cls.objects.filter(organisation=organisation).first()
        return found or cls(organisation=organisation)

    @property
    def is_ready(self) -> bool:
        """Enabled, with a key and at least one way to pay."""
        return bool(self.enabled and self.secret_key and self.method_types())

    def method_types(self, currency: str = "eur") -> list[str]:
        """Stripe's payment_method_types for a session in ``currency``."""
        types = []
        if self.accept_card:
            types.append("card")
        if self.accept_sepa_debit and currency.lower() == "eur":
            types.append("sepa_debit")  # SEPA debits are in euros only
        if self.accept_paypal:
            types.append("paypal")
        return types


class EventOutcome(models.TextChoices):
    RECORDED = "recorded", _("Payment recorded")
    CREDIT = "credit", _("Recorded; excess kept as credit (check it)")
    PENDING = "pending", _("Payment pending (debit in progress)")
    NOTED = "noted", _("Noted on the timeline")
    ATTENTION = "attention", _("Needs attention")
    IGNORED = "ignored", _("Ignored")


class WebhookEvent(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    event_id = models.CharField(max_length=255)
    type = models.CharField(_("event"), max_length=100)
    api_version = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=EventOutcome.choices)
    detail = models.TextField(_("detail"), blank=True)
    payload = models.JSONField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "event_id"], name="webhook_event_once_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
