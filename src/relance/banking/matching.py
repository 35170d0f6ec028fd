"""Matching the credits of an imported statement to open invoices.

The receiver of ``statement_imported`` loads, in a few queries, what the pure
matcher (``relance.rules.matching``) needs for the organisation: its open
invoices in the lines' currencies, its clients' names and the IBANs they paid
from before. Each new credit then gets its answer:

- automatic: the payment is recorded (``ledger.settlement.record_payment``)
  and the line is AUTO; a payment already recorded for it is linked, never
  recorded twice;
- a proposal below the threshold: REVIEW, for a person (``/bank/review/``);
- nothing: UNMATCHED (``/bank/unmatched/``).

Debits are not client payments: they are IGNORED here.

A statement of 100,000 lines is matched in one pass (``match_lines``): every
credit answered in memory, the answers written in bulk, a transaction per
chunk of lines; only the automatic matches cost a few queries each (their
payments).
"""

from __future__ import annotations

import logging
from bisect import insort
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import JSONField, Max
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from relance.banking.models import BankLine, BankLineStatus, Direction, StatementImport
from relance.banking.signals import statement_imported
from relance.ledger.models import ActivityKind, Client, Contact, Invoice, Payment
from relance.ledger.models.timeline import record
from relance.ledger.settlement import PaymentError, Share, find_duplicates, record_payment
from relance.rules import duplicates
from relance.rules.matching import (
    AUTO_THRESHOLD,
    ClientInfo,
    Credit,
    Match,
    Matcher,
    OpenItem,
    name_key,
)

__all__ = [
    "clients_with_pending_credit",
    "confirm",
    "last_statement_import",
    "match_lines",
    "statement_age",
]

PENDING = (BankLineStatus.REVIEW, BankLineStatus.UNMATCHED)
KNOWN = (BankLineStatus.AUTO, BankLineStatus.CONFIRMED)


logger = logging.getLogger(__name__)


@receiver(statement_imported, dispatch_uid="relance.banking.matching")
def on_statement_imported(
    sender: Any, statement: StatementImport, lines: Sequence[BankLine], **kwargs: Any
) -> None:
    if not lines:
        return
    try:
        # The lines an import adds are exactly its statement's: no list of ids to send.
        match_lines(statement.organisation, statement=statement)
    except Exception:
        # What was written stays; the lines left NEW are matched on the next import.
        logger.exception("matching the lines of statement %s failed", statement.pk)


# A transaction ends after this many lines or this many payments (a payment is a few
# milliseconds of queries): a long statement never holds SQLite's write lock for long.
CHUNK = 5000
CHUNK_PAYMENTS = 200
ID_CHUNK = 900  # ids per "pk IN (...)" (old SQLite builds allow 999 parameters)

# What the matcher needs of a line, and what it writes back.
_READ = (
    "pk",
    "organisation_id",
    "amount",
    "currency",
    "booking_date",
    "remittance",
    "structured_reference",
    "end_to_end_id",
    "payer_name",
    "payer_iban",
    "flags",
    "note",
)
_WRITTEN = (
    "status",
    "confidence",
    "client_id",
    "payment_id",
    "proposal",
    "flags",
    "reasons",
    "note",
)


@dataclass(slots=True)
class _Line:
    """A credit being matched: the columns of ``_READ``, then the answer."""

    pk: int
    organisation_id: int
    amount: Decimal
    currency: str
    booking_date: date
    remittance: str
    structured_reference: str
    end_to_end_id: str
    payer_name: str
    payer_iban: str
    flags: list[str]
    note: str
    status: str = BankLineStatus.NEW
    confidence: int | None = None
    client_id: int | None = None
    payment_id: int | None = None
    proposal: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def match_lines(
    organisation: Any,
    line_ids: Iterable[int] | None = None,
    *,
    statement: StatementImport | None = None,
    threshold: int = AUTO_THRESHOLD,
    author: Any = None,
) -> Counter[str]:
    """Match the organisation's NEW lines (all, those of ``line_ids``, or those
    of ``statement``); return how many ended in each status.

    In one pass: the open invoices are read once, every credit is matched in
    memory, then the answers are written in bulk, ``CHUNK`` lines (or
    ``CHUNK_PAYMENTS`` payments) per transaction. An automatic match records
    its payment in a savepoint: a line whose payment fails goes to review, the
    others proceed.
    """
    lines = BankLine.objects.filter(organisation=organisation, status=BankLineStatus.NEW)
    if statement is not None:
        lines = lines.filter(statement=statement)
    counts: Counter[str] = Counter()
    selections = [lines]
    if line_ids is not None:
        ids = sorted(set(line_ids))
        chunks = [ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]
        selections = [lines.filter(pk__in=chunk) for chunk in chunks]
    rows: list[tuple] = []
    for selected in selections:
        ignored = selected.filter(direction=Direction.DEBIT).update(status=BankLineStatus.IGNORED)
        if ignored:
            counts[BankLineStatus.IGNORED] += ignored
        rows += selected.filter(direction=Direction.CREDIT).values_list(*_READ)
    if not rows:
        return counts
    credits = [_Line(*row) for row in rows]
    credits.sort(key=lambda line: (line.booking_date, line.pk))
    matcher = build_matcher(organisation, {line.currency for line in credits}, threshold)
    results = matcher.match_all(map(as_credit, credits))
    ledger = _Ledger(organisation, credits, results, author)
    for start, stop in _chunks(results):
        chunk, answers = credits[start:stop], results[start:stop]
        with transaction.atomic():
            ledger.load_chunk(answers)
            for line, result in zip(chunk, answers, strict=True):
                counts[_answer(line, result, ledger)] += 1
            _write(chunk)
    return counts


def _chunks(results: list[Match]) -> Iterator[tuple[int, int]]:
    """Start and stop of each transaction's lines."""
    start = payments = 0
    for index, result in enumerate(results):
        payments += result.automatic
        if index + 1 - start >= CHUNK or payments >= CHUNK_PAYMENTS:
            yield start, index + 1
            start, payments = index + 1, 0
    if start < len(results):
        yield start, len(results)


def build_matcher(organisation: Any, currencies: set[str], threshold: int) -> Matcher:
    """The matcher over the organisation's open invoices in these currencies."""
    rows = (
        Invoice.objects.open()
        .filter(organisation=organisation, currency__in=currencies)
        .values_list("pk", "client_id", "number", "balance", "currency", "due_date", "terms")
        .order_by("pk")
    )
    items = []
    discounted = []
    for pk, client_id, number, balance, currency, due, terms in rows.iterator(chunk_size=10_000):
        items.append(OpenItem(pk, client_id, number, balance, currency, due))
        if terms and terms.get("discount_percent"):
            discounted.append(len(items) - 1)
    if discounted:
        _add_discounts(organisation, items, discounted)
    return Matcher(items, client_infos(organisation), threshold=threshold)


def _add_discounts(organisation: Any, items: list[OpenItem], positions: list[int]) -> None:
    """The early-payment discount of the few invoices whose terms offer one."""
    from relance.ledger.settlement import early_discount

    by_pk = {items[p].invoice_id: p for p in positions}
    for invoice in Invoice.objects.filter(organisation=organisation, pk__in=list(by_pk)):
        early = early_discount(invoice)
        if early and invoice.balance > early.amount:
            item = items[by_pk[invoice.pk]]
            items[by_pk[invoice.pk]] = OpenItem(
                item.invoice_id,
                item.client_id,
                item.number,
                item.balance,
                item.currency,
                item.due_date,
                discount_amount=early.amount,
                discount_until=early.last_day,
            )


def client_infos(organisation: Any) -> list[ClientInfo]:
    """Names (client, contacts) and IBANs (of earlier matched lines) per client."""
    names: dict[int, list[str]] = {}
    for pk, name in Client.objects.filter(organisation=organisation).values_list("pk", "name"):
        names[pk] = [name]
    contacts = Contact.objects.filter(organisation=organisation).values_list(
        "client_id", "first_name", "last_name"
    )
    for client_id, first, last in contacts:
        if client_id in names:
            names[client_id].append(f"{first} {last}".strip())
    ibans: dict[int, set[str]] = {}
    known = (
        BankLine.objects.filter(organisation=organisation, status__in=KNOWN, client__isnull=False)
        .exclude(payer_iban="")
        .values_list("client_id", "payer_iban")
        .distinct()
    )
    for client_id, iban in known:
        ibans.setdefault(client_id, set()).add(iban)
    return [ClientInfo(pk, tuple(n), tuple(sorted(ibans.get(pk, ())))) for pk, n in names.items()]


def as_credit(line: BankLine | _Line) -> Credit:
    return Credit(
        line.pk,
        line.amount,
        line.currency,
        line.booking_date,
        remittance=line.remittance,
        structured_reference=line.structured_reference,
        end_to_end_id=line.end_to_end_id,
        payer_name=line.payer_name,
        payer_iban=line.payer_iban,
    )


def proposal_of(result: Match) -> list[dict[str, Any]]:
    return [{"invoice": invoice, "amount": str(amount)} for invoice, amount in result.shares]


def _answer(line: _Line, result: Match, ledger: _Ledger) -> str:
    """Put the matcher's answer on the line; record the payment when automatic."""
    line.confidence = result.confidence
    line.flags = list(dict.fromkeys([*line.flags, *result.flags]))
    line.reasons = list(result.reasons)
    line.proposal = proposal_of(result)
    line.client_id = result.client_id
    if not result.matched:
        line.status = BankLineStatus.UNMATCHED
    elif not result.automatic:
        line.status = BankLineStatus.REVIEW
    else:
        try:
            with transaction.atomic():
                line.payment_id = ledger.pay(line)
            line.status = BankLineStatus.AUTO
        except PaymentError as error:
            line.status = BankLineStatus.REVIEW
            line.note = str(error)
    return line.status


def _write(lines: list[_Line]) -> None:
    """Store the answers of these lines. Lines without a proposal (unmatched,
    mostly) share a few answers: one ``UPDATE … WHERE id IN (…)`` per answer.
    The others: on SQLite one UPDATE per line in a single ``executemany`` (no
    round trip: SQLite is in the process); on PostgreSQL one
    ``UPDATE … FROM (VALUES …)`` per batch of rows."""
    meta = BankLine._meta
    fields = [meta.get_field(name.removesuffix("_id")) for name in _WRITTEN]
    quote = connection.ops.quote_name
    json = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    # Flags and reasons repeat from line to line: each list is prepared once.
    prepared: dict[tuple[int, tuple], Any] = {}

    def values(line: _Line) -> list[Any]:
        row = [getattr(line, name) for name in _WRITTEN]
        for i in json:
            value = row[i]
            key = (i, tuple(value)) if not value or isinstance(value[0], str) else None
            if key is None:
                row[i] = fields[i].get_db_prep_save(value, connection)
            else:
                if key not in prepared:
                    prepared[key] = fields[i].get_db_prep_save(value, connection)
                row[i] = prepared[key]
        return row

    alike: dict[tuple, tuple[_Line, list[int]]] = {}
    rows = []
    for line in lines:
        if line.proposal:
            rows.append((*values(line), line.pk))
            continue
        answer = (
            line.status,
            line.confidence,
            line.client_id,
            line.payment_id,
            tuple(line.flags),
            tuple(line.reasons),
            line.note,
        )
        alike.setdefault(answer, (line, []))[1].append(line.pk)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    with connection.cursor() as cursor:
        for first, ids in alike.values():
            answer = values(first)
            for start in range(0, len(ids), ID_CHUNK):
                chunk = ids[start : start + ID_CHUNK]
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE {pk} IN ({', '.join(['%s'] * len(chunk))})",
                    [*answer, *chunk],
                )
        if not rows:
            return
        if connection.vendor != "postgresql":
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
            return
        # The VALUES columns are column1, column2...; typed by a cast, as a NULL
        # or a text literal alone says nothing of its type.
        casts = ", ".join(
            f"{quote(f.column)} = CAST(v.column{i} AS {f.db_type(connection)})"
            for i, f in enumerate(fields, 1)
        )
        placeholders = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        key = f"CAST(v.column{len(fields) + 1} AS bigint)"
        size = 1000
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(
                f"UPDATE {table} SET {casts} FROM (VALUES {', '.join([placeholders] * len(batch))})"
                f" AS v WHERE {table}.{pk} = {key}",
                [value for row in batch for value in row],
            )


class _Ledger:
    """What recording the payments of a batch needs, read in a few queries
    rather than a few per line: the clients, the invoices of each chunk's
    proposals, and the payments a credit could be a second record of
    (``ledger.settlement.find_duplicates``, answered in memory; the payments
    recorded by the batch itself join them as they are made)."""

    def __init__(
        self, organisation: Any, lines: list[_Line], results: list[Match], author: Any
    ) -> None:
        self.organisation = organisation
        self.author = author
        self.invoices: dict[int, Invoice] = {}
        auto = [line for line, result in zip(lines, results, strict=True) if result.automatic]
        clients = sorted({result.client_id for result in results if result.automatic})
        self.clients: dict[int, Client] = {}
        for start in range(0, len(clients), ID_CHUNK):
            self.clients.update(
                (client.pk, client)
                for client in Client.objects.filter(
                    organisation=organisation, pk__in=clients[start : start + ID_CHUNK]
                ).select_related("organisation")
            )
        # Payments by (amount, currency), ordered by date then id, as find_duplicates reads them.
        self.earlier: dict[tuple[Decimal, str], list[_Paid]] = {}
        # Payment id -> ids of the bank lines linked to it.
        self.linked: dict[int, set[int]] = {}
        if not auto:
            return
        span = timedelta(days=duplicates.WINDOW_DAYS)
        first = min(line.booking_date for line in auto) - span
        last = max(line.booking_date for line in auto) + span
        payments = Payment.objects.filter(
            organisation=organisation, reversed_on__isnull=True, date__gte=first, date__lte=last
        )
        fields = ("date", "pk", "client_id", "amount", "currency", "reference", "payer_name")
        for row in payments.order_by("date", "pk").values_list(*fields):
            paid = _Paid(*row)
            self.earlier.setdefault((paid.amount, paid.currency), []).append(paid)
        links = BankLine.objects.filter(
            organisation=organisation, payment__in=payments.values("pk")
        ).values_list("payment_id", "pk")
        for payment_id, line_id in links:
            self.linked.setdefault(payment_id, set()).add(line_id)

    def load_chunk(self, results: list[Match]) -> None:
        """The invoices the automatic answers of these lines allocate to (one query)."""
        ids = sorted(
            {invoice for result in results if result.automatic for invoice, _ in result.shares}
        )
        self.invoices = {}
        for start in range(0, len(ids), ID_CHUNK):
            self.invoices.update(
                (invoice.pk, invoice)
                for invoice in Invoice.objects.filter(
                    organisation=self.organisation, pk__in=ids[start : start + ID_CHUNK]
                ).only("pk", "client_id", "organisation_id")
            )

    def duplicates(self, client: Client, line: _Line, reference: str) -> list[_Paid]:
        """``find_duplicates(client, …)`` for this line, from memory."""
        new = duplicates.Candidate(
            line.payer_name, line.amount, line.currency, reference, line.booking_date
        )
        name = duplicates.normalise_name(line.payer_name)
        found = []
        for paid in self.earlier.get((line.amount, line.currency), ()):
            if abs((paid.date - line.booking_date).days) > duplicates.WINDOW_DAYS:
                continue
            if not name and paid.client_id != client.pk:
                continue
            old = duplicates.Candidate(
                paid.payer_name, paid.amount, paid.currency, paid.reference, paid.date
            )
            if duplicates.is_duplicate(old, new, same_payer=paid.client_id == client.pk):
                found.append(paid)
        return found

    def pay(self, line: _Line) -> int:
        """The line's payment (its id): one already recorded for it, else a new one."""
        client = self.clients.get(line.client_id)  # type: ignore[arg-type]
        if client is None:
            raise PaymentError(_("An invoice of this proposal no longer belongs to the client."))
        reference = _reference(line)
        earlier = self.duplicates(client, line, reference)
        free = [p for p in earlier if not self.linked.get(p.pk, set()) - {line.pk}]
        if len(free) == 1:
            line.flags = [*line.flags, "already_recorded"]
            self.linked.setdefault(free[0].pk, set()).add(line.pk)
            return free[0].pk
        if earlier:
            raise PaymentError(
                _(
                    "A payment of the same amount from this payer is already recorded: "
                    "check it first."
                )
            )
        shares = []
        for row in line.proposal:
            invoice = self.invoices.get(int(row["invoice"]))
            if invoice is None or invoice.client_id != client.pk:
                raise PaymentError(
                    _("An invoice of this proposal no longer belongs to the client.")
                )
            shares.append(Share(invoice, Decimal(row["amount"])))
        payment = _record(line, client, shares, reference, self.author)
        paid = _Paid(
            payment.date,
            payment.pk,
            client.pk,
            payment.amount,
            payment.currency,
            payment.reference,
            payment.payer_name,
        )
        insort(self.earlier.setdefault((paid.amount, paid.currency), []), paid)
        self.linked.setdefault(payment.pk, set()).add(line.pk)
        return payment.pk


class _Paid(NamedTuple):
    date: date
    pk: int
    client_id: int
    amount: Decimal
    currency: str
    reference: str
    payer_name: str


def _reference(line: BankLine | _Line) -> str:
    text = line.structured_reference or line.remittance or line.end_to_end_id
    return " ".join(text.split())[:140]


def _pay(line: BankLine, author: Any) -> Payment:
    """The line's payment: one already recorded for it (linked), else a new one."""
    client = Client.objects.get(organisation_id=line.organisation_id, pk=line.client_id)
    reference = _reference(line)
    earlier = find_duplicates(
        client, line.amount, line.currency, reference, line.booking_date,
        payer_name=line.payer_name,
    )  # fmt: skip
    free = [p for p in earlier if not p.bank_lines.exclude(pk=line.pk).exists()]
    if len(free) == 1:
        line.flags = [*line.flags, "already_recorded"]
        return free[0]
    if earlier:
        raise PaymentError(
            _("A payment of the same amount from this payer is already recorded: check it first.")
        )
    return _record(line, client, _shares(line, client), reference, author)


def _record(
    line: BankLine | _Line, client: Client, shares: list[Share], reference: str, author: Any
) -> Payment:
    """A bank credit's payment: a transfer from the payer, any excess kept as credit."""
    return record_payment(
        client=client,
        amount=line.amount,
        currency=line.currency,
        date=line.booking_date,
        shares=shares,
        method="transfer",
        reference=reference,
        payer_name=line.payer_name[:200],
        keep_excess_as_credit=True,
        author=author,
    )


def _shares(line: BankLine, client: Client) -> list[Share]:
    ids = [int(row["invoice"]) for row in line.proposal]
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.filter(
            organisation_id=line.organisation_id, client=client, pk__in=ids
        )
    }
    shares = []
    for row in line.proposal:
        invoice = invoices.get(int(row["invoice"]))
        if invoice is None:
            raise PaymentError(_("An invoice of this proposal no longer belongs to the client."))
        shares.append(Share(invoice, Decimal(row["amount"])))
    return shares


# -- review ------------------------------------------------------------------------


def confirm(
    line: BankLine,
    *,
    client: Client,
    proposal: list[dict[str, Any]],
    author: Any,
    note: str = "",
) -> Payment:
    """A person matched the line: record its payment (all or nothing), CONFIRMED."""
    if line.direction != Direction.CREDIT:
        raise PaymentError(_("Only a credit can be a client's payment."))
    if line.status not in (*PENDING, BankLineStatus.NEW):
        raise PaymentError(_("This line is already settled."))
    with transaction.atomic():
        locked = BankLine.objects.select_for_update().get(pk=line.pk)
        if locked.status not in (*PENDING, BankLineStatus.NEW):
            raise PaymentError(_("This line is already settled."))
        line.client = client
        line.proposal = proposal
        line.payment = _pay(line, author)
        line.status = BankLineStatus.CONFIRMED
        line.reviewed_by = author
        line.reviewed_at = timezone.now()
        if note:
            line.note = note
        line.save()
        record(
            client=client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Bank transfer of %(amount)s %(currency)s on %(date)s matched by hand.")
            % {"amount": line.amount, "currency": line.currency, "date": line.booking_date},
        )
    return line.payment


def ignore(line: BankLine, *, author: Any, note: str) -> None:
    """Not a client's payment (a refund, a transfer between accounts...)."""
    line.status = BankLineStatus.IGNORED
    line.note = note
    line.reviewed_by = author
    line.reviewed_at = timezone.now()
    line.save(update_fields=["status", "note", "reviewed_by", "reviewed_at"])


# -- for the dunning run -----------------------------------------------------------


def clients_with_pending_credit(organisation: Any) -> set[int]:
    """Clients with a credit waiting in review or unmatched that could be
    theirs: the proposal's client, or a payer whose IBAN or name is theirs.
    The dunning run does not chase them until the credit is settled."""
    pending = BankLine.objects.filter(
        organisation=organisation, status__in=PENDING, direction=Direction.CREDIT
    ).values_list("client_id", "payer_iban", "payer_name")
    found: set[int] = set()
    ibans: set[str] = set()
    names: set[str] = set()
    for client_id, iban, payer in pending:
        if client_id:
            found.add(client_id)
        elif iban:
            ibans.add(iban.replace(" ", "").upper())
        if not client_id and payer and name_key(payer):
            names.add(name_key(payer))
    if ibans:
        for client_id, iban in (
            BankLine.objects.filter(organisation=organisation, status__in=KNOWN)
            .exclude(client=None)
            .values_list("client_id", "payer_iban")
        ):
            if iban.replace(" ", "").upper() in ibans:
                found.add(client_id)
    if names:
        for pk, name in Client.objects.filter(organisation=organisation).values_list("pk", "name"):
            if name_key(name) in names:
                found.add(pk)
    return found


def statement_age(organisation: Any, today: date) -> int | None:
    """Days from the last statement import to ``today``, in the organisation's
    calendar (None: never imported)."""
    last = last_statement_import(organisation)
    if last is None:
        return None
    return (today - timezone.localtime(last, organisation.tzinfo).date()).days


def last_statement_import(organisation: Any) -> datetime | None:
    """When the organisation last imported a statement (None: never)."""
    return StatementImport.objects.filter(organisation=organisation).aggregate(
        last=Max("imported_at")
    )["last"]


def open_invoices(organisation: Any, client: Client, currency: str) -> Any:
    return (
        Invoice.objects.open()
        .filter(organisation=organisation, client=client, currency=currency)
        .order_by("due_date", "pk")
    )
