"""Bank statement parsers: bytes in, ``ParsedStatement`` out, ``StatementError`` on failure.

Pure Python (no Django). ``parse`` detects the format from the content, the
file name only breaking ties (a CSV has no signature).
"""

from __future__ import annotations

from relance.banking.parsers import camt, csvfile, ofx, swift
from relance.banking.parsers.base import (
    CREDIT,
    DEBIT,
    ParsedLine,
    ParsedStatement,
    StatementError,
)

__all__ = [
    "CREDIT",
    "DEBIT",
    "FORMATS",
    "ParsedLine",
    "ParsedStatement",
    "StatementError",
    "detect_format",
    "parse",
]

FORMATS = ("camt052", "camt053", "camt054", "mt940", "ofx", "csv")
MAX_BYTES = 200 * 1024 * 1024


def detect_format(data: bytes, filename: str = "") -> str:
    """The statement format of a file, from its content (the name as a hint)."""
    head = data[:8192]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") or b"<?xml" in head[:200]:
        found = camt.sniff(head)
        if found:
            return found
        if ofx.sniff(head.decode("utf-8", "replace")):
            return "ofx"
        name = filename.lower()
        for number in ("052", "053", "054"):
            if number in name:
                return f"camt{number}"
        raise StatementError("an XML file that is neither camt nor OFX")
    text = head.decode("latin-1")
    if ofx.sniff(text):
        return "ofx"
    if swift.sniff(text):
        return "mt940"
    name = filename.lower()
    if name.endswith((".sta", ".940", ".942", ".mt940")):
        return "mt940"
    if name.endswith((".ofx", ".qfx")):
        return "ofx"
    if b"\x00" in head:
        raise StatementError("not a bank statement (binary file)")
    if name.endswith((".csv", ".txt", ".tsv")) or b";" in head or b"," in head:
        return "csv"
    raise StatementError("unknown statement format")


def parse(
    data: bytes,
    filename: str = "",
    *,
    format: str | None = None,
    csv_mapping: dict[str, str] | None = None,
    default_currency: str = "EUR",
) -> list[ParsedStatement]:
    """Every statement in the file. Raises only ``StatementError``."""
    if not data or not data.strip():
        raise StatementError("the file is empty")
    if len(data) > MAX_BYTES:
        raise StatementError("the file is too large")
    fmt = format or detect_format(data, filename)
    try:
        if fmt.startswith("camt"):
            return camt.parse(data)
        if fmt == "mt940":
            return swift.parse(data, default_currency)
        if fmt == "ofx":
            return ofx.parse(data)
        if fmt == "csv":
            return csvfile.parse(data, csv_mapping, default_currency)
    except StatementError:
        raise
    except RecursionError:
        raise StatementError("the file is nested too deeply") from None
    except (ValueError, ArithmeticError, LookupError, TypeError, AttributeError) as exc:
        # A parser bug must not become a 500; the message still names it.
        raise StatementError(f"unreadable {fmt} file: {exc}") from None
    raise StatementError(f"unknown statement format {fmt!r}")
