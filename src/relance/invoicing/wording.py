"""What an invoice says, in the client's language: payment terms, the late-
payment policy the law asks for, VAT exemption mentions, missing mentions.

Call these inside ``translation.override(language)``; amounts and dates are
formatted with ``relance.formats`` in that language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance import formats
from relance.einvoice.wording import (  # noqa: F401 - the invoice's wording, in one place
    capital_text,
    discount_text,
    exemption_text,
    indemnity_text,
    no_discount_text,
    operation_text,
    percent,
    vat_on_debits_text,
)
from relance.rules import law


def terms_text(terms: dict[str, Any], due: date | None) -> str:
    """ "30 days from the invoice date (due 14 Feb 2026)" and the like."""
    kind = terms.get("kind")
    days = int(terms.get("days") or 0)
    business = _(" business") if terms.get("business_days") else ""
    if kind == "immediate":
        text = _("Payable on receipt")
    elif kind == "net":
        text = _("Payable %(days)s%(business)s days from the invoice date") % {
            "days": days,
            "business": business,
        }
    elif kind == "eom_then_days":
        text = _("Payable at the end of the month of the invoice, then %(days)s days") % {
            "days": days
        }
    elif kind == "days_then_eom":
        text = _("Payable %(days)s days from the invoice date, end of month") % {"days": days}
    elif kind == "deposit":
        text = _("Deposit of %(pct)s on receipt, the balance afterwards") % {
            "pct": percent(terms["deposit_percent"])
        }
    elif kind == "installments":
        text = _("Payable in installments (see the schedule)")
    else:
        text = ""
    # A due date typed by hand has no terms to word: the page prints the date itself.
    if due is not None and text:
        text = _("%(terms)s, by %(date)s") % {"terms": text, "date": formats.day(due)}
    return text


def late_penalty_text(seller_country: str, client_kind: str, on: date) -> str:
    """The late-payment policy printed on every invoice (C. com. L441-9, L441-10 II).

    Raises ``law.MissingLegalRule`` for a seller country the table does not cover.
    """
    if client_kind == "b2c":
        if seller_country == "FR":
            return _(
                "Late payment: interest at the legal rate from the formal notice "
                "(art. 1231-6 of the French Civil Code)."
            )
        return _("Late payment: interest at the legal rate from the formal notice.")
    rule = law.constant("late_penalty_margin", seller_country, on)
    margin = formats.number(rule.value)
    if seller_country == "FR":
        return _(
            "Late-payment penalties: the European Central Bank's refinancing rate plus "
            "%(margin)s points, due from the day after the due date without any reminder "
            "(art. L441-10 of the French Commercial Code)."
        ) % {"margin": margin}
    if seller_country == "GB":
        return _(
            "Late payment: statutory interest at %(margin)s%% above the Bank of England base "
            "rate, and fixed-sum compensation (Late Payment of Commercial Debts (Interest) "
            "Act 1998)."
        ) % {"margin": margin}
    if seller_country == "DE":
        return _(
            "Late payment: interest at %(margin)s points above the base rate (§ 288 BGB), "
            "and a fixed %(amount)s for recovery costs."
        ) % {"margin": margin, "amount": formats.money(Decimal(40), "EUR")}
    return _(
        "Late payment: interest at the European Central Bank's reference rate plus "
        "%(margin)s points, and a fixed compensation for recovery costs (Directive "
        "2011/7/EU)."
    ) % {"margin": margin}


def recovery_indemnity(
    seller_country: str, client_kind: str, on: date, debt: Decimal
) -> tuple[Decimal, str] | None:
    """(amount, currency) of the fixed indemnity to print; None for consumers."""
    if client_kind == "b2c":
        return None
    if seller_country == "GB":
        rule = law.uk_indemnity(debt, on)
    else:
        rule = law.constant("recovery_indemnity", seller_country, on)
    return rule.value, rule.unit


# What each missing mention means, and where the user fixes it.
MENTION_LABELS = {
    "seller_name": gettext_lazy("your legal name (organisation settings)"),
    "seller_address": gettext_lazy("your address (organisation settings)"),
    "seller_siren": gettext_lazy("your SIREN or SIRET (organisation settings)"),
    "seller_vat_number": gettext_lazy(
        "your VAT number (organisation settings), or a VAT exemption mention"
    ),
    "seller_legal_form": gettext_lazy("your legal form, e.g. SAS or EI (organisation settings)"),
    "seller_share_capital": gettext_lazy("your share capital (organisation settings)"),
    "seller_rcs": gettext_lazy("your RCS registry city (organisation settings)"),
    "buyer_name": gettext_lazy("the client's name"),
    "buyer_address": gettext_lazy("the client's address"),
    "buyer_siren": gettext_lazy("the client's SIREN (required for business clients in France)"),
    "buyer_vat_number": gettext_lazy("the client's VAT number"),
    "issue_date": gettext_lazy("the issue date"),
    "number": gettext_lazy("the invoice number"),
    "due_date": gettext_lazy("the due date or payment terms"),
    "lines": gettext_lazy("at least one line"),
    "line_description": gettext_lazy("a description on every line"),
    "operation_category": gettext_lazy("the operation category (goods, services or both)"),
    "vat_exemption_reason": gettext_lazy("the VAT exemption mention for lines without VAT"),
    "corrected_invoice": gettext_lazy("the invoice this credit note corrects"),
    "late_penalty_text": gettext_lazy("the late-payment penalty rate"),
    "recovery_indemnity": gettext_lazy("the fixed recovery indemnity"),
    "no_recovery_indemnity_for_consumers": gettext_lazy(
        "no fixed recovery indemnity for a consumer client"
    ),
}
