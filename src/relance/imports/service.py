"""Applying parsed invoices to an organisation, all or nothing.

``plan`` says what an import would do without writing: the rows to create,
the rows skipped because their number is already in the register, the new
clients, and every error with its line. ``run`` does it in one transaction:
it plans again inside it, writes nothing when there is any error, and
otherwise writes clients, invoices, lines, payments, allocations and the
timeline with bulk inserts, each stored figure set as the settlement
services would (Invoice.refresh_settlement): paid, balance and status.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from relance.imports import bulk
from relance.imports.models import ImportBatch, ImportStatus
from relance.imports.rows import InvoiceRow, LineRow, Parsed, Problem, gettext_noop, lines_for
from relance.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    Client,
    ClientKind,
    Contact,
    ContactRole,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    PaymentMethod,
)
from relance.ledger.models.invoices import InvoiceSource, VatCategory, settlement_status
from relance.ledger.signals import invoices_issued
from relance.organisations.models import Organisation
from relance.rules.money import ZERO

LINK_COUNT = 50  # invoices listed with a link on the result page


class ImportRejected(Exception):
    """Nothing was imported; ``problems`` says why, line by line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


# Clients ---------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


@dataclass
class _NewClient:
    row: InvoiceRow
    client_id: int | None = None


IDENTIFIERS = ("ref", "siren", "vat")


def _identity(target: int | _NewClient) -> tuple:
    return ("new", id(target)) if isinstance(target, _NewClient) else ("pk", target)


class ClientIndex:
    """Finds the client of a row: by reference, SIREN, VAT number, then name
    (the same letters, whatever the case and spacing), never a client whose
    identifiers contradict the row's; a row that matches none makes a new
    client, found again by the rows after it."""

    def __init__(self, organisation: Organisation) -> None:
        self.by: dict[str, dict[str, Any]] = {"ref": {}, "siren": {}, "vat": {}, "name": {}}
        self.ids: dict[tuple, dict[str, str]] = {}  # _identity(target) -> its identifiers
        self.new: list[_NewClient] = []
        self.found: dict[tuple[str, ...], int | _NewClient] = {}  # rows repeat their client
        clients = Client.objects.filter(organisation=organisation).values_list(
            "pk", "reference", "siren", "vat_number", "name"
        )
        for pk, reference, siren, vat, name in clients.order_by("pk"):
            self._remember(pk, self._keys(reference, siren, vat, name))

    @staticmethod
    def _keys(reference: str, siren: str, vat: str, name: str) -> dict[str, str]:
        keys = {"ref": reference.strip(), "siren": siren, "vat": vat, "name": _name_key(name)}
        return {kind: value for kind, value in keys.items() if value}

    def _remember(self, target: Any, keys: dict[str, str]) -> None:
        self.ids[_identity(target)] = {k: v for k, v in keys.items() if k in IDENTIFIERS}
        for kind, value in keys.items():
            self.by[kind].setdefault(value, target)

    def _agrees(self, target: Any, keys: dict[str, str]) -> bool:
        known = self.ids.get(_identity(target), {})
        return all(known.get(k, v) == v for k, v in keys.items() if k in IDENTIFIERS)

    def find(self, row: InvoiceRow) -> int | _NewClient:
        """The existing client's id, or the new client this row makes (or joins)."""
        seen = (row.client_reference, row.client_siren, row.client_vat, row.client_label)
        if seen not in self.found:
            self.found[seen] = self._find(row)
        return self.found[seen]

    def _find(self, row: InvoiceRow) -> int | _NewClient:
        keys = self._keys(row.client_reference, row.client_siren, row.client_vat, row.client_label)
        for kind, value in keys.items():
            target = self.by[kind].get(value)
            if target is not None and self._agrees(target, keys):
                return target
        new = _NewClient(row)
        self.new.append(new)
        self._remember(new, keys)
        return new


# The plan --------------------------------------------------------------------------


@dataclass
class Plan:
    create: list[InvoiceRow] = field(default_factory=list)
    skip: list[InvoiceRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    clients: dict[int, int | _NewClient] = field(default_factory=dict)  # id(row) -> client
    new_clients: list[_NewClient] = field(default_factory=list)

    @property
    def can_run(self) -> bool:
        return not self.errors and bool(self.create)


def _number_problem(
    row: InvoiceRow, columns: dict[str, str], message: str, **params: Any
) -> Problem:
    return Problem(message, params, line=row.line, column=columns.get("number", ""), file=row.file)


def plan(organisation: Organisation, parsed: Parsed, columns: dict[str, str] | None = None) -> Plan:
    """What importing ``parsed`` would do, read from the database, nothing written."""
    cols = columns or {}
    result = Plan(errors=list(parsed.errors), warnings=list(parsed.warnings))
    existing = set(
        Invoice.objects.filter(organisation=organisation)
        .exclude(number="")
        .values_list("number", flat=True)
    )
    widths = sorted({len(n) for n in existing if n.isdigit()})
    seen: dict[str, InvoiceRow] = {}
    for row in parsed.rows:
        first = seen.setdefault(row.number, row)
        if first is not row:
            result.errors.append(
                _number_problem(
                    row,
                    cols,
                    gettext_noop("Invoice %(number)s is already on %(first)s of this import."),
                    number=row.number,
                    first=_place(first),
                )
            )
        elif row.number in existing:
            result.skip.append(row)
        elif (twin := _zero_twin(row.number, existing, widths)) is not None:
            result.errors.append(
                _number_problem(
                    row,
                    cols,
                    gettext_noop(
                        "Invoice %(number)s is not in the register but %(existing)s is: the "
                        "leading zeros were probably lost (a spreadsheet does this). Restore "
                        "them on the mapping page so the invoice is recognised, or correct "
                        "the file."
                    ),
                    number=row.number,
                    existing=twin,
                )
            )
        else:
            result.create.append(row)
    index = ClientIndex(organisation)
    for row in result.create:
        result.clients[id(row)] = index.find(row)
    result.new_clients = index.new
    result.errors.sort(key=lambda p: (p.file, p.line))
    return result


def _place(row: InvoiceRow) -> str:
    return row.file if row.file else _("line %(line)s") % {"line": row.line}


def _zero_twin(number: str, existing: set[str], widths: list[int]) -> str | None:
    """The register's number this one equals once zeros are restored (or lost)."""
    if not number.isdigit():
        return None
    for width in widths:
        if width > len(number) and number.zfill(width) in existing:
            return number.zfill(width)
    stripped = number.lstrip("0")
    if stripped != number and stripped in existing:
        return stripped
    return None


# Running it ------------------------------------------------------------------------


def run(
    batch: ImportBatch, parsed: Parsed, *, author: Any = None, columns: dict[str, str] | None = None
) -> ImportBatch:
    """Import ``parsed`` into the batch's organisation, all or nothing.

    Raises ImportRejected (nothing written) on any error, including a number
    taken by someone else while the import ran.
    """
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status != ImportStatus.PENDING:
                raise ImportRejected([Problem(gettext_noop("This file was already imported."))])
            organisation = batch.organisation
            result = plan(organisation, parsed, columns)
            if result.errors:
                raise ImportRejected(result.errors)
            writer = _Writer(organisation, batch, author)
            clients = writer.clients(result)
            invoice_ids = writer.invoices(result.create, clients)
            invoices_issued.send(Invoice, organisation_id=organisation.pk, invoice_ids=invoice_ids)
            batch.status = ImportStatus.DONE
            batch.imported_at = timezone.now()
            batch.created_count = len(invoice_ids)
            batch.skipped_count = len(result.skip)
            batch.clients_created = len(result.new_clients)
            batch.created_ids = invoice_ids[:LINK_COUNT]
            batch.save()
            batch.files.update(content=b"")
    except IntegrityError:
        raise ImportRejected(
            [
                Problem(
                    gettext_noop(
                        "The register changed while importing (an invoice number was taken "
                        "meanwhile): nothing was imported. Try again."
                    )
                )
            ]
        ) from None
    return batch


@dataclass
class _Writer:
    """Writes the planned rows with multi-row INSERTs (see imports.bulk)."""

    organisation: Organisation
    batch: ImportBatch
    author: Any

    def clients(self, result: Plan) -> dict[int, int]:
        """id(row) -> client id, creating the new clients (and their contacts)."""
        org = self.organisation
        names = ("organisation_id", "kind", "name", "reference", "siren", "vat_number",
                 "country", "language", "time_zone")  # fmt: skip
        ids = bulk.insert(
            Client,
            names,
            [
                (
                    org.pk,
                    ClientKind.COMPANY,
                    new.row.client_name or new.row.client_reference,
                    new.row.client_reference,
                    new.row.client_siren,
                    new.row.client_vat,
                    org.country,
                    org.locale,
                    org.time_zone,
                )
                for new in result.new_clients
            ],
            returning=True,
        )
        for new, pk in zip(result.new_clients, ids, strict=True):
            new.client_id = pk
        clients = {
            key: (target.client_id if isinstance(target, _NewClient) else target)
            for key, target in result.clients.items()
        }
        self._contacts(result, clients)
        return clients

    def _contacts(self, result: Plan, clients: dict[int, int]) -> None:
        """A billing contact for each email the file gives that the client lacks."""
        wanted: dict[tuple[int, str], InvoiceRow] = {}
        for row in result.create:
            if row.client_email:
                wanted.setdefault((clients[id(row)], row.client_email.lower()), row)
        if not wanted:
            return
        known = {
            (client_id, email.lower())
            for client_id, email in Contact.objects.filter(
                organisation=self.organisation, client_id__in={c for c, _e in wanted}
            ).values_list("client_id", "email")
        }
        bulk.insert(
            Contact,
            ("organisation_id", "client_id", "last_name", "role", "email"),
            [
                (
                    self.organisation.pk,
                    client_id,
                    (row.client_name or row.client_reference)[:100],
                    ContactRole.BILLING,
                    row.client_email,
                )
                for (client_id, email), row in wanted.items()
                if (client_id, email) not in known
            ],
        )

    def invoices(self, rows: list[InvoiceRow], clients: dict[int, int]) -> list[int]:
        org_id, now = self.organisation.pk, timezone.now()
        names = ("organisation_id", "client_id", "kind", "number", "status", "issue_date",
                 "due_date", "currency", "purchase_order", "source", "total_net", "total_vat",
                 "total_gross", "amount_paid", "balance", "issued_at")  # fmt: skip
        values = []
        for row in rows:
            paid = row.amount_paid
            values.append(
                (org_id, clients[id(row)], InvoiceKind.INVOICE, row.number,
                 settlement_status(row.total_gross, paid, ZERO), row.issue_date, row.due_date,
                 row.currency, row.purchase_order, InvoiceSource.IMPORT, row.total_net,
                 row.total_vat, row.total_gross, paid, max(ZERO, row.total_gross - paid), now)
            )  # fmt: skip
        ids = bulk.insert(Invoice, names, values, returning=True)
        self._lines(rows, ids)
        self._payments(rows, ids, clients)
        self._timeline(rows, ids, clients)
        return ids

    def _lines(self, rows: list[InvoiceRow], ids: list[int]) -> None:
        names = ("invoice_id", "position", "description", "quantity", "unit_price", "vat_rate",
                 "vat_category")  # fmt: skip
        bulk.insert(
            InvoiceLine,
            names,
            [
                (
                    invoice_id,
                    position,
                    line.description,
                    line.quantity,
                    line.unit_price,
                    line.vat_rate,
                    _category(line),
                )
                for row, invoice_id in zip(rows, ids, strict=True)
                for position, line in enumerate(lines_for(row, _line_label(row)))
            ],
        )

    def _payments(self, rows: list[InvoiceRow], ids: list[int], clients: dict[int, int]) -> None:
        org_id = self.organisation.pk
        paid = [
            (row, invoice_id, settled)
            for row, invoice_id in zip(rows, ids, strict=True)
            for settled in row.payments
        ]
        notes = _("Imported from %(file)s") % {"file": self.batch.filename}
        author_id = getattr(self.author, "pk", None)
        names = ("organisation_id", "client_id", "date", "amount", "currency", "method",
                 "reference", "notes", "unallocated", "created_by_id")  # fmt: skip
        payment_ids = bulk.insert(
            Payment,
            names,
            [
                (
                    org_id,
                    clients[id(row)],
                    settled.date,
                    settled.amount,
                    row.currency,
                    PaymentMethod.OTHER,
                    row.number,
                    notes,
                    ZERO,
                    author_id,
                )
                for row, _invoice_id, settled in paid
            ],
            returning=True,
        )
        bulk.insert(
            Allocation,
            ("organisation_id", "payment_id", "invoice_id", "installment_id", "amount"),
            [
                (org_id, payment_id, invoice_id, None, settled.amount)
                for payment_id, (_row, invoice_id, settled) in zip(payment_ids, paid, strict=True)
            ],
        )

    def _timeline(self, rows: list[InvoiceRow], ids: list[int], clients: dict[int, int]) -> None:
        """One entry per client on its timeline: how many invoices came from which file.

        (Each invoice says it was imported by its source; one entry per
        invoice would double the rows an import writes.)
        """
        counts: dict[int, int] = {}
        for row in rows:
            counts[clients[id(row)]] = counts.get(clients[id(row)], 0) + 1
        org_id, author_id = self.organisation.pk, getattr(self.author, "pk", None)
        filename = self.batch.filename
        bulk.insert(
            Activity,
            ("organisation_id", "client_id", "invoice_id", "kind", "author_id", "text"),
            [
                (
                    org_id,
                    client_id,
                    None,
                    ActivityKind.CREATED,
                    author_id,
                    ngettext(
                        "%(count)s invoice imported from %(file)s",
                        "%(count)s invoices imported from %(file)s",
                        count,
                    )
                    % {"count": count, "file": filename},
                )
                for client_id, count in counts.items()
            ],
        )


def _line_label(row: InvoiceRow) -> str:
    return row.description or _("Invoice %(number)s (imported)") % {"number": row.number}


def _category(line: LineRow) -> str:
    if line.vat_category:
        return line.vat_category
    # A zero rate the source did not explain: the import says nothing about why.
    return VatCategory.STANDARD if line.vat_rate > 0 else VatCategory.NOT_SUBJECT


def amounts_sum(rows: Iterable[InvoiceRow]) -> dict[str, Decimal]:
    """Total incl. VAT per currency (for the preview)."""
    sums: dict[str, Decimal] = {}
    for row in rows:
        sums[row.currency] = sums.get(row.currency, ZERO) + row.total_gross
    return sums
