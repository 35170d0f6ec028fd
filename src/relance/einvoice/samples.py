"""Varied, realistic French invoices and credit notes, always the same ones.

``varied_documents(n, seed)`` gives ``n`` Documents that walk through the
cases an e-invoice writer must get right: several VAT rates (20, 10, 5.5,
2.1 %), the micro-entrepreneur's franchise (art. 293 B), reverse charge,
intra-EU supplies, exports, services outside the scope of French VAT, B2C
clients without SIREN, credit notes, GBP/CHF/USD/JPY, discount lines,
early-payment discounts, installments and deposits, long descriptions,
delivery addresses and the option for VAT on debits.

Totals come from ``relance.rules.totals.compute_totals``, as on a real
invoice. Document ``i`` depends only on ``seed`` and ``i``, so the first ten
of ``varied_documents(200)`` are ``varied_documents(10)``. The identifiers
(SIREN, SIRET, VAT numbers, IBANs, RF references) have valid check digits;
the companies are invented.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from stdnum.iso7064 import mod_97_10

from relance.einvoice.document import (
    VAT_EXEMPT,
    VAT_EXPORT,
    VAT_INTRA_EU,
    VAT_NOT_SUBJECT,
    VAT_REVERSE_CHARGE,
    VAT_STANDARD,
    Document,
    EarlyPaymentDiscount,
    Installment,
    Line,
    Party,
    PostalAddress,
    VatBreakdown,
)
from relance.rules.money import ZERO, D, round_money
from relance.rules.totals import compute_totals, line_net, rate_key

__all__ = ["EXEMPTIONS", "varied_documents"]

# Why no VAT is charged: (BT-120 text, BT-121 VATEX code), per category.
EXEMPTIONS: dict[str, tuple[str, str]] = {
    "franchise": ("TVA non applicable, art. 293 B du CGI", "VATEX-FR-FRANCHISE"),
    "training": ("Exonération de TVA, art. 261-4-4° du CGI", "VATEX-FR-CGI261-4"),
    VAT_REVERSE_CHARGE: ("Autoliquidation, art. 283-2 nonies du CGI", "VATEX-FR-AE"),
    VAT_INTRA_EU: ("Exonération de TVA, art. 262 ter I du CGI", "VATEX-EU-IC"),
    VAT_EXPORT: ("Exonération de TVA, art. 262 I du CGI", "VATEX-EU-G"),
    VAT_NOT_SUBJECT: ("TVA non applicable, art. 259-1 du CGI", "VATEX-EU-O"),
}

IBANS = (
    ("FR7630006000011234567890189", "AGRIFRPP"),
    ("FR1420041010050500013M02606", "PSSTFRPPPAR"),
    ("FR7630004000031234567890143", "BNPAFRPP"),
)


def _address(*lines: str, postcode: str, city: str, country: str = "FR") -> PostalAddress:
    return PostalAddress(lines=lines, postcode=postcode, city=city, country=country)


SELLERS = (
    Party(
        name="Atelier Durand SARL",
        trade_name="Atelier Durand",
        legal_form="SARL",
        share_capital=D("8000"),
        siren="732829320",
        siret="73282932000017",
        vat_number="FR44732829320",
        rcs_city="Lyon",
        email="facturation@atelier-durand.fr",
        phone="+33 4 78 12 34 56",
        contact_name="Sophie Durand",
        address=_address("12 rue de la République", postcode="69002", city="Lyon"),
    ),
    Party(
        name="Studio Lumen SAS",
        legal_form="SAS",
        share_capital=D("25000"),
        siren="443061841",
        siret="44306184100013",
        vat_number="FR64443061841",
        rcs_city="Paris",
        email="compta@studio-lumen.fr",
        address=_address("48 boulevard Voltaire", "Bâtiment B", postcode="75011", city="Paris"),
    ),
    Party(
        name="Menuiserie Bernard",
        legal_form="EURL",
        share_capital=D("5000"),
        siren="512345679",
        siret="51234567900017",
        vat_number="FR75512345679",
        rcs_city="Nantes",
        email="contact@menuiserie-bernard.fr",
        phone="02 40 11 22 33",
        address=_address("ZA des Landes", "3 impasse des Chênes", postcode="44300", city="Nantes"),
    ),
)

# A micro-entrepreneur under the franchise: no VAT number, no share capital.
FRANCHISE_SELLER = Party(
    name="Claire Martin",
    trade_name="Claire Martin Traduction",
    legal_form="EI",
    siren="890123458",
    siret="89012345800014",
    email="claire.martin@example.fr",
    address=_address("7 place du Marché", postcode="33000", city="Bordeaux"),
)

FRENCH_BUYERS = (
    Party(
        name="Boulangerie Petit SAS",
        siren="352600043",
        vat_number="FR09352600043",
        email="gestion@boulangerie-petit.fr",
        address=_address("5 avenue Jean Jaurès", postcode="69007", city="Lyon"),
    ),
    Party(
        name="Cabinet Lefèvre & Associés",
        siren="812345098",
        vat_number="FR31812345098",
        contact_name="Maître Lefèvre",
        address=_address("22 quai des Chartrons", postcode="33000", city="Bordeaux"),
    ),
    Party(
        name="Hôtel des Cèdres SARL",
        trade_name="Hôtel des Cèdres",
        siren="402211031",
        vat_number="FR53402211031",
        email="direction@hotel-cedres.fr",
        address=_address(
            "Route de Vence",
            "Lieu-dit « Les Cèdres »",
            postcode="06140",
            city="Tourrettes-sur-Loup",
        ),
    ),
    Party(
        name="Bâtiments Robert SA",
        siren="908765431",
        vat_number="FR46908765431",
        address=_address("101 rue de Lille", postcode="59000", city="Lille"),
    ),
)

CONSUMERS = (
    Party(
        name="Camille Roux", address=_address("3 rue des Lilas", postcode="38000", city="Grenoble")
    ),
    Party(
        name="Julien Moreau",
        email="julien.moreau@example.org",
        address=_address(
            "Appartement 12", "18 cours Mirabeau", postcode="13100", city="Aix-en-Provence"
        ),
    ),
)

EU_BUYERS = (
    Party(
        name="Müller Maschinenbau GmbH",
        vat_number="DE136695976",
        address=_address("Industriestraße 4", postcode="70173", city="Stuttgart", country="DE"),
    ),
    Party(
        name="Ferretti Arredamenti S.r.l.",
        vat_number="IT00743110157",
        address=_address("Via Roma 21", postcode="20121", city="Milano", country="IT"),
    ),
    Party(
        name="Brasserie Dupont SPRL",
        vat_number="BE0403648375",
        address=_address("Rue de la Station 12", postcode="1000", city="Bruxelles", country="BE"),
    ),
)

FOREIGN_BUYERS = {
    "GBP": Party(
        name="Thames Design Ltd",
        vat_number="GB980780684",
        address=_address("14 Bankside", postcode="SE1 9TG", city="London", country="GB"),
    ),
    "CHF": Party(
        name="Horlogerie Favre SA",
        vat_number="CHE123456788",
        address=_address("Rue du Rhône 30", postcode="1204", city="Genève", country="CH"),
    ),
    "USD": Party(
        name="Brightside Media France SAS",
        siren="443061841",
        vat_number="FR64443061841",
        address=_address("9 rue Lafayette", postcode="75009", city="Paris"),
    ),
    "JPY": Party(
        name="Sakura Trading K.K.",
        address=_address(
            "1-2-3 Marunouchi", "Chiyoda-ku", postcode="100-0005", city="Tokyo", country="JP"
        ),
    ),
}

# (description, unit code, lowest and highest unit price in cents, VAT rate)
SERVICES = (
    ("Conception graphique : identité visuelle", "HUR", 6500, 9500, "20"),
    ("Développement d'un site vitrine", "DAY", 45000, 65000, "20"),
    ("Maintenance mensuelle du site", "MON", 9000, 19000, "20"),
    ("Audit SEO et rapport de recommandations", "C62", 80000, 150000, "20"),
    ("Traduction juridique FR > EN", "E48", 8, 15, "20"),
)
GOODS = (
    ("Chaise en chêne massif", "H87", 18000, 26000, "20"),
    ("Table basse en noyer", "H87", 42000, 69000, "20"),
    ("Repas traiteur (buffet)", "C62", 1800, 3500, "10"),
    ("Travaux d'isolation des combles", "C62", 150000, 420000, "5.5"),
    ("Café en grains bio", "KGM", 1800, 3200, "5.5"),
    ("Abonnement presse quotidienne", "MON", 2500, 4500, "2.1"),
    ("Livres d'art (lot)", "H87", 2500, 6000, "5.5"),
)

LONG_TEXT = (
    "Accompagnement à la refonte de la charte graphique : ateliers de cadrage avec la "
    "direction, recherche de pistes créatives (3 propositions), déclinaison sur papeterie, "
    "signalétique & supports numériques, livraison des fichiers sources <AI, SVG, PDF> "
    "et d'un guide d'utilisation \"pas à pas\".\n"
    "Cession des droits d'exploitation pour le monde entier et pour la durée légale "
    "de protection, tous supports confondus. Deux allers-retours de corrections inclus ; "
    "au-delà, facturation au temps passé selon le barème en vigueur."
)

PENALTY_TEXT = {
    "fr": (
        "Pénalités de retard : taux de la BCE majoré de 10 points, soit 12,15 % l'an, "
        "exigibles dès le lendemain de la date d'échéance."
    ),
    "en": (
        "Late payment penalties: ECB rate plus 10 points, i.e. 12.15 % a year, "
        "due from the day after the due date."
    ),
}
B2C_PENALTY_TEXT = (
    "En cas de retard de paiement, des intérêts au taux légal seront dus après mise en demeure."
)
TERMS_TEXT = {
    "fr": "Paiement par virement bancaire à 30 jours date de facture.",
    "en": "Payment by bank transfer within 30 days of the invoice date.",
}


# One line to be: description, quantity, unit price, VAT rate, VAT category, unit code.
SpecLine = tuple[str, Decimal, Decimal, Decimal, str, str]


@dataclass
class _Spec:
    """What a scenario decides; ``_assemble`` turns it into a Document."""

    seller: Party
    buyer: Party
    lines: list[SpecLine]
    currency: str = "EUR"
    language: str = "fr"
    client_kind: str = "b2b"
    operation_category: str = "services"
    zero_reason: str = ""  # key of EXEMPTIONS for the 0 % lines
    kind: str = "invoice"


def varied_documents(n: int, seed: int = 0) -> list[Document]:
    """``n`` documents cycling through the scenarios, details drawn from ``seed``."""
    if n < 0:
        raise ValueError("n must not be negative")
    return [_document(index, seed) for index in range(n)]


def _document(index: int, seed: int) -> Document:
    rng = random.Random(seed * 1_000_003 + index)
    scenario = SCENARIOS[index % len(SCENARIOS)]
    issue = date(2026, 1, 2) + timedelta(days=rng.randint(0, 330))
    spec = scenario(rng, index)
    document = _assemble(spec, index, issue, rng)
    return _finisher_for(index)(document, rng)


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return D(rng.randint(low, high)) / 100


def _pick_lines(rng: random.Random, catalogue, count: int, currency: str = "EUR") -> list[SpecLine]:
    lines = []
    for text, unit, low, high, rate in rng.sample(catalogue, count):
        price = _cents(rng, low, high)
        if unit == "E48":  # a word count at a few cents a word
            quantity = D(rng.randint(800, 4000))
        elif unit in ("HUR", "DAY", "KGM"):
            quantity = D(rng.randint(2, 40)) / 2  # halves: 1.5 h, 2.5 kg
        else:
            quantity = D(rng.randint(1, 6))
        if currency == "JPY":
            price = round_money(price * 160, currency)
        lines.append((text, quantity, price, D(rate), VAT_STANDARD, unit))
    return lines


def _zero_rated(lines: list[SpecLine], category: str) -> list[SpecLine]:
    return [(text, qty, price, ZERO, category, unit) for text, qty, price, _, _, unit in lines]


# Scenarios ------------------------------------------------------------------


def _standard_services(rng: random.Random, index: int) -> _Spec:
    return _Spec(
        SELLERS[index % 3], rng.choice(FRENCH_BUYERS), _pick_lines(rng, SERVICES, rng.randint(1, 3))
    )


def _mixed_rates(rng: random.Random, index: int) -> _Spec:
    lines = _pick_lines(rng, GOODS, 5) + _pick_lines(rng, SERVICES, 1)
    return _Spec(SELLERS[2], rng.choice(FRENCH_BUYERS), lines, operation_category="mixed")


def _franchise(rng: random.Random, index: int) -> _Spec:
    b2c = index % 2 == 0
    buyer = rng.choice(CONSUMERS) if b2c else rng.choice(FRENCH_BUYERS)
    lines = _zero_rated(_pick_lines(rng, SERVICES[4:], 1), VAT_EXEMPT)
    return _Spec(
        FRANCHISE_SELLER, buyer, lines, client_kind="b2c" if b2c else "b2b", zero_reason="franchise"
    )


def _reverse_charge(rng: random.Random, index: int) -> _Spec:
    lines = [
        (
            "Pose de menuiseries extérieures (sous-traitance)",
            D(rng.randint(8, 30)),
            D("52.00"),
            ZERO,
            VAT_REVERSE_CHARGE,
            "HUR",
        ),
        (
            "Fourniture de quincaillerie",
            D(1),
            _cents(rng, 20000, 90000),
            ZERO,
            VAT_REVERSE_CHARGE,
            "C62",
        ),
    ]
    return _Spec(
        SELLERS[2],
        FRENCH_BUYERS[3],
        lines,
        operation_category="mixed",
        zero_reason=VAT_REVERSE_CHARGE,
    )


def _intra_eu(rng: random.Random, index: int) -> _Spec:
    lines = _zero_rated(_pick_lines(rng, GOODS[:2], 2), VAT_INTRA_EU)
    return _Spec(
        SELLERS[2],
        EU_BUYERS[index % 3],
        lines,
        language="en",
        operation_category="goods",
        zero_reason=VAT_INTRA_EU,
    )


def _consumer(rng: random.Random, index: int) -> _Spec:
    lines = _pick_lines(rng, GOODS[:3], 2)
    return _Spec(
        SELLERS[index % 3],
        rng.choice(CONSUMERS),
        lines,
        client_kind="b2c",
        operation_category="goods",
    )


def _credit_note(rng: random.Random, index: int) -> _Spec:
    spec = _standard_services(rng, index)
    spec.kind = "credit_note"
    spec.lines = spec.lines[:1]
    return spec


CURRENCY_CYCLE = ("GBP", "CHF", "USD", "JPY")


def _foreign_currency(rng: random.Random, index: int) -> _Spec:
    currency = CURRENCY_CYCLE[(index // 12) % 4]
    buyer = FOREIGN_BUYERS[currency]
    if currency in ("GBP", "JPY"):  # goods leaving the EU
        lines = _zero_rated(_pick_lines(rng, GOODS[:2], 2, currency), VAT_EXPORT)
        return _Spec(
            SELLERS[2],
            buyer,
            lines,
            currency,
            "en",
            operation_category="goods",
            zero_reason=VAT_EXPORT,
        )
    if currency == "CHF":  # services to a business outside the EU
        lines = _zero_rated(_pick_lines(rng, SERVICES[:4], 2, currency), VAT_NOT_SUBJECT)
        return _Spec(SELLERS[1], buyer, lines, currency, "en", zero_reason=VAT_NOT_SUBJECT)
    # French VAT on an invoice in dollars (a French subsidiary of a US group)
    return _Spec(SELLERS[1], buyer, _pick_lines(rng, SERVICES[:4], 2, currency), currency, "en")


def _long_descriptions(rng: random.Random, index: int) -> _Spec:
    lines = [(LONG_TEXT, D(1), _cents(rng, 250000, 480000), D("20"), VAT_STANDARD, "C62")]
    for _ in range(24):
        text, unit, low, high, rate = rng.choice(GOODS[:2] + SERVICES[:1])
        price = D(rng.randint(low * 10, high * 10)) / 1000  # three decimals: 33.333
        lines.append(
            (
                f"{text} (réf. {rng.randint(1000, 9999)})",
                D(rng.randint(1, 3)),
                price,
                D(rate),
                VAT_STANDARD,
                unit,
            )
        )
    return _Spec(SELLERS[1], rng.choice(FRENCH_BUYERS), lines, operation_category="mixed")


def _debits_and_training(rng: random.Random, index: int) -> _Spec:
    lines = _pick_lines(rng, SERVICES[:3], 2)
    lines.append(
        (
            "Formation professionnelle : Figma avancé (2 jours)",
            D(rng.randint(1, 4)),
            D("690.00"),
            ZERO,
            VAT_EXEMPT,
            "C62",
        )
    )
    return _Spec(SELLERS[0], rng.choice(FRENCH_BUYERS), lines, zero_reason="training")


SCENARIOS: tuple[Callable[[random.Random, int], _Spec], ...] = (
    _standard_services,
    _mixed_rates,
    _franchise,
    _reverse_charge,
    _intra_eu,
    _consumer,
    _credit_note,
    _foreign_currency,
    _standard_services,  # with installments and a deposit (see _finisher_for)
    _standard_services,  # with an early-payment discount and a discount line
    _long_descriptions,
    _debits_and_training,
)


# Building the document ------------------------------------------------------


def _assemble(spec: _Spec, index: int, issue: date, rng: random.Random) -> Document:
    currency = spec.currency
    totals = compute_totals(
        ((qty, price, rate) for _, qty, price, rate, _, _ in spec.lines), currency
    )
    lines = tuple(
        Line(
            description=text,
            quantity=qty,
            unit_price=price,
            vat_rate=rate,
            net=line_net(qty, price, currency),
            vat_category=category,
            unit_code=unit,
        )
        for text, qty, price, rate, category, unit in spec.lines
    )
    zero_category = next((c for *_, c, _ in spec.lines if c != VAT_STANDARD), VAT_STANDARD)
    breakdown = []
    for rate, (base, vat) in totals.by_rate.items():
        category = VAT_STANDARD if rate > 0 else zero_category
        reason, code = EXEMPTIONS.get(spec.zero_reason, ("", "")) if rate == 0 else ("", "")
        breakdown.append(VatBreakdown(category, rate_key(rate), base, vat, reason, code))
    b2b = spec.client_kind == "b2b"
    credit = spec.kind == "credit_note"
    prefix = "A" if credit else "F"
    number = f"{prefix}{issue.year}-{index + 1:05d}"
    iban, bic = IBANS[index % len(IBANS)]
    language = spec.language
    return Document(
        kind="credit_note" if credit else "invoice",
        number=number,
        issue_date=issue,
        currency=currency,
        seller=spec.seller,
        buyer=spec.buyer,
        lines=lines,
        vat_breakdown=tuple(breakdown),
        total_net=totals.net,
        total_vat=totals.vat,
        total_gross=totals.gross,
        amount_due=totals.gross,
        due_date=None if credit else issue + timedelta(days=30),
        language=language,
        client_kind="b2b" if b2b else "b2c",
        operation_category=spec.operation_category,
        corrected_number=f"F{issue.year - 1}-{rng.randint(1, 900):05d}" if credit else "",
        corrected_issue_date=issue - timedelta(days=rng.randint(20, 200)) if credit else None,
        payment_terms_text="" if credit else TERMS_TEXT[language],
        late_penalty_text=("" if credit else PENALTY_TEXT[language] if b2b else B2C_PENALTY_TEXT),
        recovery_indemnity=D("40.00") if b2b and not credit else None,
        iban=iban,
        bic=bic,
        creditor_reference="" if credit else _rf(number),
    )


def _rf(number: str) -> str:
    """ISO 11649 creditor reference from the invoice number's letters and digits."""
    body = "".join(ch for ch in number.upper() if ch.isalnum())[-21:]
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def _plain(document: Document, rng: random.Random) -> Document:
    return document


def _with_installments(document: Document, rng: random.Random) -> Document:
    """A 30 % deposit already paid, the rest in three monthly installments."""
    currency = document.currency
    prepaid = round_money(document.total_gross * D("0.3"), currency)
    due = document.total_gross - prepaid
    share = round_money(due / 3, currency)
    amounts = [share, share, due - 2 * share]
    rows = tuple(
        Installment(document.issue_date + timedelta(days=30 * (k + 1)), amount)
        for k, amount in enumerate(amounts)
    )
    return replace(
        document,
        amount_prepaid=prepaid,
        amount_due=due,
        installments=rows,
        due_date=rows[-1].due_date,
        payment_terms_text="Acompte de 30 % versé à la commande ; solde en trois mensualités.",
    )


def _with_discounts(document: Document, rng: random.Random) -> Document:
    """A loyalty discount line and 2 % off if paid within 10 days."""
    currency = document.currency
    gross_lines = [(line.quantity, line.unit_price, line.vat_rate) for line in document.lines]
    off = -round_money(sum((line.net for line in document.lines), ZERO) / 10, currency)
    discount_line = Line("Remise fidélité 10 %", D(1), off, D("20"), off)
    totals = compute_totals([*gross_lines, (D(1), off, D("20"))], currency)
    breakdown = tuple(
        VatBreakdown(VAT_STANDARD, rate_key(rate), base, vat)
        for rate, (base, vat) in totals.by_rate.items()
    )
    percent = D("2")
    then = totals.gross - round_money(totals.gross * percent / 100, currency)
    last_day = document.issue_date + timedelta(days=10)
    return replace(
        document,
        lines=(*document.lines, discount_line),
        vat_breakdown=breakdown,
        total_net=totals.net,
        total_vat=totals.vat,
        total_gross=totals.gross,
        amount_due=totals.gross,
        discount=EarlyPaymentDiscount(percent, 10, last_day, then),
    )


def _with_debits_and_order(document: Document, rng: random.Random) -> Document:
    return replace(
        document,
        vat_on_debits=True,
        purchase_order=f"BC-{rng.randint(10000, 99999)}",
        buyer_reference="Service achats",
        delivery_date=document.issue_date - timedelta(days=rng.randint(1, 20)),
        notes=("Merci de votre confiance.",),
    )


def _with_delivery(document: Document, rng: random.Random) -> Document:
    address = _address("Entrepôt 4", "Quai de la Loire", postcode="44000", city="Nantes")
    if document.buyer.address.country != "FR":
        address = replace(document.buyer.address, lines=("Warehouse / Lager", "Gate 3"))
    return replace(
        document,
        delivery_address=address,
        delivery_date=document.issue_date - timedelta(days=rng.randint(0, 10)),
    )


def _finisher_for(index: int) -> Callable[..., Document]:
    return {
        1: _with_delivery,
        4: _with_delivery,
        8: _with_installments,
        9: _with_discounts,
        11: _with_debits_and_order,
    }.get(index % len(SCENARIOS), _plain)
