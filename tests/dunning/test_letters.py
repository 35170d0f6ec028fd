"""The reminder letter as printed: sender, recipient in the envelope's
window, place and date, subject, body, invoices table, payment block, pages."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from relance.dunning.letters import letter_html, letter_pdf
from relance.dunning.templating import render, sample_context

MM = 72 / 25.4  # PDF points per millimetre
A4_HEIGHT = 297


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def make_letter(key: str, language: str, context: dict | None = None) -> tuple[dict, bytes]:
    context = context or sample_context(language)
    rendered = render(key, "letter", language, context)
    return context, letter_pdf(context, rendered.text, language, rendered.subject)


@pytest.fixture(scope="module")
def french_letter() -> tuple[dict, bytes]:
    return make_letter("firm", "fr")


def test_a_french_letter_holds_everything_the_client_needs(french_letter):
    context, pdf = french_letter
    text = pdf_text(pdf)

    assert pdf.startswith(b"%PDF-")
    assert "Boulangerie Martin SARL" in text
    assert "3 place Bellecour" in text
    assert "Atelier Durand" in text and "12 rue de la République" in text
    with translation.override("fr"):
        assert gettext("Subject:") in text
    assert "Relance : 2 factures impayées" in text
    assert "Madame, Monsieur," in text
    for invoice in context["invoices"]:
        assert invoice["number"] in text
        assert invoice["due_date"] in text
        assert invoice["reference"] in text
    assert "2 240,00 €" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "FR14 2004 1010 0505 0001 3M02 606" in text
    assert "https://pay.example.com/p/7Hq2xW" in text
    assert "Lyon, " in text and context["today"] in text


def test_the_recipient_address_sits_in_the_dl_window(french_letter):
    """French DL window envelope: window 100 x 45 mm, 20 mm from the right
    and 15 mm from the bottom of a 220 x 110 mm envelope, the sheet folded in
    three: 100 to 200 mm from the sheet's left, 50 to 95 mm from its top."""
    _context, pdf = french_letter
    page = pypdfium2.PdfDocument(pdf)[0]
    text_page = page.get_textpage()
    boxes = []
    for needle in ("Boulangerie Martin SARL", "3 place Bellecour"):
        searcher = text_page.search(needle)
        found = searcher.get_next()
        assert found is not None, needle
        index, count = found
        boxes += [text_page.get_charbox(i) for i in range(index, index + count)]
    left = min(box[0] for box in boxes) / MM
    right = max(box[2] for box in boxes) / MM
    top = A4_HEIGHT - max(box[3] for box in boxes) / MM
    bottom = A4_HEIGHT - min(box[1] for box in boxes) / MM

    assert left > 100 and right < 200
    assert top > 50 and bottom < 95


def test_pages_are_numbered(french_letter):
    _context, pdf = french_letter
    pages = PdfReader(io.BytesIO(pdf)).pages
    with translation.override("fr"):
        label = gettext("Page %(page)s / %(pages)s")
    for number, page in enumerate(pages, start=1):
        assert label % {"page": number, "pages": len(pages)} in page.extract_text()


def test_an_english_letter():
    _context, pdf = make_letter("formal", "en")
    text = pdf_text(pdf)

    assert "Subject: Final amicable reminder: 2 unpaid invoices" in text
    assert "Dear Claire Martin," in text
    assert "For the attention of Claire Martin" in text
    assert "F-2026-0042" in text and "F-2026-0057" in text
    assert "Yours sincerely," in text


def test_a_consumer_letter_has_no_attention_line():
    context = sample_context("en")
    context["client"] = {
        "name": "Julien Moreau",
        "kind": "individual",
        "address_lines": ["8 rue Mercière", "69002 Lyon"],
    }
    context["late_fee"] = None
    _context, pdf = make_letter("friendly", "en", context)
    text = pdf_text(pdf)

    assert "Julien Moreau" in text
    assert "attention" not in text


def test_an_organisation_text_without_the_blocks_still_prints_invoices_and_payment():
    context = sample_context("fr")
    pdf = letter_pdf(context, "Madame, Monsieur,\n\nMerci de régler.", "fr", "Relance")
    text = pdf_text(pdf)

    assert "Merci de régler." in text
    assert "F-2026-0042" in text and "F-2026-0057" in text
    assert "FR14 2004 1010 0505 0001 3M02 606" in text


def test_the_invoice_list_becomes_a_table_not_a_repeated_list():
    context = sample_context("en")
    rendered = render("firm", "letter", "en", context)
    html = letter_html(context, rendered.text, "en", rendered.subject)

    assert '<table class="invoices"' in html
    assert "Invoice F-2026-0042 of" in rendered.text  # the plain text lists them…
    assert "Invoice F-2026-0042 of" not in html  # …the page shows the table instead
    assert html.count('<table class="invoices"') == 1


def test_the_html_preview_escapes_what_was_typed():
    context = sample_context("en")
    context["client"]["name"] = "<img src=x onerror=alert(1)>"
    html = letter_html(context, "Hello {{ not a template }} <b>", "en", "Subject <i>")

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Hello {{ not a template }} &lt;b&gt;" in html
    assert "Subject &lt;i&gt;" in html


@pytest.mark.parametrize(
    ("last_line", "expected"),
    [
        ("69002 Lyon", "Lyon, 14 avr. 2026"),
        ("75008 Paris Cedex 08", "Paris, 14 avr. 2026"),
        ("London", "14 avr. 2026"),
    ],
)
def test_the_place_is_the_organisation_town(last_line, expected):
    context = sample_context("fr")
    context["organisation"]["address_lines"] = ["1 rue Haute", last_line]
    html = letter_html(context, "Madame, Monsieur,", "en", "x")
    assert f'<p class="place-date">{expected}</p>' in html
