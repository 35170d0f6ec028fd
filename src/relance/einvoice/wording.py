"""The fixed wording of an invoice's legal mentions, one place for the PDF and
the Factur-X notes, so both say exactly what the mention checker checks.

Call inside ``translation.override(document.language)``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from relance import formats
from relance.einvoice.document import VAT_EXPORT, VAT_INTRA_EU, VAT_REVERSE_CHARGE
from relance.rules.money import D


def percent(value: Decimal | str) -> str:
    """Decimal("5.50") -> "5,5 %" in French."""
    return formats.number(D(str(value)).normalize()) + " %"


def discount_text(rate: Decimal, last_day: date, amount_then: Decimal, currency: str) -> str:
    percent_text = percent(rate)
    return _("Early-payment discount: %(pct)s if paid by %(date)s, i.e. %(amount)s to pay.") % {
        "pct": percent_text,
        "date": formats.day(last_day),
        "amount": formats.money(amount_then, currency),
    }


def no_discount_text() -> str:
    return _("Early-payment discount: none.")


def exemption_text(category: str) -> str:
    """The legal mention for categories whose wording is fixed by law."""
    if category == VAT_REVERSE_CHARGE:
        return _("Reverse charge: VAT to be paid by the customer (art. 283-2 of the French CGI).")
    if category == VAT_INTRA_EU:
        return _("VAT exemption, intra-EU supply (art. 262 ter I of the French CGI).")
    if category == VAT_EXPORT:
        return _("VAT exemption, export (art. 262 I of the French CGI).")
    return ""


def operation_text(category: str) -> str:
    return {
        "goods": _("Operation: supply of goods"),
        "services": _("Operation: supply of services"),
        "mixed": _("Operation: supply of goods and services"),
    }.get(category, "")


def vat_on_debits_text() -> str:
    return _(
        "VAT option: VAT paid on debits (option pour le paiement de la taxe d'après les débits)."
    )


def indemnity_text(amount: str) -> str:
    """``amount`` as printed, e.g. "40 €"."""
    return _("Fixed indemnity for recovery costs: %(amount)s") % {"amount": amount}


def capital_text(legal_form: str, capital: str) -> str:
    """ "SAS au capital de 10 000 €"; ``capital`` as printed."""
    return _("%(legal_form)s with a share capital of %(capital)s") % {
        "legal_form": legal_form,
        "capital": capital,
    }
