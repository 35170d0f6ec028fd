"""The wording of reminders: default texts per template key, channel and
language, an organisation's own texts, checking them and rendering them.

Every text is a Django template rendered by one dedicated engine, the same
for the shipped defaults (templates/dunning/defaults/<lang>/<key>/) and for
an organisation's own text typed in the editor. That engine only knows a
whitelist of tags and the default filters: no {% include %}, {% extends %},
{% url %}, {% debug %}, nothing loadable but i18n. A template only sees the
plain context the dispatcher builds (design: every value already formatted
in the client's language), plus two blocks made here from it:
``invoice_table`` (the invoices and totals) and ``payment_details`` (how to
pay). In the plain text they are text; in the email's HTML and in the
letter the paragraph holding them becomes a real table and payment block.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, Lexer, Node, TextNode, TokenType, VariableNode
from django.template.defaulttags import FilterNode, ForNode, IfNode, RegroupNode, WithNode
from django.templatetags import i18n
from django.templatetags.i18n import BlockTranslateNode
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from stdnum import iban as stdnum_iban

from relance import formats
from relance.rules import payment_reference
from relance.rules.sms import GSM_BASIC, GSM_EXTENDED

TEMPLATES_DIR = Path(__file__).parent / "templates"

TEMPLATE_KEYS = ("before_due", "friendly", "firm", "late_fee_notice", "formal", "work_stop")
CHANNELS = ("email", "sms", "letter", "call")
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

# The context roots a template may use, with what they hold (the editor's help).
VARIABLES: dict[str, Any] = {
    "organisation": gettext_lazy(
        "Your organisation: name, email, phone, website, address_lines, iban, bic"
    ),
    "client": gettext_lazy("The client: name, kind (company or individual), address_lines"),
    "contact": gettext_lazy("The person written to: first_name, last_name, full_name"),
    "invoices": gettext_lazy(
        "The invoices concerned, each with number, issue_date, due_date, days_late, total, "
        "balance, currency, reference, installment"
    ),
    "invoice_table": gettext_lazy(
        "The list of the invoices with the total left to pay (a table in emails and letters)"
    ),
    "totals": gettext_lazy("The amount left to pay per currency: currency, amount"),
    "total": gettext_lazy("The amount left to pay, all currencies"),
    "oldest_due_date": gettext_lazy("The oldest due date among the invoices"),
    "days_late": gettext_lazy("Days past the oldest due date"),
    "payment_details": gettext_lazy(
        "How to pay: payment link, IBAN, BIC and the reference to quote"
    ),
    "payment_link": gettext_lazy("The link to pay online (empty when there is none)"),
    "portal_link": gettext_lazy("The link to the client's invoices online (may be empty)"),
    "reference": gettext_lazy("The payment reference when a single invoice is concerned"),
    "late_fee": gettext_lazy(
        "Late fees about to be charged (companies only): deadline and items; empty otherwise"
    ),
    "fees": gettext_lazy(
        "Late fees accrued to date: interest, indemnity, total (the amount left to pay with "
        "them), any (true when there are some)"
    ),
    "tone": gettext_lazy("The tone of the step: friendly, firm or formal"),
    "template": gettext_lazy("The template key of the step"),
    "today": gettext_lazy("Today's date"),
}

_CHANNEL_FILES = {
    "email": "email.txt",
    "sms": "sms.txt",
    "letter": "letter.txt",
    "call": "call.txt",
}

# --- the engine ----------------------------------------------------------------

_ALLOWED_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "load",
    "lorem",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
_I18N_TAGS = ("translate", "trans", "blocktranslate", "blocktrans")
# Tags refused with a clear message (others unknown to the engine get Django's).
_FORBIDDEN_TAGS = ("include", "extends", "block", "ssi", "debug", "url", "csrf_token")
_LOADABLE = ("i18n",)


def _library() -> Library:
    library = Library()
    for name in _ALLOWED_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in _I18N_TAGS:
        library.tags[name] = i18n.register.tags[name]
    library.filters.update(defaultfilters.register.filters)
    return library


class _ReminderEngine(Engine):
    """Django's engine with a whitelist of built-in tags instead of all of them."""

    default_builtins: list[str] = []

    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        return [_library()]


@lru_cache(maxsize=1)
def engine() -> Engine:
    return _ReminderEngine(
        dirs=[str(TEMPLATES_DIR)],
        libraries={"i18n": "django.templatetags.i18n"},
        string_if_invalid="",
    )


@lru_cache(maxsize=512)
def _compile(source: str) -> Template:
    """An organisation's text, compiled once (texts repeat for every message)."""
    problems = _forbidden_tags(source)
    if problems:
        raise InvalidTemplate(problems)
    try:
        return engine().from_string(source)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate([_syntax_message(exc)]) from exc


class InvalidTemplate(ValueError):
    """An organisation's text that cannot be rendered; ``messages`` say why."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


# --- checking an organisation's text ------------------------------------------


def check(source: str) -> list[str]:
    """What is wrong with a template text, in words for its author (empty = fine).

    Compiles it as rendering does, then walks the nodes for variables whose
    first name the context does not have: they would silently print nothing.
    """
    problems = _forbidden_tags(source)
    if problems:
        return problems
    try:
        template = engine().from_string(source)
    except TemplateSyntaxError as exc:
        return [_syntax_message(exc)]
    _walk(template.nodelist, {*VARIABLES, "True", "False", "None"}, problems)
    return list(dict.fromkeys(problems))


def _syntax_message(exc: TemplateSyntaxError) -> str:
    return _("Template syntax error: %(error)s") % {"error": exc}


def _forbidden_tags(source: str) -> list[str]:
    problems = []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        bits = token.split_contents()
        if not bits:
            continue
        name = bits[0]
        if name in _FORBIDDEN_TAGS:
            problems.append(
                _("{%% %(tag)s %%} is not allowed in a reminder template.") % {"tag": name}
            )
        elif name == "load":
            for library in bits[1:]:
                if library not in _LOADABLE and library != "from":
                    problems.append(
                        _('{%% load %(library)s %%}: only "i18n" can be loaded.')
                        % {"library": library}
                    )
    return problems


def _walk(nodelist: list[Node], known: set[str], problems: list[str]) -> None:
    """Report unknown variables under ``nodelist``; ``known`` are the names in scope."""
    known = set(known)  # names bound by "as x" further down this level
    for node in nodelist:
        if isinstance(node, TextNode):
            for opening in ("{{", "{%", "{#"):
                if opening in node.s:
                    problems.append(
                        _('"%(opening)s" is opened but not closed.') % {"opening": opening}
                    )
        elif isinstance(node, VariableNode):
            _check_expression(node.filter_expression, known, node, problems)
        elif isinstance(node, ForNode):
            _check_expression(node.sequence, known, node, problems)
            _walk(node.nodelist_loop, known | set(node.loopvars) | {"forloop"}, problems)
            _walk(node.nodelist_empty, known, problems)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                _check_expression(expression, known, node, problems)
            _walk(node.nodelist, known | set(node.extra_context), problems)
        elif isinstance(node, BlockTranslateNode):
            _check_blocktranslate(node, known, problems)
        elif isinstance(node, IfNode):
            for condition, branch in node.conditions_nodelists:
                for expression in _condition_expressions(condition):
                    _check_expression(expression, known, node, problems)
                _walk(branch, known, problems)
        elif isinstance(node, RegroupNode):
            # Its "by" expression is read on each item, not on the context.
            _check_expression(node.target, known, node, problems)
        elif isinstance(node, FilterNode):
            # Its expression filters the block's own output ("var").
            _walk(node.nodelist, known, problems)
        else:
            for expression in _node_expressions(node):
                _check_expression(expression, known, node, problems)
            for attr in node.child_nodelists:
                if children := getattr(node, attr, None):
                    _walk(children, known, problems)
        for attr in ("asvar", "var_name", "variable_name"):
            if isinstance(bound := getattr(node, attr, None), str):
                known.add(bound)


def _check_blocktranslate(node: BlockTranslateNode, known: set[str], problems: list[str]) -> None:
    for expression in node.extra_context.values():
        _check_expression(expression, known, node, problems)
    if node.counter is not None:
        _check_expression(node.counter, known, node, problems)
    inner = known | set(node.extra_context) | ({node.countervar} if node.countervar else set())
    for token in [*node.singular, *(node.plural or [])]:
        if token.token_type != TokenType.VAR:
            continue
        name = token.contents
        if "." in name or "|" in name:
            problems.append(
                _(
                    "{{ %(name)s }}: inside {%% blocktranslate %%} only plain names work; "
                    'give it one with "with", e.g. {%% blocktranslate with name=client.name %%}.'
                )
                % {"name": name}
            )
        elif name not in inner:
            problems.append(_unknown(f"{{{{ {name} }}}}", name))


def _node_expressions(node: Node) -> list[FilterExpression]:
    """The expressions a tag holds, wherever its class keeps them."""
    found: list[FilterExpression] = []
    for value in vars(node).values():
        if isinstance(value, FilterExpression):
            found.append(value)
        elif isinstance(value, list | tuple):
            found += [item for item in value if isinstance(item, FilterExpression)]
        elif isinstance(value, dict):
            found += [item for item in value.values() if isinstance(item, FilterExpression)]
    return found


def _condition_expressions(condition: Any) -> list[FilterExpression]:
    if condition is None:
        return []
    if isinstance(getattr(condition, "value", None), FilterExpression):
        return [condition.value]
    return _condition_expressions(condition.first) + _condition_expressions(condition.second)


def _check_expression(
    expression: FilterExpression, known: set[str], node: Node, problems: list[str]
) -> None:
    if isinstance(node, VariableNode):
        shown = f"{{{{ {expression.token} }}}}"
    elif node.token is not None:
        shown = f"{{% {node.token.contents} %}}"
    else:
        shown = expression.token
    variables = [expression.var] if expression.is_var else []
    for _func, args in expression.filters:
        variables += [arg for lookup, arg in args if lookup]
    for variable in variables:
        if variable.lookups and variable.lookups[0] not in known:
            problems.append(_unknown(shown, variable.lookups[0]))


def _unknown(shown: str, name: str) -> str:
    return _('%(expression)s: unknown variable "%(name)s"') % {"expression": shown, "name": name}


# --- rendering -------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def normalise_language(language: str) -> str:
    """ "fr-BE" -> "fr"; a language without defaults falls back to French."""
    base = (language or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def render(
    key: str,
    channel: str,
    language: str,
    context: Mapping[str, Any],
    override: Any = None,
) -> Rendered:
    """One reminder in the client's language. ``override`` (an organisation's
    MessageTemplate or anything with str ``subject``, ``text`` and optional
    ``html``) replaces each default part whose text it fills.

    Raises InvalidTemplate when the organisation's text cannot be compiled.
    """
    if key not in TEMPLATE_KEYS:
        raise ValueError(f"unknown template key {key!r}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    language = normalise_language(language)
    with translation.override(language):
        data = dict(context)
        data["invoice_table"] = invoice_table_text(context)
        data["payment_details"] = payment_details_text(context)

        subject = ""
        if channel != "sms":
            source = _own(override, "subject")
            template = _compile(source) if source else _default(language, key, "subject.txt")
            subject = " ".join(_render_template(template, data, autoescape=False).split())

        source = _own(override, "text")
        template = _compile(source) if source else _default(language, key, _CHANNEL_FILES[channel])
        text = tidy(_render_template(template, data, autoescape=False))

        html = ""
        if channel == "email":
            source = _own(override, "html")
            if source:
                data["invoice_table"] = invoice_table_html(context)
                data["payment_details"] = payment_details_html(context)
                html = _render_template(_compile(source), data, autoescape=True)
            else:
                html = email_html(context, text, subject)
        elif channel == "sms":
            text = gsm_fold(text)
    return Rendered(subject=subject, text=text, html=html)


def _render_template(template: Template, data: dict[str, Any], *, autoescape: bool) -> str:
    # Some mistakes only show with data (a {% blocktranslate count %} on a non-number).
    try:
        return template.render(Context(data, autoescape=autoescape))
    except TemplateSyntaxError as exc:
        raise InvalidTemplate([_syntax_message(exc)]) from exc


def _own(override: Any, part: str) -> str:
    value = getattr(override, part, "") if override is not None else ""
    return value if value and value.strip() else ""


def _default(language: str, key: str, filename: str) -> Template:
    return engine().get_template(f"dunning/defaults/{language}/{key}/{filename}")


def default_source(key: str, channel: str, language: str, part: str = "text") -> str:
    """The shipped text of one part ("subject" or "text"), for the editor to start from."""
    language = normalise_language(language)
    filename = "subject.txt" if part == "subject" else _CHANNEL_FILES[channel]
    path = TEMPLATES_DIR / "dunning" / "defaults" / language / key / filename
    return path.read_text(encoding="utf-8")


def tidy(text: str) -> str:
    """Template tags on their own lines leave blank lines and trailing spaces:
    at most one blank line between paragraphs, none at either end."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --- the invoices and how to pay, as text and as HTML ----------------------------


def invoice_lines(context: Mapping[str, Any]) -> list[str]:
    """One line per invoice: number, dates, what is left to pay, days late."""
    lines = []
    for invoice in context.get("invoices") or ():
        values = {
            "number": invoice.get("number", ""),
            "issue_date": invoice.get("issue_date", ""),
            "due_date": invoice.get("due_date", ""),
            "installment": invoice.get("installment", ""),
        }
        if values["installment"]:
            line = (
                _(
                    "Invoice %(number)s of %(issue_date)s, "
                    "installment %(installment)s due %(due_date)s"
                )
                % values
            )
        else:
            line = _("Invoice %(number)s of %(issue_date)s, due %(due_date)s") % values
        line = _("%(invoice)s: %(amount)s") % {"invoice": line, "amount": _balance_text(invoice)}
        days = int(invoice.get("days_late") or 0)
        if days > 0:
            late = ngettext("%(days)s day late", "%(days)s days late", days) % {"days": days}
            line = f"{line} ({late})"
        lines.append(line)
    return lines


def _balance_text(invoice: Mapping[str, Any]) -> str:
    balance, total = invoice.get("balance", ""), invoice.get("total", "")
    if total and total != balance:
        return _("%(balance)s left to pay out of %(total)s") % {"balance": balance, "total": total}
    return balance


def total_line(context: Mapping[str, Any]) -> str:
    return _("Total to pay: %(total)s") % {"total": context.get("total", "")}


def invoice_table_text(context: Mapping[str, Any]) -> str:
    """The invoices and the total, one paragraph of plain text (no blank line
    inside: the HTML and the letter recognise it as one paragraph)."""
    lines = [f"- {line}" for line in invoice_lines(context)]
    if lines:
        lines.append(total_line(context))
    return "\n".join(lines)


def payment_facts(context: Mapping[str, Any]) -> dict[str, Any]:
    """What the payment block says, shared by text, HTML and letter."""
    organisation = context.get("organisation") or {}
    iban = organisation.get("iban", "")
    if iban and " " not in iban.strip():
        iban = stdnum_iban.format(iban)
    references = []
    if not context.get("reference"):
        references = [
            (invoice.get("number", ""), invoice.get("reference", ""))
            for invoice in context.get("invoices") or ()
            if invoice.get("reference")
        ]
    return {
        "link": _web_link(context.get("payment_link", "")),
        "beneficiary": organisation.get("name", ""),
        "iban": iban,
        "bic": organisation.get("bic", ""),
        "reference": context.get("reference", ""),
        "references": references,
        "portal": _web_link(context.get("portal_link", "")),
    }


def _web_link(url: str) -> str:
    """Only web addresses become links (never "javascript:")."""
    return url if url.startswith(("https://", "http://")) else ""


def payment_details_text(context: Mapping[str, Any]) -> str:
    facts = payment_facts(context)
    lines = []
    if facts["link"]:
        lines.append("- " + _("online: %(link)s") % {"link": facts["link"]})
    if facts["iban"]:
        transfer = _("by bank transfer to %(name)s, IBAN %(iban)s") % {
            "name": facts["beneficiary"],
            "iban": facts["iban"],
        }
        if facts["bic"]:
            transfer += ", " + _("BIC %(bic)s") % {"bic": facts["bic"]}
        lines.append(f"- {transfer}")
        if facts["reference"]:
            lines.append(
                "  " + _("quoting the reference %(reference)s") % {"reference": facts["reference"]}
            )
        elif facts["references"]:
            lines.append("  " + _("quoting the reference of each invoice:"))
            lines += [
                "  " + _("%(number)s: %(reference)s") % {"number": number, "reference": ref}
                for number, ref in facts["references"]
            ]
    if lines:
        lines.insert(0, _("How to pay:"))
    if facts["portal"]:
        lines.append(_("Your invoices online: %(link)s") % {"link": facts["portal"]})
    return "\n".join(lines)


def _render_file(name: str, data: dict[str, Any]) -> SafeString:
    return mark_safe(engine().get_template(name).render(Context(data, autoescape=True)))


def _blocks_data(context: Mapping[str, Any], for_print: bool) -> dict[str, Any]:
    invoices = []
    for invoice in context.get("invoices") or ():
        days = int(invoice.get("days_late") or 0)
        invoices.append(
            {
                **invoice,
                "late": ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
                if days > 0
                else "",
                "partly_paid": bool(invoice.get("total"))
                and invoice.get("total") != invoice.get("balance"),
            }
        )
    return {
        "invoices": invoices,
        "totals": context.get("totals") or [],
        "any_late": any(i["late"] for i in invoices),
        "any_installment": any(i.get("installment") for i in invoices),
        "payment": payment_facts(context),
        "for_print": for_print,  # a letter prints links as text, not buttons
    }


def invoice_table_html(context: Mapping[str, Any], for_print: bool = False) -> SafeString:
    return _render_file("dunning/blocks/invoice_table.html", _blocks_data(context, for_print))


def payment_details_html(context: Mapping[str, Any], for_print: bool = False) -> SafeString:
    facts = payment_facts(context)
    if not (facts["link"] or facts["iban"] or facts["portal"]):
        return mark_safe("")
    return _render_file("dunning/blocks/payment_details.html", _blocks_data(context, for_print))


def parts(text: str, context: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The text as ("paragraph", text), ("invoices", "") and ("payment", "")
    pieces: where the text holds the invoice table or the payment details
    (as ``render`` wrote them), the HTML puts the real table and block."""
    blocks = {
        "invoices": invoice_table_text(context),
        "payment": payment_details_text(context),
    }
    pieces: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        pieces += _split(paragraph, blocks)
    return [(kind, body) for kind, body in pieces if kind != "paragraph" or body.strip()]


def _split(paragraph: str, blocks: dict[str, str]) -> list[tuple[str, str]]:
    for kind, block in blocks.items():
        if block and block in paragraph:
            before, _sep, after = paragraph.partition(block)
            return [
                *_split(before.strip("\n"), blocks),
                (kind, ""),
                *_split(after.strip("\n"), blocks),
            ]
    return [("paragraph", paragraph)]


def email_html(context: Mapping[str, Any], text: str, subject: str) -> str:
    """The HTML alternative of a reminder email: the text's paragraphs, with
    the invoice table and the payment block in their place."""
    data = {
        "subject": subject,
        "language": translation.get_language(),
        "parts": parts(text, context),
        "invoice_table": invoice_table_html(context),
        "payment_details": payment_details_html(context),
        "organisation": context.get("organisation") or {},
    }
    return engine().get_template("dunning/email.html").render(Context(data, autoescape=True))


# --- SMS ---------------------------------------------------------------------------

# Look-alikes the GSM 7-bit alphabet has, for characters it lacks.
_GSM_REPLACEMENTS = {
    "\u00a0": " ",  # no-break space (French amounts and dates)
    "\u202f": " ",  # narrow no-break space (French thousands)
    "\u2009": " ",
    "\u2007": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2011": "-",
    "\u2026": "...",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00e7": "c",  # lowercase c cedilla is not GSM (the capital is)
}


def gsm_fold(text: str) -> str:
    """The SMS in the GSM 7-bit alphabet where a look-alike exists: a single
    "ê" or no-break space would otherwise bill the whole message at 70
    characters per part instead of 160. What has no look-alike stays."""
    out = []
    for char in text:
        if char in GSM_BASIC or char in GSM_EXTENDED:
            out.append(char)
        elif char in _GSM_REPLACEMENTS:
            out.append(_GSM_REPLACEMENTS[char])
        else:
            base = unicodedata.normalize("NFD", char)[0]
            out.append(base if base in GSM_BASIC else char)
    return "".join(out)


# --- a realistic context for previews and tests -----------------------------------

SAMPLE_TODAY = date(2026, 4, 14)


def sample_context(language: str) -> dict[str, Any]:
    """Two invoices of one client, in euros, B2B (late fees announced): what
    the editor's preview shows before real data is chosen."""
    language = normalise_language(language)
    with translation.override(language):
        invoices = [
            ("F-2026-0042", date(2026, 2, 12), date(2026, 3, 14), "1440.00", "1440.00", ""),
            ("F-2026-0057", date(2026, 3, 2), date(2026, 4, 1), "2400.00", "800.00", "2/3"),
        ]
        rows = []
        for number, issued, due, total, balance, installment in invoices:
            rows.append(
                {
                    "number": number,
                    "issue_date": formats.day(issued),
                    "due_date": formats.day(due),
                    "days_late": (SAMPLE_TODAY - due).days,
                    "total": formats.money(Decimal(total), "EUR"),
                    "balance": formats.money(Decimal(balance), "EUR"),
                    "currency": "EUR",
                    "reference": payment_reference.format_reference(
                        payment_reference.creditor_reference(number)
                    ),
                    "installment": installment,
                }
            )
        amount = formats.money(Decimal("2240.00"), "EUR")
        return {
            "organisation": {
                "name": "Atelier Durand",
                "email": "compta@atelier-durand.fr",
                "phone": "04 78 00 00 00",
                "website": "https://atelier-durand.fr",
                "address_lines": ["12 rue de la République", "69002 Lyon"],
                "iban": stdnum_iban.format("FR1420041010050500013M02606"),
                "bic": "PSSTFRPPLYO",
            },
            "client": {
                "name": "Boulangerie Martin SARL",
                "kind": "company",
                "address_lines": ["3 place Bellecour", "69002 Lyon"],
            },
            "contact": {
                "first_name": "Claire",
                "last_name": "Martin",
                "full_name": "Claire Martin",
            },
            "invoices": rows,
            "totals": [{"currency": "EUR", "amount": amount}],
            "total": amount,
            "oldest_due_date": rows[0]["due_date"],
            "days_late": rows[0]["days_late"],
            "tone": "firm",
            "template": "firm",
            "today": formats.day(SAMPLE_TODAY),
            "late_fee": {
                "deadline": formats.day(date(2026, 4, 16)),
                # The wording the dispatcher uses (dunning.context.late_fee).
                "items": [
                    _(
                        "the fixed recovery indemnity of %(amount)s per invoice "
                        "(art. D441-5 of the French Commercial Code)"
                    )
                    % {"amount": formats.money(Decimal("40"), "EUR")},
                    _(
                        "late-payment penalties at the ECB refinancing rate plus %(margin)s "
                        "points, from the day after the due date (art. L441-10 of the French "
                        "Commercial Code)"
                    )
                    % {"margin": formats.number(Decimal("10"))},
                ],
            },
            "payment_link": "https://pay.example.com/p/7Hq2xW",
            "portal_link": "",
            "reference": "",
            "fees": {
                "interest": formats.money(Decimal("18.42"), "EUR"),
                "indemnity": formats.money(Decimal("40"), "EUR"),
                "total": formats.money(Decimal("2298.42"), "EUR"),
                "any": True,
            },
        }
