"""Matching bank credits to open invoices: 100,000 noisy credits against 1,000,000
open invoices of 100,000 clients, with the truth known for each credit.

    uv run python bench/bench_matching.py [--scale 0.1] [--seed 6] [--profile]

Pure Python, no database: the dataset is generated (seeded) in memory, then
relance.rules.matching.Matcher builds its indexes and matches every credit, in
one timed run. The noise: typos in RF references (bad checksum) and invoice
numbers, several invoices per payment, partial payments, early-discount
payments, payer names that differ from client names (abbreviations, other
legal forms, the manager's name, a parent company), credits that pay no
invoice. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from stdnum import iso11649

from bench_dunning import Line, machine, peak_rss_mb, print_table, reset_peak_rss, rss_mb
from relance.rules.matching import AUTO_THRESHOLD, ClientInfo, Credit, Matcher, OpenItem
from relance.rules.payment_reference import creditor_reference


def words_of(text: str) -> list[str]:
    return text.split()


CLIENTS = 100_000
INVOICES_PER_CLIENT = 10
CREDITS = 100_000
AS_OF = date(2026, 3, 10)

TIME_TARGET_S = 15.0
RSS_TARGET_MB = 2048.0
PRECISION_TARGET = 99.5
AUTOMATIC_TARGET = 90.0

# What the credits are (share of all credits, in per mille), roughly what a
# French SME's bank statement holds.
KINDS = {
    "rf": 420,  # the RF reference from the QR code or the invoice, exact amount
    "rf_typo": 30,  # an RF reference typed with a mistake: bad checksum
    "number": 160,  # the invoice number in the text, spelled any way
    "number_typo": 40,  # ... with one typo
    "several": 90,  # two to four invoices of one client in the text, their sum
    "partial": 40,  # part of one referenced invoice
    "discount": 30,  # early-payment discount taken, referenced
    "end_to_end": 50,  # the number only in the end-to-end id
    "bare_iban": 50,  # no reference: a known IBAN, one invoice or the oldest ones
    "bare_name": 30,  # no reference, unknown IBAN: the name only
    "noise": 60,  # not for any invoice
}

SURNAMES = words_of(
    """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent
Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard Andre Lefevre Mercier
Dupont Lambert Bonnet Francois Martinez Legrand Garnier Faure Rousseau Blanc Guerin Muller Henry
Roussel Nicolas Perrin Morin Mathieu Clement Gauthier Dumont Lopez Fontaine Chevalier Robin Masson
Sanchez Gerard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noel Meyer Lucas
Meunier Jean Perez Marchand Dufour Blanchard Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin
Fernandez Pierre Renard Arnaud Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine
Picard Gaillard Philippe Leclercq Lacroix Fabre Dupuis Olivier Rodriguez Da Silva Hubert Louis
Charles Guillot Riviere Le Gall Guillaume Adam Rey Moulin Gonzalez Berger Lecomte Menard Fleury
Deschamps Carpentier Julien Benoit Paris Maillard Marchal Aubry Vasseur Le Roux Renault Jacquet
Collet Prevost Poirier Charpentier Royer Huet Baron Dupuy Pons Paul Laine Carre Breton Remy
Schneider Perrot Guyot Barre Marty Cousin"""
)
TRADES = words_of(
    """Boulangerie Transports Garage Menuiserie Plomberie Electricite Pharmacie Hotel
Restaurant Imprimerie Librairie Fromagerie Boucherie Cabinet Atelier Ateliers Laboratoire
Agence Studio Maconnerie Couverture Peinture Jardins Paysages Optique Informatique Conseil
Distribution Logistique Nettoyage Securite Fleurs Vins Caves Auto Taxis Ambulances Pressing
Coiffure Immobilier Architecture Bureau Etudes Ingenierie Metallerie Serrurerie Carrosserie
Chauffage Climatisation Isolation Toitures Batiment Travaux Terrassement Location Services
Editions Productions Evenements Traiteur Brasserie Epicerie Primeur"""
)
CITIES = words_of(
    """Lyon Lille Nantes Rennes Dijon Tours Metz Nancy Brest Caen Rouen Reims Angers Nimes
Pau Bayonne Annecy Grenoble Valence Toulon Nice Arles Sete Agde Vannes Lorient Quimper Blois
Chartres Troyes Amiens Calais Dunkerque Roubaix Colmar Mulhouse Besancon Belfort Vichy Limoges
Poitiers Niort Cognac Perigueux Albi Rodez Auch Tarbes Bastia Ajaccio"""
)
FORMS = ["SARL", "SAS", "SASU", "EURL", "SA", "SNC", ""]
FIRST_NAMES = words_of(
    """Jean Marie Pierre Sophie Nicolas Isabelle Thomas Nathalie Julien Camille Antoine
Claire Laurent Anne Philippe Celine Olivier Julie Eric Sandrine"""
)
GROUPS = words_of("""Holding Groupe Financiere Participations Investissements""")
NOISE_TEXTS = [
    "REMBOURSEMENT ASSURANCE",
    "VIR INTERETS CREDITEURS",
    "VIREMENT INTERNE COMPTE EPARGNE",
    "REMISE CHEQUES 4 CHQ",
    "SUBVENTION REGION",
    "REMBOURSEMENT TROP PERCU TVA",
    "APPORT EN COMPTE COURANT",
    "",
]


@dataclass(slots=True)
class Truth:
    client_id: int | None
    invoices: frozenset[int]


@dataclass(slots=True)
class Dataset:
    items: list[OpenItem]
    clients: list[ClientInfo]
    credits: list[Credit]
    truth: dict[int, Truth]
    kinds: dict[int, str]


@dataclass(slots=True)
class Company:
    name: str
    short: str  # the name without legal form
    manager: str
    parent: str
    iban: str
    iban_known: bool


def fake_iban(rng: random.Random) -> str:
    # Only the format matters here: the matcher compares IBANs as given.
    return "FR76" + "".join(rng.choices("0123456789", k=23))


def company(rng: random.Random) -> Company:
    surname = rng.choice(SURNAMES)
    shape = rng.random()
    if shape < 0.45:
        short = f"{rng.choice(TRADES)} {surname}"
    elif shape < 0.7:
        short = f"{surname} {rng.choice(TRADES)} {rng.choice(CITIES)}"
    elif shape < 0.85:
        short = f"{rng.choice(TRADES)} {rng.choice(CITIES)} {rng.choice(SURNAMES)}"
    else:
        short = f"{surname} et Fils {rng.choice(CITIES)}"
    form = rng.choice(FORMS)
    name = f"{short} {form}".strip()
    manager = f"{rng.choice(FIRST_NAMES)} {surname}"
    parent = f"{rng.choice(GROUPS)} {rng.choice(SURNAMES)} {rng.choice(CITIES)}"
    return Company(name, short, manager, parent, fake_iban(rng), rng.random() < 0.75)


def typo(rng: random.Random, text: str) -> str:
    """One substitution, deletion, insertion or transposition of a letter or digit."""
    positions = [i for i, c in enumerate(text) if c.isalnum()]
    i = rng.choice(positions)
    kind = rng.randrange(4)
    if kind == 0:
        other = rng.choice([d for d in "0123456789" if d != text[i]])
        return text[:i] + other + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + rng.choice("0123456789") + text[i:]
    j = positions[positions.index(i) + 1] if i != positions[-1] else positions[-2]
    a, b = sorted((i, j))
    if text[a] == text[b]:
        return text[:a] + ("1" if text[a] != "1" else "2") + text[a + 1 :]
    return text[:a] + text[b] + text[a + 1 : b] + text[a] + text[b + 1 :]


def spelled(rng: random.Random, number: str) -> str:
    """An invoice number as people write it in a transfer's text."""
    prefix, year, seq = number[0], number[1:5], number[6:]
    shape = rng.randrange(6)
    if shape == 0:
        return number
    if shape == 1:
        return number.lower()
    if shape == 2:
        return f"{prefix}{year}{seq}"
    if shape == 3:
        return f"{prefix}{year}-{seq.lstrip('0')}"
    if shape == 4:
        return f"{prefix} {year} {seq}"
    return f"{prefix}{year}/{seq}"


def payer_name(rng: random.Random, who: Company) -> str:
    shape = rng.random()
    if shape < 0.35:
        return who.name.upper()
    if shape < 0.55:
        return who.short
    if shape < 0.65:
        return f"{who.short} {rng.choice(['SARL', 'SAS', 'Ltd', 'GmbH'])}"
    if shape < 0.75:  # abbreviated: first word cut, as banks truncate
        words = who.name.split()
        return " ".join([words[0][:4] + ".", *words[1:]])
    if shape < 0.85:
        return f"M. {who.manager.upper()}"
    if shape < 0.93:
        return who.parent.upper()
    return who.name[:18].upper()  # cut at 18 characters, as some banks do


def words(rng: random.Random) -> str:
    return rng.choice(["Facture", "FACT", "Fact.", "Reglement facture", "Paiement", "REF", "Inv"])


def generate(seed: int, clients: int, per_client: int, credits: int) -> Dataset:
    rng = random.Random(seed)
    companies: list[Company] = []
    infos: list[ClientInfo] = []
    for client_id in range(1, clients + 1):
        who = company(rng)
        companies.append(who)
        # relance knows the name, the manager (a contact) and, for half, the parent company.
        names = (who.name, who.manager) + ((who.parent,) if rng.random() < 0.5 else ())
        infos.append(ClientInfo(client_id, names, (who.iban,) if who.iban_known else ()))
    items: list[OpenItem] = []
    by_client: list[list[int]] = [[] for _ in range(clients + 1)]
    invoice_id = 0
    for client_id in range(1, clients + 1):
        for k in range(per_client):
            invoice_id += 1
            due = AS_OF + timedelta(days=rng.randrange(-180, 40))
            balance = Decimal(rng.randrange(5_000, 900_000)) / 100
            discount = until = None
            if rng.random() < 0.1:
                discount = (balance * 2 / 100).quantize(Decimal("0.01"))
                until = due - timedelta(days=20)
            number = f"F{2025 + (k >= 5)}-{invoice_id:06d}"
            by_client[client_id].append(len(items))
            items.append(
                OpenItem(invoice_id, client_id, number, balance, "EUR", due, "", discount, until)
            )
    for client in by_client:
        client.sort(key=lambda i: (items[i].due_date, items[i].invoice_id))

    truth: dict[int, Truth] = {}
    kinds: dict[int, str] = {}
    credit_list: list[Credit] = []
    used: set[int] = set()
    names = list(KINDS)
    weights = list(KINDS.values())
    discounted = [i for i, it in enumerate(items) if it.discount_amount]

    def fresh(pool: list[int]) -> int:
        while True:
            index = rng.choice(pool)
            if index not in used:
                used.add(index)
                return index

    everything = range(len(items))
    for line_id in range(1, credits + 1):
        kind = rng.choices(names, weights)[0]
        day = AS_OF - timedelta(days=rng.randrange(0, 5))
        remittance = structured = end_to_end = ""
        if kind == "noise":
            amount = Decimal(rng.randrange(1_000, 2_000_000)) / 100
            payer = rng.choice(["URSSAF", "AXA FRANCE", "DGFIP", "CPAM", "SCI DES LILAS", ""])
            credit = Credit(line_id, amount, "EUR", day, rng.choice(NOISE_TEXTS), "", "",
                            payer, fake_iban(rng))  # fmt: skip
            credit_list.append(credit)
            truth[line_id] = Truth(None, frozenset())
            kinds[line_id] = kind
            continue
        index = fresh(discounted if kind == "discount" else everything)  # type: ignore[arg-type]
        item = items[index]
        who = companies[item.client_id - 1]
        paid = [item]
        amount = item.balance
        referenced = kind in ("rf_typo", "partial", "discount") and rng.random() < 0.9
        if kind == "rf" or referenced:
            reference = creditor_reference(item.number)
            if kind == "rf_typo":
                while True:
                    wrong = typo(rng, reference[2:])
                    if not wrong.startswith("RF"):
                        candidate = "RF" + wrong
                        if not iso11649.is_valid(candidate):
                            reference = candidate
                            break
            if rng.random() < 0.7:
                structured = reference
            else:
                remittance = f"{words(rng)} {' '.join(reference[i : i + 4] for i in range(0, len(reference), 4))}"  # noqa: E501
        else:
            remittance = f"{words(rng)} {spelled(rng, item.number)}"
        if kind == "number_typo":
            remittance = f"{words(rng)} {typo(rng, item.number)}"
        if kind == "several":
            pool = [i for i in by_client[item.client_id] if i not in used]
            extra = rng.randrange(1, 4)
            for other in pool[:extra]:
                used.add(other)
                paid.append(items[other])
            amount = sum((it.balance for it in paid), Decimal(0))
            remittance = f"{words(rng)} " + " ".join(spelled(rng, it.number) for it in paid)
        if kind == "partial":
            amount = (item.balance * rng.randrange(20, 90) / 100).quantize(Decimal("0.01"))
        if kind == "discount":
            amount = item.balance - item.discount_amount
            day = min(day, item.discount_until)
        if kind == "end_to_end":
            remittance = rng.choice(["", "VIREMENT", "PAIEMENT FOURNISSEUR"])
            end_to_end = f"{who.short[:6].upper().replace(' ', '')}-{item.number}"
        if kind in ("bare_iban", "bare_name"):
            remittance = rng.choice(["", "VIREMENT", "REGLEMENT", "PAIEMENT FACTURES"])
            if rng.random() < 0.3:  # the oldest two open invoices at once
                pool = [i for i in by_client[item.client_id] if i not in used][:1]
                for other in pool:
                    used.add(other)
                    paid.append(items[other])
                amount = sum((it.balance for it in paid), Decimal(0))
        iban = who.iban if rng.random() < 0.9 else fake_iban(rng)
        if kind == "bare_name":
            iban = fake_iban(rng)
        if kind == "bare_iban" and not who.iban_known:
            kind = "bare_name"  # the bank gives it, but relance never saw it
        credit_list.append(
            Credit(line_id, amount, "EUR", day, remittance, structured, end_to_end,
                   payer_name(rng, who), iban)
        )  # fmt: skip
        truth[line_id] = Truth(item.client_id, frozenset(it.invoice_id for it in paid))
        kinds[line_id] = kind
    return Dataset(items, infos, credit_list, truth, kinds)


def cpu_calibration_ms() -> float:
    """bench_dunning's 3,000,000-step loop, in CPU time rather than wall time."""
    started = time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i
    return (time.process_time() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="Size relative to the issue's (1,000,000 invoices, 100,000 "
        "credits); the time target scales with it. 0.1 for a quick check.",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile the matching with cProfile (its time then includes the profiler's overhead).",
    )
    parser.add_argument(
        "--errors",
        type=int,
        default=0,
        help="Print this many wrong automatic matches and missed lines.",
    )
    args = parser.parse_args(argv)  # fmt: skip
    scale = args.scale
    clients = max(1, round(CLIENTS * scale))
    credits = max(1, round(CREDITS * scale))
    print(f"Machine: {machine()}; the loop's CPU time {cpu_calibration_ms():.0f} ms")
    started = time.perf_counter()
    data = generate(args.seed, clients, INVOICES_PER_CLIENT, credits)
    print(
        f"Dataset (seed {args.seed}): {len(data.items):,} open invoices of {clients:,} clients, "
        f"{len(data.credits):,} credits, generated in {time.perf_counter() - started:.1f} s "
        f"(not timed); resident memory {rss_mb():.0f} MB"
    )
    gc.collect()
    gc.freeze()  # the dataset is long-lived: keep the collector off it while timing
    peak_reset = reset_peak_rss()
    profiler = cProfile.Profile() if args.profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    matcher = Matcher(data.items, data.clients, threshold=AUTO_THRESHOLD)
    built, built_cpu = time.perf_counter() - wall, time.process_time() - cpu
    matches = matcher.match_all(data.credits)
    if profiler:
        profiler.disable()
    took, took_cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = peak_rss_mb()
    print(
        f"Index build {built:.2f} s (CPU {built_cpu:.2f} s) + matching {took - built:.2f} s "
        f"(CPU {took_cpu - built_cpu:.2f} s) = {took:.2f} s (CPU {took_cpu:.2f} s); "
        f"peak resident memory {peak:.0f} MB"
        + ("" if peak_reset else " (the process's peak: VmHWM could not be reset)")
    )
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(20)

    auto = auto_right = payable = payable_auto = review = unmatched = 0
    review_right = 0
    by_kind: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    missed: list[str] = []
    for credit, match in zip(data.credits, matches, strict=True):
        truth = data.truth[credit.line_id]
        kind = data.kinds[credit.line_id]
        right = (
            truth.client_id is not None
            and match.client_id == truth.client_id
            and {invoice for invoice, _ in match.shares} == truth.invoices
        )
        by_kind[(kind, match.status)] += 1
        if truth.client_id is not None:
            payable += 1
        if match.automatic:
            auto += 1
            auto_right += right
            payable_auto += truth.client_id is not None
            if not right:
                wrong.append(f"  {kind}: {credit} -> {match} (truth {truth})")
        elif match.matched:
            review += 1
            review_right += right
            if truth.client_id is not None:
                missed.append(f"  {kind}: {credit} -> {match}")
        else:
            unmatched += 1
    precision = 100 * auto_right / auto if auto else 100.0
    automatic = 100 * payable_auto / payable if payable else 100.0
    noise = len(data.credits) - payable
    print(
        f"Automatic {auto:,} ({auto - auto_right} wrong), review {review:,} (the proposal "
        f"right for {review_right:,}), unmatched {unmatched:,}; {noise:,} credits pay no invoice"
    )
    print("By kind of credit (automatic / review / unmatched):")
    for kind in KINDS:
        counts = [by_kind[(kind, status)] for status in ("auto", "review", "unmatched")]
        if sum(counts):
            print(f"  {kind:<12} {counts[0]:>7,} {counts[1]:>7,} {counts[2]:>7,}")
    for title, rows in (("Wrong automatic matches", wrong), ("Not automatic", missed)):
        if args.errors and rows:
            print(f"{title} (first {args.errors}):")
            print("\n".join(rows[: args.errors]))
    print(f"Machine at the end: {machine()}")
    loop_cpu = cpu_calibration_ms()
    print(
        f"The same loop's CPU time now: {loop_cpu:.0f} ms (about 120-160 ms on a quiet machine: "
        "on a loaded one, even the CPU time of a step grows)"
    )
    lines = [
        Line(f"index build + matching of {len(data.credits):,} credits", took, "s",
             TIME_TARGET_S * scale),
        Line("  the same, CPU time of the process", took_cpu, "s"),
        Line("peak resident memory (with the dataset)", peak, "MB", RSS_TARGET_MB),
        Line("precision of automatic matches", precision, "%", PRECISION_TARGET, below=False),
        Line("credits for an invoice matched automatically", automatic, "%",
             AUTOMATIC_TARGET, below=False),
    ]  # fmt: skip
    print_table(lines, scale)
    return 0 if all(line.ok for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
