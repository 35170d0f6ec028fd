"""Bank statements exported as CSV, read through a column mapping.

The mapping names the file's column for each field: ``date`` (required),
``amount`` (signed) or ``debit`` + ``credit``, and optionally ``value_date``,
``currency``, ``remittance``, ``reference``, ``payer_name``, ``payer_iban``.
``guess_mapping`` proposes one from the header row; the user corrects it.
Dates dd/mm/yyyy (French), yyyy-mm-dd or dd.mm.yyyy; amounts "1 234,56",
"1234.56", "-12,00".
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date

from relance.banking.parsers.base import (
    CREDIT,
    DEBIT,
    ParsedLine,
    ParsedStatement,
    StatementError,
    check_currency,
    clean,
    parse_amount,
)

FIELDS = (
    "date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "currency",
    "remittance",
    "reference",
    "payer_name",
    "payer_iban",
)
# Header words (accents and case dropped) each field is guessed from.
HINTS: dict[str, tuple[str, ...]] = {
    # value_date first: "date de valeur" must not be taken for the booking date.
    "value_date": ("date de valeur", "date valeur", "value date", "valuta"),
    "date": ("date operation", "date comptable", "booking date", "date", "buchungstag"),
    "amount": ("montant", "amount", "betrag", "somme"),
    "debit": ("debit",),
    "credit": ("credit",),
    "currency": ("devise", "currency", "monnaie", "waehrung"),
    "remittance": ("libelle", "label", "description", "motif", "communication", "details"),
    "reference": ("reference", "ref", "end to end"),
    "payer_name": ("tiers", "payer", "nom", "name", "contrepartie", "counterparty"),
    "payer_iban": ("iban", "compte contrepartie", "account"),
}
MAX_FILE_LINES = 1_000_000


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        return csv.excel if sample.count(",") > sample.count(";") else _Semicolon


class _Semicolon(csv.excel):
    delimiter = ";"


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows, each with its line number in the file."""
    text = decode(data)
    if "\x00" in text:
        raise StatementError("not a CSV file (binary content)")
    reader = csv.reader(io.StringIO(text), _dialect(text))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            rows.append((reader.line_num, row))
            if len(rows) > MAX_FILE_LINES:
                raise StatementError("too many lines in the CSV file")
    except csv.Error as exc:
        raise StatementError(f"unreadable CSV: {exc}", reader.line_num) from None
    if header is None:
        raise StatementError("the CSV file is empty")
    return header, rows


def _fits(key: str, word: str) -> bool:
    return key == word or key.startswith(word + " ") or f" {word}" in f" {key} "


def guess_mapping(header: list[str]) -> dict[str, str]:
    """Field → column name, from the header words; fields not found are left out."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    folded = [(_fold(name), name) for name in header]
    for field_name, words in HINTS.items():
        for word in words:  # the most specific words first
            found = next(
                (
                    name
                    for key, name in folded
                    if name not in used
                    and (key == word or word in key.split() or key.startswith(word))
                ),
                None,
            )
            if found:
                mapping[field_name] = found
                used.add(found)
                break
    if "debit" in mapping and "credit" in mapping:
        mapping.pop("amount", None)
    return mapping


def parse_date(text: str, line: int) -> date:
    raw = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", raw)
        if not match:
            raise StatementError(f"not a date: {raw!r} (expected dd/mm/yyyy or yyyy-mm-dd)", line)
        day, month, year = (int(g) for g in match.groups())
        if year < 100:
            year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        raise StatementError(f"not a date: {raw!r}", line) from None


def _amount(text: str, currency: str, line: int) -> tuple:
    """(positive amount, negative?) from "1 234,56", "-1,234.56", "(12.00)", "12,00 €"."""
    raw = re.sub(r"[\s\u00a0\u202f€$£]", "", text)
    raw = re.sub(r"[A-Za-z]{3}$", "", raw)
    negative = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
    raw = raw.strip("()+-")
    if "," in raw and "." in raw:
        # The last separator is the decimal one.
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    elif raw.count(".") > 1 or raw.count(",") > 1:
        raw = raw.replace(",", "").replace(".", "")
    return parse_amount(raw, currency, line), negative


def parse(
    data: bytes, mapping: dict[str, str] | None = None, default_currency: str = "EUR"
) -> list[ParsedStatement]:
    header, rows = read_rows(data)
    mapping = {k: v for k, v in (mapping or guess_mapping(header)).items() if v}
    missing = [c for c in mapping.values() if c not in header]
    if missing:
        raise StatementError(f"column {missing[0]!r} is not in the file")
    if "date" not in mapping:
        raise StatementError("the mapping has no date column")
    if "amount" not in mapping and not ("debit" in mapping or "credit" in mapping):
        raise StatementError("the mapping has no amount column (or debit and credit columns)")
    index = {field_name: header.index(column) for field_name, column in mapping.items()}
    default_currency = check_currency(default_currency)
    st = ParsedStatement(format="csv", currency=default_currency)
    for line, row in rows:

        def cell(name: str, row: list[str] = row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        currency = check_currency(cell("currency"), line) if cell("currency") else default_currency
        if "amount" in index:
            if not cell("amount"):
                raise StatementError("amount missing", line)
            amount, negative = _amount(cell("amount"), currency, line)
        else:
            debit, credit = cell("debit"), cell("credit")
            if debit and _amount(debit, currency, line)[0]:
                amount, negative = _amount(debit, currency, line)[0], True
            elif credit:
                amount, negative = _amount(credit, currency, line)
            else:
                raise StatementError("neither a debit nor a credit amount", line)
        if not cell("date"):
            raise StatementError("date missing", line)
        st.lines.append(
            ParsedLine(
                booking_date=parse_date(cell("date"), line),
                value_date=parse_date(cell("value_date"), line) if cell("value_date") else None,
                amount=amount,
                direction=DEBIT if negative else CREDIT,
                currency=currency,
                remittance=clean(cell("remittance")),
                structured_reference=clean(cell("reference"), 64),
                payer_name=clean(cell("payer_name"), 200),
                payer_iban=clean(cell("payer_iban"), 64).replace(" ", ""),
                source_line=line,
            )
        )
    if st.lines:
        st.period_start = min(line.booking_date for line in st.lines)
        st.period_end = max(line.booking_date for line in st.lines)
    return [st]
