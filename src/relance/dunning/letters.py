"""The reminder letter as a printed page: A4, folded in three for a French
DL window envelope, drawn by WeasyPrint like the invoices are.

The body is the letter text ``templating.render(key, "letter", …)`` wrote;
where it holds the invoice list and the payment details, the page prints a
table and a payment block instead (templating.parts). Everything is in the
client's language; the values of the context are already formatted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.template import Context
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from relance.dunning import templating
from relance.invoicing.pdf import page_footer_css
from relance.rules.payment_reference import epc_qr_svg

TEMPLATE = "dunning/letter.html"
STYLESHEET = templating.TEMPLATES_DIR / "dunning" / "letter.css"

# "69002 Lyon", "F-69002 Lyon", "1000 Bruxelles": a postcode, then the place.
_POSTCODE_CITY = re.compile(r"^\s*(?:[A-Z]{1,2}-)?\d[\d ]*\s+(?P<city>\D.*)$")
_CEDEX = re.compile(r"\s+cedex\b.*$", re.IGNORECASE)


def letter_pdf(context: Mapping[str, Any], text: str, language: str, subject: str = "") -> bytes:
    """The letter as PDF bytes."""
    from weasyprint import HTML

    font_config, stylesheet = _weasyprint_resources()
    html = _render(context, text, language, subject, inline_css=False)
    document = HTML(string=html, base_url=str(Path(STYLESHEET).parent)).render(
        stylesheets=[stylesheet], font_config=font_config
    )
    return document.write_pdf()


def letter_html(context: Mapping[str, Any], text: str, language: str, subject: str = "") -> str:
    """The same page as a standalone HTML document, for a preview in the browser."""
    return _render(context, text, language, subject, inline_css=True)


_local = threading.local()


def _weasyprint_resources() -> tuple[Any, Any]:
    """The font configuration and parsed stylesheet of this thread, made once:
    WeasyPrint's objects are not meant to be shared between threads."""
    if not hasattr(_local, "resources"):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        _local.resources = (font_config, CSS(filename=STYLESHEET, font_config=font_config))
    return _local.resources


def _render(
    context: Mapping[str, Any], text: str, language: str, subject: str, *, inline_css: bool
) -> str:
    language = templating.normalise_language(language)
    with translation.override(language):
        pieces = templating.parts(text, context)
        kinds = {kind for kind, _body in pieces}
        # A letter always shows what is owed and how to pay, even when an
        # organisation's own text left the blocks out.
        if "invoices" not in kinds:
            pieces.append(("invoices", ""))
        if "payment" not in kinds:
            pieces.append(("payment", ""))
        organisation = context.get("organisation") or {}
        data = {
            "language": language,
            "subject": " ".join(subject.split()),
            "organisation": organisation,
            "client": context.get("client") or {},
            "attention": _attention(context),
            "place_date": _place_date(context),
            "parts": pieces,
            "invoice_table": templating.invoice_table_html(context, for_print=True),
            "payment_details": templating.payment_details_html(context, for_print=True),
            "epc_qr_svg": _epc_qr_svg(context),
            "page_css": _page_css(organisation.get("name", "")),
            "inline_css": mark_safe(STYLESHEET.read_text()) if inline_css else "",
        }
        template = templating.engine().get_template(TEMPLATE)
        return template.render(Context(data, autoescape=True))


def _epc_qr_svg(context: Mapping[str, Any]) -> SafeString:
    """The EPC QR code (SEPA transfer of the balance) when the context has one."""
    payload = context.get("epc_qr") or ""
    # segno's own markup: path data only, no text of the reminder.
    return mark_safe(epc_qr_svg(payload)) if payload else mark_safe("")


def _attention(context: Mapping[str, Any]) -> str:
    """ "For the attention of Claire Martin" under a company's name."""
    client = context.get("client") or {}
    name = (context.get("contact") or {}).get("full_name", "")
    if client.get("kind") != "company" or not name or name == client.get("name"):
        return ""
    return _("For the attention of %(name)s") % {"name": name}


def _place_date(context: Mapping[str, Any]) -> str:
    """ "Lyon, le 14 avr. 2026": the organisation's town, then today."""
    today = context.get("today", "")
    lines = (context.get("organisation") or {}).get("address_lines") or []
    match = _POSTCODE_CITY.match(lines[-1]) if lines else None
    if not match:
        return today
    # "75008 Paris Cedex 08": the letter is written in Paris, not in a sorting office.
    place = _CEDEX.sub("", match["city"]).strip()
    return _("%(place)s, %(date)s") % {"place": place, "date": today}


def _page_css(organisation: str) -> SafeString:
    """The page's margin boxes: the sender's name and "Page x / y"."""
    return page_footer_css(organisation)
