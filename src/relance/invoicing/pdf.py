"""The invoice as a printed page: one HTML template, rendered by WeasyPrint
to a PDF/A-3b (the Factur-X step embeds the XML afterwards), or served as is
for a preview in the browser.

Everything is written in the client's language (``Document.language``);
amounts and dates go through relance.formats. The parsed stylesheet and the
font configuration are made once per thread and reused: parsing them again
for every invoice would cost more than laying the page out.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_currency, format_percent
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban

from relance import collector, formats
from relance.einvoice import facturx
from relance.einvoice.document import VAT_STANDARD, Document, Party, PostalAddress
from relance.invoicing import wording
from relance.rules import payment_reference

TEMPLATE = "invoicing/pdf/invoice.html"
STYLESHEET = Path(__file__).parent / "templates" / "invoicing" / "pdf" / "invoice.css"
PDF_VARIANT = "pdf/a-3b"

# Logo formats WeasyPrint draws, recognised by their first bytes.
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def render_pdf(
    document: Document,
    *,
    logo: bytes | None = None,
    base_url: str | None = None,
    facturx_xml: bytes | None = None,
    profile: str = "en16931",
) -> bytes:
    """The invoice or credit note as PDF/A-3b bytes; with ``facturx_xml``, a
    Factur-X: the XML (checked against the profile's XSD) attached as
    ``factur-x.xml`` (AFRelationship Data) and declared in the XMP, in the
    same pass (no second parse of the PDF)."""
    from weasyprint import HTML, Attachment

    font_config, stylesheet, fetcher = _weasyprint_resources()
    html = _render(document, logo=logo, inline_css=False)
    attachments = None
    if facturx_xml is not None:
        facturx.check_xsd(facturx_xml, profile)
        encoded = base64.b64encode(facturx_xml).decode("ascii")
        attachments = [
            Attachment(
                url=f"data:text/xml;base64,{encoded}",
                url_fetcher=fetcher,
                name="factur-x.xml",
                description="Factur-X invoice",
                relationship="Data",
            )
        ]
    with collector.paused():  # layout: hundreds of thousands of short-lived objects
        rendered = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            stylesheets=[stylesheet], font_config=font_config
        )
        if facturx_xml is not None:
            _declare_facturx(rendered.metadata, profile)
        return rendered.write_pdf(
            pdf_variant=PDF_VARIANT, attachments=attachments, finisher=_one_af_entry_each
        )


def _one_af_entry_each(_document: Any, pdf: Any) -> None:
    """WeasyPrint lists an attachment twice in the catalog's /AF; once is right."""
    if "AF" in pdf.catalog:
        import pydyf

        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def _declare_facturx(metadata: Any, profile: str) -> None:
    """Add the Factur-X properties to the XMP WeasyPrint writes for PDF/A-3."""
    from lxml import etree

    original = metadata.generate_rdf_metadata

    def generate(variant: str, version: Any, conformance: Any) -> bytes:
        root = etree.fromstring(original(variant, version, conformance))
        root.extend(facturx.xmp_descriptions(profile))
        return etree.tostring(root)

    metadata.generate_rdf_metadata = generate


def render_html(document: Document, *, logo: bytes | None = None) -> str:
    """The same page as a standalone HTML document (stylesheet inlined), for
    a preview in the browser."""
    return _render(document, logo=logo, inline_css=True)


_local = threading.local()


def _weasyprint_resources() -> tuple[Any, Any, Any]:
    """The font configuration, the parsed stylesheet and the URL fetcher of
    this thread (WeasyPrint's objects are not meant to be shared between
    threads). A new fetcher per page would load the system's certificates
    each time: 30 ms."""
    if not hasattr(_local, "resources"):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher

        font_config = FontConfiguration()
        _local.resources = (
            font_config,
            CSS(filename=STYLESHEET, font_config=font_config),
            URLFetcher(allowed_protocols={"data", "file", "http", "https"}),
        )
    return _local.resources


def _render(document: Document, *, logo: bytes | None, inline_css: bool) -> str:
    with translation.override(document.language):
        context = _context(document, logo)
        if inline_css:
            context["inline_css"] = mark_safe(STYLESHEET.read_text())
        return render_to_string(TEMPLATE, context)


# --- what the template shows -------------------------------------------------


@dataclass(frozen=True)
class PartyView:
    name: str
    trade_name: str
    address: list[str]
    identifiers: list[tuple[str, str]]  # (label, value)
    contacts: list[str]


@dataclass(frozen=True)
class Payment:
    due: bool  # something is left to pay
    reference: str  # formatted RF reference
    iban: str
    bic: str
    qr_svg: SafeString | None
    epc_payload: str


def _context(document: Document, logo: bytes | None) -> dict[str, Any]:
    currency = document.currency
    show_country = document.seller.address.country != document.buyer.address.country
    context: dict[str, Any] = {
        "doc": document,
        "title": _("Credit note") if document.is_credit_note else _("Invoice"),
        "logo": _logo_uri(logo) if logo else "",
        "meta": _meta(document),
        "seller": _party(document.seller, document, seller=True, show_country=show_country),
        "buyer": _party(document.buyer, document, seller=False, show_country=show_country),
        "delivery_address": (
            _address(document.delivery_address, show_country=show_country)
            if document.delivery_address and not document.delivery_address.is_empty
            else []
        ),
        "lines": [
            {
                "description": line.description,
                "quantity": formats.number(line.quantity),
                "unit_price": formats.money(line.unit_price, currency)
                if _within_cents(line.unit_price)
                else f"{formats.number(line.unit_price)} {currency}",
                "vat_rate": _percent(line.vat_rate),
                "net": formats.money(line.net, currency),
            }
            for line in document.lines
        ],
        "vat_rows": [
            {
                "label": _percent(row.rate)
                if row.category == VAT_STANDARD
                else _vat_category_label(row.category, row.rate),
                "base": formats.money(row.base, currency),
                "amount": formats.money(row.amount, currency),
                "reason": row.exemption_reason,
            }
            for row in document.vat_breakdown
        ],
        "totals": _totals(document),
        "installments": [
            (formats.day(row.due_date), formats.money(row.amount, currency))
            for row in document.installments
        ],
        "payment": None if document.is_credit_note else _payment(document),
        "due_date": formats.day(document.due_date) if document.due_date else "",
        "pay_url": document.pay_url if _is_web_link(document.pay_url) else "",
        "legal": _legal_mentions(document),
        "footer_css": _footer_css(document),
    }
    context["html_title"] = " ".join(
        part for part in (context["title"], document.number, "·", document.seller.name) if part
    )
    return context


def _meta(document: Document) -> list[tuple[str, str]]:
    rows = [(_("Issue date"), formats.day(document.issue_date))]
    if document.is_credit_note and document.corrected_number:
        corrected = document.corrected_number
        if document.corrected_issue_date:
            corrected = _("%(number)s of %(date)s") % {
                "number": corrected,
                "date": formats.day(document.corrected_issue_date),
            }
        rows.append((_("Credit note for invoice"), corrected))
    if document.due_date and not document.is_credit_note:
        rows.append((_("Due date"), formats.day(document.due_date)))
    if document.delivery_date:
        rows.append((_("Date of sale or service"), formats.day(document.delivery_date)))
    if document.purchase_order:
        rows.append((_("Purchase order"), document.purchase_order))
    if document.buyer_reference:
        rows.append((_("Your reference"), document.buyer_reference))
    return rows


def _party(party: Party, document: Document, *, seller: bool, show_country: bool) -> PartyView:
    identifiers: list[tuple[str, str]] = []
    business = seller or document.client_kind == "b2b"
    if business:
        if party.siren and not party.siret:
            identifiers.append((_("SIREN"), _group(party.siren, (3, 3, 3))))
        if party.siret:
            identifiers.append((_("SIRET"), _group(party.siret, (3, 3, 3, 5))))
        if party.vat_number:
            identifiers.append((_("VAT number"), party.vat_number))
    if seller:
        if legal := _legal_form(party, document):
            identifiers.append((_("Legal form"), legal))
        if rcs := _registry(party):
            identifiers.append((_("Registration"), rcs))
    contacts = [c for c in (party.contact_name, party.email, party.phone) if c]
    return PartyView(
        name=party.name,
        trade_name=party.trade_name if party.trade_name != party.name else "",
        address=_address(party.address, show_country=show_country),
        identifiers=identifiers,
        contacts=contacts,
    )


def _address(address: PostalAddress, *, show_country: bool) -> list[str]:
    lines = [line for line in address.lines if line.strip()]
    city = " ".join(part for part in (address.postcode, address.city) if part)
    if city:
        lines.append(city)
    if show_country and address.country:
        lines.append(_country_name(address.country))
    return lines


def _country_name(code: str) -> str:
    locale = Locale.parse(formats.current_locale())
    return locale.territories.get(code.upper(), code)


def _group(digits: str, sizes: tuple[int, ...]) -> str:
    """ "12345678900012" -> "123 456 789 00012" (only when the length fits)."""
    compact = digits.replace(" ", "")
    if len(compact) != sum(sizes):
        return digits
    parts, start = [], 0
    for size in sizes:
        parts.append(compact[start : start + size])
        start += size
    return " ".join(parts)


# The currency of the seller's country, where it is not the euro: legal
# amounts (share capital, the fixed recovery indemnity) are in it whatever
# the invoice's currency.
_HOME_CURRENCY = {"GB": "GBP", "CH": "CHF"}


def _legal_currency(document: Document) -> str:
    return _HOME_CURRENCY.get(document.seller.address.country, "EUR")


def _legal_form(party: Party, document: Document) -> str:
    if party.share_capital is None:
        return party.legal_form
    capital = _whole_money(party.share_capital, _legal_currency(document))
    if party.legal_form:
        return wording.capital_text(party.legal_form, capital)
    return _("Share capital of %(capital)s") % {"capital": capital}


def _registry(party: Party) -> str:
    """ "RCS Lyon 123 456 789": the field holds "RCS Lyon" or just "Lyon"."""
    city = party.rcs_city.strip()
    if not city:
        return ""
    if not re.match(r"(RCS|RM|RSAC)\b", city, re.IGNORECASE):
        city = f"RCS {city}"
    siren = party.siren or party.siret[:9]
    return f"{city} {_group(siren, (3, 3, 3))}".strip()


def _totals(document: Document) -> list[tuple[str, str, bool]]:
    currency = document.currency
    rows = []
    if document.allowance_total or document.charge_total:
        lines = document.total_net + document.allowance_total - document.charge_total
        rows.append((_("Sum of the lines"), formats.money(lines, currency), False))
        if document.allowance_total:
            rows.append((_("Discount"), formats.money(-document.allowance_total, currency), False))
        if document.charge_total:
            rows.append((_("Charges"), formats.money(document.charge_total, currency), False))
    rows += [
        (_("Total excl. VAT"), formats.money(document.total_net, currency), False),
        (_("VAT"), formats.money(document.total_vat, currency), False),
        # What a credit note is worth is its total; an invoice's is what is left to pay.
        (
            _("Total incl. VAT"),
            formats.money(document.total_gross, currency),
            document.is_credit_note,
        ),
    ]
    if document.amount_prepaid:
        rows.append((_("Already paid"), formats.money(document.amount_prepaid, currency), False))
    if not document.is_credit_note:
        rows.append((_("Amount due"), formats.money(document.amount_due, currency), True))
    return rows


def _payment(document: Document) -> Payment:
    due = document.amount_due > 0
    reference = document.creditor_reference
    if not reference and document.number:
        reference = payment_reference.creditor_reference(document.number)
    qr_svg, payload = None, ""
    # A draft (no number yet) is not to be paid: no reference, no QR code.
    if due and reference and document.iban and document.currency == "EUR":
        amount_fits = document.amount_due <= payment_reference.EPC_MAX_AMOUNT
        if amount_fits:
            payload = payment_reference.epc_payload(
                document.seller.name,
                document.iban,
                document.bic or None,
                document.amount_due,
                document.currency,
                reference=reference,
            )
            # segno's own markup: path data only, no text of the document.
            qr_svg = mark_safe(payment_reference.epc_qr_svg(payload))
    return Payment(
        due=due,
        reference=payment_reference.format_reference(reference) if reference else "",
        iban=stdnum_iban.format(document.iban) if document.iban else "",
        bic=document.bic,
        qr_svg=qr_svg,
        epc_payload=payload,
    )


def _legal_mentions(document: Document) -> list[str]:
    """The mentions the law asks for, worded as the mention checker expects
    them (relance.invoicing.wording)."""
    mentions = [wording.operation_text(document.operation_category)]
    if document.vat_on_debits:
        mentions.append(wording.vat_on_debits_text())
    if document.is_credit_note:
        return [m for m in mentions if m]
    if document.discount is None:
        mentions.append(wording.no_discount_text())
    else:
        discount = document.discount
        mentions.append(
            wording.discount_text(
                discount.percent, discount.last_day, discount.amount_then, document.currency
            )
        )
    mentions.append(document.late_penalty_text)
    if document.recovery_indemnity is not None:
        amount = _whole_money(document.recovery_indemnity, _legal_currency(document))
        mentions.append(wording.indemnity_text(amount))
    return [m for m in mentions if m]


def _footer_css(document: Document) -> SafeString:
    """The ``content`` values of the page's margin boxes: the seller's legal
    identity on every page, and "Page x / y" in the translator's words."""
    seller = document.seller
    identity = [seller.name]
    if legal := _legal_form(seller, document):
        identity.append(legal)
    if rcs := _registry(seller):
        identity.append(rcs)
    if seller.siret:
        identity.append(f"{_('SIRET')} {_group(seller.siret, (3, 3, 3, 5))}")
    if seller.vat_number:
        identity.append(f"{_('VAT number')} {seller.vat_number}")
    return page_footer_css(" · ".join(identity))


def page_footer_css(left: str) -> SafeString:
    """CSS for every page's footer: ``left`` at the bottom left, "Page x / y" in the
    translator's words at the bottom right (also used by the reminder letters)."""
    page = []
    for part in re.split(r"(%\(pages?\)s)", _("Page %(page)s / %(pages)s")):
        if part == "%(page)s":
            page.append("counter(page)")
        elif part == "%(pages)s":
            page.append("counter(pages)")
        elif part:
            page.append(_css_string(part))
    # Safe: every text goes through _css_string.
    return mark_safe(
        f"@page {{ @bottom-left {{ content: {_css_string(left)}; }}"
        f" @bottom-right {{ content: {' '.join(page)}; }} }}"
    )


def _css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the <style> element."""
    return '"' + re.sub(r'[\\"<>&\n\r\f]', lambda m: f"\\{ord(m.group()):x} ", text) + '"'


# --- small formatters ----------------------------------------------------------


def _percent(rate: Decimal) -> str:
    """Decimal("20.00") -> "20 %", Decimal("5.5") -> "5,5 %" in French."""
    return format_percent(rate / 100, locale=formats.current_locale(), decimal_quantization=False)


def _whole_money(amount: Decimal, currency: str) -> str:
    """40 -> "40 €" rather than "40,00 €", as the law and capital are written."""
    if amount != amount.to_integral_value():
        return formats.money(amount, currency)
    pattern = Locale.parse(formats.current_locale()).currency_formats["standard"].pattern
    return format_currency(
        amount,
        currency,
        format=pattern.replace("0.00", "0"),
        locale=formats.current_locale(),
        currency_digits=False,
    )


def _within_cents(amount: Decimal) -> bool:
    return amount == amount.quantize(Decimal("0.01"))


def _vat_category_label(category: str, rate: Decimal) -> str:
    labels = {
        "Z": _("Zero rate"),
        "E": _("Exempt"),
        "AE": _("Reverse charge"),
        "K": _("Intra-community supply"),
        "G": _("Export outside the EU"),
        "O": _("Outside the scope of VAT"),
    }
    return labels.get(category, _percent(rate))


def _is_web_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _logo_uri(logo: bytes) -> str:
    head = logo[:512].lstrip()
    mime = next((m for sig, m in _IMAGE_SIGNATURES if logo.startswith(sig)), None)
    if mime is None and (
        head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in logo)
    ):
        mime = "image/svg+xml"
    if mime is None and logo[:4] == b"RIFF" and logo[8:12] == b"WEBP":
        mime = "image/webp"
    if mime is None:
        raise ValueError("the logo must be a PNG, JPEG, GIF, WebP or SVG image")
    return f"data:{mime};base64,{base64.b64encode(logo).decode()}"
