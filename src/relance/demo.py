"""Demo data: the register of a small Lyon design agency, written in bulk.

``build_organisation`` writes a whole register (clients, contacts, invoices,
credit notes, installments, payments, allocations, timeline) with
``bulk_create``, and sets every stored figure exactly as the services would
(``issuing.issue``, ``settlement.record_payment``, ``Invoice.refresh_settlement``):
gapless chronological numbers per year series, totals by
``compute_totals``, paid/credited/balance/status by ``settlement_status``.
Everything comes from one seeded random generator and the as-of date, so the
same seed and date give the same register. The ``demo`` command loads it at
demo size; ``bench/bench_register.py`` at 100,000 invoices.
"""

from __future__ import annotations

import calendar
import itertools
import random
import unicodedata
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from schwifty import IBAN
from stdnum import luhn
from stdnum.fr import siren as fr_siren
from stdnum.iso7064 import mod_11_10

from relance import demo_escalation, demo_payments, formats
from relance.banking.models import BankLine, StatementImport
from relance.escalation.models import Escalation, FormalNotice, Task
from relance.fees.models import LateFee
from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    Attachment,
    CallOutcome,
    Client,
    ClientKind,
    ClientStatus,
    Contact,
    ContactRole,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Payment,
    PaymentMethod,
    Refund,
    Tag,
)
from relance.ledger.models.clients import Channel
from relance.ledger.models.invoices import OPEN_STATUSES, settlement_status
from relance.organisations.models import Membership, Organisation, Role
from relance.plans.models import PaymentPlan, SettlementOffer
from relance.rules import terms as term_rules
from relance.rules.money import ZERO, round_money
from relance.rules.totals import compute_totals
from relance.validators import normalise_phone

DEMO_NAME = "Studio Lumen SAS"
DEMO_SIREN = "84215963" + luhn.calc_check_digit("84215963")
DEMO_USERS = (
    # username (also the password), first name, last name, role
    ("demo", "Léa", "Marchand", Role.OWNER),
    ("comptable", "Nadia", "Benali", Role.READ_ONLY),
)
DEFAULT_SEED = 1789
HISTORY_DAYS = 730
TZ = zoneinfo.ZoneInfo("Europe/Paris")
BATCH = 5000
STORY_CLIENTS = 19  # the fixed cast below; other clients are drawn at random

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
FIRST_NAMES = (
    "Camille", "Julien", "Léa", "Thomas", "Manon", "Nicolas", "Chloé", "Antoine", "Sarah",
    "Maxime", "Emma", "Lucas", "Inès", "Hugo", "Claire", "Mathieu", "Pauline", "Romain",
    "Élodie", "Guillaume", "Sophie", "Pierre", "Marion", "Alexandre", "Julie", "Karim",
    "Amandine", "Yann", "Nadia", "Olivier", "Céline", "Sébastien", "Aurélie", "Vincent",
    "Laura", "François", "Hélène", "Benoît", "Anaïs", "Rémi", "Fatima", "Mehdi",
)  # fmt: skip
SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
    "Roussel", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Fontaine",
    "Chevalier", "Robin", "Masson", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly",
    "Roche", "Meunier", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun", "Dumas",
    "Brunet", "Colin", "Benali", "Perret", "Vial", "Jacquet", "Chabert", "Bouvier",
)  # fmt: skip
TRADES = (
    ("Boulangerie {}", "SARL"), ("Cabinet {}", "Avocats"), ("Garage {}", "SARL"),
    ("Atelier {}", ""), ("Pharmacie {}", ""), ("Menuiserie {}", "SARL"),
    ("Imprimerie {}", "SAS"), ("Librairie {}", ""), ("Transports {}", "SAS"),
    ("Hôtel {}", ""), ("Restaurant {}", ""), ("Domaine {}", ""),
    ("Clinique vétérinaire {}", ""), ("Laboratoire {}", "SAS"), ("Institut {}", ""),
    ("Agence immobilière {}", ""), ("Cave {}", ""), ("Architectes {}", "SCP"),
    ("{} & Fils", "SARL"), ("{} Conseil", "SAS"), ("{} Bâtiment", "SARL"),
    ("{} Paysages", "SARL"), ("Cabinet dentaire {}", ""), ("Optique {}", ""),
)  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "cours Lafayette",
    "quai Saint-Antoine", "rue Garibaldi", "boulevard des Belges", "rue Paul Bert",
    "rue Mercière", "montée de la Grande-Côte", "rue de Marseille", "avenue Berthelot",
    "rue Duguesclin", "rue Vendôme", "rue de Créqui", "cours Vitton", "rue de la Charité",
    "avenue Félix Faure", "rue des Tanneurs", "chemin des Vignes", "place du Marché",
    "rue du Moulin", "allée des Tilleuls", "rue Pasteur", "boulevard Gambetta",
)  # fmt: skip
CITIES = (  # postcode, city, weight
    ("69001", "Lyon", 5), ("69002", "Lyon", 6), ("69003", "Lyon", 6),
    ("69004", "Lyon", 3), ("69006", "Lyon", 5), ("69007", "Lyon", 5),
    ("69009", "Lyon", 3), ("69100", "Villeurbanne", 5),
    ("69300", "Caluire-et-Cuire", 2), ("69130", "Écully", 2),
    ("69400", "Villefranche-sur-Saône", 2), ("42000", "Saint-Étienne", 3),
    ("38000", "Grenoble", 3), ("74000", "Annecy", 2),
    ("01000", "Bourg-en-Bresse", 1), ("73000", "Chambéry", 1),
    ("75011", "Paris", 2), ("13006", "Marseille", 1),
)  # fmt: skip
ROLES = (
    (ContactRole.ACCOUNTS_PAYABLE, "Comptable fournisseurs"),
    (ContactRole.MANAGEMENT, "Gérant·e"),
    (ContactRole.BILLING, "Assistant·e de direction"),
)
TAGS = ("Contrat de maintenance", "Secteur public", "Grand compte", "Export")

# (description, quantities, lowest price, highest price, VAT rate or None for the client's)
B2B_WORK = (
    ("Conception graphique - identité visuelle", (1, 2, 3, 4), 520, 650, None),
    ("Maquettes d'interface (Figma)", (1, 2, 3, 5), 520, 620, None),
    ("Développement front-end", (1, 2, 3, 5, 8), 560, 650, None),
    ("Développement back-end (Django)", (1, 2, 3, 5, 10), 600, 700, None),
    ("Intégration WordPress", (1, 2, 3), 480, 560, None),
    ("Atelier UX - demi-journée", (1, 2), 650, 800, None),
    ("Atelier de cadrage (journée)", (1,), 1100, 1400, None),
    ("Audit d'accessibilité RGAA", (1,), 1800, 3200, None),
    ("Audit SEO technique", (1,), 900, 1500, None),
    ("Rédaction de contenus web (page)", (3, 5, 8, 12), 110, 150, None),
    ("Shooting photo produits (demi-journée)", (1,), 600, 750, None),
    ("Nom de domaine - renouvellement annuel", (1, 2, 3), 15, 45, None),
    ("Formation WordPress des éditeurs (exonérée, art. 261-4-4° CGI)", (1, 2), 850, 1100, 0),
    ("Buffet de l'atelier de lancement", (1,), 180, 420, Decimal(10)),
    ("Impression du livret de marque (ouvrage, 100 ex.)", (1,), 600, 1400, Decimal("5.5")),
)
B2C_WORK = (
    ("Création d'un site vitrine (forfait)", (1,), 900, 2400, None),
    ("Conception de faire-part de mariage", (1,), 180, 450, None),
    ("Mise en page d'un album photo", (1,), 120, 380, None),
    ("Livre photo de famille (impression, 5 ex.)", (1,), 90, 240, Decimal("5.5")),
    ("Cours particulier WordPress (2 h)", (1, 2, 3), 90, 140, None),
    ("Nom de domaine et hébergement - 1 an", (1,), 60, 150, None),
)
NOTES = {
    "no_answer": "Appel à la comptabilité au sujet des factures échues : pas de réponse.",
    "trouble": (
        "Échange avec Marc Verdier (gérant) : difficultés financières passagères après "
        "la perte de leur principal client. Il demande un délai."
    ),
    "delay": (
        "Difficultés financières. Client historique, toujours payé à l'heure depuis deux ans : "
        "on accorde un délai et on suit de près."
    ),
    "promise": "Promesse de paiement le 15 : un premier virement de 1 000 €, le solde ensuite.",
    "promise_again": (
        "Nouvelle promesse de paiement le {next} pour le solde de la plus ancienne facture. "
        "Maintenance limitée aux urgences d'ici là."
    ),
    "insolvency": (
        "Jugement d'ouverture d'une procédure de redressement judiciaire (tribunal de commerce "
        "de Lyon) du {day}. Relances arrêtées."
    ),
    "asap": "Le gérant reconnaît le retard, promet un règlement « dès que possible ».",
    "work_stop": "Travaux suspendus jusqu'au règlement des factures échues (courrier envoyé).",
    "end_of_month": "Promesse de règlement de toutes les factures échues à la fin du mois.",
    "broken": "Promesse non tenue : développements en cours suspendus jusqu'au paiement.",
    "closed": "Cessation d'activité (départ en retraite de la gérante). Compte soldé, archivé.",
    "dispute": "Conteste la seconde journée d'atelier, annulée par nos soins la veille.",
    "dispute_settled": "Litige fondé : avoir d'une journée d'atelier, le reste est dû.",
    "wrong": "Facture adressée à la mauvaise entité : annulée par avoir, à refaire.",
    "paid_twice": (
        "Virement supérieur à la facture (acompte compté deux fois) : 300 € gardés en avoir "
        "client, à imputer sur la prochaine facture."
    ),
    "wrong_number": "Numéro plus attribué.",
    "write_off": (
        "Petite créance : relances restées sans réponse, une procédure coûterait plus que la "
        "somme due."
    ),
}
CALLS = {
    CallOutcome.NO_ANSWER: "Appel au service comptable au sujet de {doc} : pas de réponse.",
    CallOutcome.VOICEMAIL: "Message laissé à la comptabilité au sujet de {doc}.",
    CallOutcome.PROMISE: "Promesse de règlement de {doc} sous quinzaine.",
    CallOutcome.REACHED: "{doc} bien reçue, en attente du bon pour paiement interne.",
}


# --- Identifiers ------------------------------------------------------------


def make_siren(rng: random.Random) -> str:
    body = str(rng.randint(30_000_000, 99_999_999))
    return body + luhn.calc_check_digit(body)


def make_siret(siren: str, establishment: int = 1) -> str:
    body = f"{siren}{establishment:04d}"
    return body + luhn.calc_check_digit(body)


def french_vat(siren: str) -> str:
    return "FR" + fr_siren.to_tva(siren)


def belgian_vat(rng: random.Random) -> str:
    base = f"0{rng.randint(2_000_000, 9_999_999)}"
    return f"BE{base}{97 - int(base) % 97:02d}"


def german_vat(rng: random.Random) -> str:
    base = str(rng.randint(10_000_000, 99_999_999))
    return f"DE{base}{mod_11_10.calc_check_digit(base)}"


def make_phone(rng: random.Random, country: str = "FR", area: str = "04") -> str:
    """A number valid for its country, in E.164 (French mobiles or landlines)."""
    while True:
        digits = "".join(str(rng.randint(0, 9)) for _ in range(8))
        raw = {
            "FR": f"{area}{digits}" if area else f"06{digits}",
            "BE": f"+322{digits[:7]}",
            "DE": f"+4930{digits}",
            "GB": f"+4420 7946 0{digits[:3]}",
        }[country]
        try:
            return normalise_phone(raw, country)
        except Exception:  # an invalid draw: take the next one
            continue


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(ascii_text.lower().replace("'", " ").split())


# --- Dates ------------------------------------------------------------------


def workday(day: date) -> date:
    """The day itself, or the Monday after a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def due_date(issue: date, terms: str) -> date:
    """Net 30 days, or 45 days end of month (the French "45 jours fin de mois")."""
    if terms == "45eom":
        return term_rules.due_date(term_rules.PaymentTerms("days_then_eom", days=45), issue)
    return term_rules.due_date(term_rules.PaymentTerms("net", days=int(terms)), issue)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=TZ) + timedelta(minutes=minute)


def nth_of_month(day: date, nth: int) -> date:
    return day.replace(day=min(nth, calendar.monthrange(day.year, day.month)[1]))


def month_starts(first: date, last: date) -> Iterator[date]:
    day = first.replace(day=1)
    while day <= last:
        yield day
        day = (day + timedelta(days=32)).replace(day=1)


# --- The plan: clients, documents and payment events ------------------------


@dataclass
class ClientPlan:
    client: Client
    behaviour: str  # reliable, slow, late, card, trouble, insolvent, on_hold, cycle
    weight: float
    since: date
    until: date | None = None  # no invoice after this date
    stops_paying: date | None = None  # invoices due from this date stay unpaid
    currency: str = "EUR"
    vat: Decimal = Decimal(20)
    terms: str = "30"
    method: str = PaymentMethod.TRANSFER
    retainer: Decimal | None = None
    hosting: Decimal | None = None
    batch: bool = False  # pays several invoices with one transfer
    story: str = ""
    tags: tuple[str, ...] = ()
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Event:
    """A planned payment of part of one document (maybe after as-of: then dropped)."""

    day: date
    amount: Decimal
    installment: int | None = None
    extra: Decimal = ZERO  # paid beyond what is owed: kept as client credit


@dataclass
class Doc:
    plan: ClientPlan
    invoice: Invoice
    lines: list[tuple[str, Decimal, Decimal, Decimal]]
    order: int
    schedule: list[tuple[date, Decimal]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    corrects: Doc | None = None
    credit_notes: list[Doc] = field(default_factory=list)
    write_off: tuple[date, str] | None = None
    drafted: datetime | None = None
    installments: list[Installment] = field(default_factory=list)


@dataclass
class Note:
    plan: ClientPlan
    when: datetime
    text: str
    outcome: str = ""  # a call when set
    doc: Doc | None = None


@dataclass
class Register:
    """Everything one build writes, before it is saved."""

    organisation: Organisation
    as_of: date
    author: Any
    rng: random.Random
    plans: list[ClientPlan] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    stories: dict[str, Doc] = field(default_factory=dict)

    @property
    def first(self) -> date:
        return self.as_of - timedelta(days=HISTORY_DAYS)

    @property
    def last(self) -> date:
        """The last day anything happens: the day before as-of."""
        return self.as_of - timedelta(days=1)

    def story(self, key: str) -> ClientPlan:
        return next(p for p in self.plans if p.story == key)

    def note(self, plan: ClientPlan, when: datetime, text: str, **extra: Any) -> None:
        self.notes.append(Note(plan, when, text, **extra))


# --- Organisation -----------------------------------------------------------


def create_organisation(name: str) -> Organisation:
    siren = DEMO_SIREN
    iban = IBAN.generate("FR", bank_code="10278", branch_code="07300", account_code="00020461501")
    return Organisation.objects.create(
        legal_name=name,
        trade_name=name.removesuffix(" SAS"),
        legal_form="SAS",
        share_capital=Decimal("10000.00"),
        siren=siren,
        siret=make_siret(siren),
        vat_number=french_vat(siren),
        rcs_city="Lyon",
        iban=iban.compact,
        bic=str(iban.bic),
        address_line1="27 quai Saint-Vincent",
        postcode="69001",
        city="Lyon",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
        locale="fr",
        email="facturation@studio-lumen.example.com",
        phone=normalise_phone("04 78 27 14 52", "FR"),
        website="https://studio-lumen.example.com",
    )


# --- Clients ----------------------------------------------------------------


def _client(reg: Register, name: str, **fields: Any) -> Client:
    rng = reg.rng
    postcode, city, _weight = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
    values: dict[str, Any] = {
        "address_line1": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "postcode": postcode,
        "city": city,
        "country": "FR",
    }
    values.update(fields)
    client = Client(organisation=reg.organisation, name=name, **values)
    if client.kind == ClientKind.COMPANY and client.country == "FR":
        client.siren = make_siren(rng)
        client.siret = make_siret(client.siren, rng.choice((1, 1, 1, 2, 3)))
        client.vat_number = french_vat(client.siren)
    return client


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(SURNAMES)


def _contact(reg: Register, plan: ClientPlan, role: str, title: str, who: tuple[str, str]) -> None:
    rng, client = reg.rng, plan.client
    first, last = who
    domain = rng.choice(("example.com", "example.org", "example.net"))
    landline = "01" if client.postcode.startswith("75") else "04"
    area = "" if role == ContactRole.MANAGEMENT or not client.is_company else landline
    phone = make_phone(rng, client.country, area) if rng.random() < 0.8 else ""
    channel = Channel.PHONE if phone and role == ContactRole.MANAGEMENT else Channel.EMAIL
    plan.contacts.append(
        Contact(
            organisation=reg.organisation,
            client=client,
            first_name=first,
            last_name=last,
            role=role,
            job_title=title if client.is_company else "",
            email=f"{_slug(first)}.{_slug(last)}@{domain}",
            phone=phone,
            preferred_channel=channel,
        )
    )


def _add_contacts(reg: Register, plan: ClientPlan, people: Iterable[tuple[str, str]] = ()) -> None:
    given = list(people)
    if not plan.client.is_company:
        first, last = plan.client.name.split(" ", 1)
        _contact(reg, plan, ContactRole.BILLING, "", (first, last))
        return
    count = reg.rng.choice((1, 2, 2, 3))
    for i, (role, title) in enumerate(ROLES[: max(count, len(given))]):
        _contact(reg, plan, role, title, given[i] if i < len(given) else _person(reg.rng))


def story_clients(reg: Register) -> list[ClientPlan]:
    """The cast that makes the dashboard tell a story (same for every size)."""
    start, as_of, rng = reg.first, reg.as_of, reg.rng

    def plan(name: str, behaviour: str, weight: float, **kw: Any) -> ClientPlan:
        client_fields = kw.pop("client", {})
        return ClientPlan(_client(reg, name, **client_fields), behaviour, weight, start, **kw)

    def ago(days: int) -> date:
        return as_of - timedelta(days=days)

    eu = {"kind": ClientKind.COMPANY, "language": "en"}
    retainer = ("Contrat de maintenance",)
    return [
        plan("Verdier Traiteur SAS", "trouble", 2.5, stops_paying=ago(125), story="trouble",
             retainer=Decimal(900), hosting=Decimal(120), tags=(*retainer, "Grand compte")),
        plan("Brasserie des Canuts SARL", "insolvent", 2.0, until=ago(200),
             stops_paying=ago(300), story="insolvent"),
        plan("Menuiserie Chaput SARL", "late", 1.0, until=ago(80), stops_paying=ago(170),
             retainer=Decimal(450), hosting=Decimal(59), story="hold_1", tags=retainer),
        plan("Transports Rhodaniens SAS", "late", 3.0, until=ago(45), stops_paying=ago(110),
             story="hold_2", terms="45eom"),
        # Taken to court after a formal notice, handed to an agency (relance.demo_escalation).
        plan("Imprimerie Gauthier SAS", "late", 1.5, until=ago(60), stops_paying=ago(160),
             retainer=Decimal(600), hosting=Decimal(89), story="court", tags=retainer),
        plan("Garage Morel SARL", "late", 2.0, until=ago(70), stops_paying=ago(150),
             story="agency"),
        plan("Librairie du Vieux Lyon", "reliable", 1.0, until=ago(400), story="closed",
             client={"status": ClientStatus.CLOSED}),
        plan("Hartley & Finch Ltd", "slow", 1.5, currency="GBP", vat=ZERO, tags=("Export",),
             client={**eu, "address_line1": "41 Clerkenwell Road", "postcode": "EC1M 5RS",
                     "city": "London", "country": "GB", "time_zone": "Europe/London"}),
        plan("Atelier Delvaux SRL", "slow", 1.0, vat=ZERO, tags=("Export",),
             client={**eu, "vat_number": belgian_vat(rng), "address_line1": "Rue du Page 18",
                     "postcode": "1050", "city": "Ixelles", "country": "BE",
                     "time_zone": "Europe/Brussels", "language": "fr"}),
        plan("Kessler Medien GmbH", "reliable", 1.0, vat=ZERO, tags=("Export",),
             client={**eu, "vat_number": german_vat(rng), "address_line1": "Oranienstraße 25",
                     "postcode": "10999", "city": "Berlin", "country": "DE",
                     "time_zone": "Europe/Berlin"}),
        plan("Commune de Saint-Aurel-sur-Brévenne", "cycle", 2.0, batch=True,
             tags=("Secteur public",), client={"cycle_months": 2, "cycle_day": 10}),
        plan("Office de tourisme des Monts d'Azergues", "late", 1.0,
             tags=("Secteur public",)),
        plan("Groupe Fontanel SA", "cycle", 4.0, terms="45eom", batch=True,
             tags=("Grand compte",), client={"cycle_months": 1, "cycle_day": 25}),
        plan("Clinique vétérinaire des Brotteaux", "cycle", 0.5, tags=retainer,
             retainer=Decimal(350), hosting=Decimal(89), method=PaymentMethod.DIRECT_DEBIT,
             client={"cycle_months": 1, "cycle_day": 5}),
        plan("Domaine Berthier", "slow", 1.5, story="dispute"),
        plan("Cabinet Lefort Avocats", "reliable", 1.5, story="overpaid"),
        plan("Fromagerie Moulin SAS", "reliable", 1.0, story="credited"),
        plan("Kevin Marchetti", "late", 0.0, story="write_off_1",
             client={"kind": ClientKind.INDIVIDUAL}),
        plan("Sandrine Aubert", "late", 0.0, story="write_off_2",
             client={"kind": ClientKind.INDIVIDUAL}),
    ]  # fmt: skip


FOREIGN_PEOPLE = {
    "Hartley & Finch Ltd": [("Oliver", "Hartley"), ("Priya", "Shah")],
    "Kessler Medien GmbH": [("Jana", "Kessler"), ("Lukas", "Brandt")],
    "Verdier Traiteur SAS": [("Isabelle", "Roux"), ("Marc", "Verdier")],
}


def random_client(reg: Register, index: int, individuals: int) -> ClientPlan:
    rng = reg.rng
    if index < individuals:
        first, last = _person(rng)
        client = _client(reg, f"{first} {last}", kind=ClientKind.INDIVIDUAL)
        behaviour = rng.choices(("card", "reliable", "slow"), weights=(5, 4, 1))[0]
        method = PaymentMethod.CARD if behaviour == "card" else PaymentMethod.CHEQUE
        return ClientPlan(client, behaviour, 0.3, reg.first, method=method)
    pattern, suffix = rng.choice(TRADES)
    name = " ".join(p for p in (pattern.format(rng.choice(SURNAMES)), suffix) if p)
    plan = ClientPlan(
        _client(reg, name),
        rng.choices(("reliable", "slow", "late"), weights=(45, 20, 35))[0],
        min(12.0, rng.paretovariate(1.5)),
        reg.first + timedelta(days=rng.choice((0, 0, 0, rng.randint(0, HISTORY_DAYS - 60)))),
        terms=rng.choice(("30", "30", "45eom")),
    )
    if rng.random() < 0.12:
        plan.retainer = Decimal(rng.randrange(300, 1500, 50))
        plan.hosting = Decimal(rng.choice((49, 59, 89, 129, 190)))
        plan.tags = ("Contrat de maintenance",)
    return plan


def plan_clients(reg: Register, count: int) -> None:
    if count < STORY_CLIENTS:
        raise ValueError(f"at least {STORY_CLIENTS} clients are needed, not {count}")
    reg.plans = story_clients(reg)
    individuals = max(0, round(count / 6) - 2)
    reg.plans += [random_client(reg, i, individuals) for i in range(count - STORY_CLIENTS)]
    for number, plan in enumerate(reg.plans, start=1):
        plan.client.reference = f"CLI-{number:04d}"
        _add_contacts(reg, plan, FOREIGN_PEOPLE.get(plan.client.name, ()))


def payment_terms(reg: Register) -> dict[str, PaymentTermsTemplate]:
    """The organisation's usual terms; clients on 45 days end of month get theirs."""
    org = reg.organisation
    templates = {
        "30": PaymentTermsTemplate(
            organisation=org, name="30 jours", kind="net", days=30, is_default=True
        ),
        "45eom": PaymentTermsTemplate(
            organisation=org,
            name="45 jours fin de mois (contrat)",
            kind="days_then_eom",
            days=45,
            agreed_45_eom=True,
        ),
        "now": PaymentTermsTemplate(organisation=org, name="À réception", kind="immediate"),
        "discount": PaymentTermsTemplate(
            organisation=org,
            name="30 jours, escompte 2 % à 10 jours",
            kind="net",
            days=30,
            discount_percent=Decimal(2),
            discount_days=10,
        ),
        "deposit": PaymentTermsTemplate(
            organisation=org, name="Acompte 30 %, solde à 30 jours", kind="deposit",
            deposit_percent=Decimal(30), days=30,
        ),
        "three": PaymentTermsTemplate(
            organisation=org, name="Paiement en 3 fois (particuliers)", kind="installments",
            count=3, days=0,
        ),
    }  # fmt: skip
    PaymentTermsTemplate.objects.bulk_create(templates.values())
    for plan in reg.plans:
        if plan.terms == "45eom":
            plan.client.payment_terms = templates["45eom"]
    return templates


def recurring_invoices(reg: Register, templates: dict[str, PaymentTermsTemplate]) -> None:
    """Retainer clients still under contract are invoiced on the 1st by the worker."""
    following = (reg.last.replace(day=1) + timedelta(days=32)).replace(day=1)
    RecurringInvoice.objects.bulk_create(
        RecurringInvoice(
            organisation=reg.organisation,
            client=plan.client,
            name=f"Forfait mensuel {plan.client.name}",
            lines=[
                {"description": "Forfait maintenance et évolutions", "quantity": "1",
                 "unit_price": str(plan.retainer), "vat_rate": str(plan.vat)},
                {"description": "Hébergement infogéré", "quantity": "1",
                 "unit_price": str(plan.hosting), "vat_rate": str(plan.vat)},
            ],
            frequency="monthly",
            next_date=following,
            terms_template=templates.get(plan.terms),
        )
        for plan in reg.plans
        if plan.retainer is not None and plan.until is None
    )  # fmt: skip


def save_clients(reg: Register) -> None:
    org = reg.organisation
    tags = {name: Tag(organisation=org, name=name) for name in TAGS}
    Tag.objects.bulk_create(tags.values())
    Client.objects.bulk_create([p.client for p in reg.plans], batch_size=BATCH)
    Through = Client.tags.through
    Through.objects.bulk_create(
        Through(client_id=p.client.pk, tag_id=tags[name].pk) for p in reg.plans for name in p.tags
    )
    contacts = [c for p in reg.plans for c in p.contacts]
    for contact in contacts:
        contact.client_id = contact.client.pk
    Contact.objects.bulk_create(contacts, batch_size=BATCH)


# --- Invoices ---------------------------------------------------------------


def _line(rng: random.Random, work: tuple, default_vat: Decimal) -> tuple:
    description, quantities, low, high, vat = work
    step = 10 if high - low >= 50 else 1
    price = Decimal(rng.randrange(low, high + 1, step))
    if vat is None or default_vat == 0:
        vat = default_vat
    return description, Decimal(rng.choice(quantities)), price, Decimal(vat)


def new_doc(reg: Register, plan: ClientPlan, issue: date, lines: list[tuple], **kw: Any) -> Doc:
    invoice = Invoice(
        organisation=reg.organisation,
        client=plan.client,
        currency=plan.currency,
        issue_date=issue,
        status=InvoiceStatus.ISSUED,
        **kw,
    )
    totals = compute_totals(((q, p, v) for _d, q, p, v in lines), plan.currency)
    invoice.total_net, invoice.total_vat, invoice.total_gross = totals.net, totals.vat, totals.gross
    if invoice.kind == InvoiceKind.INVOICE and "due_date" not in kw:
        invoice.due_date = due_date(issue, plan.terms)
    doc = Doc(plan, invoice, lines, order=len(reg.docs))
    reg.docs.append(doc)
    return doc


def work_invoice(reg: Register, plan: ClientPlan, issue: date) -> Doc:
    rng = reg.rng
    if plan.client.is_company:
        count = rng.choices((1, 2, 3, 4), weights=(6, 4, 2, 1))[0]
        lines = [_line(rng, rng.choice(B2B_WORK), plan.vat) for _ in range(count)]
    else:
        lines = [_line(rng, rng.choice(B2C_WORK), plan.vat) for _ in range(rng.randint(1, 2))]
    extra: dict[str, Any] = {}
    if "Secteur public" in plan.tags:
        extra["purchase_order"] = f"BC-{issue.year}-{rng.randint(100, 999)}"
    doc = new_doc(reg, plan, issue, lines, **extra)
    if plan.client.is_company and doc.invoice.total_net >= 6000 and rng.random() < 0.3:
        split_in_installments(doc)
    return doc


def split_in_installments(doc: Doc) -> None:
    """40 / 30 / 30 % at the due date, then a month and two months later."""
    invoice = doc.invoice
    gross = invoice.total_gross
    first = round_money(gross * Decimal("0.4"), invoice.currency)
    second = round_money(gross * Decimal("0.3"), invoice.currency)
    amounts = (first, second, gross - first - second)
    dates = [invoice.due_date + timedelta(days=30 * i) for i in range(3)]
    doc.schedule = list(zip(dates, amounts, strict=True))
    invoice.due_date = dates[-1]  # the whole amount is due by the last installment


def retainer_invoices(reg: Register) -> None:
    for plan in reg.plans:
        if plan.retainer is None:
            continue
        for month in month_starts(reg.first, reg.last):
            issue = workday(month)
            if not (max(reg.first, plan.since) <= issue <= min(reg.last, plan.until or reg.last)):
                continue
            label = f"{MONTHS[issue.month - 1]} {issue.year}"
            lines = [
                (
                    f"Forfait maintenance et évolutions - {label}",
                    Decimal(1),
                    plan.retainer,
                    plan.vat,
                ),
                (f"Hébergement infogéré - {label}", Decimal(1), plan.hosting, plan.vat),
            ]
            new_doc(reg, plan, issue, lines)


def active(plan: ClientPlan, day: date) -> bool:
    return plan.weight > 0 and plan.since <= day and (plan.until is None or day <= plan.until)


def work_invoices(reg: Register, count: int) -> None:
    rng = reg.rng
    days = [d for d in _days(reg.first, reg.last) if d.weekday() < 5]
    cumulative = list(itertools.accumulate(p.weight for p in reg.plans))
    for issue in sorted(rng.choices(days, k=max(0, count))):
        for _try in range(50):
            plan = rng.choices(reg.plans, cum_weights=cumulative)[0]
            if active(plan, issue):
                break
        work_invoice(reg, plan, issue)


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def credit_note(reg: Register, target: Doc, issue: date, lines: list[tuple]) -> Doc:
    note = new_doc(reg, target.plan, issue, lines, kind=InvoiceKind.CREDIT_NOTE)
    note.corrects = target
    target.credit_notes.append(note)
    return note


def number_documents(reg: Register) -> dict[str, int]:
    """Give numbers as ``issuing.issue`` does: per year series, gapless, in issue order."""
    org = reg.organisation
    counters: dict[str, int] = defaultdict(int)
    per_day: dict[date, int] = defaultdict(int)
    issued = [d for d in reg.docs if d.invoice.status != InvoiceStatus.DRAFT]
    for doc in sorted(issued, key=lambda d: (d.invoice.issue_date, d.order)):
        invoice = doc.invoice
        prefix = org.credit_note_prefix if invoice.kind == InvoiceKind.CREDIT_NOTE else ""
        series = f"{prefix or org.invoice_prefix}{invoice.issue_date.year}"
        counters[series] += 1
        invoice.number = f"{series}-{counters[series]:05d}"
        invoice.issued_at = at(invoice.issue_date, 9, per_day[invoice.issue_date])
        per_day[invoice.issue_date] += 1
    return counters


# --- Stories ----------------------------------------------------------------


def ago(reg: Register, days: int) -> date:
    return workday(reg.as_of - timedelta(days=days))


def euros(amount: Decimal) -> str:
    """French display of an amount in a note: 12 345,60 €."""
    return f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",") + "\xa0€"


def tens(amount: Decimal) -> Decimal:
    """An amount rounded down to tens, as people pay on account."""
    return Decimal(int(amount) // 10 * 10).quantize(Decimal("0.01"))


def story_documents(reg: Register) -> None:
    """The documents the stories need, whatever the random draw gave."""
    rng = reg.rng
    target = new_doc(
        reg,
        reg.story("dispute"),
        ago(reg, 170),
        [
            ("Atelier de cadrage (journée)", Decimal(2), Decimal(1200), Decimal(20)),
            (
                "Conception graphique - étiquettes de la cuvée",
                Decimal(4),
                Decimal(550),
                Decimal(20),
            ),
        ],
    )
    day = f"{target.invoice.issue_date:%d/%m}"
    credit_note(
        reg,
        target,
        workday(target.invoice.issue_date + timedelta(days=21)),
        [(f"Journée d'atelier du {day} non réalisée", Decimal(1), Decimal(1200), Decimal(20))],
    )
    reg.stories["dispute"] = target
    wrong = plain_invoice(reg, reg.story("credited"), ago(reg, 95))
    by_rate = compute_totals(((q, p, v) for _d, q, p, v in wrong.lines), "EUR").by_rate
    cancel = f"Annulation de la facture du {wrong.invoice.issue_date:%d/%m/%Y}"
    credit_note(
        reg,
        wrong,
        workday(wrong.invoice.issue_date + timedelta(days=4)),
        [(cancel, Decimal(1), base, rate) for rate, (base, _vat) in by_rate.items()],
    )
    reg.stories["credited"] = wrong
    reg.stories["overpaid"] = plain_invoice(reg, reg.story("overpaid"), ago(reg, 130))
    for key, days in (("write_off_1", 470), ("write_off_2", 430)):
        plan = reg.story(key)
        doc = new_doc(
            reg, plan, ago(reg, days), [_line(rng, B2C_WORK[rng.randint(1, 2)], plan.vat)]
        )
        doc.write_off = (workday(doc.invoice.due_date + timedelta(days=240)), NOTES["write_off"])
        reg.stories[key] = doc
    # A consumer's invoice from the first weeks, never paid: two years from its due date
    # it is time-barred (C. consom. L218-2), so it shows in the limitation alerts.
    plan = reg.story("write_off_1")
    reg.stories["limitation"] = new_doc(
        reg, plan, ago(reg, HISTORY_DAYS - 18), [_line(rng, B2C_WORK[2], plan.vat)]
    )


def plain_invoice(reg: Register, plan: ClientPlan, issue: date) -> Doc:
    """A work invoice without installments."""
    doc = work_invoice(reg, plan, issue)
    doc.schedule = []
    doc.invoice.due_date = due_date(issue, plan.terms)
    return doc


def drafts(reg: Register, count: int = 4) -> None:
    candidates = [p for p in reg.plans if p.until is None and p.weight > 0.3]
    for i in range(count):
        doc = plain_invoice(reg, candidates[reg.rng.randrange(len(candidates))], reg.last)
        invoice = doc.invoice
        invoice.status, invoice.issue_date, invoice.due_date = InvoiceStatus.DRAFT, None, None
        doc.drafted = at(reg.last - timedelta(days=i * 2), 11, 5 * i)


# --- Payments ---------------------------------------------------------------


def _cycle_date(client: Client, day: date) -> date:
    """The first day on or after ``day`` when the client runs its payments."""
    candidate = nth_of_month(day, client.cycle_day)
    while candidate < day or (candidate.year * 12 + candidate.month) % client.cycle_months:
        candidate = nth_of_month((candidate.replace(day=1) + timedelta(days=32)), client.cycle_day)
    return candidate


def pay_day(rng: random.Random, plan: ClientPlan, issue: date, due: date) -> date | None:
    behaviour = plan.behaviour
    if plan.stops_paying and due >= plan.stops_paying:
        return None
    if behaviour == "card":
        return issue + timedelta(days=rng.randint(0, 2))
    delay = {
        "reliable": (-10, 2),
        "trouble": (-6, 0),
        "cycle": (-5, -5),
        "slow": (2, 18),
        "late": (20, 110),
        "insolvent": (20, 90),
    }[behaviour]
    day = max(issue + timedelta(days=2), due + timedelta(days=rng.randint(*delay)))
    if plan.client.cycle_months:
        day = _cycle_date(plan.client, day)
    return workday(day)


def plan_payments(reg: Register) -> None:
    rng = reg.rng
    for doc in reg.docs:
        invoice = doc.invoice
        if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
            continue
        if doc.write_off or doc.credit_notes:
            continue
        parts = doc.schedule or [(invoice.due_date, invoice.total_gross)]
        for position, (due, amount) in enumerate(parts):
            day = pay_day(rng, doc.plan, invoice.issue_date, due)
            if day is None:
                continue
            installment = position if doc.schedule else None
            doc.events += split(rng, doc.plan, due, day, amount, installment)


def split(
    rng: random.Random, plan: ClientPlan, due: date, day: date, amount: Decimal, inst: int | None
) -> list[Event]:
    """Chronic late payers sometimes pay in two or three goes."""
    if plan.behaviour != "late" or inst is not None or amount < 300 or rng.random() > 0.3:
        return [Event(day, amount, inst)]
    first = tens(amount * Decimal(rng.randint(30, 60)) / 100)
    middle = workday(due + (day - due) / 2)
    return [Event(middle, first), Event(day, amount - first)]


def story_payments(reg: Register) -> None:
    dispute = reg.stories["dispute"]
    credited = sum((n.invoice.total_gross for n in dispute.credit_notes), ZERO)
    paid_on = workday(dispute.credit_notes[0].invoice.issue_date + timedelta(days=18))
    dispute.events = [Event(paid_on, dispute.invoice.total_gross - credited)]
    overpaid = reg.stories["overpaid"]
    overpaid.events = [
        Event(workday(overpaid.invoice.due_date), overpaid.invoice.total_gross, None, PAID_TWICE)
    ]
    reg.stories["limitation"].events = []
    trouble_promise(reg)
    open_partials(reg)


PAID_TWICE = Decimal("300.00")
PROMISED = Decimal("1000.00")


def promised_day(reg: Register) -> date:
    """The 15th on which the client in trouble kept its promise (a recent one)."""
    day = reg.as_of - timedelta(days=4)
    month = day if day.day >= 15 else (day.replace(day=1) - timedelta(days=1))
    return month.replace(day=15)


def trouble_promise(reg: Register) -> None:
    """The client in trouble paid part of its oldest unpaid invoice, as promised."""
    plan = reg.story("trouble")
    unpaid = [
        d for d in reg.docs
        if d.plan is plan and d.invoice.kind == InvoiceKind.INVOICE and d.invoice.due_date
        and d.invoice.due_date >= plan.stops_paying and d.invoice.total_gross > PROMISED
    ]  # fmt: skip
    oldest = min(unpaid, key=lambda d: (d.invoice.due_date, d.order))
    oldest.events = [Event(min(reg.last, workday(promised_day(reg))), PROMISED)]
    reg.stories["promise"] = oldest


def open_partials(reg: Register, count: int = 2) -> None:
    """Late payers that paid part of an overdue invoice and still owe the rest."""
    rng = reg.rng
    window = (reg.as_of - timedelta(days=80), reg.as_of - timedelta(days=20))
    candidates = [
        d for d in reg.docs
        if d.plan.behaviour == "late" and not d.plan.story and not d.schedule
        and d.invoice.kind == InvoiceKind.INVOICE and d.invoice.due_date
        and window[0] < d.invoice.due_date < window[1] and d.invoice.total_gross >= 500
        and all(e.day > reg.last for e in d.events)
    ]  # fmt: skip
    for doc in candidates[:count]:
        invoice = doc.invoice
        part = tens(invoice.total_gross * Decimal(rng.randint(30, 50)) / 100)
        doc.events = [Event(workday(invoice.due_date + timedelta(days=rng.randint(5, 15))), part)]


# --- Settlement -------------------------------------------------------------


def settle(reg: Register) -> None:
    """Drop what happens after as-of, then store figures as the services would."""
    for doc in reg.docs:
        doc.events = [e for e in doc.events if e.day <= reg.last]
        settle_doc(reg, doc)


def settle_doc(reg: Register, doc: Doc) -> None:
    """Store one document's figures from its payment events."""
    invoice = doc.invoice
    gross = invoice.total_gross
    if invoice.status == InvoiceStatus.DRAFT:
        invoice.balance = gross if invoice.kind == InvoiceKind.INVOICE else ZERO
        return
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        invoice.balance = ZERO
        return
    paid = sum((e.amount for e in doc.events), ZERO)
    credited = sum((n.invoice.total_gross for n in doc.credit_notes), ZERO)
    if paid + credited > gross:
        raise AssertionError(f"{invoice.number} would be overpaid")
    invoice.amount_paid, invoice.amount_credited = paid, credited
    invoice.balance = max(ZERO, gross - paid - credited)
    invoice.status = settlement_status(gross, paid, credited)
    doc.installments = [
        Installment(
            position=i + 1,  # as issuing.set_installments numbers them
            due_date=due,
            amount=amount,
            amount_paid=sum((e.amount for e in doc.events if e.installment == i), ZERO),
        )
        for i, (due, amount) in enumerate(doc.schedule)
    ]


# --- Saving -----------------------------------------------------------------


def batches[T](items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def unguarded(model: type[models.Model]) -> models.QuerySet:
    """A queryset without the ledger's guards against bulk writes to issued documents.

    Only for the loader, which writes documents as they stand once issued,
    and for deleting a whole organisation.
    """
    return models.QuerySet(model)


def save_documents(reg: Register) -> None:
    for doc in reg.docs:
        doc.invoice.client_id = doc.plan.client.pk
    invoices = [d for d in reg.docs if d.corrects is None]
    Invoice.objects.bulk_create([d.invoice for d in invoices], batch_size=BATCH)
    notes = [d for d in reg.docs if d.corrects is not None]
    for doc in notes:
        doc.invoice.corrects_id = doc.corrects.invoice.pk
    Invoice.objects.bulk_create([d.invoice for d in notes], batch_size=BATCH)
    lines = (
        InvoiceLine(invoice_id=d.invoice.pk, position=i, description=desc, quantity=q,
                    unit_price=p, vat_rate=v)
        for d in reg.docs for i, (desc, q, p, v) in enumerate(d.lines)
    )  # fmt: skip
    for batch in batches(lines):
        unguarded(InvoiceLine).bulk_create(batch)
    installments = [i for d in reg.docs for i in d.installments]
    for doc in reg.docs:
        for installment in doc.installments:
            installment.invoice_id = doc.invoice.pk
    Installment.objects.bulk_create(installments, batch_size=BATCH)


def payment_reference(rng: random.Random, plan: ClientPlan, numbers: list[str]) -> str:
    method = plan.method
    if method == PaymentMethod.CARD:
        return f"CB *{rng.randint(1000, 9999)} paiement en ligne"
    if method == PaymentMethod.CHEQUE:
        return f"Chèque n° {rng.randint(1_000_000, 9_999_999)}"
    if method == PaymentMethod.DIRECT_DEBIT:
        return f"PRLV SEPA STUDIO LUMEN RUM {plan.client.reference}"
    payer = _slug(plan.client.name).replace("-", " ").upper()[:30]
    shown = (
        " ".join(numbers) if len(numbers) <= 6 else f"{numbers[0]} ... ({len(numbers)} factures)"
    )
    return f"VIR SEPA {payer} {shown}"[:140]


def save_payments(reg: Register) -> list[tuple[Payment, list[tuple[Doc, Event]]]]:
    """One payment per event, or per day for clients that pay invoices in batches."""
    groups: dict[tuple, list[tuple[Doc, Event]]] = defaultdict(list)
    for doc in reg.docs:
        for event in doc.events:
            key = (event.day, doc.plan.client.reference, None if doc.plan.batch else doc.order)
            groups[key].append((doc, event))
    made = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2] or 0)):
        shares = groups[key]
        plan = shares[0][0].plan
        extra = sum((e.extra for _d, e in shares), ZERO)
        numbers = sorted({d.invoice.number for d, _e in shares})
        payment = Payment(
            organisation=reg.organisation,
            client_id=plan.client.pk,
            date=key[0],
            amount=sum((e.amount for _d, e in shares), ZERO) + extra,
            currency=plan.currency,
            method=plan.method,
            reference=payment_reference(reg.rng, plan, numbers),
            payer_name=plan.client.name,
            unallocated=extra,
            created_by=reg.author,
        )
        made.append((payment, shares))
    Payment.objects.bulk_create([p for p, _s in made], batch_size=BATCH)
    allocations = (
        Allocation(
            organisation=reg.organisation,
            payment_id=payment.pk,
            invoice_id=doc.invoice.pk,
            installment_id=None if e.installment is None else doc.installments[e.installment].pk,
            amount=e.amount,
        )
        for payment, shares in made for doc, e in shares
    )  # fmt: skip
    for batch in batches(allocations):
        Allocation.objects.bulk_create(batch)
    return made


def save_sequences(reg: Register, counters: dict[str, int]) -> None:
    NumberSequence.objects.bulk_create(
        NumberSequence(organisation=reg.organisation, series=series, last_value=value)
        for series, value in sorted(counters.items())
    )


# --- Timeline ---------------------------------------------------------------


def document_activities(reg: Register, doc: Doc) -> Iterator[Activity]:
    """What ``create_draft``, ``issue``, credit notes and write-offs record."""
    invoice, client = doc.invoice, doc.plan.client
    base = {"organisation": reg.organisation, "client": client, "invoice": invoice}
    author = reg.author
    created = doc.drafted or invoice.issued_at - timedelta(minutes=25)
    text = _("Credit note drafted") if doc.corrects else _("Invoice drafted")
    yield Activity(**base, kind=ActivityKind.CREATED, at=created, author=author, text=text)
    if invoice.status == InvoiceStatus.DRAFT:
        return
    yield Activity(**base, kind=ActivityKind.ISSUED, at=invoice.issued_at, author=author,
                   text=_("%(doc)s issued") % {"doc": invoice.number})  # fmt: skip
    if doc.corrects is not None:
        target = doc.corrects.invoice
        yield Activity(
            **{**base, "invoice": target},
            kind=ActivityKind.CREDIT_NOTE,
            at=invoice.issued_at,
            author=author,
            text=_("Credit note %(number)s: %(amount)s")
            % {
                "number": invoice.number,
                "amount": formats.money(invoice.total_gross, invoice.currency),
            },
        )


def payment_activities(reg: Register, payment: Payment, shares: list) -> Iterator[Activity]:
    """What ``record_payment`` records: one entry per invoice, one for client credit."""
    when = at(payment.date, 10, 30)
    client = shares[0][0].plan.client
    base = {"organisation": reg.organisation, "client": client, "author": reg.author, "at": when}
    for doc, event in shares:
        text = _("Payment of %(amount)s received on %(date)s (%(ref)s)") % {
            "amount": formats.money(event.amount, payment.currency),
            "date": formats.day(payment.date),
            "ref": payment.reference or "—",
        }
        yield Activity(**base, invoice=doc.invoice, kind=ActivityKind.PAYMENT, text=text)
    if payment.unallocated:
        text = _("%(amount)s kept as client credit") % {
            "amount": formats.money(payment.unallocated, payment.currency),
        }
        yield Activity(**base, kind=ActivityKind.PAYMENT, text=text)


def note_activities(reg: Register) -> Iterator[Activity]:
    for note in reg.notes:
        yield Activity(
            organisation=reg.organisation,
            client=note.plan.client,
            invoice=note.doc.invoice if note.doc else None,
            kind=ActivityKind.CALL if note.outcome else ActivityKind.NOTE,
            call_outcome=note.outcome,
            at=note.when,
            author=reg.author,
            text=note.text,
        )


def chase_calls(reg: Register) -> None:
    """Calls about late invoices: on most of those still open, a few of the others."""
    rng = reg.rng
    outcomes = list(CALLS)
    for doc in reg.docs:
        invoice = doc.invoice
        if doc.plan.behaviour != "late" or invoice.kind != InvoiceKind.INVOICE:
            continue
        if invoice.status == InvoiceStatus.DRAFT or doc.plan.story:
            continue
        paid_on = max((e.day for e in doc.events), default=None)
        call_day = workday(invoice.due_date + timedelta(days=rng.randint(8, 20)))
        if call_day > reg.last or (paid_on and paid_on <= call_day):
            continue
        if rng.random() < (0.7 if invoice.status in OPEN_STATUSES else 0.15):
            outcome = rng.choice(outcomes)
            text = CALLS[outcome].format(doc=invoice.number)
            reg.note(doc.plan, at(call_day, rng.randint(9, 17), rng.randint(0, 59)), text,
                     outcome=outcome, doc=doc)  # fmt: skip


def story_notes(reg: Register) -> None:
    """Notes and calls that explain the dashboard's exceptions."""
    o = CallOutcome
    trouble, insolvent = reg.story("trouble"), reg.story("insolvent")
    first_call = workday(trouble.stops_paying + timedelta(days=40))
    talk = workday(first_call + timedelta(days=6))
    promised = promised_day(reg)
    next_15 = (promised.replace(day=1) + timedelta(days=32)).replace(day=15)
    # The judgment and the work stops are recorded by the escalation services.
    judged, published = demo_escalation.judgment_day(reg), demo_escalation.published_day(reg)
    hold_1, hold_2, closed = reg.story("hold_1"), reg.story("hold_2"), reg.story("closed")
    for plan, when, outcome, key in (
        (trouble, at(first_call, 10), o.NO_ANSWER, "no_answer"),
        (trouble, at(talk, 11), o.REACHED, "trouble"),
        (trouble, at(talk, 11, 40), "", "delay"),
        (trouble, at(promised - timedelta(days=9), 16), o.PROMISE, "promise"),
        (trouble, at(reg.last - timedelta(days=1), 14), o.PROMISE, "promise_again"),
        (insolvent, at(published, 14), "", "insolvency"),
        (hold_1, at(workday(hold_1.until - timedelta(days=10)), 15), o.REACHED, "asap"),
        (hold_2, at(workday(hold_2.until - timedelta(days=15)), 10), o.PROMISE, "end_of_month"),
        (closed, at(workday(closed.until + timedelta(days=30)), 12), "", "closed"),
    ):
        text = NOTES[key].format(
            day=f"{judged:%d/%m/%Y}",
            next=f"{next_15.day} {MONTHS[next_15.month - 1]}",
        )
        reg.note(plan, when, text, outcome=outcome)
    document_notes(reg)


def document_notes(reg: Register) -> None:
    dispute, wrong, paid = (reg.stories[k] for k in ("dispute", "credited", "overpaid"))
    issued = dispute.invoice.issue_date
    for doc, when, outcome, key in (
        (dispute, at(workday(issued + timedelta(days=10)), 15), CallOutcome.DISPUTE, "dispute"),
        (dispute, at(workday(issued + timedelta(days=20)), 10), "", "dispute_settled"),
        (wrong, at(workday(wrong.invoice.issue_date + timedelta(days=3)), 9, 30), "", "wrong"),
        (paid, at(paid.events[0].day, 11), "", "paid_twice"),
    ):
        reg.note(doc.plan, when, NOTES[key], outcome=outcome, doc=doc)
    for key in ("write_off_1", "write_off_2"):
        doc = reg.stories[key]
        call = at(workday(doc.invoice.due_date + timedelta(days=45)), 18)
        reg.note(doc.plan, call, NOTES["wrong_number"], outcome=CallOutcome.WRONG_NUMBER, doc=doc)


def save_timeline(reg: Register, payments: list) -> int:
    with translation.override(reg.organisation.locale):
        entries = [a for doc in reg.docs for a in document_activities(reg, doc)]
        entries += [a for p, shares in payments for a in payment_activities(reg, p, shares)]
    entries += note_activities(reg)
    entries.sort(key=lambda a: a.at)
    for batch in batches(entries):
        Activity.objects.bulk_create(batch)
    return len(entries)


# --- Entry points -----------------------------------------------------------


@transaction.atomic
def build_organisation(
    name: str = DEMO_NAME,
    *,
    clients: int = 60,
    invoices: int = 1500,
    as_of: date,
    seed: int = DEFAULT_SEED,
    author: Any = None,
    reminders: bool = True,
) -> Organisation:
    """Write a whole register; ``invoices`` counts the issued invoices. ``reminders``
    replays the last weeks of daily reminder runs (see dunning.demo)."""
    organisation = create_organisation(name)
    reg = Register(organisation, as_of, author, random.Random(seed))
    plan_clients(reg, clients)
    templates = payment_terms(reg)
    save_clients(reg)
    recurring_invoices(reg, templates)
    retainer_invoices(reg)
    story_documents(reg)
    issued = sum(1 for d in reg.docs if d.invoice.kind == InvoiceKind.INVOICE)
    work_invoices(reg, invoices - issued)
    drafts(reg)
    counters = number_documents(reg)
    plan_payments(reg)
    story_payments(reg)
    settle(reg)
    chase_calls(reg)
    story_notes(reg)
    held = demo_payments.hold_back(reg)
    save_documents(reg)
    payments = save_payments(reg)
    save_timeline(reg, payments)
    save_sequences(reg, counters)
    demo_payments.record(reg, held)
    demo_escalation.before_history(reg)
    if reminders:
        from relance.dunning import demo as reminder_history

        reminder_history.populate(organisation, as_of)
        demo_escalation.after_history(reg, as_of - timedelta(days=reminder_history.HISTORY_DAYS))
    return organisation


def delete_organisation(organisation: Organisation) -> None:
    """Delete one organisation and all its data, children first (invoices are PROTECTed)."""
    org = organisation
    for notice in FormalNotice.objects.filter(organisation=org):
        for stored in (notice.pdf, notice.receipt):
            if stored:
                stored.delete(save=False)
    for model in (LateFee, Task, FormalNotice, Escalation):  # a late fee PROTECTs its invoice
        model.objects.filter(organisation=org).delete()
    for model in (StatementImport, PaymentPlan, SettlementOffer, Activity, Refund):
        unguarded(model).filter(organisation=org).delete()
    # Without the signals: their receivers would move the plans of clients deleted here,
    # fetching each allocation's payment first (a second per thousand allocations).
    allocations = unguarded(Allocation).filter(organisation=org)
    allocations._raw_delete(allocations.db)
    for model in (Payment, Attachment, RecurringInvoice):
        unguarded(model).filter(organisation=org).delete()
    invoices = unguarded(Invoice).filter(organisation=org)
    unguarded(Installment).filter(invoice__in=invoices).delete()
    unguarded(InvoiceLine).filter(invoice__in=invoices).delete()
    invoices.filter(kind=InvoiceKind.CREDIT_NOTE).delete()
    invoices.delete()
    org.delete()


def find_demo() -> Organisation | None:
    return Organisation.objects.filter(legal_name=DEMO_NAME, siren=DEMO_SIREN).first()


def demo_user(username: str, first: str, last: str) -> Any:
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username, f"{username}@example.com", username, first_name=first, last_name=last
        )
    return user


@transaction.atomic
def load_demo(*, as_of: date, seed: int = DEFAULT_SEED, reset: bool = False) -> Organisation:
    existing = find_demo()
    if existing is not None:
        if not reset:
            raise ValueError("the demo organisation already exists")
        delete_organisation(existing)
    users = [(demo_user(name, first, last), role) for name, first, last, role in DEMO_USERS]
    organisation = build_organisation(DEMO_NAME, as_of=as_of, seed=seed, author=users[0][0])
    Membership.objects.bulk_create(
        Membership(user=user, organisation=organisation, role=role) for user, role in users
    )
    return organisation


def paris_today() -> date:
    return timezone.localtime(timezone.now(), TZ).date()


def counts(organisation: Organisation) -> dict[str, int]:
    def n(model: type[models.Model], **lookup: Any) -> int:
        return model._default_manager.filter(organisation=organisation, **lookup).count()

    return {
        "clients": n(Client),
        "invoices": n(Invoice, kind=InvoiceKind.INVOICE),
        "credit notes": n(Invoice, kind=InvoiceKind.CREDIT_NOTE),
        "payments": n(Payment),
        "timeline entries": n(Activity),
        "bank statement lines": n(BankLine),
        "payment plans": n(PaymentPlan),
    }
