"""The reminder wording: every default renders what the client needs (the
invoices, the total, how to pay) in their language, lawfully; an
organisation's own text is checked and used; SMS stay cheap; HTML is escaped."""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass

import pytest

from relance.dunning import templating
from relance.dunning.templating import (
    CHANNELS,
    TEMPLATE_KEYS,
    InvalidTemplate,
    check,
    render,
    sample_context,
)
from relance.rules.sms import measure

LANGUAGES = ("fr", "en")
# "40 €", "40,00 €", "€40": not the end of "1 440,00 €".
FORTY_EUROS = re.compile(
    r"(?<![\d])(?<!\d[\u202f\xa0 ,.])40(?:[,.]00)?[\s\u202f\xa0]?€|€40(?![\d,])"
)
EVERY_DEFAULT = list(itertools.product(TEMPLATE_KEYS, CHANNELS, LANGUAGES))


@dataclass
class Own:
    """An organisation's own wording, as MessageTemplate holds it."""

    subject: str = ""
    text: str = ""
    html: str = ""


def one_invoice(language: str) -> dict:
    context = sample_context(language)
    first = context["invoices"][0]
    context["invoices"] = [first]
    context["totals"] = [{"currency": "EUR", "amount": first["balance"]}]
    context["total"] = first["balance"]
    context["reference"] = first["reference"]
    return context


def individual(language: str) -> dict:
    """A consumer: no late fee is ever announced (no €40 indemnity in B2C)."""
    context = sample_context(language)
    context["client"] = {
        "name": "Julien Moreau",
        "kind": "individual",
        "address_lines": ["8 rue Mercière", "69002 Lyon"],
    }
    context["contact"] = {"first_name": "Julien", "last_name": "Moreau", "full_name": ""}
    context["late_fee"] = None
    return context


# --- the defaults ------------------------------------------------------------------


@pytest.mark.parametrize(("key", "channel", "language"), EVERY_DEFAULT)
def test_every_default_lists_the_invoices_and_the_total(key, channel, language):
    context = sample_context(language)
    rendered = render(key, channel, language, context)

    total = templating.gsm_fold(context["total"]) if channel == "sms" else context["total"]
    for text in (rendered.text, rendered.html) if channel == "email" else (rendered.text,):
        assert "F-2026-0042" in text
        assert "F-2026-0057" in text
        assert total in text
    assert "{{" not in rendered.text and "{%" not in rendered.text
    if channel == "sms":
        assert rendered.subject == ""
    else:
        assert rendered.subject and "\n" not in rendered.subject
    if channel != "email":
        assert rendered.html == ""


@pytest.mark.parametrize(("key", "channel", "language"), EVERY_DEFAULT)
def test_every_default_says_how_to_pay_and_invites_a_reply(key, channel, language):
    context = sample_context(language)
    text = render(key, channel, language, context).text

    assert context["payment_link"] in text
    if channel in ("email", "letter", "call"):
        assert context["organisation"]["iban"] in text
        assert context["invoices"][0]["reference"] in text
    if channel in ("email", "letter"):
        # Disputes, invoice not received, difficulties: the client is asked to tell us.
        problem = {"fr": "contact", "en": "contact"}[language]
        reply = {"fr": "répond", "en": "reply"}[language]
        assert problem in text.lower() or reply in text.lower()


@pytest.mark.parametrize(("key", "channel"), list(itertools.product(TEMPLATE_KEYS, CHANNELS)))
def test_french_defaults_are_french(key, channel):
    text = render(key, channel, "fr", sample_context("fr")).text.lower()

    assert "facture" in text
    # Not the English defaults: those words are in the shipped files, not the catalogue.
    assert "invoices below" not in text and "dear " not in text and "hello" not in text


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_a_company_contact_is_greeted_by_name_in_email(key):
    fr = render(key, "email", "fr", sample_context("fr")).text
    en = render(key, "email", "en", sample_context("en")).text

    assert fr.startswith("Bonjour Claire Martin,")
    assert en.startswith("Dear Claire Martin,")
    assert render(key, "email", "fr", individual("fr")).text.startswith("Bonjour,")


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_letters_open_and_close_as_french_letters_do(key):
    text = render(key, "letter", "fr", sample_context("fr")).text

    assert text.startswith("Madame, Monsieur,")
    assert "salutations distinguées" in text
    assert text.endswith("Atelier Durand")


def test_a_single_invoice_is_named_in_the_subject():
    assert render("friendly", "email", "fr", one_invoice("fr")).subject == (
        "Facture F-2026-0042 en attente de règlement"
    )
    assert render("firm", "email", "en", one_invoice("en")).subject == (
        "Reminder: invoice F-2026-0042 is overdue"
    )


@pytest.mark.parametrize(("key", "language"), list(itertools.product(TEMPLATE_KEYS, LANGUAGES)))
def test_sms_with_one_invoice_fits_two_gsm_segments(key, language):
    context = one_invoice(language)
    # Characters GSM-7 lacks, as real data has them: a month with "û", a "ç".
    context["organisation"]["name"] = "Façades Bénard"
    context["invoices"][0]["due_date"] = "14 août 2026" if language == "fr" else "Aug 14, 2026"

    text = render(key, "sms", language, context).text
    length = measure(text)

    assert length.encoding == "GSM-7", text
    assert length.segments <= 2, (length, text)
    assert "F-2026-0042" in text


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_french_sms_sources_need_no_folding(key):
    """The shipped French words themselves are GSM-7: folding is only for data."""
    source = templating.default_source(key, "sms", "fr")
    assert templating.gsm_fold(source) == source


def test_the_late_fee_notice_states_the_lawful_items_and_the_deadline():
    context = sample_context("fr")
    for channel in ("email", "letter"):
        text = render("late_fee_notice", channel, "fr", context).text
        for item in context["late_fee"]["items"]:
            assert item in text
        assert context["late_fee"]["deadline"] in text


@pytest.mark.parametrize(("key", "channel", "language"), EVERY_DEFAULT)
def test_a_consumer_never_reads_of_the_40_euro_indemnity(key, channel, language):
    rendered = render(key, channel, language, individual(language))

    for text in (rendered.subject, rendered.text, rendered.html):
        lowered = text.lower()
        assert not FORTY_EUROS.search(text), text
        for word in ("indemnit", "d441", "recouvrement", "recovery", "pénalit", "penalt"):
            assert word not in lowered


@pytest.mark.parametrize(("key", "channel", "language"), EVERY_DEFAULT)
def test_defaults_threaten_nothing_the_law_forbids(key, channel, language):
    rendered = render(key, channel, language, sample_context(language))
    text = f"{rendered.subject}\n{rendered.text}".lower()

    assert "dernier avis avant saisie" not in text
    if channel != "call":  # the call scripts name them only to forbid them
        for word in ("saisie", "huissier", "employeur", "seizure", "bailiff", "employer"):
            assert word not in text
    if key != "formal":
        assert "injonction" not in text and "mise en demeure" not in text


def test_only_the_formal_reminder_announces_the_legal_steps():
    text = render("formal", "email", "fr", sample_context("fr")).text
    assert "mise en demeure" in text and "injonction de payer" in text


# --- the invoice list and the payment block ---------------------------------------


def test_invoice_lines_say_number_dates_balance_and_days_late():
    lines = templating.invoice_lines(sample_context("en"))

    assert lines == [
        "Invoice F-2026-0042 of Feb 12, 2026, due Mar 14, 2026: €1,440.00 (31 days late)",
        "Invoice F-2026-0057 of Mar 2, 2026, installment 2/3 due Apr 1, 2026: "
        "€800.00 left to pay out of €2,400.00 (13 days late)",
    ]


def test_an_invoice_not_yet_due_is_not_called_late():
    context = one_invoice("en")
    context["invoices"][0]["days_late"] = -3
    assert templating.invoice_lines(context) == [
        "Invoice F-2026-0042 of Feb 12, 2026, due Mar 14, 2026: €1,440.00"
    ]


def test_a_client_owing_in_two_currencies_reads_both_totals():
    context = sample_context("en")
    context["invoices"][1] |= {"currency": "USD", "balance": "$800.00", "total": "$2,400.00"}
    context["totals"] = [
        {"currency": "EUR", "amount": "€1,440.00"},
        {"currency": "USD", "amount": "$800.00"},
    ]
    context["total"] = "€1,440.00 + $800.00"

    rendered = render("firm", "email", "en", context)

    assert "Total to pay: €1,440.00 + $800.00" in rendered.text
    assert "Please pay €1,440.00 + $800.00 without further delay." in rendered.text
    footer = rendered.html[rendered.html.index("<tfoot>") : rendered.html.index("</tfoot>")]
    assert footer.count("<tr>") == 2
    assert "€1,440.00" in footer and "$800.00" in footer


def test_payment_details_quote_the_single_reference_or_each_invoices():
    several = templating.payment_details_text(sample_context("en"))
    single = templating.payment_details_text(one_invoice("en"))

    assert "F-2026-0042: RF69 F202 6004 2" in several
    assert "F-2026-0057: RF52 F202 6005 7" in several
    assert "quoting the reference RF69 F202 6004 2" in single
    assert "IBAN FR14 2004 1010 0505 0001 3M02 606, BIC PSSTFRPPLYO" in single


def test_no_payment_means_no_payment_block():
    context = sample_context("en")
    context["payment_link"] = ""
    context["organisation"]["iban"] = ""
    assert templating.payment_details_text(context) == ""
    assert templating.payment_details_html(context) == ""


def test_only_web_addresses_become_links():
    context = sample_context("en")
    context["payment_link"] = "javascript:alert(1)"

    rendered = render("friendly", "email", "en", context)

    assert "javascript:" not in rendered.html
    assert "javascript:" not in rendered.text


def test_the_email_html_puts_the_table_and_payment_block_where_the_text_has_them():
    context = sample_context("en")
    html = render("friendly", "email", "en", context).html

    greeting = html.index("Dear Claire Martin,")
    table = html.index('<table class="invoices"')
    pay = html.index('href="https://pay.example.com/p/7Hq2xW"')
    closing = html.index("Kind regards,")
    assert greeting < table < pay < closing
    # The plain-text list is replaced, not repeated.
    assert "Invoice F-2026-0042 of" not in html
    assert html.count("F-2026-0042") == 2  # the table row and its payment reference


def test_html_escapes_what_the_client_typed():
    context = sample_context("en")
    context["contact"]["full_name"] = "<script>alert('x')</script>"
    context["invoices"][0]["number"] = "A&B<1>"

    rendered = render("friendly", "email", "en", context)

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "A&amp;B&lt;1&gt;" in rendered.html
    # The plain text is not HTML: it keeps the characters as typed.
    assert "<script>alert('x')</script>" in rendered.text
    assert "A&B<1>" in rendered.text


# --- an organisation's own wording -------------------------------------------------


def test_an_organisation_text_replaces_the_default():
    own = Own(
        subject="Relance {{ client.name }}",
        text="Bonjour,\n\nMerci de régler {{ total }}.\n\n{{ invoice_table }}\n\n"
        "{{ organisation.name }}",
    )
    context = sample_context("fr")

    rendered = render("friendly", "email", "fr", context, override=own)

    assert rendered.subject == "Relance Boulangerie Martin SARL"
    assert rendered.text.startswith("Bonjour,\n\nMerci de régler 2\u202f240,00\xa0€.")
    assert "Sauf erreur" not in rendered.text
    assert '<table class="invoices"' in rendered.html
    assert "Merci de régler" in rendered.html


def test_an_empty_part_of_an_override_keeps_the_default():
    default = render("firm", "email", "en", sample_context("en"))
    own = render("firm", "email", "en", sample_context("en"), override=Own(text="Pay {{ total }}"))

    assert own.subject == default.subject
    assert own.text == "Pay €2,240.00"


def test_an_organisation_html_is_rendered_with_escaping_and_the_html_blocks():
    context = sample_context("en")
    context["client"]["name"] = "<b>Bold</b> Ltd"
    own = Own(html="<h1>{{ client.name }}</h1>{{ invoice_table }}{{ payment_details }}")

    html = render("friendly", "email", "en", context, override=own).html

    assert html.startswith("<h1>&lt;b&gt;Bold&lt;/b&gt; Ltd</h1><table")
    assert "IBAN" in html


def test_the_subject_is_one_line():
    own = Own(subject="Invoice\n   {{ invoices.0.number }}\n\n  reminder ")
    rendered = render("friendly", "email", "en", sample_context("en"), override=own)
    assert rendered.subject == "Invoice F-2026-0042 reminder"


def test_a_forbidden_override_is_refused_when_rendering():
    with pytest.raises(InvalidTemplate) as caught:
        render("friendly", "email", "en", sample_context("en"), override=Own(text="{% debug %}"))
    assert caught.value.messages == ["{% debug %} is not allowed in a reminder template."]


def test_the_client_language_picks_the_defaults_and_falls_back_to_french():
    assert render("friendly", "email", "en-GB", sample_context("en")).text.startswith("Dear")
    assert render("friendly", "email", "de", sample_context("fr")).text.startswith("Bonjour")


def test_unknown_keys_and_channels_are_programming_errors():
    with pytest.raises(ValueError):
        render("gentle", "email", "fr", sample_context("fr"))
    with pytest.raises(ValueError):
        render("friendly", "fax", "fr", sample_context("fr"))


def test_rendering_does_not_change_the_callers_context():
    context = sample_context("fr")
    before = copy.deepcopy(context)
    render("friendly", "email", "fr", context)
    assert context == before


# --- checking a text ----------------------------------------------------------------


@pytest.mark.parametrize(("key", "channel", "language"), EVERY_DEFAULT)
def test_every_default_passes_the_check(key, channel, language):
    assert check(templating.default_source(key, channel, language)) == []
    assert check(templating.default_source(key, channel, language, "subject")) == []


def test_check_names_an_unknown_variable():
    assert check("Bonjour {{ clent.name }}") == ['{{ clent.name }}: unknown variable "clent"']


def test_check_finds_unknown_variables_inside_tags():
    problems = check(
        "{% for invoice in invoicez %}{{ invoice.number }}{% endfor %}"
        "{% if client.kind == 'company' and risk %}x{% endif %}"
        "{{ total|default:amount }}"
    )
    assert problems == [
        '{% for invoice in invoicez %}: unknown variable "invoicez"',
        "{% if client.kind == 'company' and risk %}: unknown variable \"risk\"",
        '{{ total|default:amount }}: unknown variable "amount"',
    ]


def test_check_knows_loop_and_with_variables_only_inside_their_block():
    assert check("{% for i in invoices %}{{ i.number }} {{ forloop.counter }}{% endfor %}") == []
    assert check("{% with n=invoices|length %}{{ n }}{% endwith %}") == []
    assert check("{% for i in invoices %}{% endfor %}{{ i.number }}") == [
        '{{ i.number }}: unknown variable "i"'
    ]
    assert check("{% with n=invoices|length %}{% endwith %}{{ n }}") == [
        '{{ n }}: unknown variable "n"'
    ]


def test_check_reads_blocktranslate():
    assert (
        check("{% blocktranslate with name=client.name %}Hi {{ name }}{% endblocktranslate %}")
        == []
    )
    assert check("{% blocktranslate %}Hi {{ who }}{% endblocktranslate %}") == [
        '{{ who }}: unknown variable "who"'
    ]
    [problem] = check("{% blocktranslate %}Hi {{ client.name }}{% endblocktranslate %}")
    assert "with name=client.name" in problem


@pytest.mark.parametrize(
    "source",
    ["{% if total %}unclosed", "{{ total|nosuchfilter }}", "{% for %}{% endfor %}", "{{ _x }}"],
)
def test_check_reports_syntax_errors(source):
    [problem] = check(source)
    assert problem.startswith("Template syntax error: ")
    with pytest.raises(InvalidTemplate):
        render("friendly", "email", "en", sample_context("en"), override=Own(text=source))


def test_a_mistake_that_only_shows_with_data_is_refused_when_rendering():
    source = "{% blocktranslate count n=total %}one{% plural %}many{% endblocktranslate %}"
    assert check(source) == []  # "total" exists; it is only not a number
    with pytest.raises(InvalidTemplate):
        render("friendly", "email", "en", sample_context("en"), override=Own(text=source))


def test_check_reports_a_tag_left_open():
    assert check("Dear {{ contact.full_name") == ['"{{" is opened but not closed.']


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            "{% include 'dunning/email.html' %}",
            "{% include %} is not allowed in a reminder template.",
        ),
        (
            "{% extends 'dunning/email.html' %}",
            "{% extends %} is not allowed in a reminder template.",
        ),
        ("{% ssi '/etc/passwd' %}", "{% ssi %} is not allowed in a reminder template."),
        ("{% debug %}", "{% debug %} is not allowed in a reminder template."),
        ("{% load static %}", '{% load static %}: only "i18n" can be loaded.'),
        ("{% url 'home' %}", "{% url %} is not allowed in a reminder template."),
    ],
)
def test_check_forbids_tags_that_reach_outside_the_message(source, problem):
    assert check(source) == [problem]


def test_i18n_can_be_loaded_and_used():
    assert check("{% load i18n %}{% translate 'Invoice' %}") == []


def test_every_variable_has_a_description():
    assert set(sample_context("fr")) | {"invoice_table", "payment_details"} == set(
        templating.VARIABLES
    )
    assert all(str(description) for description in templating.VARIABLES.values())


# --- SMS folding ---------------------------------------------------------------------


def test_gsm_fold_keeps_gsm_and_replaces_look_alikes():
    assert templating.gsm_fold("Échue le 14 août, Françoise : 1\u202f440,00\xa0€ l\u2019été") == (
        "Échue le 14 aout, Francoise : 1 440,00 € l'été"
    )
    assert templating.gsm_fold("Ç é è ù à ñ") == "Ç é è ù à ñ"
    assert templating.gsm_fold("merci 🙂") == "merci 🙂"  # no look-alike: left as is
