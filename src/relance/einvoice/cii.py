"""The Factur-X XML: a ``Document`` written as UN/CEFACT CII (D16B, Factur-X 1.0).

One function, ``to_cii``, for the two profiles relance emits: EN 16931 (the
default, the full European norm) and BASIC (a subset: no seller contact, no
additional legal text, no BIC, no item description). MINIMUM and BASIC WL
are not invoices under EN 16931, so they are refused.

Where a business term exists the value goes there (the BT-/BG- numbers are in
the comments). French mentions without a business term become notes (BT-22)
with the UNTDID 4451 subject codes the French e-invoicing rules expect: PMD
late-payment penalties, PMT fixed recovery indemnity, AAB early-payment
discount ("escompte"), TXD the option for VAT on debits, AAI the operation
category. Their words are in the document's language (Django i18n).

Amounts are written with the currency's minor unit (2 decimals, 0 for JPY or
XOF); quantities, unit prices and rates as given. The writer copies the
document's totals: it does not repair them, so a document whose totals do
not add up gives XML that the EN 16931 schematron rejects.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from relance.einvoice import wording
from relance.einvoice.document import (
    VAT_EXEMPT,
    VAT_EXPORT,
    VAT_INTRA_EU,
    VAT_NOT_SUBJECT,
    VAT_REVERSE_CHARGE,
    VAT_STANDARD,
    VAT_ZERO,
    Document,
    Line,
    Party,
    PostalAddress,
)
from relance.rules.money import ZERO, MoneyError, exponent, has_sub_minor_digits, quantum
from relance.rules.totals import rate_key

__all__ = ["GUIDELINES", "PROFILES", "CiiError", "to_cii"]

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

# BT-24 specification identifiers (Factur-X 1.0).
GUIDELINES = {
    "en16931": "urn:cen.eu:en16931:2017",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
}
PROFILES = tuple(GUIDELINES)

# BT-23 "cadre de facturation" of the French e-invoicing rules (BR-FR-08):
# B1 goods, S1 services, M1 both, for an invoice deposited on its own.
_BUSINESS_PROCESS = {"goods": "B1", "services": "S1", "mixed": "M1"}

# Categories whose rate is 0 by rule (BR-E-05, BR-AE-05, BR-IC-05, BR-G-05, BR-Z-05).
_ZERO_RATED = {VAT_EXEMPT, VAT_REVERSE_CHARGE, VAT_INTRA_EU, VAT_EXPORT, VAT_ZERO}
# Categories that must state why no VAT is charged (BR-*-10); Z and S must not.
_NEEDS_REASON = {VAT_EXEMPT, VAT_REVERSE_CHARGE, VAT_INTRA_EU, VAT_EXPORT, VAT_NOT_SUBJECT}
# Payment means that move money to an account, which must then be given (BR-61).
_CREDIT_TRANSFER = {"30", "58"}
# The date VAT becomes chargeable (BT-8, UNTDID 2475): 5 = the invoice date,
# which is what the option for VAT on debits means.
_TAX_POINT_INVOICE_DATE = "5"


class CiiError(ValueError):
    """A document that cannot be written as a Factur-X invoice."""


def to_cii(document: Document, *, profile: str = "en16931") -> bytes:
    """The CII XML of ``document`` (UTF-8 bytes with an XML declaration)."""
    if profile not in GUIDELINES:
        raise CiiError(f"unknown Factur-X profile {profile!r}; expected one of {PROFILES}")
    _check(document)
    from django.utils import translation

    with translation.override(document.language or "fr"):
        root = _Writer(document, profile).build()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _check(document: Document) -> None:
    try:
        exponent(document.currency)
    except MoneyError as error:
        raise CiiError(str(error)) from None
    if not document.lines:
        raise CiiError("an invoice needs at least one line (BR-16)")
    if not document.vat_breakdown:
        raise CiiError("an invoice needs a VAT breakdown (BR-CO-18)")
    if document.allowance_total or document.charge_total:
        # Document-level allowances and charges (BG-20/21) need a VAT category
        # each, which the document does not carry: refuse rather than guess.
        raise CiiError("document-level allowances and charges cannot be written")


def _amount(value: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor unit, never as -0."""
    if has_sub_minor_digits(value, currency):
        raise CiiError(f"{value} has more decimals than {currency} allows")
    value = value.quantize(quantum(currency))
    return _plain(value)


def _plain(value: Decimal) -> str:
    """A decimal as XML wants it: no exponent ("2E+1"), no "-0"."""
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value == 0 else text


def _rate(value: Decimal) -> str:
    return _plain(rate_key(value))


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


class _Writer:
    def __init__(self, document: Document, profile: str) -> None:
        self.doc = document
        self.profile = profile
        self.full = profile == "en16931"
        self.categories = {line.vat_category for line in document.lines} | {
            row.category for row in document.vat_breakdown
        }

    # Small element helpers ------------------------------------------------

    @staticmethod
    def el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str):
        prefix, name = tag.split(":")
        child = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
        if text is not None:
            child.text = text
        return child

    def date_time(self, parent: etree._Element, tag: str, value: date) -> None:
        holder = self.el(parent, tag)
        self.el(holder, "udt:DateTimeString", _day(value), format="102")

    def money(self, value: Decimal) -> str:
        return _amount(value, self.doc.currency)

    # The document ---------------------------------------------------------

    def build(self) -> etree._Element:
        root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
        context = self.el(root, "rsm:ExchangedDocumentContext")
        process = _BUSINESS_PROCESS.get(self.doc.operation_category)
        if process:  # BT-23
            parameter = self.el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
            self.el(parameter, "ram:ID", process)
        guideline = self.el(context, "ram:GuidelineSpecifiedDocumentContextParameter")
        self.el(guideline, "ram:ID", GUIDELINES[self.profile])  # BT-24

        header = self.el(root, "rsm:ExchangedDocument")
        self.el(header, "ram:ID", self.doc.number)  # BT-1
        self.el(header, "ram:TypeCode", self.doc.type_code)  # BT-3
        self.date_time(header, "ram:IssueDateTime", self.doc.issue_date)  # BT-2
        for content, subject in self.notes():  # BG-1
            note = self.el(header, "ram:IncludedNote")
            self.el(note, "ram:Content", content)  # BT-22
            if subject:
                self.el(note, "ram:SubjectCode", subject)  # BT-21

        transaction = self.el(root, "rsm:SupplyChainTradeTransaction")
        for number, line in enumerate(self.doc.lines, start=1):
            self.line(transaction, number, line)
        self.agreement(transaction)
        self.delivery(transaction)
        self.settlement(transaction)
        return root

    def notes(self) -> list[tuple[str, str]]:

        from relance import formats

        doc = self.doc
        notes: list[tuple[str, str]] = [(text, "") for text in doc.notes if text.strip()]
        if not self.full:
            legal = self.legal_information(doc.seller)
            if legal:  # BT-33 does not exist in BASIC: keep the mention as a note
                notes.append((legal, "REG"))
        category = wording.operation_text(doc.operation_category)
        if category:
            notes.append((category, "AAI"))
        if doc.vat_on_debits:
            notes.append((wording.vat_on_debits_text(), "TXD"))
        if not doc.is_credit_note:
            notes.append((self.discount_text() or wording.no_discount_text(), "AAB"))
        if doc.late_penalty_text.strip():
            notes.append((doc.late_penalty_text.strip(), "PMD"))
        if doc.recovery_indemnity is not None:
            amount = formats.money(doc.recovery_indemnity, "EUR")
            notes.append((wording.indemnity_text(amount), "PMT"))
        return notes

    def discount_text(self) -> str:

        discount = self.doc.discount
        if discount is None:
            return ""
        return wording.discount_text(
            discount.percent, discount.last_day, discount.amount_then, self.doc.currency
        )

    def legal_information(self, seller: Party) -> str:
        """BT-33: legal form, share capital, trade register (French mentions)."""

        from relance import formats

        parts = []
        if seller.legal_form and seller.share_capital is not None:
            capital = formats.money(seller.share_capital, "EUR")
            parts.append(wording.capital_text(seller.legal_form, capital))
        elif seller.legal_form:
            parts.append(seller.legal_form)
        if seller.rcs_city and seller.siren:
            parts.append(f"RCS {seller.rcs_city} {seller.siren}")
        return ", ".join(parts)

    # Lines ------------------------------------------------------------------

    def line(self, transaction: etree._Element, number: int, line: Line) -> None:
        item = self.el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        self.el(self.el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
        product = self.el(item, "ram:SpecifiedTradeProduct")
        name, description = _name_and_description(line.description)
        if self.full:
            self.el(product, "ram:Name", name)  # BT-153
            if description:
                self.el(product, "ram:Description", description)  # BT-154
        else:
            self.el(product, "ram:Name", line.description.strip())
        # The net price may not be negative (BR-27): a discount line is a
        # negative quantity at a positive price, with the same net amount.
        quantity, price = line.quantity, line.unit_price
        if price < 0:
            quantity, price = -quantity, -price
        agreement = self.el(item, "ram:SpecifiedLineTradeAgreement")
        net_price = self.el(agreement, "ram:NetPriceProductTradePrice")
        self.el(net_price, "ram:ChargeAmount", _plain(price))  # BT-146
        delivery = self.el(item, "ram:SpecifiedLineTradeDelivery")
        self.el(delivery, "ram:BilledQuantity", _plain(quantity), unitCode=line.unit_code)
        settlement = self.el(item, "ram:SpecifiedLineTradeSettlement")
        tax = self.el(settlement, "ram:ApplicableTradeTax")
        self.el(tax, "ram:TypeCode", "VAT")
        self.el(tax, "ram:CategoryCode", line.vat_category)  # BT-151
        if line.vat_category != VAT_NOT_SUBJECT:  # BR-O-05: no rate at all
            rate = ZERO if line.vat_category in _ZERO_RATED else line.vat_rate
            self.el(tax, "ram:RateApplicablePercent", _rate(rate))  # BT-152
        summation = self.el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        self.el(summation, "ram:LineTotalAmount", self.money(line.net))  # BT-131

    # Parties ----------------------------------------------------------------

    def agreement(self, transaction: etree._Element) -> None:
        doc = self.doc
        agreement = self.el(transaction, "ram:ApplicableHeaderTradeAgreement")
        if doc.buyer_reference:
            self.el(agreement, "ram:BuyerReference", doc.buyer_reference)  # BT-10
        self.party(agreement, "ram:SellerTradeParty", doc.seller, seller=True)
        self.party(agreement, "ram:BuyerTradeParty", doc.buyer, seller=False)
        if doc.purchase_order:
            order = self.el(agreement, "ram:BuyerOrderReferencedDocument")
            self.el(order, "ram:IssuerAssignedID", doc.purchase_order)  # BT-13

    def party(self, parent: etree._Element, tag: str, party: Party, *, seller: bool) -> None:
        node = self.el(parent, tag)
        if seller and party.siret:  # BT-29, SIRET (ICD 0009)
            self.el(node, "ram:GlobalID", party.siret, schemeID="0009")
        self.el(node, "ram:Name", party.name)  # BT-27 / BT-44
        if seller and self.full:
            legal = self.legal_information(party)
            if legal:
                self.el(node, "ram:Description", legal)  # BT-33
        if party.siren or party.trade_name:
            organisation = self.el(node, "ram:SpecifiedLegalOrganization")
            if party.siren:  # BT-30 / BT-47, SIREN (ICD 0002)
                self.el(organisation, "ram:ID", party.siren, schemeID="0002")
            if party.trade_name:
                self.el(organisation, "ram:TradingBusinessName", party.trade_name)  # BT-28/45
        if self.full and (party.contact_name or party.phone or party.email):
            contact = self.el(node, "ram:DefinedTradeContact")  # BG-6 / BG-9
            if party.contact_name:
                self.el(contact, "ram:PersonName", party.contact_name)
            if party.phone:
                phone = self.el(contact, "ram:TelephoneUniversalCommunication")
                self.el(phone, "ram:CompleteNumber", party.phone)
            if party.email:
                email = self.el(contact, "ram:EmailURIUniversalCommunication")
                self.el(email, "ram:URIID", party.email)
        self.address(node, party.address)  # BG-5 / BG-8
        if party.email:  # BT-34 / BT-49 electronic address, scheme EM (e-mail)
            uri = self.el(node, "ram:URIUniversalCommunication")
            self.el(uri, "ram:URIID", party.email, schemeID="EM")
        # "Not subject to VAT" forbids the seller's and buyer's VAT ids (BR-O-02).
        vat_allowed = VAT_NOT_SUBJECT not in self.categories
        if party.vat_number and vat_allowed:  # BT-31 / BT-48
            registration = self.el(node, "ram:SpecifiedTaxRegistration")
            self.el(registration, "ram:ID", party.vat_number, schemeID="VA")
        elif seller and party.siren and self.categories - {VAT_NOT_SUBJECT}:
            # A seller without a VAT number (franchise en base) still needs a
            # tax registration id for exempt lines (BR-E-02): the SIREN (BT-32).
            registration = self.el(node, "ram:SpecifiedTaxRegistration")
            self.el(registration, "ram:ID", party.siren, schemeID="FC")

    def address(self, parent: etree._Element, address: PostalAddress) -> None:
        node = self.el(parent, "ram:PostalTradeAddress")
        if address.postcode:
            self.el(node, "ram:PostcodeCode", address.postcode)
        lines = [text for text in address.lines if text.strip()]
        # CII has three address lines; further ones join the third.
        if len(lines) > 3:
            lines = [*lines[:2], ", ".join(lines[2:])]
        for tag, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines, strict=False):
            self.el(node, tag, text)
        if address.city:
            self.el(node, "ram:CityName", address.city)
        # The country is required (BR-09, BR-11); relance's parties are French
        # unless their address says otherwise.
        self.el(node, "ram:CountryID", address.country or "FR")

    # Delivery ---------------------------------------------------------------

    def delivery(self, transaction: etree._Element) -> None:
        doc = self.doc
        delivery = self.el(transaction, "ram:ApplicableHeaderTradeDelivery")
        intra_eu = VAT_INTRA_EU in self.categories
        ship_to = doc.delivery_address
        if ship_to is None and intra_eu:
            # An intra-EU supply names the country the goods go to (BR-IC-12):
            # without a separate delivery address, that is the buyer's.
            ship_to = PostalAddress(country=doc.buyer.address.country)
        if ship_to is not None:
            party = self.el(delivery, "ram:ShipToTradeParty")  # BG-13
            self.address(party, ship_to)  # BG-15
        delivered = doc.delivery_date
        if delivered is None and intra_eu:
            # No separate delivery date means delivered on the invoice date
            # (an invoice is issued when the supply is made; BR-IC-11 wants it).
            delivered = doc.issue_date
        if delivered is not None:
            event = self.el(delivery, "ram:ActualDeliverySupplyChainEvent")
            self.date_time(event, "ram:OccurrenceDateTime", delivered)  # BT-72

    # Settlement -------------------------------------------------------------

    def settlement(self, transaction: etree._Element) -> None:
        doc = self.doc
        settlement = self.el(transaction, "ram:ApplicableHeaderTradeSettlement")
        if doc.creditor_reference:
            self.el(settlement, "ram:PaymentReference", doc.creditor_reference)  # BT-83
        self.el(settlement, "ram:InvoiceCurrencyCode", doc.currency)  # BT-5
        self.payment_means(settlement)
        for row in doc.vat_breakdown:  # BG-23
            tax = self.el(settlement, "ram:ApplicableTradeTax")
            self.el(tax, "ram:CalculatedAmount", self.money(row.amount))  # BT-117
            self.el(tax, "ram:TypeCode", "VAT")
            reason = row.exemption_reason if row.category in _NEEDS_REASON else ""
            code = row.exemption_code if row.category in _NEEDS_REASON else ""
            if reason:
                self.el(tax, "ram:ExemptionReason", reason)  # BT-120
            self.el(tax, "ram:BasisAmount", self.money(row.base))  # BT-116
            self.el(tax, "ram:CategoryCode", row.category)  # BT-118
            if code:
                self.el(tax, "ram:ExemptionReasonCode", code)  # BT-121
            if doc.vat_on_debits and row.category == VAT_STANDARD:
                self.el(tax, "ram:DueDateTypeCode", _TAX_POINT_INVOICE_DATE)  # BT-8
            if row.category != VAT_NOT_SUBJECT:
                rate = ZERO if row.category in _ZERO_RATED else row.rate
                self.el(tax, "ram:RateApplicablePercent", _rate(rate))  # BT-119
        terms_text = self.payment_terms_text()
        if terms_text or doc.due_date:
            terms = self.el(settlement, "ram:SpecifiedTradePaymentTerms")
            if terms_text:
                self.el(terms, "ram:Description", terms_text)  # BT-20
            if doc.due_date:
                self.date_time(terms, "ram:DueDateDateTime", doc.due_date)  # BT-9
        self.totals(settlement)
        if doc.corrected_number:  # BG-3
            preceding = self.el(settlement, "ram:InvoiceReferencedDocument")
            self.el(preceding, "ram:IssuerAssignedID", doc.corrected_number)  # BT-25
            if doc.corrected_issue_date:
                issued = self.el(preceding, "ram:FormattedIssueDateTime")
                day = _day(doc.corrected_issue_date)
                self.el(issued, "qdt:DateTimeString", day, format="102")  # BT-26

    def payment_means(self, settlement: etree._Element) -> None:
        doc = self.doc
        code = doc.payment_means_code or "58"
        if code in _CREDIT_TRANSFER and not doc.iban:
            return  # no account to pay to: say nothing rather than break BR-61
        means = self.el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")  # BG-16
        self.el(means, "ram:TypeCode", code)  # BT-81
        if doc.iban:
            account = self.el(means, "ram:PayeePartyCreditorFinancialAccount")
            self.el(account, "ram:IBANID", doc.iban.replace(" ", "").upper())  # BT-84
        if doc.bic and self.full:
            bank = self.el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            self.el(bank, "ram:BICID", doc.bic.replace(" ", "").upper())  # BT-86

    def payment_terms_text(self) -> str:
        """BT-20: the terms as written, the installment schedule, the discount."""
        from django.utils.translation import gettext

        from relance import formats

        doc = self.doc
        parts = [doc.payment_terms_text.strip()] if doc.payment_terms_text.strip() else []
        if doc.installments:
            row = gettext("%(amount)s on %(date)s")
            rows = "; ".join(
                row
                % {"amount": formats.money(i.amount, doc.currency), "date": formats.day(i.due_date)}
                for i in doc.installments
            )
            parts.append(gettext("Payment schedule: %(rows)s") % {"rows": rows})
        discount = self.discount_text()
        if discount:
            parts.append(discount)
        if not parts and doc.is_credit_note and doc.amount_due > 0 and not doc.due_date:
            # A positive amount due needs a due date or terms (BR-CO-25).
            parts.append(gettext("To be refunded or deducted from a future payment."))
        return "\n".join(parts)

    def totals(self, settlement: etree._Element) -> None:
        doc = self.doc
        summation = self.el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        line_total = sum((line.net for line in doc.lines), ZERO)
        self.el(summation, "ram:LineTotalAmount", self.money(line_total))  # BT-106
        self.el(summation, "ram:TaxBasisTotalAmount", self.money(doc.total_net))  # BT-109
        vat = self.money(doc.total_vat)
        self.el(summation, "ram:TaxTotalAmount", vat, currencyID=doc.currency)  # BT-110
        self.el(summation, "ram:GrandTotalAmount", self.money(doc.total_gross))  # BT-112
        if doc.amount_prepaid:
            self.el(summation, "ram:TotalPrepaidAmount", self.money(doc.amount_prepaid))  # BT-113
        self.el(summation, "ram:DuePayableAmount", self.money(doc.amount_due))  # BT-115


def _name_and_description(text: str) -> tuple[str, str]:
    """BT-153 item name and BT-154 description from one free text.

    The name is the first line, cut at a word near 100 characters; the full
    text goes to the description when the name does not already hold it.
    """
    text = text.strip()
    first = text.splitlines()[0].strip() if text else ""
    if len(first) > 100:
        cut = first.rfind(" ", 0, 100)
        first = first[: cut if cut > 40 else 100].rstrip() + "…"
    return first, ("" if first == text else text)
