"""SMS length: GSM 03.38 alphabet, UCS-2 fallback, parts as the networks bill them."""

from __future__ import annotations

import doctest
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules import sms
from relance.rules.sms import SmsLength, SmsTooLong, check, is_gsm, measure

# 3GPP TS 23.038 §6.2.1, the default alphabet by code point (row = low nibble 0-F,
# written column by column: 0x00-0x0F, 0x10-0x1F, …). None marks 0x1B, the escape.
TS_23_038 = [
    "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
    "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", None, "Æ", "æ", "ß", "É",
    " ", "!", '"', "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
    *"0123456789", ":", ";", "<", "=", ">", "?",
    "¡", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "Ä", "Ö", "Ñ", "Ü", "§",
    "¿", *"abcdefghijklmnopqrstuvwxyz", "ä", "ö", "ñ", "ü", "à",
]  # fmt: skip
# §6.2.1.1, the extension table reached through the escape.
TS_23_038_EXTENSION = ["\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]

BASIC = [c for c in TS_23_038 if c is not None]
GSM_BASIC_TEXT = st.text(alphabet=BASIC)
GSM_TEXT = st.text(alphabet=BASIC + TS_23_038_EXTENSION)
# Characters of the Basic Multilingual Plane outside GSM (one UTF-16 unit each).
NON_GSM_BMP = st.characters(
    min_codepoint=0x20, max_codepoint=0xFFFF, exclude_categories=("Cs",)
).filter(lambda c: not is_gsm(c))


def test_the_module_examples_hold():
    failures, tried = doctest.testmod(sms)
    assert tried > 0
    assert failures == 0


def test_the_alphabet_is_the_standard_one():
    assert len(TS_23_038) == 128
    assert set(BASIC) == sms.GSM_BASIC
    assert set(TS_23_038_EXTENSION) == sms.GSM_EXTENDED


@pytest.mark.parametrize("char", list("éèùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà@£$¥¤¡"))
def test_accented_and_greek_letters_of_the_table_are_gsm(char):
    assert measure(char) == SmsLength("GSM-7", 1, 1)


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_extension_characters_count_two_septets(char):
    assert measure(char) == SmsLength("GSM-7", 2, 1)


@pytest.mark.parametrize("char", [*"êçâîôûëïœÊÀÈ«»“”…`", "\u2019", "\u2013"])
def test_french_letters_and_typography_outside_the_table_force_ucs2(char):
    assert measure(char) == SmsLength("UCS-2", 1, 1)
    assert measure("Bonjour " + char).encoding == "UCS-2"


def test_an_emoji_is_two_utf16_units():
    assert measure("👍") == SmsLength("UCS-2", 2, 1)
    assert measure("Merci 🙏").units == 8


def test_empty_text_is_no_sms():
    assert measure("") == SmsLength("GSM-7", 0, 0)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm_limits(length, segments):
    assert measure("a" * length) == SmsLength("GSM-7", length, segments)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_limits(length, segments):
    assert measure("ê" * length) == SmsLength("UCS-2", length, segments)


def test_euro_signs_fill_a_single_sms_at_eighty():
    assert measure("€" * 80) == SmsLength("GSM-7", 160, 1)
    assert measure("€" * 81).segments == 2


def test_an_escaped_character_is_never_split_between_parts():
    # 306 septets would fit two parts of 153, but the € cannot straddle them.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text) == SmsLength("GSM-7", 306, 3)


def test_an_emoji_is_never_split_between_parts():
    text = "ê" * 66 + "😀" + "ê" * 66
    assert measure(text) == SmsLength("UCS-2", 134, 3)


@given(GSM_BASIC_TEXT)
def test_gsm_basic_text_is_one_septet_per_character(text):
    n = len(text)
    expected = 0 if n == 0 else 1 if n <= 160 else math.ceil(n / 153)
    assert measure(text) == SmsLength("GSM-7", n, expected)


@given(GSM_TEXT)
def test_gsm_text_counts_escapes_twice(text):
    extended = sum(c in TS_23_038_EXTENSION for c in text)
    length = measure(text)
    assert length.encoding == "GSM-7"
    assert length.units == len(text) + extended


@given(st.text(alphabet=NON_GSM_BMP, min_size=1), GSM_BASIC_TEXT)
def test_one_foreign_character_makes_the_whole_text_ucs2(foreign, gsm_text):
    text = gsm_text + foreign
    n = len(text)
    expected = 1 if n <= 70 else math.ceil(n / 67)
    assert measure(text) == SmsLength("UCS-2", n, expected)


@given(st.text())
def test_units_are_utf16_code_units_in_ucs2(text):
    length = measure(text)
    if length.encoding == "UCS-2":
        assert length.units == len(text.encode("utf-16-le")) // 2


@given(st.text(), st.text())
def test_adding_text_never_needs_fewer_parts(head, tail):
    assert measure(head).segments <= measure(head + tail).segments


@given(st.text(min_size=1))
def test_parts_are_bounded_by_the_units(text):
    length = measure(text)
    single, per_part = sms.LIMITS[length.encoding]
    if length.units <= single:
        assert length.segments == 1
    else:
        # Packing loses at most one unit per part (an unsplittable pair at the end).
        assert math.ceil(length.units / per_part) <= length.segments
        assert length.segments <= math.ceil(length.units / (per_part - 1))


@given(st.text(), st.integers(min_value=0, max_value=10))
def test_check_refuses_exactly_the_texts_over_the_limit(text, max_segments):
    length = measure(text)
    if length.segments <= max_segments:
        check(text, max_segments)
    else:
        with pytest.raises(SmsTooLong) as raised:
            check(text, max_segments)
        assert raised.value.length == length
        assert raised.value.max_segments == max_segments


def test_too_long_says_why_in_plain_words():
    with pytest.raises(SmsTooLong) as raised:
        check("ê" * 71, 1)
    assert str(raised.value) == (
        "The SMS needs 2 parts (71 UCS-2 units) but at most 1 are allowed; "
        "one part holds 70 UCS-2 units."
    )
