"""Clients (the debtors) and the people relance may contact at them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from relance import validators
from relance.organisations.models import (
    LANGUAGE_CHOICES,
    Address,
    Organisation,
    TenantQuerySet,
    validate_time_zone,
)

# Identifier columns are wider than the compact numbers so that what people
# type or paste ("732 829 320 00074") reaches validation; it is stored compact.
IDENTIFIER_FIELDS = ("siren", "siret", "vat_number")


class ClientKind(models.TextChoices):
    COMPANY = "company", _("Company (B2B)")
    INDIVIDUAL = "individual", _("Individual (B2C)")


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold (work stopped)")
    IN_COLLECTION = "in_collection", _("In collection")
    INSOLVENT = "insolvent", _("Insolvent")
    CLOSED = "closed", _("Closed")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class NonPaymentReason(models.TextChoices):
    """Why a client does not pay (seed 004): asked, recorded, shown on the client."""

    FINANCIAL_DIFFICULTY = "financial", _("Financial difficulty")
    BANK_PROBLEM = "bank", _("Bank problem")
    DISASTER = "disaster", _("Disaster")
    DISPUTE = "dispute", _("Dispute")
    NOT_RECEIVED = "not_received", _("Invoice not received")
    FORGOT = "forgot", _("Forgot")
    OTHER = "other", _("Other")


class Tag(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=50)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="tag_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Client(Address):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="clients")
    kind = models.CharField(
        _("kind"), max_length=10, choices=ClientKind.choices, default=ClientKind.COMPANY
    )
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("client code"), max_length=30, blank=True)
    siren = models.CharField(
        "SIREN", max_length=20, blank=True, validators=[validators.validate_siren]
    )
    siret = models.CharField(
        "SIRET", max_length=20, blank=True, validators=[validators.validate_siret]
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[validators.validate_vat]
    )
    delivery_address_line1 = models.CharField(_("delivery address"), max_length=200, blank=True)
    delivery_address_line2 = models.CharField(
        _("delivery address (continued)"), max_length=200, blank=True
    )
    delivery_postcode = models.CharField(_("delivery postcode"), max_length=20, blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    delivery_country = models.CharField(_("delivery country"), max_length=2, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES, default="fr")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    cycle_months = models.PositiveSmallIntegerField(
        _("usually pays every (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Leave empty if the client has no regular payment cycle."),
    )
    cycle_day = models.PositiveSmallIntegerField(
        _("around day of the month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )
    payment_terms = models.ForeignKey(
        "invoicing.PaymentTermsTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment terms"),
        help_text=_("Leave empty to use the organisation's default terms."),
    )
    status = models.CharField(
        _("status"), max_length=15, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    dunning_policy = models.ForeignKey(
        "dunning.Policy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder policy"),
        help_text=_("Leave empty to use the organisation's default policy."),
    )
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.NORMAL
    )
    nonpayment_reason = models.CharField(
        _("reason for non-payment"), max_length=15, choices=NonPaymentReason.choices, blank=True
    )
    nonpayment_detail = models.TextField(_("details"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="clients", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [models.Index(fields=["organisation", "name"], name="client_org_name")]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude: Any = None) -> None:
        # Compact first: "732 829 320" is a good SIREN, typed with spaces.
        validators.normalise_identifiers(self, IDENTIFIER_FIELDS)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        validators.normalise_identifiers(self, IDENTIFIER_FIELDS)
        errors = validators.check_identifiers_agree(self.siren, self.siret, self.vat_number)
        if self.siret and not self.siren and not errors:
            self.siren = self.siret[:9]
        if self.cycle_day and not self.cycle_months:
            errors["cycle_months"] = ValidationError(
                _("Give the cycle in months as well as the usual day."), code="cycle"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_company(self) -> bool:
        return self.kind == ClientKind.COMPANY

    @property
    def payment_cycle_display(self) -> str:
        if not self.cycle_months:
            return ""
        text = ngettext("pays every month", "pays every %(n)d months", self.cycle_months) % {
            "n": self.cycle_months
        }
        if self.cycle_day:
            text += " " + (_("around the %(day)d") % {"day": self.cycle_day})
        return text

    def delivery_address_lines(self) -> list[str]:
        city = " ".join(p for p in (self.delivery_postcode, self.delivery_city) if p)
        return [
            line
            for line in (self.delivery_address_line1, self.delivery_address_line2, city)
            if line
        ]


class ContactRole(models.TextChoices):
    BILLING = "billing", _("Billing")
    ACCOUNTS_PAYABLE = "accounts_payable", _("Accounts payable")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other (at the client)")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")


class Contact(models.Model):
    """A person at the client. Lawful collection only: people of the debtor
    itself (billing, accounts payable, management), never its own clients,
    investors, family or employer."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    role = models.CharField(
        _("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.BILLING
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, help_text=_("Stored in international format (+33…).")
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    # Set when a message to this contact bounced; cleared when the address is fixed.
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_reason = models.CharField(_("bounce reason"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        if self.phone:
            region = self.client.country if self.client_id else "FR"
            try:
                self.phone = validators.normalise_phone(self.phone, region)
            except ValidationError as exc:
                errors["phone"] = exc
        if self.preferred_channel == Channel.EMAIL and not self.email:
            errors["email"] = ValidationError(
                _("Email is the preferred channel: give an address."), code="required"
            )
        if (
            self.preferred_channel in (Channel.SMS, Channel.PHONE)
            and not self.phone
            and "phone" not in errors
        ):
            errors["phone"] = ValidationError(
                _("The preferred channel needs a phone number."), code="required"
            )
        if errors:
            raise ValidationError(errors)
