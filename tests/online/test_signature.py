"""Stripe's webhook signature, checked by relance's own pure function."""

import hashlib
import hmac

import pytest

from relance.online.signature import SignatureError, header, sign, verify

SECRET = "whsec_test_secret"
BODY = b'{"id": "evt_1", "object": "event"}'
NOW = 1_750_000_000


def test_a_valid_signature_passes_and_returns_its_timestamp():
    assert verify(BODY, header(BODY, SECRET, NOW), SECRET, now=NOW) == NOW


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, NOW) == expected


def test_a_tampered_body_fails():
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(BODY.replace(b"evt_1", b"evt_2"), header(BODY, SECRET, NOW), SECRET, now=NOW)


def test_a_wrong_secret_fails():
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(BODY, header(BODY, "whsec_other", NOW), SECRET, now=NOW)


def test_a_timestamp_older_than_300_seconds_fails_even_when_signed_correctly():
    signed = header(BODY, SECRET, NOW - 301)
    with pytest.raises(SignatureError, match="301 s old"):
        verify(BODY, signed, SECRET, now=NOW)
    assert verify(BODY, header(BODY, SECRET, NOW - 300), SECRET, now=NOW) == NOW - 300


def test_a_timestamp_in_the_future_beyond_the_tolerance_fails():
    with pytest.raises(SignatureError, match="in the future"):
        verify(BODY, header(BODY, SECRET, NOW + 301), SECRET, now=NOW)


def test_any_of_several_v1_signatures_may_match_and_v0_is_ignored():
    good = sign(BODY, SECRET, NOW)
    value = f"t={NOW},v1={'0' * 64},v1={good},v0={'f' * 64}"
    assert verify(BODY, value, SECRET, now=NOW) == NOW
    with pytest.raises(SignatureError, match="no v1"):
        verify(BODY, f"t={NOW},v0={good}", SECRET, now=NOW)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("v1=abc", "no timestamp"),
        ("t=yesterday,v1=abc", "not a number"),
        (f"t={NOW}", "no v1"),
    ],
)
def test_unusable_headers_say_why(value, reason):
    with pytest.raises(SignatureError, match=reason):
        verify(BODY, value, SECRET, now=NOW)


def test_no_secret_configured_never_passes():
    with pytest.raises(SignatureError, match="no signing secret"):
        verify(BODY, header(BODY, "", NOW), "", now=NOW)
