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
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from relance.banking.models import BankLine, BankLineStatus, Direction, StatementImport
from relance.banking.signals import statement_imported
from relance.ledger.models import ActivityKind, Client, Contact, Invoice, Payment
from relance.ledger.models.timeline import record
from relance.ledger.settlement import PaymentError, Share, find_duplicates, record_payment
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
]

PENDING = (BankLineStatus.REVIEW, BankLineStatus.UNMATCHED)
KNOWN = (BankLineStatus.AUTO, BankLineStatus.CONFIRMED)


logger = logging.getLogger(__name__)


@receiver(statement_imported, dispatch_uid="relance.banking.matching")
def on_statement_imported(
    sender: Any, statement: StatementImport, lines: list, **kwargs: Any
) -> None:
    if not lines:
        return
    try:
        match_lines(statement.organisation, [line.pk for line in lines])
    except Exception:
        # The statement is saved; its lines stay NEW and are matched on the next import.
        logger.exception("matching the lines of statement %s failed", statement.pk)


def match_lines(
    organisation: Any,
    line_ids: Iterable[int] | None = None,
    *,
    threshold: int = AUTO_THRESHOLD,
    author: Any = None,
) -> Counter[str]:
    """Match the organisation's NEW lines (all, or those of ``line_ids``);
    return how many ended in each status."""
    lines = BankLine.objects.filter(organisation=organisation, status=BankLineStatus.NEW)
    if line_ids is not None:
        lines = lines.filter(pk__in=list(line_ids))
    counts: Counter[str] = Counter()
    ignored = lines.filter(direction=Direction.DEBIT).update(status=BankLineStatus.IGNORED)
    counts[BankLineStatus.IGNORED] += ignored
    credits = list(lines.filter(direction=Direction.CREDIT).order_by("booking_date", "pk"))
    if not credits:
        return counts
    matcher = build_matcher(organisation, {line.currency for line in credits}, threshold)
    for line in credits:
        result = matcher.match(as_credit(line))
        counts[apply(line, result, author=author)] += 1
    return counts


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


def as_credit(line: BankLine) -> Credit:
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


def apply(line: BankLine, result: Match, *, author: Any = None) -> str:
    """Store the matcher's answer on the line; record the payment when automatic."""
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
        line.status = BankLineStatus.AUTO
        try:
            with transaction.atomic():
                line.payment = _pay(line, author)
                line.save()
            return line.status
        except PaymentError as error:
            line.status = BankLineStatus.REVIEW
            line.note = str(error)
    line.save()
    return line.status


def _reference(line: BankLine) -> str:
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
    shares = _shares(line, client)
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
