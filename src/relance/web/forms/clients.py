"""Forms of the client pages: the client list filters, a client, a contact."""

from __future__ import annotations

import re
from typing import Any

from babel import Locale
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from relance.dunning import engine
from relance.dunning.models import Policy
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger.models import Client, ClientKind, ClientStatus, Contact, Tag
from relance.organisations.models import TIME_ZONE_CHOICES

MAX_TAGS = 20
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
# ISO 3166 alpha-2 codes babel knows ("ZZ" is its "unknown region").
COUNTRY_CODES = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
) - {"ZZ"}


class ClientFilterForm(forms.Form):
    """The search and filters of the client list (a GET form: every field optional)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ClientStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *ClientKind.choices]
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, tags: list[Tag], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices from the organisation's own tags: an id is checked in Python,
        # never looked up as typed.
        self.fields["tag"].choices = [("", _("All")), *((str(t.pk), t.name) for t in tags)]
        self.fields["q"].widget.attrs.update(
            type="search", placeholder=_("Name, code, SIREN, contact…")
        )


def parse_tags(text: str) -> list[str]:
    """Comma-separated names, trimmed, without duplicates (ignoring case)."""
    names: dict[str, str] = {}
    for raw in text.split(","):
        name = re.sub(r"\s+", " ", raw).strip()
        if name:
            names.setdefault(name.casefold(), name)
    return list(names.values())


def country_field_clean(value: str) -> str:
    code = (value or "").strip().upper()
    if code and code not in COUNTRY_CODES:
        raise forms.ValidationError(
            _("Give a two-letter ISO country code, e.g. FR, BE, GB."), code="country"
        )
    return code


class ClientForm(forms.ModelForm):
    """A client. The view builds the instance with its organisation first, so
    ``Client.clean`` can normalise and cross-check SIREN, SIRET and VAT."""

    tag_names = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separated by commas, e.g. wholesale, Lyon."),
    )

    class Meta:
        model = Client
        fields = [
            "kind",
            "name",
            "reference",
            "siren",
            "siret",
            "vat_number",
            "address_line1",
            "address_line2",
            "postcode",
            "city",
            "country",
            "delivery_address_line1",
            "delivery_address_line2",
            "delivery_postcode",
            "delivery_city",
            "delivery_country",
            "language",
            "time_zone",
            "cycle_months",
            "cycle_day",
            "payment_terms",
            "dunning_policy",
            "risk_level",
            "status",
            "notes",
        ]
        help_texts = {
            "siren": _("9 digits; spaces are allowed."),
            "siret": _("14 digits: the SIREN and the establishment number."),
            "vat_number": _("Intra-community VAT number, e.g. FR40303265045."),
            "delivery_address_line1": _("Only if it differs from the billing address."),
            "status": _("“On hold” means work is stopped until the client pays."),
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    IDENTITY = ("kind", "name", "reference", "siren", "siret", "vat_number")
    BILLING = ("address_line1", "address_line2", "postcode", "city", "country")
    DELIVERY = (
        "delivery_address_line1",
        "delivery_address_line2",
        "delivery_postcode",
        "delivery_city",
        "delivery_country",
    )
    HABITS = ("language", "time_zone", "cycle_months", "cycle_day", "payment_terms")
    REMINDERS = ("dunning_policy", "risk_level")
    FOLLOW_UP = ("status", "tag_names", "notes")
    # Changes that may move the client's next reminder (policy, conditions, cycle).
    WAKES_REMINDERS = ("dunning_policy", "risk_level", "kind", "cycle_months", "cycle_day")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = self.instance.time_zone
        choices = list(TIME_ZONE_CHOICES)
        if zone and (zone, zone) not in choices:
            choices.insert(0, (zone, zone))  # keep a zone set elsewhere (e.g. "UTC")
        self.fields["time_zone"] = forms.ChoiceField(
            label=self.fields["time_zone"].label, choices=choices
        )
        terms = self.fields["payment_terms"]
        organisation = self.instance.organisation if self.instance.organisation_id else None
        terms.queryset = PaymentTermsTemplate.objects.for_org(organisation)
        terms.empty_label = _("The organisation's default terms")
        terms.help_text = _(
            "Printed on every invoice to this client, unless a draft chooses others."
        )
        policy = self.fields["dunning_policy"]
        policy.queryset = Policy.objects.for_org(organisation)
        policy.empty_label = _("The organisation's default policy")
        policy.help_text = _(
            "The reminders this client receives, unless an invoice has its own policy."
        )
        risk = self.fields["risk_level"]
        risk.help_text = _("Steps of a policy may apply to some levels only.")
        risk.required = False  # left out: the level stays as it is
        if self.instance.pk and not self.is_bound:
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())

    def fieldsets(self) -> list[tuple[Any, list[forms.BoundField]]]:
        groups = (
            (_("Identity"), self.IDENTITY),
            (_("Billing address"), self.BILLING),
            (_("Delivery address"), self.DELIVERY),
            (_("Language and payment habits"), self.HABITS),
            (_("Reminders"), self.REMINDERS),
            (_("Follow-up"), self.FOLLOW_UP),
        )
        return [(legend, [self[name] for name in names]) for legend, names in groups]

    def clean_country(self) -> str:
        return country_field_clean(self.cleaned_data.get("country", ""))

    def clean_delivery_country(self) -> str:
        return country_field_clean(self.cleaned_data.get("delivery_country", ""))

    def clean_risk_level(self) -> str:
        return self.cleaned_data.get("risk_level") or self.instance.risk_level or "normal"

    def clean_tag_names(self) -> list[str]:
        names = parse_tags(self.cleaned_data.get("tag_names", ""))
        too_long = [n for n in names if len(n) > TAG_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _("A tag has at most %(max)d characters: %(tag)s")
                % {"max": TAG_MAX_LENGTH, "tag": too_long[0][:60]},
                code="tag_length",
            )
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(
                _("At most %(max)d tags per client.") % {"max": MAX_TAGS}, code="tag_count"
            )
        return names

    @transaction.atomic
    def save(self, commit: bool = True) -> Client:
        client = super().save(commit=True)
        client.tags.set(self._tags(self.cleaned_data["tag_names"]))
        if client.pk and set(self.changed_data) & set(self.WAKES_REMINDERS):
            engine.wake(client_id=client.pk, on=client.organisation.today())
        return client

    def _tags(self, names: list[str]) -> list[Tag]:
        """The organisation's tags of these names, created when new (case-insensitive)."""
        organisation = self.instance.organisation
        existing = {t.name.casefold(): t for t in Tag.objects.for_org(organisation)}
        tags = []
        for name in names:
            tag = existing.get(name.casefold())
            if tag is None:
                tag, _created = Tag.objects.get_or_create(organisation=organisation, name=name)
            tags.append(tag)
        return tags


class ContactForm(forms.ModelForm):
    """A person at the client. The view sets organisation and client first, so
    ``Contact.clean`` reads the phone number in the client's country."""

    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "role",
            "job_title",
            "email",
            "phone",
            "preferred_channel",
            "do_not_contact",
            "notes",
        ]
        help_texts = {
            "role": _(
                "relance only contacts people of the client itself (billing, accounts payable, "
                "management), never its clients, investors, family or employer."
            ),
            "phone": _("A national number is read in the client's country; +33… always works."),
            "do_not_contact": _("No reminder of any kind will be sent to this person."),
        }
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
