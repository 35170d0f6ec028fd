"""The demo's getting-paid features, written through their services.

On top of the register ``relance.demo`` writes in bulk:

- a bank statement of the last two weeks, imported two days before as-of: a
  camt.053 made here from the register's own recent transfers plus a few odd
  credits and the month's debits, imported by ``banking.importing`` and
  matched by ``banking.matching``. Most credits match automatically; a typo in
  a reference, a partial payment and a payer whose name is not the client's
  wait for review; a supplier's refund, an URSSAF refund and an unknown payer
  stay unmatched;
- a payment plan agreed seven weeks ago (down payment and first installment
  paid, the next to come), a plan proposed a few days ago waiting for the
  client's agreement, and an open settlement offer (``relance.plans``);
- an overpayment kept as client credit, and a transfer received twice, kept as
  credit then refunded (``ledger.settlement``).

``hold_back`` runs on the planned register before it is saved: it takes out
the payments the statement and the plan will record through the services, so
their invoices are still open when the services come. ``record`` runs once the
register is saved. The services stamp their timeline entries with the clock;
``dated`` puts them back on the story's day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.db.models import Max
from schwifty import IBAN

from relance.banking import importing, matching
from relance.banking.models import StatementImport
from relance.dunning.models import Pause
from relance.ledger import settlement
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Client,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentThanks,
)
from relance.plans import offers
from relance.plans import service as plans
from relance.plans.models import DiscountKind, PaymentPlan, SettlementOffer
from relance.rules.money import ZERO, round_money

if TYPE_CHECKING:
    from relance.demo import ClientPlan, Doc, Event, Register

STATEMENT_DAYS = 14  # the statement covers two weeks...
STATEMENT_LAG = 3  # ...up to three days before as-of, and is imported the day after
PLAN_AGO = 52  # the agreed plan was proposed this many days before as-of
PLAN_INVOICES = (2, 5)  # how many overdue invoices it covers
BATCH_NUMBERS = 5  # a transfer quoting more invoice numbers stays a manual payment
MAX_BANKED = 60  # client transfers on the statement, whatever the register's size
BANKS = ("30004", "30003", "10278", "20041", "11315", "18206", "30002")

# Credits of the statement that are no client's payment, and the month's debits:
# (day of the period, amount, payer or payee, text).
UNMATCHED = (
    (2, Decimal("71.99"), "ADOBE SYSTEMS SOFTWARE IRELAND LTD",
     "REMBOURSEMENT AVOIR 7845512 LICENCE CREATIVE CLOUD DOUBLE FACTURATION"),
    (6, Decimal("412.00"), "URSSAF RHONE ALPES", "REMBOURSEMENT TROP PERCU COTISATIONS T3"),
    (9, Decimal("245.50"), "M OU MME WOJCIK TADEUSZ", "VIREMENT WOJCIK"),
)  # fmt: skip
DEBITS = (
    (0, Decimal("2350.00"), "SCI SAINT-VINCENT", "LOYER ATELIER 27 QUAI SAINT-VINCENT"),
    (3, Decimal("89.99"), "OVH SAS", "PRLV SEPA OVH SAS SERVEURS DEDIES"),
    (5, Decimal("3184.00"), "URSSAF RHONE ALPES", "PRLV SEPA URSSAF COTISATIONS"),
    (10, Decimal("18.50"), "", "FRAIS TENUE DE COMPTE"),
)
OPENING_BALANCE = Decimal("24318.45")

NOTES = {
    "plan_asked": (
        "Le gérant demande à étaler le règlement des factures échues : trésorerie tendue "
        "après un gros chantier payé en retard. Échéancier proposé avec un acompte."
    ),
    "plan_proposed": (
        "Échéancier proposé par téléphone au gérant, qui doit en parler à son associé : "
        "en attente de son accord."
    ),
    "offer": (
        "Proposition faite au service comptable : remise de 5 % si tout l'échu est réglé "
        "d'ici l'échéance de l'offre."
    ),
    "twice": "Virement reçu deux fois pour la même facture : le second est remboursé.",
}


@dataclass
class Banked:
    """A transfer of the register that comes in through the statement."""

    plan: ClientPlan
    day: date
    shares: list[tuple[Doc, Event]]

    @property
    def amount(self) -> Decimal:
        return sum((event.amount for _doc, event in self.shares), ZERO)


@dataclass
class Stories:
    first: date  # the statement's period
    last: date
    imported: datetime
    banked: list[Banked] = field(default_factory=list)
    plan_day: date | None = None
    plan_client: ClientPlan | None = None
    plan_docs: list[Doc] = field(default_factory=list)
    overpaid: tuple[Doc, Event] | None = None


# --- Before saving ----------------------------------------------------------


def hold_back(reg: Register) -> Stories:
    """Take out of the planned register what the services will record."""
    from relance.demo import at, workday

    last = reg.as_of - timedelta(days=STATEMENT_LAG)
    stories = Stories(
        first=last - timedelta(days=STATEMENT_DAYS - 1),
        last=last,
        imported=at(last + timedelta(days=1), 8, 40),
    )
    hold_plan(reg, stories, workday(reg.as_of - timedelta(days=PLAN_AGO)))
    hold_transfers(reg, stories)
    hold_overpayment(reg, stories)
    return stories


def hold_overpayment(reg: Register, stories: Stories) -> None:
    """The overpaid client's transfer is recorded by ``settlement.record_payment``,
    which keeps the excess as client credit."""
    from relance.demo import settle_doc

    doc = reg.stories["overpaid"]
    paid = [e for e in doc.events if e.extra]
    if paid:
        stories.overpaid = (doc, paid[0])
        doc.events = [e for e in doc.events if e is not paid[0]]
        settle_doc(reg, doc)


def _settled_by(doc: Doc, day: date) -> Decimal:
    return sum((e.amount for e in doc.events if e.day < day), ZERO)


def _plain(doc: Doc) -> bool:
    """An issued invoice without installments, credit notes or write-off."""
    invoice = doc.invoice
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.status != InvoiceStatus.DRAFT
        and not doc.schedule
        and not doc.credit_notes
        and not doc.write_off
    )


def hold_plan(reg: Register, stories: Stories, day: date) -> None:
    """The late payer with the most invoices overdue on ``day`` gets the agreed plan:
    what it paid on them from that day is taken out, the plan's payments replace it."""
    from relance.demo import Event, settle_doc, workday

    overdue: dict[int, list[Doc]] = defaultdict(list)  # by id() of the client's plan
    for d in reg.docs:
        if _plain(d) and d.invoice.due_date < day and _settled_by(d, day) < d.invoice.total_gross:
            overdue[id(d.plan)].append(d)
    best: tuple[int, Decimal] = (0, ZERO)
    for plan in reg.plans:
        if plan.story or plan.behaviour != "late" or plan.currency != "EUR":
            continue
        if plan.until is not None or plan.stops_paying or not plan.client.is_company:
            continue
        docs = overdue[id(plan)]
        owed = sum((d.invoice.total_gross - _settled_by(d, day) for d in docs), ZERO)
        if PLAN_INVOICES[0] <= len(docs) <= PLAN_INVOICES[1] and (len(docs), owed) > best:
            best = (len(docs), owed)
            stories.plan_client, stories.plan_docs = plan, docs
    client = stories.plan_client
    if client is None:
        return
    stories.plan_day = day
    for doc in stories.plan_docs:
        doc.events = [e for e in doc.events if e.day < day]
        settle_doc(reg, doc)
    # Since the plan the client pays its new invoices on time, and is called no more.
    for doc in reg.docs:
        if doc.plan is client and _plain(doc) and doc.invoice.due_date >= day:
            on_time = workday(max(doc.invoice.issue_date, doc.invoice.due_date - timedelta(days=3)))
            doc.events = [Event(on_time, doc.invoice.total_gross)] if on_time <= reg.last else []
            settle_doc(reg, doc)
    reg.notes = [n for n in reg.notes if not (n.plan is client and n.when.date() >= day)]


def hold_transfers(reg: Register, stories: Stories) -> None:
    """The transfers of the statement's period that settle what they pay."""
    from relance.demo import settle_doc

    groups: dict[tuple, list[tuple[Doc, Event]]] = defaultdict(list)
    for doc in reg.docs:  # grouped as demo.save_payments groups them
        for event in doc.events:
            if stories.first <= event.day <= stories.last:
                key = (event.day, doc.plan.client.reference, None if doc.plan.batch else doc.order)
                groups[key].append((doc, event))
    keys = sorted(groups, key=lambda k: (k[0], k[1], k[2] or 0))
    keys = [k for k in keys if _bankable(groups[k][0][0].plan, groups[k], stories)]
    if len(keys) > MAX_BANKED:  # a register far bigger than the demo's (bench_register)
        keys = [keys[i * len(keys) // MAX_BANKED] for i in range(MAX_BANKED)]
    for key in keys:
        shares = groups[key]
        stories.banked.append(Banked(shares[0][0].plan, key[0], shares))
        for doc, event in shares:
            doc.events = [e for e in doc.events if e is not event]
            settle_doc(reg, doc)


def _bankable(plan: ClientPlan, shares: list[tuple[Doc, Event]], stories: Stories) -> bool:
    if plan.story or plan is stories.plan_client or plan.method != PaymentMethod.TRANSFER:
        return False
    if plan.currency != "EUR" or len(shares) > BATCH_NUMBERS:
        return False
    for doc, event in shares:
        paid = sum((e.amount for e in doc.events), ZERO)
        finishes = paid == doc.invoice.total_gross and event.day == max(e.day for e in doc.events)
        if not _plain(doc) or event.extra or event.installment is not None or not finishes:
            return False
    return True


# --- After saving -------------------------------------------------------------


@contextmanager
def dated(reg: Register, when: datetime) -> Iterator[None]:
    """Timeline entries (and pauses) written inside the block are put on ``when``."""
    from relance.demo import unguarded

    org = reg.organisation
    before = Activity.objects.filter(organisation=org).aggregate(last=Max("pk"))["last"] or 0
    paused = Pause.objects.filter(organisation=org).aggregate(last=Max("pk"))["last"] or 0
    yield
    unguarded(Activity).filter(organisation=org, pk__gt=before).update(at=when)
    # Pauses show on the client's timeline at their creation.
    Pause.objects.filter(organisation=org, pk__gt=paused).update(created_at=when)


def record(reg: Register, stories: Stories) -> None:
    overpayment(reg, stories)
    agreed_plan(reg, stories)
    proposed_plan(reg)
    settlement_offer(reg)
    refunded_transfer(reg, stories)
    statement(reg, stories)


def _spread(invoices: list[Invoice], amount: Decimal) -> list[settlement.Share]:
    """An amount over these invoices, oldest first."""
    shares, left = [], amount
    for invoice in invoices:
        invoice.refresh_from_db()
        part = min(left, invoice.balance)
        if part > 0:
            shares.append(settlement.Share(invoice, part))
            left -= part
    return shares


def _note(reg: Register, client: Client, when: datetime, key: str) -> None:
    Activity.objects.create(
        organisation=reg.organisation,
        client=client,
        kind=ActivityKind.NOTE,
        at=when,
        author=reg.author,
        text=NOTES[key],
    )


def overpayment(reg: Register, stories: Stories) -> None:
    from relance.demo import at

    if stories.overpaid is None:
        return
    doc, event = stories.overpaid
    invoice, client = Invoice.objects.get(pk=doc.invoice.pk), doc.plan.client
    with dated(reg, at(event.day, 10, 30)):
        settlement.record_payment(
            client=client,
            amount=event.amount + event.extra,
            currency=invoice.currency,
            date=event.day,
            shares=[settlement.Share(invoice, event.amount)],
            reference=f"VIR SEPA {payer(client)} {invoice.number}",
            payer_name=client.name,
            keep_excess_as_credit=True,
            author=reg.author,
            thank=False,
        )


def agreed_plan(reg: Register, stories: Stories) -> None:
    from relance.demo import at, tens, workday

    if stories.plan_client is None or stories.plan_day is None:
        return
    day, client = stories.plan_day, stories.plan_client.client
    invoices = list(
        Invoice.objects.filter(pk__in=[d.invoice.pk for d in stories.plan_docs]).order_by(
            "due_date", "pk"
        )
    )
    owed = sum((i.balance for i in invoices), ZERO)
    down = tens(owed * Decimal("0.3"))
    _note(reg, client, at(day, 10, 15), "plan_asked")
    proposal = plans.Proposal(
        count=3, frequency="monthly", day=plans.usual_day(client, day), down_payment=down
    )
    with dated(reg, at(day, 10, 40)):
        plan = plans.propose(client, invoices, proposal, as_of=day, author=reg.author)
    sent(PaymentPlan, plan.pk, at(day, 10, 45))
    agreed = workday(day + timedelta(days=2))
    with dated(reg, at(agreed, 16, 5)):
        plans.agree(plan, as_of=agreed, author=reg.author)
    rows = list(plan.installments.order_by("position"))
    count = len(rows) - 1
    # The down payment, then the first installment on its day; the next one is to come.
    for row, paid_on, label in (
        (rows[0], workday(agreed + timedelta(days=1)), "Acompte échéancier"),
        (rows[1], workday(rows[1].due_date), f"Échéance 1/{count} échéancier"),
    ):
        if paid_on > reg.last:
            break
        with dated(reg, at(paid_on, 10, 30)):
            settlement.record_payment(
                client=client,
                amount=row.amount,
                currency=plan.currency,
                date=paid_on,
                shares=_spread(invoices, row.amount),
                reference=f"VIR SEPA {payer(client)} {label}"[:140],
                payer_name=client.name,
                author=reg.author,
                thank=False,
            )
            plans.refresh(plan, as_of=paid_on)


def proposed_plan(reg: Register) -> None:
    """Proposed to the client on hold a few days ago, waiting for its agreement."""
    from relance.demo import ago, at

    client = reg.story("hold_1").client
    day = ago(reg, 4)
    invoices = plans.overdue_invoices(client, day, "EUR")
    if not invoices:
        return
    proposal = plans.Proposal(count=4, frequency="monthly", day=10)
    _note(reg, client, at(day, 11, 0), "plan_proposed")
    with dated(reg, at(day, 11, 20)):
        plan = plans.propose(client, invoices, proposal, as_of=day, author=reg.author)
    sent(PaymentPlan, plan.pk, at(day, 11, 25))


def settlement_offer(reg: Register) -> None:
    """5 % off the overdue balance of the other client on hold, if paid within two weeks."""
    from relance.demo import ago, at

    client = reg.story("hold_2").client
    day = ago(reg, 6)
    invoices = plans.overdue_invoices(client, day, "EUR")
    if not invoices:
        return
    _note(reg, client, at(day, 14, 30), "offer")
    with dated(reg, at(day, 14, 45)):
        offer = offers.make(
            client,
            invoices,
            kind=DiscountKind.PERCENT,
            value=Decimal(5),
            expires_on=day + timedelta(days=14),
            as_of=day,
            author=reg.author,
        )
    sent(SettlementOffer, offer.pk, at(day, 14, 50))


def sent(model: type[PaymentPlan | SettlementOffer], pk: int, when: datetime) -> None:
    """The agreement or the offer went to the client by email then. As the reminder
    history does, the demo marks it sent without sending (nor drawing its PDF: the
    page draws it when asked)."""
    model.objects.filter(pk=pk).update(sent_at=when)


def refunded_transfer(reg: Register, stories: Stories) -> None:
    """A reliable client's transfer came twice: kept as credit, refunded a week later."""
    from relance.demo import at, workday

    window = (reg.as_of - timedelta(days=70), reg.as_of - timedelta(days=35))
    busy = _busy(stories)
    payment = None
    for plan in reg.plans:
        if plan.story or plan.client.reference in busy or plan.behaviour != "reliable":
            continue
        if plan.currency != "EUR" or plan.method != PaymentMethod.TRANSFER or plan.batch:
            continue
        payment = (
            Payment.objects.filter(
                client=plan.client, date__range=window, unallocated=0, amount__gte=500
            )
            .order_by("date", "pk")
            .first()
        )
        if payment is not None:
            break
    if payment is None:
        return
    client = payment.client
    again = workday(payment.date + timedelta(days=1))
    with dated(reg, at(again, 10, 30)):
        twice = settlement.record_payment(
            client=client,
            amount=payment.amount,
            currency=payment.currency,
            date=again,
            shares=[],
            reference=payment.reference,
            payer_name=payment.payer_name,
            keep_excess_as_credit=True,
            author=reg.author,
            thank=False,
        )
    refunded = workday(again + timedelta(days=7))
    _note(reg, client, at(refunded, 9, 50), "twice")
    with dated(reg, at(refunded, 10, 0)):
        settlement.refund_credit(
            client,
            amount=twice.amount,
            currency=twice.currency,
            date=refunded,
            reference=f"REMBOURSEMENT VIREMENT EN DOUBLE DU {again:%d/%m/%Y}",
            author=reg.author,
        )


def _busy(stories: Stories) -> set[str]:
    """Clients (by reference) a story already uses."""
    plans = [stories.plan_client, *(b.plan for b in stories.banked)]
    return {plan.client.reference for plan in plans if plan is not None}


# --- The statement ------------------------------------------------------------


@dataclass
class Line:
    day: date
    amount: Decimal
    credit: bool
    party: str
    text: str
    iban: str = ""
    reference: str = ""  # structured (RF) reference
    end_to_end: str = "NOTPROVIDED"


def client_iban(client: Client) -> str:
    """The account a client pays from, the same for the same client."""
    number = int(client.reference.rsplit("-", 1)[-1])
    bank = BANKS[number % len(BANKS)]
    return IBAN.generate("FR", bank_code=bank, account_code=f"{number * 7919:011d}").compact


def payer(client: Client) -> str:
    return payer_name(client.name)


def payer_name(name: str) -> str:
    """A name as banks print it: upper case, without accents."""
    from relance.demo import _slug

    return _slug(name).replace("-", " ").upper()[:70]


def statement_lines(reg: Register, stories: Stories) -> list[Line]:
    lines = []
    for n, banked in enumerate(stories.banked):
        client = banked.plan.client
        numbers = sorted(doc.invoice.number for doc, _e in banked.shares)
        text = ("FACTURE " if len(numbers) == 1 else "FACTURES ") + " ".join(numbers)
        lines.append(
            Line(banked.day, banked.amount, True, payer(client), text, client_iban(client),
                 end_to_end=f"{client.reference}-{banked.day:%y%m%d}-{n}")
        )  # fmt: skip
    lines += review_lines(reg, stories)
    for offset, amount, party, text in UNMATCHED:
        lines.append(Line(stories.first + timedelta(days=offset), amount, True, party, text))
    for offset, amount, party, text in DEBITS:
        lines.append(Line(stories.first + timedelta(days=offset), amount, False, party, text))
    for line in lines:  # a weekend booking moves to the Monday, as banks book
        line.day = min(stories.last, _weekday(line.day))
    return sorted(lines, key=lambda line: (line.day, not line.credit, line.party, line.amount))


def _weekday(day: date) -> date:
    from relance.demo import workday

    return workday(day)


def review_lines(reg: Register, stories: Stories) -> list[Line]:
    """Three credits for a person: a reference with a typo, a partial payment and
    a payer whose name is not the client's, each on an open invoice of its own client."""
    busy = _busy(stories)
    by_client = {p.client.pk: p for p in reg.plans}
    open_eur = list(
        Invoice.objects.open()
        .filter(organisation=reg.organisation, currency="EUR")
        .values_list("pk", "client_id", "number", "balance", "status", "due_date")
        .order_by("due_date", "pk")
    )
    amounts: dict[Decimal, int] = defaultdict(int)
    for row in open_eur:
        amounts[row[3]] += 1
    picked: list[tuple] = []
    for row in open_eur:
        pk, client_id, number, balance, status, due = row
        plan = by_client[client_id]
        if plan.client.reference in busy or plan.story or not plan.client.is_company:
            continue
        if status != InvoiceStatus.ISSUED or due > stories.last or balance < 400:
            continue
        if plan.batch or client_id in {p[1] for p in picked} or amounts[balance] != 1:
            continue
        if Invoice.objects.filter(pk=pk, installments__isnull=False).exists():
            continue
        picked.append(row)
        if len(picked) == 3:
            break
    lines = []
    days = (4, 7, 11)
    for kind, row, offset in zip(("typo", "partial", "other_payer"), picked, days, strict=False):
        _pk, client_id, number, balance, _status, _due = row
        client = by_client[client_id].client
        day = stories.first + timedelta(days=offset)
        if kind == "typo":
            # Paid by the manager from a personal account: the name alone is not the client's.
            manager = client.contacts.order_by("pk").values_list("last_name", flat=True)[0]
            lines.append(
                Line(day, balance, True, payer_name(f"M OU MME {manager}"),
                     f"FACT {typo(number)}", "FR7617515900000812345678906")
            )  # fmt: skip
        elif kind == "partial":
            part = round_money(balance * Decimal("0.4"), "EUR").quantize(Decimal(1))
            lines.append(
                Line(day, part, True, payer(client), f"ACOMPTE SUR FACTURE {number}",
                     client_iban(client))
            )  # fmt: skip
        else:
            lines.append(
                Line(day, balance, True, "SCI LES GLYCINES", "REGLEMENT FACTURE",
                     "FR7610096000501234567890185")
            )  # fmt: skip
    return lines


def typo(number: str) -> str:
    """The number with the last two digits of its year swapped: F2026-00042 as
    F2062-00042, one typo away from the invoice and from no other number."""
    series, _sep, rest = number.rpartition("-")
    head, year = series[:-4], series[-4:]
    return f"{head}{year[:2]}{year[3]}{year[2]}-{rest}"


def camt053(reg: Register, stories: Stories, lines: list[Line]) -> bytes:
    """The statement as the bank sends it (ISO 20022 camt.053.001.08)."""
    org = reg.organisation
    closing = OPENING_BALANCE + sum(
        (line.amount if line.credit else -line.amount for line in lines), ZERO
    )
    stamp = stories.imported.isoformat(timespec="seconds")
    statement_id = f"STMT-{stories.last:%Y%m%d}"

    def balance(code: str, amount: Decimal, day: date) -> str:
        sign = "CRDT" if amount >= 0 else "DBIT"
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{abs(amount):.2f}</Amt><CdtDbtInd>{sign}</CdtDbtInd>'
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
        )

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{stamp}</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>{stories.last:%j}</ElctrncSeqNb>"
        f"<CreDtTm>{stamp}</CreDtTm><FrToDt><FrDtTm>{stories.first}T00:00:00</FrDtTm>"
        f"<ToDtTm>{stories.last}T23:59:59</ToDtTm></FrToDt>"
        f"<Acct><Id><IBAN>{org.iban}</IBAN></Id><Ccy>EUR</Ccy>"
        f"<Svcr><FinInstnId><BICFI>{org.bic}</BICFI></FinInstnId></Svcr></Acct>",
        balance("OPBD", OPENING_BALANCE, stories.first - timedelta(days=1)),
        balance("CLBD", closing, stories.last),
    ]
    for n, line in enumerate(lines, start=1):
        indicator = "CRDT" if line.credit else "DBIT"
        role, account = ("Dbtr", "DbtrAcct") if line.credit else ("Cdtr", "CdtrAcct")
        party = f"<{role}><Pty><Nm>{escape(line.party)}</Nm></Pty></{role}>" if line.party else ""
        if line.iban:
            party += f"<{account}><Id><IBAN>{line.iban}</IBAN></Id></{account}>"
        family = ("RCDT", "ESCT") if line.credit else ("ICDT", "ESCT")
        if not line.party:
            family = ("CCRD", "CHRG")
        structured = (
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{line.reference}</Ref></CdtrRefInf></Strd>"
            if line.reference
            else ""
        )
        out.append(
            f'<Ntry><Amt Ccy="EUR">{line.amount:.2f}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{line.day}</Dt></BookgDt>"
            f"<ValDt><Dt>{line.day}</Dt></ValDt>"
            f"<AcctSvcrRef>{stories.last:%Y%m%d}{n:05d}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family[0]}</Cd>"
            f"<SubFmlyCd>{family[1]}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(line.end_to_end)}</EndToEndId></Refs>"
            f'<Amt Ccy="EUR">{line.amount:.2f}</Amt>'
            f"<RltdPties>{party}</RltdPties>"
            f"<RmtInf><Ustrd>{escape(line.text)}</Ustrd>{structured}</RmtInf>"
            "</TxDtls></NtryDtls></Ntry>"
        )
    out.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(out).encode()


def statement(reg: Register, stories: Stories) -> StatementImport | None:
    """Import the statement and match its credits, as on the day it came."""
    org = reg.organisation
    lines = statement_lines(reg, stories)
    data = camt053(reg, stories, lines)
    filename = f"releve-{stories.first:%Y%m%d}-{stories.last:%Y%m%d}.xml"
    with dated(reg, stories.imported + timedelta(minutes=2)):
        result = importing.import_statement(org, data, filename, user=reg.author)
        record = result.imports[0]
        ids = list(record.lines.values_list("pk", flat=True))
        matching.match_lines(org, ids, author=reg.author)
    StatementImport.objects.filter(pk=record.pk).update(imported_at=stories.imported)
    # The thank-you messages for the matched payments left with that morning's mail.
    sent = stories.imported + timedelta(minutes=5)
    PaymentThanks.objects.filter(organisation=org, sent_at__isnull=True).update(
        claimed_at=sent, sent_at=sent, message_id="demo"
    )
    return record
