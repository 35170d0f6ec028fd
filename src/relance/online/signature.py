"""Stripe's webhook signature scheme, checked without Stripe's library.

The ``Stripe-Signature`` header reads ``t=<unix time>,v1=<hex>[,v1=<hex>…][,v0=…]``.
Each v1 is HMAC-SHA256 of ``"<t>.<raw body>"`` under the endpoint's signing
secret; any one matching is enough (Stripe sends two while a secret is being
rolled). v0 is a test-mode scheme and is ignored. The timestamp must be within
the tolerance of ``now`` either way, so that a captured request cannot be
replayed later. Pure: no Django, the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The request is not proven to come from Stripe; the message says why."""


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The v1 signature of ``payload`` at ``timestamp`` (hex)."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe would send it."""
    return f"t={timestamp},v1={sign(payload, secret, timestamp)}"


def parse(value: str) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) of a header; SignatureError when unusable."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, sep, content = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(content)
            except ValueError:
                raise SignatureError("the timestamp is not a number") from None
        elif key == "v1" and content:
            signatures.append(content.strip().lower())
    if timestamp is None:
        raise SignatureError("the signature header has no timestamp")
    if not signatures:
        raise SignatureError("the signature header has no v1 signature")
    return timestamp, signatures


def verify(
    payload: bytes,
    value: str | None,
    secret: str,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check a webhook request; returns its timestamp or raises SignatureError."""
    if not value:
        raise SignatureError("the Stripe-Signature header is missing")
    if not secret:
        raise SignatureError("no signing secret is set for this endpoint")
    timestamp, signatures = parse(value)
    if abs(now - timestamp) > tolerance:
        when = "old" if timestamp < now else "in the future"
        raise SignatureError(
            f"the timestamp is {int(abs(now - timestamp))} s {when}, "
            f"{tolerance} s at most either way"
        )
    expected = sign(payload, secret, timestamp)
    # compare_digest on every candidate: no early exit that would leak timing.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise SignatureError("no signature matches the body and the signing secret")
    return timestamp
