"""From the register to a ``Document``: the invoice as it is printed and sent.

``build_document`` reads an invoice, its organisation and its client and
returns the plain value the PDF, the Factur-X XML and the mention checker
use. Words are in the client's language; legal amounts come from
``relance.rules.law``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import translation

from relance.einvoice import document as doc
from relance.ledger.models import Client, ContactRole, Invoice
from relance.organisations.models import Organisation
from relance.rules import terms as rules
from relance.rules.money import ZERO, round_money
from relance.rules.payment_reference import creditor_reference
from relance.rules.totals import line_net, rate_key

from . import wording
from .models import PaymentTermsTemplate, terms_from_dict

BILLING_ROLES = (ContactRole.BILLING, ContactRole.ACCOUNTS_PAYABLE)


def client_kind(client: Client) -> doc.ClientKind:
    return "b2b" if client.is_company else "b2c"


def default_terms(
    organisation_id: int, client: Client | None
) -> tuple[PaymentTermsTemplate | None, str]:
    """The terms a draft without its own gets, and whose they are:
    the client's ("client"), else the organisation's default ("organisation")."""
    if client is not None and client.payment_terms_id:
        return client.payment_terms, "client"
    default = PaymentTermsTemplate.objects.filter(
        organisation_id=organisation_id, is_default=True
    ).first()
    return default, "organisation"


def terms_source(invoice: Invoice) -> tuple[PaymentTermsTemplate | None, str]:
    """What fixes a draft's due date when it is issued: its own terms
    ("invoice"), else a due date typed by hand ("due_date", no template),
    else the client's, else the organisation's default terms."""
    if invoice.terms_template_id:
        return invoice.terms_template, "invoice"
    if invoice.due_date is not None:
        return None, "due_date"
    return default_terms(invoice.organisation_id, invoice.client)


def pure_terms(terms: dict[str, Any], issue_date: date, country: str) -> rules.PaymentTerms:
    return terms_from_dict(terms, issue_date, holiday_country=country or "FR")


def _postal(line1: str, line2: str, postcode: str, city: str, country: str) -> doc.PostalAddress:
    return doc.PostalAddress(
        lines=tuple(x for x in (line1, line2) if x), postcode=postcode, city=city, country=country
    )


def _billing_address(client: Client) -> doc.PostalAddress:
    return _postal(
        client.address_line1, client.address_line2, client.postcode, client.city, client.country
    )


def _seller(org: Organisation) -> doc.Party:
    return doc.Party(
        name=org.legal_name,
        trade_name=org.trade_name,
        address=_postal(org.address_line1, org.address_line2, org.postcode, org.city, org.country),
        legal_form=org.legal_form,
        share_capital=org.share_capital,
        siren=org.siren,
        siret=org.siret,
        vat_number=org.vat_number,
        rcs_city=org.rcs_city,
        email=org.email,
        phone=org.phone,
    )


def billing_contacts(client: Client) -> list[Any]:
    """Contacts who receive invoices: billing and accounts payable, reachable by email."""
    return [
        c
        for c in client.contacts.all()
        if c.role in BILLING_ROLES and c.email and not c.do_not_contact
    ]


def _buyer(client: Client) -> doc.Party:
    contacts = billing_contacts(client)
    return doc.Party(
        name=client.name,
        address=_billing_address(client),
        siren=client.siren if client.is_company else "",
        siret=client.siret if client.is_company else "",
        vat_number=client.vat_number,
        email=contacts[0].email if contacts else "",
        contact_name=contacts[0].full_name if contacts else "",
    )


def _delivery(client: Client, category: str) -> doc.PostalAddress | None:
    if category == "services" or not client.delivery_address_line1:
        return None
    address = _postal(
        client.delivery_address_line1,
        client.delivery_address_line2,
        client.delivery_postcode,
        client.delivery_city,
        client.delivery_country or client.country,
    )
    billing = _billing_address(client)
    same = (address.lines, address.postcode, address.city) == (
        billing.lines,
        billing.postcode,
        billing.city,
    )
    return None if same else address


def _lines_and_breakdown(
    invoice: Invoice, exemption_reason: str
) -> tuple[tuple[doc.Line, ...], tuple[doc.VatBreakdown, ...]]:
    currency = invoice.currency
    lines = []
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for line in invoice.lines.all():
        net = line_net(line.quantity, line.unit_price, currency)
        rate = rate_key(line.vat_rate)
        category = line.vat_category
        if category == doc.VAT_STANDARD and rate == 0:
            category = doc.VAT_ZERO
        lines.append(
            doc.Line(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=rate,
                net=net,
                vat_category=category,
            )
        )
        key = (category, rate)
        bases[key] = bases.get(key, ZERO) + net
    breakdown = []
    for (category, rate), base in sorted(bases.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        reason = ""
        if category in (doc.VAT_EXEMPT, doc.VAT_NOT_SUBJECT, doc.VAT_ZERO):
            reason = exemption_reason
        elif category in (doc.VAT_REVERSE_CHARGE, doc.VAT_INTRA_EU, doc.VAT_EXPORT):
            reason = wording.exemption_text(category)
        breakdown.append(
            doc.VatBreakdown(
                category=category,
                rate=rate,
                base=base,
                amount=round_money(base * rate / 100, currency),
                exemption_reason=reason,
            )
        )
    return tuple(lines), tuple(breakdown)


def build_document(invoice: Invoice, *, issue_date: date | None = None) -> doc.Document:
    """The printable, sendable document of ``invoice`` (a draft gets a preview)."""
    org = invoice.organisation
    client = invoice.client
    kind = client_kind(client)
    on = issue_date or invoice.issue_date or org.today()
    with translation.override(client.language or org.locale):
        exemption = invoice.vat_exemption_reason or org.vat_exemption_reason
        lines, breakdown = _lines_and_breakdown(invoice, exemption)
        net = sum((b.base for b in breakdown), ZERO)
        vat = sum((b.amount for b in breakdown), ZERO)
        gross = net + vat
        terms = invoice.terms or {}
        installments: tuple[doc.Installment, ...] = tuple(
            doc.Installment(row.due_date, row.amount) for row in invoice.installments.all()
        )
        discount = None
        notes: list[str] = []
        if not invoice.is_credit_note and terms.get("discount_percent"):
            found = rules.discount(pure_terms(terms, on, org.country), on, gross, invoice.currency)
            if found:
                discount = doc.EarlyPaymentDiscount(
                    percent=Decimal(terms["discount_percent"]),
                    days=int(terms["discount_days"]),
                    last_day=found[0],
                    amount_then=found[1],
                )
        terms_text = "" if invoice.is_credit_note else wording.terms_text(terms, invoice.due_date)
        penalty = ""
        indemnity = None
        if not invoice.is_credit_note:
            penalty = wording.late_penalty_text(org.country, kind, on)
            found_indemnity = wording.recovery_indemnity(org.country, kind, on, gross)
            indemnity = found_indemnity[0] if found_indemnity else None
        if invoice.notes.strip():
            notes.append(invoice.notes.strip())
        corrects = invoice.corrects
        return doc.Document(
            kind="credit_note" if invoice.is_credit_note else "invoice",
            number=invoice.number,
            issue_date=on,
            currency=invoice.currency,
            seller=_seller(org),
            buyer=_buyer(client),
            lines=lines,
            vat_breakdown=breakdown,
            total_net=net,
            total_vat=vat,
            total_gross=gross,
            amount_due=gross,
            due_date=invoice.due_date,
            language=client.language or org.locale,
            client_kind=kind,
            operation_category=invoice.operation_category,
            vat_on_debits=invoice.vat_on_debits,
            delivery_address=_delivery(client, invoice.operation_category),
            delivery_date=invoice.delivery_date,
            purchase_order=invoice.purchase_order,
            corrected_number=corrects.number if corrects else "",
            corrected_issue_date=corrects.issue_date if corrects else None,
            installments=installments if len(installments) > 1 else (),
            payment_terms_text=terms_text,
            discount=discount,
            late_penalty_text=penalty,
            recovery_indemnity=indemnity,
            iban=org.iban,
            bic=org.bic,
            creditor_reference=creditor_reference(invoice.number) if invoice.number else "",
            notes=tuple(notes),
            pay_url=_pay_url(invoice),
        )


def _pay_url(invoice: Invoice) -> str:
    """The "pay online" link of an invoice with a number (none on drafts and credit notes)."""
    if not invoice.number or invoice.is_credit_note:
        return ""
    from relance.online.links import pay_url

    return pay_url(invoice.client, [invoice])
