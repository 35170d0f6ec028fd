"""How long an SMS is, in the units and parts the networks bill.

A text written only with the GSM 03.38 default alphabet travels in 7-bit
septets: 160 in a single SMS, 153 per part once it is split (each part
carries a header). The extension table (``^ { } \\ [ ~ ] | €`` and the form
feed) costs two septets per character (an escape, then the character), and
an escaped pair is never split between two parts. Any other character —
"ê", "ç", a typographic apostrophe, an emoji — switches the whole message to UCS-2: 70 UTF-16
code units in one SMS, 67 per part, an emoji taking two units that are
never split either.

>>> measure("Bonjour, votre facture F2026-042 est échue.")
SmsLength(encoding='GSM-7', units=43, segments=1)
>>> measure("Total : 120 €")
SmsLength(encoding='GSM-7', units=14, segments=1)
>>> measure("Merci d\N{RIGHT SINGLE QUOTATION MARK}avance")
SmsLength(encoding='UCS-2', units=14, segments=1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in code order (0x00-0x7F); 0x1B is the escape
# to the extension table and is not a character of its own.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Extension table: each costs the escape septet plus its own.
GSM_EXTENDED = frozenset("\f^{}\\[~]|€")

# (one SMS, each part of a split SMS), in septets for GSM-7, UTF-16 units for UCS-2.
LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int  # SMS parts billed; 0 for an empty text


class SmsTooLong(Exception):
    """The text needs more SMS parts than allowed (the UI words it from ``.length``)."""

    def __init__(self, length: SmsLength, max_segments: int) -> None:
        self.length = length
        self.max_segments = max_segments
        single, _ = LIMITS[length.encoding]
        super().__init__(
            f"The SMS needs {length.segments} parts ({length.units} {length.encoding} "
            f"units) but at most {max_segments} are allowed; one part holds {single} "
            f"{length.encoding} units."
        )


def is_gsm(text: str) -> bool:
    """Whether the whole text can travel in the GSM 7-bit alphabet."""
    return all(char in GSM_BASIC or char in GSM_EXTENDED for char in text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    """The units of each indivisible piece of the text, in order."""
    if encoding == "GSM-7":
        return [2 if char in GSM_EXTENDED else 1 for char in text]
    # Characters beyond the Basic Multilingual Plane are a surrogate pair.
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts(costs: list[int], per_part: int) -> int:
    """Parts needed when pieces are packed in order and never split."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def measure(text: str) -> SmsLength:
    """The encoding, length and number of parts of ``text`` sent as one SMS."""
    encoding: Encoding = "GSM-7" if is_gsm(text) else "UCS-2"
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    single, per_part = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _parts(costs, per_part)
    return SmsLength(encoding=encoding, units=units, segments=segments)


def check(text: str, max_segments: int) -> None:
    """Raise ``SmsTooLong`` when ``text`` needs more than ``max_segments`` parts."""
    length = measure(text)
    if length.segments > max_segments:
        raise SmsTooLong(length, max_segments)
