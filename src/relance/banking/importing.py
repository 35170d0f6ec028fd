"""Import a statement file: parse, drop the lines already known, store the rest.

All or nothing: a file with one broken line stores nothing and the error
names the line. Idempotent: each line has a fingerprint unique per
organisation, so the same file twice, or a camt.052 intraday report and then
the day's camt.053, adds each booking once. ``statement_imported`` is sent
once the transaction has committed; matching listens to it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from django.db import IntegrityError, router, transaction
from django.db.models.base import ModelState

from relance.banking.models import BankLine, CsvMapping, StatementImport
from relance.banking.parsers import ParsedLine, ParsedStatement, StatementError, parse
from relance.banking.signals import statement_imported
from relance.imports import bulk

__all__ = ["ImportResult", "StatementError", "fingerprints", "import_statement"]

LOOKUP_CHUNK = 5000  # fingerprints per "already known?" query
# References that banks put where they have none.
NOT_A_REFERENCE = {"", "NONREF", "NOTPROVIDED", "NONE", "0"}


@dataclass
class ImportResult:
    format: str
    imports: list[StatementImport] = field(default_factory=list)
    added: int = 0  # lines stored
    duplicates: int = 0  # lines already imported before
    skipped: int = 0  # entries not booked (pending, information only)

    @property
    def lines(self) -> int:
        return self.added + self.duplicates


def fingerprints(statement: ParsedStatement) -> list[str]:
    """One fingerprint per line, stable across files that carry the same booking.

    The bank's own reference identifies a booking when the bank gives one and
    it is unique within the file; otherwise the line's content does, with its
    rank among identical lines of the file (two equal payments on one day are
    two lines, and stay two when the file comes again).
    """
    account = statement.account_iban.replace(" ", "").upper()
    keys_by_ref = [_reference_key(account, line) for line in statement.lines]
    ref_counts = Counter(key for key in keys_by_ref if key)
    seen: Counter[str] = Counter()
    result = []
    for line, ref_key in zip(statement.lines, keys_by_ref, strict=True):
        if ref_key and ref_counts[ref_key] == 1:
            key = ref_key
        else:
            content = "|".join(
                [
                    "content",
                    account,
                    line.booking_date.isoformat(),
                    str(line.amount),
                    line.direction,
                    line.currency,
                    line.remittance,
                    line.end_to_end_id,
                    line.payer_name,
                ]
            )
            seen[content] += 1
            key = f"{content}|{seen[content]}"
        result.append(hashlib.sha256(key.encode()).hexdigest())
    return result


def _reference_key(account: str, line: ParsedLine) -> str:
    ref = line.bank_reference.strip()
    if ref.upper() in NOT_A_REFERENCE:
        return ""
    # Amount and direction too: a bank reusing a reference for another booking
    # must not make that booking vanish.
    return "|".join(["ref", account, ref, str(line.amount), line.direction, line.currency])


# The columns an import fills; the others take their model default (status NEW,
# empty matching fields), given once per insert rather than once per row.
LINE_FIELDS = (
    "organisation_id",
    "statement_id",
    "booking_date",
    "value_date",
    "amount",
    "direction",
    "currency",
    "remittance",
    "structured_reference",
    "end_to_end_id",
    "payer_name",
    "payer_iban",
    "bank_reference",
    "transaction_code",
    "fingerprint",
)


def import_statement(
    organisation: Any,
    data: bytes,
    filename: str = "",
    *,
    user: Any = None,
    format: str | None = None,
    csv_mapping: dict[str, str] | None = None,
) -> ImportResult:
    """Parse ``data`` and store its new lines. Raises ``StatementError`` (nothing stored)."""
    statements = parse(
        data,
        filename,
        format=format,
        csv_mapping=csv_mapping,
        default_currency=organisation.currency,
    )
    digest = hashlib.sha256(data).hexdigest()
    result = ImportResult(format=statements[0].format)
    try:
        with transaction.atomic():
            added: list[tuple[StatementImport, NewLines]] = []
            for parsed in statements:
                record, lines = _store(organisation, parsed, digest, filename, user, result)
                added.append((record, lines))
            if result.format == "csv" and csv_mapping:
                CsvMapping.objects.update_or_create(
                    organisation=organisation, defaults={"mapping": csv_mapping}
                )
            for record, lines in added:
                transaction.on_commit(
                    lambda record=record, lines=lines: statement_imported.send(
                        sender=StatementImport, statement=record, lines=lines
                    )
                )
    except IntegrityError:
        # Another import stored some of the same lines meanwhile.
        raise StatementError(
            "another import of the same statement ran at the same time; import the file again"
        ) from None
    return result


def _store(
    organisation: Any,
    parsed: ParsedStatement,
    digest: str,
    filename: str,
    user: Any,
    result: ImportResult,
) -> tuple[StatementImport, NewLines]:
    keys = fingerprints(parsed)
    known = _known(organisation, keys)
    record = StatementImport.objects.create(
        organisation=organisation,
        format=parsed.format,
        filename=filename[:255],
        sha256=digest,
        account_iban=parsed.account_iban[:64],
        statement_id=parsed.statement_id[:140],
        period_start=parsed.period_start,
        period_end=parsed.period_end,
        opening_balance=parsed.opening_balance,
        closing_balance=parsed.closing_balance,
        currency=parsed.currency or organisation.currency,
        imported_by=user if getattr(user, "is_authenticated", False) else None,
    )
    rows: list[tuple] = []
    reversals: list[int] = []  # indexes in rows
    org_id, record_id = organisation.pk, record.pk
    for line, key in zip(parsed.lines, keys, strict=True):
        if key in known:
            result.duplicates += 1
            continue
        known.add(key)  # the same booking twice in one file (two statements) counts once
        if line.reversal:
            reversals.append(len(rows))
        rows.append(
            (
                org_id,
                record_id,
                line.booking_date,
                line.value_date,
                line.amount,
                line.direction,
                line.currency,
                line.remittance,
                line.structured_reference[:64],
                line.end_to_end_id[:64],
                line.payer_name[:200],
                line.payer_iban[:64],
                line.bank_reference[:140],
                line.transaction_code[:64],
                key,
            )
        )
    ids = bulk.insert(BankLine, LINE_FIELDS, rows, returning=True)
    if reversals:
        BankLine.objects.filter(pk__in=[ids[i] for i in reversals]).update(flags=["reversal"])
    lines = NewLines(rows, ids, reversals)
    record.line_count = len(lines)
    record.save(update_fields=["line_count"])
    result.imports.append(record)
    result.added += len(lines)
    result.skipped += parsed.skipped
    return record, lines


class NewLines(Sequence[BankLine]):
    """The lines an import added, for the signal's receivers: model instances
    built on first use, without ``Model.__init__``. The matching receiver
    reads the statement's lines again in one query and never uses them: for
    it, 100,000 instances (about half a second) are not built at all."""

    def __init__(self, rows: list[tuple], ids: list[int], reversals: list[int]) -> None:
        self._count = len(ids)
        self._parts: tuple | None = (rows, ids, reversals)
        self._lines: list[BankLine] | None = None

    def _built(self) -> list[BankLine]:
        if self._lines is None:
            assert self._parts is not None
            self._lines, self._parts = _instances(*self._parts), None
        return self._lines

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> BankLine: ...
    @overload
    def __getitem__(self, index: slice) -> list[BankLine]: ...
    def __getitem__(self, index: int | slice) -> BankLine | list[BankLine]:
        return self._built()[index]

    def __iter__(self) -> Iterator[BankLine]:
        return iter(self._built())


def _instances(rows: list[tuple], ids: list[int], reversals: list[int]) -> list[BankLine]:
    defaults = {
        f.attname: f.get_default()
        for f in BankLine._meta.concrete_fields
        if f.attname not in LINE_FIELDS and not f.primary_key
    }
    mutable = [name for name, value in defaults.items() if isinstance(value, list | dict)]
    db = router.db_for_write(BankLine)
    lines = []
    new = BankLine.__new__
    for pk, row in zip(ids, rows, strict=True):
        obj = new(BankLine)
        values = obj.__dict__
        values.update(defaults)
        for name in mutable:
            values[name] = defaults[name].copy()
        values.update(zip(LINE_FIELDS, row, strict=True))
        values["id"] = pk
        state = obj._state = ModelState()
        state.adding, state.db = False, db
        lines.append(obj)
    for index in reversals:
        lines[index].flags = ["reversal"]
    return lines


def _known(organisation: Any, keys: list[str]) -> set[str]:
    known: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        known.update(
            BankLine.objects.for_org(organisation)
            .filter(fingerprint__in=chunk)
            .values_list("fingerprint", flat=True)
        )
    return known
