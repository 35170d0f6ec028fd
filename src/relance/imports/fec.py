"""Open receivables from a FEC (Fichier des écritures comptables).

The FEC (art. A47 A-1 of the Livre des procédures fiscales) is the journal
every French bookkeeping tool exports: one accounting line per record, tab
or pipe separated, 18 columns, dates YYYYMMDD, amounts with a decimal comma.
Either Debit and Credit columns, or Montant and Sens (D/C).

What is still owed sits on the client accounts (411…): the lines whose
lettering (EcritureLet) is empty, and the lines of a lettered group that
does not balance (a partial payment). Each client's open debit lines become
invoices, one per piece (PieceRef); the credits of the same piece, or of the
same unbalanced lettered group, are what was paid on them. VAT comes from the
VAT-collected lines (4457…) of the same entry. A FEC gives no due dates: they
are the issue date plus the terms the user gives.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from relance.imports.csv_import import CsvError, decode, parse_amount
from relance.imports.rows import (
    InvoiceRow,
    Parsed,
    Problem,
    Settlement,
    check,
    gettext_noop,
)
from relance.rules.money import ZERO

RECEIVABLE = "411"
VAT_COLLECTED = "4457"
REQUIRED = (
    "JournalCode",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "EcritureLet",
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One accounting line of the FEC."""

    line: int
    journal: str
    number: str  # EcritureNum
    date: date
    account: str
    account_label: str
    aux: str
    aux_label: str
    piece: str
    piece_date: date
    label: str
    debit: Decimal
    credit: Decimal
    letter: str

    @property
    def client_key(self) -> tuple[str, str]:
        return (self.account, self.aux)


def read_entries(data: bytes) -> tuple[list[Entry], list[Problem], str]:
    """The FEC's lines, the problems found reading them, and the encoding."""
    text, encoding, _warnings = decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") >= first.count("|") else "|"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=csv.QUOTE_NONE)
    rows = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    if not rows:
        raise CsvError(Problem(gettext_noop("The file is empty.")))
    header = {name.strip().lower(): i for i, name in enumerate(rows[0][1])}
    amounts = ("debit", "credit") if "debit" in header else ("montant", "sens")
    missing = [n for n in (*REQUIRED, *amounts) if n.lower() not in header]
    if missing:
        raise CsvError(
            Problem(
                gettext_noop(
                    "This is not a FEC: the header lacks %(columns)s. A FEC has the 18 "
                    "columns JournalCode … Idevise, separated by tabs or |."
                ),
                {"columns": ", ".join(missing)},
                line=rows[0][0],
            )
        )
    entries, problems = [], []
    for line, cells in rows[1:]:
        entry = _entry(line, cells, header, problems)
        if entry is not None:
            entries.append(entry)
    return entries, problems, encoding


def _fec_date(text: str) -> date | None:
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _fec_amount(text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return ZERO
    return parse_amount(text, "," if "," in text or "." not in text else ".")


def _entry(
    line: int, cells: list[str], header: dict[str, int], problems: list[Problem]
) -> Entry | None:
    def cell(name: str) -> str:
        index = header[name.lower()]
        return cells[index].strip() if index < len(cells) else ""

    if len(cells) < len(header):
        problems.append(
            Problem(
                gettext_noop("This line has %(count)s cells; the header has %(expected)s."),
                {"count": len(cells), "expected": len(header)},
                line=line,
            )
        )
        return None
    found = len(problems)
    dates = {}
    for name in ("EcritureDate", "PieceDate"):
        dates[name] = _fec_date(cell(name))
        if dates[name] is None and (cell(name) or name == "EcritureDate"):
            problems.append(
                Problem(
                    gettext_noop("%(value)s is not a date (YYYYMMDD)."),
                    {"value": cell(name)},
                    line=line,
                    column=name,
                )
            )
    debit, credit = _debit_credit(line, cell, header, problems)
    if len(problems) > found or dates["EcritureDate"] is None:
        return None
    return Entry(
        line=line,
        journal=cell("JournalCode"),
        number=cell("EcritureNum"),
        date=dates["EcritureDate"],
        account=cell("CompteNum"),
        account_label=cell("CompteLib"),
        aux=cell("CompAuxNum"),
        aux_label=cell("CompAuxLib"),
        piece=cell("PieceRef"),
        piece_date=dates["PieceDate"] or dates["EcritureDate"],
        label=cell("EcritureLib"),
        debit=debit,
        credit=credit,
        letter=cell("EcritureLet"),
    )


def _debit_credit(
    line: int, get: Callable[[str], str], header: dict[str, int], problems: list[Problem]
) -> tuple[Decimal, Decimal]:
    names = ("Debit", "Credit") if "debit" in header else ("Montant",)
    values = []
    for name in names:
        value = _fec_amount(get(name))
        if value is None or value < 0:
            problems.append(
                Problem(
                    gettext_noop("%(value)s is not an amount."),
                    {"value": get(name)},
                    line=line,
                    column=name,
                )
            )
            value = ZERO
        values.append(value)
    if len(values) == 2:
        return values[0], values[1]
    sense = get("Sens").upper()
    if sense not in ("D", "C", "+1", "-1"):
        problems.append(
            Problem(
                gettext_noop("Sens must be D (debit) or C (credit), not %(value)s."),
                {"value": sense},
                line=line,
                column="Sens",
            )
        )
    return (values[0], ZERO) if sense in ("D", "+1") else (ZERO, values[0])


# From entries to open invoices ------------------------------------------------------


@dataclass
class _Open:
    """One open piece of a client: what it charged, and what was received on it."""

    debit: Entry
    gross: Decimal
    payments: list[Settlement]

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)


def open_receivables(entries: list[Entry]) -> tuple[list[_Open], list[Problem]]:
    """The open pieces of the client accounts, and warnings about credits
    that settle no open piece (payments on account, unlettered credit notes)."""
    receivable = [e for e in entries if e.account.startswith(RECEIVABLE)]
    groups: dict[tuple, list[Entry]] = defaultdict(list)
    for entry in receivable:
        if entry.letter:
            groups[(entry.client_key, entry.letter)].append(entry)
    open_entries = [e for e in receivable if not e.letter] + [
        e
        for group in groups.values()
        if sum(x.debit for x in group) != sum(x.credit for x in group)
        for e in group
    ]
    pieces: dict[tuple, _Open] = {}
    for entry in sorted(open_entries, key=lambda e: (e.piece_date, e.line)):
        if entry.debit > 0:
            key = (entry.client_key, entry.piece)
            if key in pieces:
                pieces[key].gross += entry.debit
            else:
                pieces[key] = _Open(entry, entry.debit, [])
    warnings: list[Problem] = []
    credits = sorted((e for e in open_entries if e.credit > 0), key=lambda e: (e.date, e.line))
    for entry in credits:
        same_piece = pieces.get((entry.client_key, entry.piece))
        if same_piece is not None:
            targets = [same_piece]
        elif entry.letter:
            targets = [
                p
                for p in pieces.values()
                if p.debit.client_key == entry.client_key and p.debit.letter == entry.letter
            ]
        else:
            targets = []
        left = _settle(entry, targets)
        if left > 0:
            warnings.append(
                Problem(
                    gettext_noop(
                        "A credit of %(amount)s to %(client)s (%(piece)s) settles no open "
                        "invoice of the file: it is not imported (payment on account or "
                        "credit note to allocate by hand)."
                    ),
                    {"amount": left, "client": entry.aux_label or entry.account_label,
                     "piece": entry.piece or entry.number},
                    line=entry.line,
                )
            )  # fmt: skip
    return [p for p in pieces.values() if p.paid < p.gross], warnings


def _settle(credit: Entry, targets: list[_Open]) -> Decimal:
    """Put a credit on the oldest targets first; return what is left of it."""
    left = credit.credit
    for target in targets:
        part = min(left, target.gross - target.paid)
        if part > 0:
            target.payments.append(Settlement(credit.date, part))
            left -= part
    return left


def _vat_by_entry(entries: list[Entry]) -> dict[tuple[str, str], Decimal]:
    vat: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        if entry.account.startswith(VAT_COLLECTED):
            vat[(entry.journal, entry.number)] += entry.credit - entry.debit
    return vat


def parse(data: bytes, *, terms_days: int = 30, currency: str = "EUR") -> Parsed:
    """The open receivables of a FEC as invoice rows."""
    entries, problems, encoding = read_entries(data)
    parsed = Parsed(errors=problems, facts={"encoding": encoding, "terms_days": str(terms_days)})
    pieces, warnings = open_receivables(entries)
    parsed.warnings.extend(warnings)
    vat_of = _vat_by_entry(entries)
    pieces_of_entry: dict[tuple[str, str], set] = defaultdict(set)
    for entry in entries:
        if entry.account.startswith(RECEIVABLE) and entry.debit > 0:
            pieces_of_entry[(entry.journal, entry.number)].add((entry.client_key, entry.piece))
    for piece in pieces:
        debit = piece.debit
        key = (debit.journal, debit.number)
        # The entry's VAT is this invoice's only when the entry charges one piece.
        vat = vat_of.get(key, ZERO) if len(pieces_of_entry[key]) == 1 else ZERO
        if not ZERO <= vat < piece.gross:
            vat = ZERO
        row = InvoiceRow(
            line=debit.line,
            number=debit.piece or debit.number,
            client_name=debit.aux_label or debit.account_label,
            client_reference=debit.aux or debit.account,
            issue_date=debit.piece_date,
            due_date=debit.piece_date + timedelta(days=terms_days),
            currency=currency,
            total_gross=piece.gross,
            total_net=piece.gross - vat,
            total_vat=vat,
            payments=tuple(piece.payments),
            description=debit.label,
        )
        columns = {"number": "PieceRef", "client_name": "CompAuxLib", "total_gross": "Debit"}
        found = check(row, columns)
        parsed.errors.extend(found)
        if not found:
            parsed.rows.append(row)
    parsed.errors.sort(key=lambda p: p.line)
    return parsed
