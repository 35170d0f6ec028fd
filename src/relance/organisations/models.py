"""The organisation (tenant, the creditor) and who may act for it."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance import validators
from relance.rules.money import CURRENCIES

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]
LANGUAGE_CHOICES = [("fr", _("French")), ("en", _("English"))]
TIME_ZONE_CHOICES = [
    (name, name)
    for name in sorted(zoneinfo.available_timezones())
    if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))
]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s.") % {"tz": value}, code="tz")


class Address(models.Model):
    """Postal address fields shared by organisations and clients."""

    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, default="FR", help_text=_("ISO 3166 code, e.g. FR, BE, GB.")
    )

    class Meta:
        abstract = True

    def address_lines(self) -> list[str]:
        city = " ".join(part for part in (self.postcode, self.city) if part)
        return [line for line in (self.address_line1, self.address_line2, city) if line]


class Organisation(Address):
    """A business using relance: the creditor, and the unit of isolation."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    legal_form = models.CharField(
        _("legal form"),
        max_length=50,
        blank=True,
        help_text=_("e.g. SAS, SARL, EI, auto-entrepreneur"),
    )
    share_capital = models.DecimalField(
        _("share capital"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    siren = models.CharField(
        "SIREN", max_length=20, blank=True, validators=[validators.validate_siren]
    )
    siret = models.CharField(
        "SIRET", max_length=20, blank=True, validators=[validators.validate_siret]
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[validators.validate_vat]
    )
    rcs_city = models.CharField(_("RCS registry city"), max_length=100, blank=True)
    iban = models.CharField(
        "IBAN", max_length=42, blank=True, validators=[validators.validate_iban]
    )
    bic = models.CharField("BIC", max_length=14, blank=True, validators=[validators.validate_bic])
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", choices=CURRENCY_CHOICES
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    locale = models.CharField(_("language"), max_length=5, default="fr", choices=LANGUAGE_CHOICES)
    email = models.EmailField(
        _("email address"),
        blank=True,
        help_text=_("Invoices and reminders are sent from this address."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    vat_on_debits = models.BooleanField(
        _("VAT on debits"),
        default=False,
        help_text=_("You opted to pay VAT on debits: the mention goes on every invoice."),
    )
    vat_exemption_reason = models.CharField(
        _("VAT exemption mention"),
        max_length=200,
        blank=True,
        help_text=_(
            "For businesses that charge no VAT, e.g. TVA non applicable, art. 293 B du CGI."
        ),
    )
    operation_category = models.CharField(
        _("usual operation"),
        max_length=10,
        default="services",
        choices=[
            ("goods", _("Goods")),
            ("services", _("Services")),
            ("mixed", _("Goods and services")),
        ],
    )
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=10, default="F")
    credit_note_prefix = models.CharField(
        _("credit note number prefix"), max_length=10, default="AV"
    )
    apply_credit_automatically = models.BooleanField(
        _("apply client credit to new invoices"),
        default=True,
        help_text=_("When an invoice is issued, the client's unallocated credit pays it."),
    )
    thank_for_payments = models.BooleanField(
        _("thank clients for their payments"),
        default=True,
        help_text=_("Email the billing contacts when a payment settles invoices in full."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    IDENTIFIER_FIELDS = ("siren", "siret", "vat_number", "iban", "bic")

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.trade_name or self.legal_name

    def clean_fields(self, exclude: Any = None) -> None:
        # Compact first: identifier columns are wide enough for what people
        # type ("FR76 3000 6000 …"); the compact form is what is stored.
        validators.normalise_identifiers(self, self.IDENTIFIER_FIELDS)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        validators.normalise_identifiers(self, self.IDENTIFIER_FIELDS)
        if self.phone:
            try:
                self.phone = validators.normalise_phone(self.phone, self.country)
            except ValidationError as exc:
                raise ValidationError({"phone": exc}) from None
        errors = validators.check_identifiers_agree(self.siren, self.siret, self.vat_number)
        if errors:
            raise ValidationError(errors)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self, now: datetime | None = None) -> date:
        """The organisation's local date: what "today" and "overdue" mean for it."""
        return timezone.localtime(now or timezone.now(), self.tzinfo).date()


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    READ_ONLY = "read_only", _("Read-only")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.MEMBER)


class TenantQuerySet(models.QuerySet):
    """The one path to business data: every query starts with ``for_org``."""

    def for_org(self, organisation: Organisation | Any) -> TenantQuerySet:
        if organisation is None:
            return self.none()
        return self.filter(organisation=organisation)
