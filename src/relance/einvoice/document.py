"""An invoice as a plain value: what the PDF, the Factur-X XML, the mention
checker and the importers all speak.

Nothing here knows Django. ``relance.invoicing.snapshot`` builds a
``Document`` from the database; ``relance.einvoice.reading`` builds one from
an e-invoice someone else made. Amounts are ``Decimal`` with the currency's
minor unit; credit notes carry positive amounts (their kind says what they
are), as EN 16931 does for type 381.

The business terms (BT-/BG-) of EN 16931 are named in comments where a
field maps to one, so the writers and readers have one reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "credit_note"]
# Operation category (French mention since décret 2022-1299; BT-23 B1/S1/M1).
OperationCategory = Literal["goods", "services", "mixed"]
ClientKind = Literal["b2b", "b2c"]

# EN 16931 VAT category codes (UNTDID 5305, BT-118/BT-151).
VAT_STANDARD = "S"  # standard or reduced rate, rate > 0
VAT_ZERO = "Z"  # zero-rated goods
VAT_EXEMPT = "E"  # exempt (e.g. art. 261 CGI, franchise en base art. 293 B)
VAT_REVERSE_CHARGE = "AE"  # autoliquidation
VAT_INTRA_EU = "K"  # intra-community supply
VAT_EXPORT = "G"  # export outside the EU
VAT_NOT_SUBJECT = "O"  # outside the scope of VAT
VAT_CATEGORIES = (
    VAT_STANDARD,
    VAT_ZERO,
    VAT_EXEMPT,
    VAT_REVERSE_CHARGE,
    VAT_INTRA_EU,
    VAT_EXPORT,
    VAT_NOT_SUBJECT,
)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    lines: tuple[str, ...] = ()  # BT-35/36/162 ...
    postcode: str = ""
    city: str = ""
    country: str = ""  # ISO 3166-1 alpha-2 (BT-40 / BT-55)

    @property
    def is_empty(self) -> bool:
        return not (any(self.lines) or self.postcode or self.city)


@dataclass(frozen=True, slots=True)
class Party:
    """The seller (BG-4) or the buyer (BG-7)."""

    name: str  # BT-27 / BT-44 (legal name)
    address: PostalAddress = field(default_factory=PostalAddress)
    trade_name: str = ""  # BT-28 / BT-45
    legal_form: str = ""  # e.g. "SAS" (French mention, free text on the PDF; BT-33)
    share_capital: Decimal | None = None  # French mention for companies
    siren: str = ""  # 9 digits; legal registration id (BT-30 / BT-47, scheme 0002)
    siret: str = ""  # 14 digits; establishment id
    vat_number: str = ""  # BT-31 / BT-48
    rcs_city: str = ""  # "RCS Lyon" (French mention)
    email: str = ""  # BT-34 / BT-49 electronic address, BT-43 / BT-58 contact
    phone: str = ""
    contact_name: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line (BG-25). ``net`` = quantity x unit price, rounded."""

    description: str  # BT-153
    quantity: Decimal  # BT-129
    unit_price: Decimal  # BT-146, excl. VAT
    vat_rate: Decimal  # BT-152, percent
    net: Decimal  # BT-131
    vat_category: str = VAT_STANDARD  # BT-151
    unit_code: str = "C62"  # BT-130, UN/ECE rec. 20 ("one")


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """One VAT subtotal (BG-23), per category and rate."""

    category: str  # BT-118
    rate: Decimal  # BT-119
    base: Decimal  # BT-116
    amount: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120, e.g. "TVA non applicable, art. 293 B du CGI"
    exemption_code: str = ""  # BT-121, e.g. "VATEX-EU-AE"


@dataclass(frozen=True, slots=True)
class Installment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EarlyPaymentDiscount:
    """ "2 % if paid by 25/01/2026": pay ``amount_then`` by ``last_day``."""

    percent: Decimal
    days: int
    last_day: date
    amount_then: Decimal


@dataclass(frozen=True, slots=True)
class Document:
    kind: DocumentKind  # BT-3: 380 invoice, 381 credit note
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5, ISO 4217
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    total_net: Decimal  # BT-109 (= BT-106 sum of lines: no document-level allowances)
    total_vat: Decimal  # BT-110
    total_gross: Decimal  # BT-112
    amount_due: Decimal  # BT-115 = BT-112 - BT-113 (prepaid)
    amount_prepaid: Decimal = Decimal("0.00")  # BT-113
    due_date: date | None = None  # BT-9
    language: str = "fr"  # the client's language: the PDF's words
    client_kind: ClientKind = "b2b"
    operation_category: OperationCategory = "services"
    vat_on_debits: bool = False  # "Option pour le paiement de la taxe d'après les débits"
    delivery_address: PostalAddress | None = None  # BG-15, when it differs from the buyer's
    delivery_date: date | None = None  # BT-72, date of sale / service when it differs
    purchase_order: str = ""  # BT-13
    buyer_reference: str = ""  # BT-10
    corrected_number: str = ""  # BT-25, for a credit note
    corrected_issue_date: date | None = None  # BT-26
    installments: tuple[Installment, ...] = ()
    payment_terms_text: str = ""  # BT-20, in the document's language
    discount: EarlyPaymentDiscount | None = None  # escompte; None = "Escompte : néant"
    late_penalty_text: str = ""  # L441-10 II penalty rate, in the document's language
    recovery_indemnity: Decimal | None = None  # D441-5: 40 EUR for B2B, None for B2C
    iban: str = ""  # BT-84
    bic: str = ""  # BT-86
    payment_means_code: str = "58"  # BT-81: 58 SEPA credit transfer, 30 credit transfer
    creditor_reference: str = ""  # BT-83 remittance information: ISO 11649 RF reference
    pay_url: str = ""  # "pay online" link (payments issue)
    notes: tuple[str, ...] = ()  # BT-22 free texts printed and embedded
    allowance_total: Decimal = Decimal("0.00")  # BT-107 document-level allowances (BG-20)
    charge_total: Decimal = Decimal("0.00")  # BT-108 document-level charges (BG-21)

    @property
    def type_code(self) -> str:
        return "381" if self.kind == "credit_note" else "380"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == "credit_note"
