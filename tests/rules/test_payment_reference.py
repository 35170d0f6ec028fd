"""RF creditor references (ISO 11649) and EPC QR payloads (EPC069-12)."""

from __future__ import annotations

import doctest
import io
from decimal import Decimal

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from stdnum import iso11649

from relance.rules import payment_reference
from relance.rules.payment_reference import (
    creditor_reference,
    epc_payload,
    epc_qr,
    epc_qr_svg,
    format_reference,
)

IBAN = "FR7630006000011234567890189"


def test_the_module_examples_hold():
    failures, tried = doctest.testmod(payment_reference)
    assert tried > 0
    assert failures == 0


# --- RF creditor reference --------------------------------------------------


@pytest.mark.parametrize(
    ("number", "reference"),
    [
        ("539007547034", "RF18539007547034"),  # the example of ISO 11649
        ("12345 12345", "RF451234512345"),
        ("F2026-00042", "RF93F202600042"),
        ("f2026-00042", "RF93F202600042"),  # letters are read in upper case
        ("2026/0001", "RF3120260001"),
    ],
)
def test_the_reference_is_rf_check_digits_and_the_invoice_number(number, reference):
    assert creditor_reference(number) == reference


def test_a_long_number_keeps_its_last_21_characters():
    reference = creditor_reference("ATELIER-DURAND-2026-FACTURES-000123")
    assert reference[4:] == "RAND2026FACTURES000123"[-21:]
    assert len(reference) == 25
    assert iso11649.is_valid(reference)


def test_a_number_without_letters_or_digits_gets_no_reference():
    with pytest.raises(ValueError, match="no letter or digit"):
        creditor_reference("--/--")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_every_invoice_number_gives_a_valid_reference_or_a_clear_error(number):
    body = "".join(c for c in number.upper() if c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    if not body:
        with pytest.raises(ValueError):
            creditor_reference(number)
        return
    reference = creditor_reference(number)
    assert iso11649.is_valid(reference)
    assert reference.startswith("RF")
    assert reference[4:] == body[-21:]


def test_the_reference_is_printed_in_groups_of_four():
    assert format_reference("RF18539007547034") == "RF18 5390 0754 7034"
    assert format_reference("RF451234512345") == "RF45 1234 5123 45"


# --- EPC QR payload, field by field ----------------------------------------------


def test_a_payload_with_an_rf_reference_follows_epc069_12():
    payload = epc_payload(
        "Atelier Durand",
        "FR76 3000 6000 0112 3456 7890 189",
        "AGRIFRPP",
        Decimal("1587.18"),
        "EUR",
        reference="RF93 F202 6000 42",
    )
    assert payload.split("\n") == [
        "BCD",  # service tag
        "002",  # version: BIC optional in the EEA
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        "AGRIFRPP",
        "Atelier Durand",
        IBAN,  # compact
        "EUR1587.18",
        "",  # purpose
        "RF93F202600042",  # structured reference, compact
    ]
    assert not payload.endswith("\n")


def test_a_payload_with_a_text_puts_it_in_field_11_and_leaves_field_10_empty():
    payload = epc_payload("Atelier Durand", IBAN, None, Decimal("12.3"), "EUR", text="F2026-42")
    assert payload.split("\n") == [
        "BCD", "002", "1", "SCT", "", "Atelier Durand", IBAN, "EUR12.30", "", "", "F2026-42",
    ]  # fmt: skip


def test_a_payload_without_remittance_information_stops_after_the_amount():
    payload = epc_payload("Atelier Durand", IBAN, None, Decimal("5"), "EUR")
    assert payload.split("\n")[-1] == "EUR5.00"


def test_the_name_is_cut_at_70_characters_and_kept_on_one_line():
    name = "Société coopérative\nde production " + "é" * 80
    fields = epc_payload(name, IBAN, None, Decimal("1"), "EUR").split("\n")
    assert len(fields[5]) == 70
    assert fields[5].startswith("Société coopérative de production éé")
    assert len(fields) == 8


def test_accents_are_sent_as_utf8_as_charset_1_says():
    payload = epc_payload("Crêperie Noël", IBAN, None, Decimal("1"), "EUR")
    assert payload.split("\n")[2] == "1"
    assert "Crêperie Noël".encode() in payload.encode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "GBP"}, "EUR only"),
        ({"iban": "FR7630006000011234567890188"}, "not a valid IBAN"),
        ({"iban": ""}, "not a valid IBAN"),
        ({"bic": "AGRI"}, "not a valid BIC"),
        ({"amount": Decimal("0")}, "outside 0.01 to 999999999.99"),
        ({"amount": Decimal("-10.00")}, "outside"),
        ({"amount": Decimal("1000000000.00")}, "outside"),
        ({"amount": Decimal("10.005")}, "more than two decimals"),
        ({"reference": "RF00F202600042"}, "not a valid ISO 11649"),
        ({"reference": "RF93F202600042", "text": "F2026-00042"}, "never both"),
        ({"text": "x" * 141}, "at most 140"),
        ({"name": " \n "}, "beneficiary's name"),
        ({"name": "株" * 70, "text": "式" * 140}, "at most 331"),
    ],
)
def test_what_a_bank_would_refuse_is_refused_with_a_reason(changes, message):
    arguments = {
        "name": "Atelier Durand",
        "iban": IBAN,
        "bic": None,
        "amount": Decimal("100.00"),
        "currency": "EUR",
    } | changes
    with pytest.raises(ValueError, match=message):
        epc_payload(**arguments)


def test_amounts_are_never_floats():
    with pytest.raises(TypeError):
        epc_payload("Atelier Durand", IBAN, None, 12.5, "EUR")  # type: ignore[arg-type]


# --- the QR code itself ---------------------------------------------------------


def decode(qr) -> zxingcpp.Barcode:
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4)
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    return code


def test_the_largest_payload_fits_version_13_at_error_correction_m():
    payload = epc_payload("N" * 70, IBAN, "AGRIFRPPXXX", Decimal("999999999.99"), "EUR",
                          text="T" * 140)  # fmt: skip
    qr = epc_qr(payload)
    assert qr.error == "M"
    assert qr.version <= 13
    code = decode(qr)
    assert code.bytes == payload.encode()
    assert code.ec_level == "M"


def test_the_qr_code_carries_the_payload_bytes_exactly():
    payload = epc_payload(
        "Crêperie Noël", IBAN, None, Decimal("42.00"), "EUR", reference="RF18539007547034"
    )
    assert decode(epc_qr(payload)).bytes == payload.encode()


def test_the_svg_has_no_fixed_size_so_the_page_sets_it():
    svg = epc_qr_svg(epc_payload("Atelier Durand", IBAN, None, Decimal("1"), "EUR"))
    assert svg.startswith("<svg")
    assert "viewBox" in svg
    assert "width=" not in svg.split(">", 1)[0]
