"""The online payment settings form: secrets are typed, never shown back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.online.models import OnlinePaymentSettings


def masked(secret: str) -> str:
    """ "sk_live_…4242": enough to recognise a key, not to use it."""
    if not secret:
        return ""
    prefix = secret.split("_", 2)
    head = "_".join(prefix[:2]) + "_" if len(prefix) > 2 else ""
    return f"{head}…{secret[-4:]}"


class OnlinePaymentForm(forms.ModelForm):
    secret_key = forms.CharField(
        label=_("Stripe secret key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = OnlinePaymentSettings
        fields = [
            "enabled", "secret_key", "webhook_secret", "accept_card", "accept_sepa_debit",
            "accept_paypal", "api_base",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        for name in ("secret_key", "webhook_secret"):
            stored = getattr(instance, name, "")
            self.fields[name].help_text = (
                _("Stored: %(masked)s. Leave empty to keep it.") % {"masked": masked(stored)}
                if stored
                else _("Not set yet.")
            )
        self.fields["secret_key"].help_text = (
            str(self.fields["secret_key"].help_text)
            + " "
            + str(_("From Stripe's dashboard, Developers > API keys (sk_… or rk_…)."))
        )
        self.fields["api_base"].help_text = _("Leave as is unless told otherwise.")

    def clean_secret_key(self) -> str:
        value = self.cleaned_data.get("secret_key", "")
        if not value:
            return self.instance.secret_key  # kept
        if not value.startswith(("sk_", "rk_")):
            raise forms.ValidationError(
                _("A Stripe secret key starts with sk_ (or rk_ for a restricted key).")
            )
        return value

    def clean_webhook_secret(self) -> str:
        value = self.cleaned_data.get("webhook_secret", "")
        if not value:
            return self.instance.webhook_secret
        if not value.startswith("whsec_"):
            raise forms.ValidationError(_("A webhook signing secret starts with whsec_."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("enabled"):
            if not data.get("secret_key"):
                self.add_error("secret_key", _("Online payment needs the Stripe secret key."))
            if not data.get("webhook_secret"):
                self.add_error(
                    "webhook_secret",
                    _("Without the signing secret, payments made online cannot be recorded."),
                )
            if not (
                data.get("accept_card")
                or data.get("accept_sepa_debit")
                or data.get("accept_paypal")
            ):
                self.add_error("accept_card", _("Choose at least one way to pay."))
        return data
