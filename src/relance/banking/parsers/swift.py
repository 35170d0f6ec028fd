"""SWIFT MT940 (statement) and MT942 (intraday report), read with the mt-940 library.

The library reads the ``:61:`` lines; the ``:86:`` details are read here,
since banks fill them three ways: German structured fields (``?20``..``?29``
remittance, ``?31`` IBAN, ``?32``/``?33`` name) with SEPA keywords inside
(``EREF+``, ``KREF+``, ``SVWZ+``...), Dutch ``/CODE/value/`` pairs, or free text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import mt940
from mt940.options import Options

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

STATEMENT_START = re.compile(r"(?m)^:20:")
SEPA_KEYS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|COAM|OAMT|SVWZ|ABWA|ABWE|IBAN|BIC)\+")
SLASH_KEYS = ("EREF", "REMI", "NAME", "IBAN", "BIC", "TRTP", "ORDP", "BENM", "MARF", "CSID")
RF_REFERENCE = re.compile(r"\bRF\d{2}[A-Z0-9]{1,21}\b")
NO_REFERENCE = {"", "NONREF", "NOTPROVIDED", "NONE", "0"}


def sniff(text: str) -> str | None:
    if re.search(r"(?m)^:(20|25|28C?|60[FM]|61|62[FM]):", text):
        return "mt940"
    return None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse(data: bytes, default_currency: str = "EUR") -> list[ParsedStatement]:
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    starts = [m.start() for m in STATEMENT_START.finditer(text)]
    if not starts:
        # Lenient: some exports leave the :20: header out; balances and :61: suffice.
        if not re.search(r"(?m)^:(60[FM]|61|62[FM]):", text):
            raise StatementError("not an MT940 file: no :20:, :60F: or :61: field")
        starts = [0]
    statements = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        first_line = text.count("\n", 0, start) + 1
        statements.append(_statement(text[start:end], first_line, default_currency))
    if not any(st.lines or st.opening_balance is not None for st in statements):
        raise StatementError("not an MT940 file: no balance and no transaction")
    return statements


def _statement(chunk: str, first_line: int, default_currency: str) -> ParsedStatement:
    # Parse the statement's own text (Transactions.parse), never mt940.parse:
    # that one reads a file when given a string naming one.
    collection = mt940.models.Transactions(
        processors={"post_transaction_details": []},
        options=Options(unbounded_details=True),
    )
    try:
        collection.parse(chunk)
    except Exception as exc:  # the library raises many kinds; each is a broken file
        raise StatementError(f"unreadable MT940 statement: {exc}", first_line) from None
    data = collection.data
    st = ParsedStatement(format="mt940")
    st.account_iban = clean(str(data.get("account_identification") or ""), 64).replace(" ", "")
    number = str(data.get("statement_number") or "")
    sequence = str(data.get("sequence_number") or "")
    st.statement_id = clean("/".join(p for p in (number, sequence) if p), 140)
    opening = _first(
        data, "final_opening_balance", "opening_balance", "intermediate_opening_balance"
    )
    closing = _first(
        data, "final_closing_balance", "closing_balance", "intermediate_closing_balance"
    )
    # Snippets without any balance name no currency: the organisation's then.
    currency = collection.currency or default_currency
    if currency:
        st.currency = check_currency(currency, first_line)
    if opening is not None:
        st.opening_balance = _balance(opening, st.currency, first_line)
        st.period_start = _date(opening.date)
    if closing is not None:
        st.closing_balance = _balance(closing, st.currency, first_line)
        st.period_end = _date(closing.date)
    lines = _line_numbers(chunk, first_line)
    for position, transaction in enumerate(collection.transactions):
        line = lines[position] if position < len(lines) else first_line
        st.lines.append(_line(transaction.data, st.currency, line))
    if not st.currency and st.lines:
        st.currency = st.lines[0].currency
    return st


def _first(data: dict, *keys: str) -> Any:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _date(value: Any) -> date | None:
    if value is None:
        return None
    return date(value.year, value.month, value.day)


def _balance(balance: Any, currency: str, line: int) -> Any:
    amount = balance.amount
    value = parse_amount(str(abs(amount.amount)), amount.currency or currency, line)
    return -value if amount.amount < 0 else value


def _line_numbers(chunk: str, first_line: int) -> list[int]:
    return [first_line + chunk.count("\n", 0, m.start()) for m in re.finditer(r"(?m)^:61:", chunk)]


def _line(data: dict, statement_currency: str, line: int) -> ParsedLine:
    amount = data.get("amount")
    if amount is None:
        raise StatementError(":61: line without an amount", line)
    currency = check_currency(amount.currency or statement_currency, line)
    value = parse_amount(str(abs(amount.amount)), currency, line)
    status = str(data.get("status") or "")
    # RC: reversal of a credit (money leaves); RD: reversal of a debit (money comes back).
    if status in ("C", "RD"):
        direction = CREDIT
    elif status in ("D", "RC"):
        direction = DEBIT
    else:
        direction = CREDIT if amount.amount >= 0 else DEBIT
    value_date = _date(data.get("date"))
    booking = _date(data.get("entry_date")) or _date(data.get("guessed_entry_date")) or value_date
    if booking is None:
        raise StatementError(":61: line without a date", line)
    details = _details(str(data.get("transaction_details") or ""))
    bank_ref = str(data.get("bank_reference") or "").strip()
    customer_ref = str(data.get("customer_reference") or "").strip()
    if bank_ref.upper() in NO_REFERENCE:
        bank_ref = ""
    if not details["end_to_end_id"] and customer_ref.upper() not in NO_REFERENCE:
        details["end_to_end_id"] = clean(customer_ref, 64)
    code = str(data.get("transaction_code") or data.get("id") or "").strip()
    return ParsedLine(
        booking_date=booking,
        value_date=value_date,
        amount=value,
        direction=direction,
        currency=currency,
        bank_reference=clean(bank_ref, 140),
        transaction_code=clean(code, 64),
        reversal=status.startswith("R"),
        source_line=line,
        **details,
    )


def _details(raw: str) -> dict[str, str]:
    """Remittance, references and counterparty from a ``:86:`` field."""
    result = {
        "remittance": "",
        "structured_reference": "",
        "end_to_end_id": "",
        "payer_name": "",
        "payer_iban": "",
    }
    text = raw.replace("\n", "")
    subfields = re.findall(r"\?(\d{2})([^?]*)", text)
    if subfields and re.match(r"^\d{3}\?", text.strip()):
        fields: dict[str, list[str]] = {}
        for key, value in subfields:
            fields.setdefault(key, []).append(value)
        purpose_keys = [f"{n}" for n in range(20, 30)] + [f"{n}" for n in range(60, 64)]
        parts = [v for key in purpose_keys for v in fields.get(key, [])]
        purpose = "".join(parts) if SEPA_KEYS.search("".join(parts)) else " ".join(parts)
        result["payer_iban"] = clean("".join(fields.get("31", [])), 64).replace(" ", "")
        # ?32/?33 are 27-character pieces of one name, cut anywhere.
        result["payer_name"] = clean("".join(fields.get("32", []) + fields.get("33", [])), 200)
        _sepa(purpose, result)
    elif raw.lstrip().startswith("/") and any(f"/{key}/" in text for key in SLASH_KEYS):
        _slashes(text, result)
    else:
        result["remittance"] = clean(raw)
    found = RF_REFERENCE.search(result["remittance"].replace(" ", "").upper())
    if found:
        result["structured_reference"] = found.group(0)
    return result


def _sepa(purpose: str, result: dict[str, str]) -> None:
    pieces = SEPA_KEYS.split(purpose)
    if len(pieces) == 1:
        result["remittance"] = clean(purpose)
        return
    values: dict[str, str] = {}
    for key, value in zip(pieces[1::2], pieces[2::2], strict=False):
        values.setdefault(key, value.strip())
    head = clean(pieces[0])
    result["remittance"] = clean(" ".join(p for p in (head, values.get("SVWZ", "")) if p))
    eref = values.get("EREF", "")
    if eref.upper() not in NO_REFERENCE:
        result["end_to_end_id"] = clean(eref, 64)
    if values.get("ABWA") and not result["payer_name"]:  # the ultimate payer
        result["payer_name"] = clean(values["ABWA"], 200)
    if values.get("IBAN") and not result["payer_iban"]:
        result["payer_iban"] = clean(values["IBAN"], 64).replace(" ", "")


def _slashes(text: str, result: dict[str, str]) -> None:
    # "/TRTP/SEPA OVERBOEKING/IBAN/NL..../BIC/..../NAME/..../REMI/..../EREF/...."
    pattern = "|".join(SLASH_KEYS)
    pieces = re.split(rf"/({pattern})/", text)
    values: dict[str, str] = {}
    for key, value in zip(pieces[1::2], pieces[2::2], strict=False):
        values.setdefault(key, value.strip().rstrip("/"))
    remittance = values.get("REMI", "")
    if remittance.startswith(("USTD//", "STRD/")):
        remittance = remittance.split("/", 2)[-1].lstrip("/")
    result["remittance"] = clean(remittance or text)
    eref = values.get("EREF", "")
    if eref.upper() not in NO_REFERENCE:
        result["end_to_end_id"] = clean(eref, 64)
    result["payer_name"] = clean(values.get("NAME", ""), 200)
    result["payer_iban"] = clean(values.get("IBAN", ""), 64).replace(" ", "")
