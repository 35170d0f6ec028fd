"""How a client pays an invoice by bank transfer: the ISO 11649 RF creditor
reference and the EPC QR code (EPC069-12, "GiroCode") that carries it.

The RF reference is derived from the invoice number, so a bank-statement line
that quotes it leads back to the invoice without any stored mapping. The EPC
payload is the text a banking app reads from the QR code printed on the PDF.

>>> creditor_reference("F2026-00042")
'RF93F202600042'
>>> format_reference("RF93F202600042")
'RF93 F202 6000 42'
>>> print(epc_payload("Atelier Durand", "FR76 3000 6000 0112 3456 7890 189", None,
...                   D("1234.50"), "EUR", reference="RF93F202600042"))
BCD
002
1
SCT
<BLANKLINE>
Atelier Durand
FR7630006000011234567890189
EUR1234.50
<BLANKLINE>
RF93F202600042
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import segno
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

from relance.rules.money import CENT, D

__all__ = [
    "EPC_MAX_AMOUNT",
    "EPC_MAX_BYTES",
    "EPC_MIN_AMOUNT",
    "creditor_reference",
    "epc_payload",
    "epc_qr",
    "epc_qr_svg",
    "format_reference",
]

REFERENCE_MAX_BODY = 21  # ISO 11649: "RF" + 2 check digits + 1 to 21 characters
EPC_MIN_AMOUNT = Decimal("0.01")
EPC_MAX_AMOUNT = Decimal("999999999.99")
EPC_MAX_BYTES = 331  # what a version 13 QR code holds at error correction M
EPC_MAX_VERSION = 13
NAME_MAX = 70
TEXT_MAX = 140

_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")
# Line breaks would split a field in two; other control characters have no
# place in a payment order either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def creditor_reference(invoice_number: str) -> str:
    """The RF reference of an invoice: its letters and digits, uppercased,
    behind "RF" and two check digits (ISO 7064 MOD 97-10).

    A number longer than 21 letters and digits keeps its last 21: the end of
    an invoice number (its sequence) is what tells invoices apart.

    >>> creditor_reference("2026/0001")
    'RF3120260001'
    >>> creditor_reference("539007547034")  # the example of ISO 11649
    'RF18539007547034'
    """
    body = _NOT_ALPHANUMERIC.sub("", invoice_number.upper())[-REFERENCE_MAX_BODY:]
    if not body:
        raise ValueError(
            f"invoice number {invoice_number!r} has no letter or digit to make an RF reference"
        )
    reference = "RF" + mod_97_10.calc_check_digits(body + "RF") + body
    return iso11649.validate(reference)


def format_reference(reference: str) -> str:
    """Groups of four, as people type it: "RF93 F202 6000 42"."""
    return iso11649.format(reference)


def _clean_text(value: str) -> str:
    """One line of text in NFC (so "é" counts as one character, not two)."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", value)).split())


def _epc_amount(amount: Decimal) -> str:
    amount = D(amount)
    if amount != amount.quantize(CENT):
        raise ValueError(f"EPC QR amount {amount} has more than two decimals")
    if not EPC_MIN_AMOUNT <= amount <= EPC_MAX_AMOUNT:
        raise ValueError(
            f"EPC QR amount {amount} is outside {EPC_MIN_AMOUNT} to {EPC_MAX_AMOUNT} EUR"
        )
    return f"EUR{amount.quantize(CENT)}"


def epc_payload(
    name: str,
    iban: str,
    bic: str | None,
    amount: Decimal,
    currency: str,
    reference: str | None = None,
    text: str | None = None,
) -> str:
    """The EPC069-12 version 002 payload of a SEPA credit transfer, UTF-8.

    The structured RF reference (field 10) and the free text (field 11)
    exclude each other; fields after the last one given are left out, and
    there is no trailing newline. A name longer than 70 characters is cut.
    """
    if currency != "EUR":
        raise ValueError(f"an EPC QR code pays in EUR only, not {currency!r}")
    if reference and text:
        raise ValueError("an EPC QR code carries an RF reference or a text, never both")
    try:
        iban = stdnum_iban.validate(iban)
    except ValidationError:
        raise ValueError(f"not a valid IBAN: {iban!r}") from None
    try:
        bic = stdnum_bic.validate(bic) if bic else ""
    except ValidationError:
        raise ValueError(f"not a valid BIC: {bic!r}") from None
    name = _clean_text(name)[:NAME_MAX].rstrip()
    if not name:
        raise ValueError("an EPC QR code needs the beneficiary's name")
    fields = ["BCD", "002", "1", "SCT", bic, name, iban, _epc_amount(amount), ""]
    if reference:
        try:
            fields.append(iso11649.validate(reference))
        except ValidationError:
            raise ValueError(f"not a valid ISO 11649 RF reference: {reference!r}") from None
    elif text:
        text = _clean_text(text)
        if len(text) > TEXT_MAX:
            raise ValueError(f"EPC QR text has {len(text)} characters, at most {TEXT_MAX}")
        fields += ["", text]
    while fields[-1] == "":
        fields.pop()
    payload = "\n".join(fields)
    size = len(payload.encode())
    if size > EPC_MAX_BYTES:
        raise ValueError(f"EPC QR payload is {size} bytes, at most {EPC_MAX_BYTES}")
    return payload


def epc_qr(payload: str) -> segno.QRCode:
    """The QR code of a payload: byte mode, UTF-8 (charset 1 of the payload),
    error correction M exactly, version 13 at most, as EPC069-12 asks."""
    qr = segno.make_qr(payload.encode(), error="m", boost_error=False, mode="byte")
    if qr.version > EPC_MAX_VERSION:  # cannot happen within 331 bytes; guard anyway
        raise ValueError(f"EPC QR code needs version {qr.version}, at most {EPC_MAX_VERSION}")
    return qr


def epc_qr_svg(payload: str) -> str:
    """The QR code as an SVG document without fixed size (a viewBox only), so
    the page decides its size and the modules stay vector-sharp. The quiet
    zone of four modules is part of the image."""
    return epc_qr(payload).svg_inline(omitsize=True, border=4, dark="#000", light="#fff")
