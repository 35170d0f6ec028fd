"""Mandatory invoice mentions: what an invoice must show before it is issued.

``missing(document, seller_country=...)`` lists the codes of the mentions a
``Document`` lacks; the invoicing layer words them for the user and refuses
to issue. France is checked in full (C. com. L441-9, CGI ann. II art. 242
nonies A, décret 2022-1299); other sellers get the EU VAT directive's core
(2006/112/EC art. 226). Mentions relance always writes itself (penalty
text, the €40 indemnity, the discount or "néant", VAT on debits, the
operation category) are checked too, so a bug in building the document
cannot slip an incomplete invoice through.

>>> from relance.einvoice.document import Document, Party
>>> from datetime import date
>>> doc = Document("invoice", "", date(2026, 1, 15), "EUR", Party("A"), Party("B"), (), (),
...                0, 0, 0, 0)
>>> "seller_address" in missing(doc, seller_country="FR")
True
"""

from __future__ import annotations

from relance.einvoice.document import (
    VAT_EXEMPT,
    VAT_EXPORT,
    VAT_INTRA_EU,
    VAT_NOT_SUBJECT,
    VAT_REVERSE_CHARGE,
    VAT_ZERO,
    Document,
    Party,
)
from relance.rules.law import EU_MEMBERS

__all__ = ["COMPANY_FORMS", "MENTIONS", "missing"]

# Legal forms of companies that must print share capital and RCS registration.
COMPANY_FORMS = frozenset(
    {"SA", "SAS", "SASU", "SARL", "EURL", "SNC", "SCA", "SCS", "SELARL", "SELAS", "SCOP", "SE"}
)

# Code -> (who fixes it, what is missing). Worded for users by relance.invoicing.mentions.
MENTIONS: tuple[str, ...] = (
    "seller_name",
    "seller_address",
    "seller_siren",
    "seller_vat_number",
    "seller_legal_form",
    "seller_share_capital",
    "seller_rcs",
    "buyer_name",
    "buyer_address",
    "buyer_siren",
    "buyer_vat_number",
    "issue_date",
    "number",
    "due_date",
    "lines",
    "line_description",
    "operation_category",
    "vat_exemption_reason",
    "corrected_invoice",
    "late_penalty_text",
    "recovery_indemnity",
    "no_recovery_indemnity_for_consumers",
)

_EXEMPTIONS_NEEDING_TEXT = {VAT_EXEMPT, VAT_NOT_SUBJECT, VAT_ZERO}
_NEEDS_BUYER_VAT = {VAT_REVERSE_CHARGE, VAT_INTRA_EU}


def _address_missing(party: Party) -> bool:
    address = party.address
    return not (any(address.lines) and address.city)


def _charges_vat(document: Document) -> bool:
    return any(line.vat_category not in (VAT_EXEMPT, VAT_NOT_SUBJECT) for line in document.lines)


def _seller(document: Document, seller_country: str) -> list[str]:
    seller = document.seller
    out = []
    if not seller.name.strip():
        out.append("seller_name")
    if _address_missing(seller):
        out.append("seller_address")
    if seller_country == "FR":
        if not (seller.siren or seller.siret):
            out.append("seller_siren")
        if not seller.legal_form.strip():
            out.append("seller_legal_form")
        if seller.legal_form.strip().upper() in COMPANY_FORMS:
            if seller.share_capital is None:
                out.append("seller_share_capital")
            if not seller.rcs_city.strip():
                out.append("seller_rcs")
    # A seller under the VAT franchise (all lines exempt) may have no VAT number.
    if _charges_vat(document) and not seller.vat_number:
        out.append("seller_vat_number")
    return out


def _buyer(document: Document, seller_country: str) -> list[str]:
    buyer = document.buyer
    out = []
    if not buyer.name.strip():
        out.append("buyer_name")
    if _address_missing(buyer):
        out.append("buyer_address")
    if document.client_kind == "b2b" and seller_country == "FR":
        # Décret 2022-1299: the client's SIREN; an EU client's VAT number instead.
        if buyer.address.country in ("", "FR"):
            if not (buyer.siren or buyer.siret):
                out.append("buyer_siren")
        elif not buyer.vat_number and buyer.address.country in EU_MEMBERS:
            # Outside the EU the client's own id is printed only if it gave one.
            out.append("buyer_vat_number")
    categories = {line.vat_category for line in document.lines}
    if categories & _NEEDS_BUYER_VAT and not buyer.vat_number and "buyer_vat_number" not in out:
        out.append("buyer_vat_number")
    return out


def _document(document: Document, seller_country: str, *, numbered: bool) -> list[str]:
    out = []
    if numbered and not document.number.strip():
        out.append("number")
    if document.issue_date is None:
        out.append("issue_date")
    if not document.lines:
        out.append("lines")
    elif any(not line.description.strip() for line in document.lines):
        out.append("line_description")
    if not document.is_credit_note and document.due_date is None:
        out.append("due_date")
    if document.is_credit_note and not document.corrected_number:
        out.append("corrected_invoice")
    if seller_country == "FR" and document.operation_category not in ("goods", "services", "mixed"):
        out.append("operation_category")
    exempt = {
        line.vat_category
        for line in document.lines
        if line.vat_category in _EXEMPTIONS_NEEDING_TEXT
    }
    texts = {row.category: row.exemption_reason for row in document.vat_breakdown}
    if any(not texts.get(category, "").strip() for category in exempt):
        out.append("vat_exemption_reason")
    for category in {VAT_REVERSE_CHARGE, VAT_INTRA_EU, VAT_EXPORT} & set(texts):
        if not texts[category].strip():
            out.append("vat_exemption_reason")
            break
    return out


def _payment_terms(document: Document) -> list[str]:
    if document.is_credit_note:
        return []
    out = []
    if document.client_kind == "b2b":
        if not document.late_penalty_text.strip():
            out.append("late_penalty_text")
        if document.recovery_indemnity is None:
            out.append("recovery_indemnity")
    elif document.recovery_indemnity is not None:
        # The €40 indemnity is a B2B rule: printing it to a consumer misleads them.
        out.append("no_recovery_indemnity_for_consumers")
    return out


def missing(document: Document, *, seller_country: str, numbered: bool = True) -> list[str]:
    """Codes of the mandatory mentions ``document`` lacks, in MENTIONS order.

    ``numbered=False`` checks a draft before it gets its number.
    """
    found = set(
        _seller(document, seller_country)
        + _buyer(document, seller_country)
        + _document(document, seller_country, numbered=numbered)
        + _payment_terms(document)
    )
    return [code for code in MENTIONS if code in found]
