"""Matching bank credits to open invoices: who paid, for which invoices, how sure.

Pure: no Django, no clock. The caller gives the open items, what it knows of
its clients (names, IBANs) and the credits of a bank statement; ``Matcher``
builds its indexes once (by number, by RF reference, by client, by IBAN, by
amount, by name token), then ``match`` answers one credit in a few dict
look-ups. Nothing scans all the items or all the clients per credit.

Signals, strongest first: a valid RF creditor reference; an invoice number in
the remittance text or the end-to-end id (case, spaces, dashes and leading
zeros do not matter; one typo is tolerated against the numbers of a client
already identified, or of the invoices carrying exactly the credited amount);
the payer's IBAN; the payer's name; the amount (one balance, the sum of
several, a partial payment, a payment with the early-payment discount).

Precision first: the amount alone never makes an automatic match, and a
reference whose ISO 11649 checksum is wrong is flagged and, alone, stays
below the automatic threshold.

>>> from datetime import date
>>> from decimal import Decimal
>>> items = [OpenItem(1, 10, "F2026-00042", Decimal("120.00"), "EUR", date(2026, 3, 1))]
>>> clients = [ClientInfo(10, ("Atelier Durand SARL",), ("FR7630006000011234567890189",))]
>>> matcher = Matcher(items, clients)
>>> m = matcher.match(Credit(1, Decimal("120.00"), "EUR", date(2026, 3, 5),
...                          remittance="Facture F2026-42"))
>>> m.client_id, m.shares, m.automatic, m.reasons
(10, ((1, Decimal('120.00')),), True, ('number_in_text', 'amount_exact'))
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations, compress, repeat
from operator import add, attrgetter, lshift, ne

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from relance import collector
from relance.rules.money import ZERO

__all__ = [
    "AUTO_THRESHOLD",
    "ClientInfo",
    "Credit",
    "Match",
    "Matcher",
    "OpenItem",
    "match_credits",
    "name_key",
    "number_key",
]

AUTO_THRESHOLD = 90

# What each signal is worth (0-100 overall). A reference names the invoice; the
# amount and the payer's identity confirm it. Tuned on bench/bench_matching.py.
REF_RF = 70
REF_NUMBER = 65
REF_SHORT_NUMBER = 45  # "42" or "2026" in a text can be anything: needs the amount
REF_END_TO_END = 62
REF_TYPO_KNOWN_CLIENT = 55
REF_TYPO_BY_AMOUNT = 55
REF_BAD_CHECKSUM = 45
AMOUNT_EXACT = 25
AMOUNT_SUBSET = 20
AMOUNT_PARTIAL = 5
AMOUNT_PARTIAL_RF = 20  # a checksummed reference names the invoice: part of it is safe
AMOUNT_OVER = 0
ID_IBAN = 15
ID_NAME_STRONG = 10
ID_NAME_WEAK = 5
ID_BOTH = 5
# Without any reference: who the payer is, then what the amount fits.
BARE_IBAN = 50
BARE_NAME_STRONG = 40
BARE_NAME_WEAK = 30
BARE_AMOUNT_ONE = 40
BARE_AMOUNT_OLDEST = 40  # the oldest k invoices together
BARE_AMOUNT_SET = 35
BARE_AMOUNT_AMBIGUOUS = 20
BARE_NAME_CAP = 85  # a name is not an account: never automatic on name + amount
AMOUNT_ONLY = 30  # one open item has exactly this amount, nothing else: a proposal
AMBIGUITY_MARGIN = 10
AMBIGUITY_PENALTY = 20

NAME_STRONG = 90
NAME_WEAK = 80
NAME_BLOCK_LIMIT = 300  # a block shared by more clients is too vague to search
NAME_CANDIDATES = 5
SUBSET_ITEMS = 16  # subset sums look at a client's 16 oldest open items
SUBSET_SIZE = 3
MIN_TYPO_KEY = 5  # one typo in a key shorter than this could be any number
MIN_KEY = 3
MAX_PREFIX = 4  # letters before an invoice number's digits, as their own word
WINDOW = 3  # an invoice number spans at most 3 tokens of a text ("F 2026 00042")
RF_WINDOW = 7  # "RF93 F202 6000 42" as people type it

# Legal forms and filler words that say nothing about who a company is.
_LEGAL_FORMS_TEXT = """
sa sas sasu sarl eurl sci snc scp scop sel selarl eirl ei gie sca
gmbh ag kg ohg ug ev mbh co kgaa
ltd limited plc llp llc inc corp corporation company lp
bv nv vof bvba sprl srl spa sl slu ab as oy aps
ets etablissements societe ste cie et fils the de du des la le les
and und of
"""
LEGAL_FORMS = frozenset(_LEGAL_FORMS_TEXT.split())

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
# The same, starting with a literal "0" so that the regex engine jumps from zero to zero.
_LEADING_ZEROS_FAST = re.compile(r"0(?<![0-9]0)0*(?=[0-9])")
_SEPARATORS_AND_ZEROS = re.compile(r"[^A-Z0-9]+|(?<![0-9])0+(?=[0-9])")
_NOT_KEY_BYTES = bytes(
    c for c in range(256) if chr(c) not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n"
)
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice with money still owed. ``reference`` is its RF creditor
    reference when it differs from the one derived from its number
    (``relance.rules.payment_reference.creditor_reference``); blank otherwise.
    ``discount_amount`` comes off the balance when paid on or before
    ``discount_until`` (early-payment discount)."""

    invoice_id: int
    client_id: int
    number: str
    balance: Decimal
    currency: str
    due_date: date | None = None
    reference: str = ""
    discount_amount: Decimal | None = None
    discount_until: date | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Names the client pays under (name, legal name, contacts, parent company)
    and the IBANs it paid from before."""

    client_id: int
    names: tuple[str, ...] = ()
    ibans: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Credit:
    """One incoming transfer of a bank statement (amount positive)."""

    line_id: int
    amount: Decimal
    currency: str
    date: date
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    payer_name: str = ""
    payer_iban: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """The answer for one credit. ``client_id`` None and no shares: unmatched.
    The shares never exceed the credit nor an invoice's balance; what the
    shares leave of the credit is the client's credit (overpayment)."""

    line_id: int
    client_id: int | None
    shares: tuple[tuple[int, Decimal], ...] = ()
    confidence: int = 0
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    automatic: bool = False

    @property
    def matched(self) -> bool:
        return self.client_id is not None

    @property
    def status(self) -> str:
        """ "auto", "review" or "unmatched"."""
        if self.automatic:
            return "auto"
        return "review" if self.matched else "unmatched"

    @property
    def allocated(self) -> Decimal:
        return sum((amount for _, amount in self.shares), ZERO)


# -- normalising ------------------------------------------------------------------


def _fold(text: str) -> str:
    """Uppercase ASCII letters and digits: "é" becomes "E"."""
    if text.isascii():
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode().upper()


def _loose(text: str) -> str:
    """Letters and digits, each run of digits without its leading zeros:
    F2026-00042 = F 2026 42 (``text`` folded already)."""
    return _SEPARATORS_AND_ZEROS.sub("", text)


def number_key(number: str) -> str:
    """The key an invoice number is found under, whatever the spelling.

    >>> number_key("F2026-00042") == number_key("f 2026/42") == "F202642"
    True
    """
    return _loose(_fold(number))


def name_key(name: str) -> str:
    """A company name without accents, punctuation and legal forms.

    >>> name_key("Établissements DURAND & Fils, S.A.R.L.")
    'durand'
    >>> name_key("Durand GmbH")
    'durand'
    """
    words = _WORDS.findall(_fold(name).lower().replace(".", ""))
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def _tokens(folded: str) -> list[str]:
    return [token for token in _NON_ALNUM.split(folded) if token]


def _name_blocks(key: str) -> set[str]:
    """Where a name is filed for the search: each word's first four letters,
    and each pair of them ("boul mart" for "Boulangerie Martin")."""
    heads = sorted({word[:4] for word in key.split() if len(word) >= 3})
    blocks = set(heads)
    for i, first in enumerate(heads):
        for second in heads[i + 1 :]:
            blocks.add(f"{first} {second}")
    return blocks


_RF_DIGITS = {ord(c): str(ord(c) - 55) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _rf_valid(compact: str) -> bool:
    """ISO 11649 check (MOD 97-10) of an uppercase reference without spaces;
    as stdnum.iso11649.is_valid, in one integer operation (it runs per token).

    >>> _rf_valid("RF18539007547034"), _rf_valid("RF18539007547035")
    (True, False)
    """
    if not (5 <= len(compact) <= 25 and compact.startswith("RF") and compact.isalnum()):
        return False
    rearranged = (compact[4:] + compact[:4]).translate(_RF_DIGITS)
    return rearranged.isdigit() and int(rearranged) % 97 == 1


def _iban_key(iban: str) -> str:
    upper = iban.upper()
    return upper if upper.isalnum() and upper.isascii() else _NON_ALNUM.sub("", upper)


def _rf_body(reference: str) -> str:
    return _NON_ALNUM.sub("", reference.upper())[-21:]


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


@dataclass(slots=True)
class _Candidate:
    client_id: int
    shares: list[tuple[int, Decimal]]
    confidence: int
    reasons: list[str]
    only_bad_checksum: bool = False


@dataclass(slots=True)
class _Who:
    """What says the payer is a client: its IBAN (2 its own, 1 shared with
    other clients) and its name (2 close, 1 rather close)."""

    iban: int = 0
    name: int = 0

    @property
    def reasons(self) -> list[str]:
        return (["payer_iban"] if self.iban else []) + (["payer_name"] if self.name else [])

    @property
    def bonus(self) -> int:
        """Added to a reference: the payer is the invoice's client."""
        iban = ID_IBAN if self.iban == 2 else ID_NAME_WEAK if self.iban else 0
        name = ID_NAME_STRONG if self.name == 2 else ID_NAME_WEAK if self.name else 0
        return max(iban, name) + (ID_BOTH if iban and name else 0)


@dataclass(slots=True)
class _Refs:
    """Items a credit's texts point to: item index -> (strength, reason)."""

    found: dict[int, tuple[int, str]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # what looked like a number, for typos

    def add(self, index: int, strength: int, reason: str) -> None:
        if index not in self.found or self.found[index][0] < strength:
            self.found[index] = (strength, reason)


class Matcher:
    """Indexes built once over the open items and clients; ``match`` per credit."""

    def __init__(
        self,
        items: Sequence[OpenItem],
        clients: Iterable[ClientInfo] = (),
        *,
        threshold: int = AUTO_THRESHOLD,
    ) -> None:
        # Millions of new lists and tuples, no cycles: the cyclic collector would
        # only rescan them again and again while they are made.
        with collector.paused():
            self._build(items, clients, threshold)

    def _build(self, items: Sequence[OpenItem], clients: Iterable[ClientInfo], threshold: int):
        self.items = items
        self.threshold = threshold
        count = len(items)
        # A million items: the keys are made by a few regex passes over all the numbers
        # at once and the dicts by dict(zip()), in C; Python loops only over collisions.
        numbers = list(map(attrgetter("number"), items))
        text = "\n".join(numbers)
        if text.isascii() and text.count("\n") == max(0, count - 1):
            text = text.upper()
        else:
            text = "\n".join(_fold(number).replace("\n", " ") for number in numbers)
        compact = text.encode().translate(None, _NOT_KEY_BYTES).decode().split("\n")
        loose = _LEADING_ZEROS_FAST.sub("", text).encode().translate(None, _NOT_KEY_BYTES)
        self.by_number = _multimap(loose.decode().split("\n"))
        del loose, numbers, text
        # "F2026-00042" is also written "F202600042": its letters and digits as they are.
        self.by_compact = _multimap(compact)
        self.by_reference: dict[str, int | list[int]] = {}  # explicit or long RF references
        references = list(map(attrgetter("reference"), items))
        if any(references):
            for index in [i for i, reference in enumerate(references) if reference]:
                _put(self.by_reference, _rf_body(references[index]), index)
        del references
        if compact and max(map(len, compact)) > 21:
            for index in [i for i, key in enumerate(compact) if len(key) > 21]:
                if not items[index].reference:  # the RF reference keeps the last 21
                    _put(self.by_reference, compact[index][-21:], index)
        del compact
        # By amount: the items sorted by their amount's key, found by bisection (a
        # sort in C costs less than a dict whose values are lists for repeated amounts).
        self.by_amount = _Groups(_amount_keys(list(map(attrgetter("balance"), items))))
        self.by_client = _Groups(list(map(attrgetter("client_id"), items)))
        self._opened: dict[int, list[int]] = {}
        self._spelled: dict[int, tuple[str, ...]] = {}
        self.names: dict[int, tuple[str, ...]] = {}
        self.by_iban: dict[str, list[int]] = defaultdict(list)
        self.by_name: dict[str, list[int]] = defaultdict(list)
        clients = list(clients)
        for client in clients:
            for iban in client.ibans:
                if iban:
                    self.by_iban[_iban_key(iban)].append(client.client_id)
        # name_key and _name_blocks of every name, the folding done on all names at once.
        everyone = [name for client in clients for name in client.names]
        text = "\x1f".join(everyone)
        if text.isascii() and text.count("\x1f") == max(0, len(everyone) - 1):
            folded = text.lower().replace(".", "").split("\x1f")
        else:
            folded = [_fold(name).lower().replace(".", "") for name in everyone]
        del everyone, text
        by_name = self.by_name
        start = 0
        for client in clients:
            end = start + len(client.names)
            keys: list[str] = []
            blocks: set[str] = set()
            for words in map(_WORDS.findall, folded[start:end]):
                kept = [word for word in words if word not in LEGAL_FORMS] or words
                key = " ".join(kept)
                if not key or key in keys:
                    continue
                keys.append(key)
                heads = sorted({word[:4] for word in kept if len(word) >= 3})
                blocks.update(heads)
                blocks.update(map(" ".join, combinations(heads, 2)))
            start = end
            client_id = client.client_id
            self.names[client_id] = tuple(keys)
            for block in blocks:
                by_name[block].append(client_id)

    def _open(self, client_id: int) -> list[int]:
        """The client's open items, oldest first."""
        indexes = self._opened.get(client_id)
        if indexes is None:
            indexes = sorted(self.by_client.get(client_id), key=self._age)
            self._opened[client_id] = indexes
        return indexes

    def _with_amount(self, amount: Decimal) -> list[int]:
        """Items whose balance is ``amount``, in their order."""
        return self.by_amount.get(_amount_key(amount))

    def _numbers(self, key: str) -> list[int]:
        """Items whose number is ``key`` (loose key, or letters and digits)."""
        loose = self.by_number.get(key)
        loose = [] if loose is None else loose if loose.__class__ is list else [loose]
        compact = self.by_compact.get(key)
        if compact is None:
            return loose
        if compact.__class__ is not list:
            return loose if compact in loose else [*loose, compact]
        return loose + [i for i in compact if i not in loose]

    def _age(self, index: int) -> tuple[date, int]:
        item = self.items[index]
        return (item.due_date or date.max, item.invoice_id)

    # -- one credit -------------------------------------------------------------

    def match(self, credit: Credit) -> Match:
        if credit.amount <= 0:
            return Match(credit.line_id, None, reasons=("not_a_credit",))
        refs = self._references(credit)
        identity = self._identity(credit, refs)
        candidates: list[_Candidate] = []
        by_client: dict[int, list[int]] = defaultdict(list)
        items = self.items
        for index in refs.found:
            by_client[items[index].client_id].append(index)
        if not by_client or refs.flags:
            self._typos(credit, refs, identity, by_client)
        for client_id, indexes in sorted(by_client.items()):
            candidates.append(self._referenced(credit, client_id, indexes, refs, identity))
        for client_id, who in sorted(identity.items()):
            if client_id not in by_client:
                candidate = self._bare(credit, client_id, who)
                if candidate:
                    candidates.append(candidate)
        if not candidates:
            candidate = self._amount_only(credit)
            if candidate:
                candidates.append(candidate)
        flags = tuple(dict.fromkeys(refs.flags))
        if not candidates:
            return Match(credit.line_id, None, reasons=("unmatched",), flags=flags)
        if len(candidates) > 1:
            candidates.sort(key=lambda c: (-c.confidence, c.client_id))
        best = candidates[0]
        confidence = best.confidence
        reasons = list(best.reasons)
        if len(candidates) > 1 and candidates[1].confidence >= confidence - AMBIGUITY_MARGIN:
            confidence -= AMBIGUITY_PENALTY
            reasons.append("ambiguous")
        if best.only_bad_checksum:
            confidence = min(confidence, self.threshold - 1)
        confidence = max(0, min(100, confidence))
        return Match(
            credit.line_id,
            best.client_id,
            tuple(best.shares),
            confidence,
            tuple(dict.fromkeys(reasons)),
            flags,
            automatic=confidence >= self.threshold and bool(best.shares),
        )

    # -- references -------------------------------------------------------------

    def _references(self, credit: Credit) -> _Refs:
        refs = _Refs()
        structured = _fold(credit.structured_reference).strip()
        if structured:
            compact = _NON_ALNUM.sub("", structured)
            if compact.startswith("RF") and compact[2:4].isdigit():
                self._rf(compact, refs)
            else:
                self._windows(_tokens(structured), refs, REF_NUMBER, "reference")
        for text, strength, reason in (
            (credit.remittance, REF_NUMBER, "number_in_text"),
            (credit.end_to_end_id, REF_END_TO_END, "end_to_end"),
        ):
            if not text:
                continue
            folded = _fold(text)
            if not folded or folded == "NOTPROVIDED":
                continue
            tokens = self._rf_in_text(_tokens(folded), refs)
            refs.keys.update(self._windows(tokens, refs, strength, reason))
        return refs

    def _rf(self, compact: str, refs: _Refs) -> None:
        body = compact[4:]
        valid = _rf_valid(compact)
        if not valid:
            refs.flags.append("bad_reference_checksum")
            refs.keys.add(body)
        # A bad checksum: the check digits may be the typo, the body may still name an invoice.
        strength, reason = (
            (REF_RF, "reference") if valid else (REF_BAD_CHECKSUM, "reference_bad_checksum")
        )
        for index in _get(self.by_reference, body) or self._numbers(body):
            item = self.items[index]
            if (_rf_body(item.reference) if item.reference else _rf_body(item.number)) == body:
                refs.add(index, strength, reason)

    def _rf_in_text(self, tokens: list[str], refs: _Refs) -> list[str]:
        """Find RF references in a text's tokens; the tokens left for numbers
        (a reference's tokens are blanked: its body is not an invoice number)."""
        start = 0
        while start < len(tokens):
            token = tokens[start]
            if not (token.startswith("RF") and len(token) >= 4 and token[2:4].isdigit()):
                start += 1
                continue
            # The longest run of tokens that is a valid reference; else, when typed in
            # groups of four ("RF93 F202 6000 42"), the whole run, flagged.
            end = 0
            for stop in range(min(len(tokens), start + RF_WINDOW), start, -1):
                compact = "".join(tokens[start:stop])
                if len(compact) <= 25 and _rf_valid(compact):
                    end = stop
                    break
            if not end:
                end = start + 1
                if len(token) == 4:
                    while end < len(tokens) and end - start < RF_WINDOW and len(tokens[end]) <= 4:
                        end += 1
                        if len(tokens[end - 1]) < 4:
                            break
            compact = "".join(tokens[start:end])
            if len(compact) > 6:
                self._rf(compact, refs)
                tokens = tokens[:start] + [""] * (end - start) + tokens[end:]
            start = end
        return tokens

    def _windows(self, tokens: list[str], refs: _Refs, strength: int, reason: str) -> set[str]:
        """Look up every run of 1 to 3 tokens with a digit as an invoice number;
        return the keys tried (for the typo search)."""
        keys = set()
        count = len(tokens)
        numbers = self._numbers
        by_number, by_compact = self.by_number, self.by_compact
        # Leading zeros go token by token: the loose key of a run is the join of its tokens'.
        loose = [_LEADING_ZEROS.sub("", t) if "0" in t else t for t in tokens]
        digits = [not t.isalpha() for t in tokens]
        for start in range(count):
            if not digits[start] and len(tokens[start]) > MAX_PREFIX:
                continue  # a word ("FACTURE"), not the prefix of a number ("F", "INV")
            for end in range(start + 1, min(count, start + WINDOW) + 1):
                last = tokens[end - 1]
                if not last:  # a reference's tokens end the run
                    break
                if end - start > 1 and not digits[end - 1]:
                    continue
                key = "".join(loose[start:end])
                if len(key) < MIN_KEY or key.isalpha():
                    continue
                keys.add(key)
                # Most keys name no invoice: two look-ups, not a call that builds a list.
                hits = numbers(key) if key in by_number or key in by_compact else []
                if end - start > 1 or not hits:
                    compact = "".join(tokens[start:end])
                    if compact != key:
                        keys.add(compact)
                        if compact in by_number or compact in by_compact:
                            hits = hits + numbers(compact)
                weak = key.isdigit() and len(key) < 5
                for index in hits:
                    refs.add(index, REF_SHORT_NUMBER if weak else strength, reason)
        return keys

    def _typos(
        self,
        credit: Credit,
        refs: _Refs,
        identity: dict[int, _Who],
        by_client: dict[int, list[int]],
    ) -> None:
        """One typo in a number: against the numbers of the clients the payer
        seems to be, else of the open items with exactly the credited amount."""
        keys = [k for k in refs.keys if len(k) >= MIN_TYPO_KEY]
        if not keys:
            return
        pools: list[tuple[list[int], int]] = [
            (self._open(client_id), REF_TYPO_KNOWN_CLIENT) for client_id in sorted(identity)
        ]
        pools.append((self._with_amount(credit.amount), REF_TYPO_BY_AMOUNT))
        items = self.items
        strengths: dict[int, int] = {}  # each item once, with its first pool's strength
        for pool, strength in pools:
            for index in pool:
                if index not in strengths and items[index].currency == credit.currency:
                    strengths[index] = strength
        owners: list[int] = []
        spellings: list[str] = []
        for index in strengths:
            for spelling in self._spellings(index):
                owners.append(index)
                spellings.append(spelling)
        close = set()
        for key in keys:  # one call into rapidfuzz per key, over every spelling
            for _, _, position in process.extract(
                key, spellings, scorer=OSA.distance, score_cutoff=1, limit=None
            ):  # a swap counts one
                close.add(owners[position])
        near = {index: strength for index, strength in strengths.items() if index in close}
        # One typo away from several numbers: those the amount confirms, if any.
        paid = {
            i
            for i in near
            if credit.amount in (self.items[i].balance, self._due(self.items[i], credit.date)[0])
        }
        for index, strength in near.items():
            if not paid or index in paid:
                by_client[self.items[index].client_id].append(index)
                refs.add(index, strength, "number_typo")

    def _spellings(self, index: int) -> tuple[str, ...]:
        """How the item's number may be typed: its loose key, its letters and
        digits (the last 21, as in its RF reference), its explicit reference."""
        spellings = self._spelled.get(index)
        if spellings is None:
            item = self.items[index]
            text = _fold(item.number)
            found = {_loose(text), _NON_ALNUM.sub("", text)[-21:]}
            if item.reference:
                found.add(_rf_body(item.reference))
            spellings = self._spelled[index] = tuple(found)
        return spellings

    # -- who pays ------------------------------------------------------------------

    def _identity(self, credit: Credit, refs: _Refs) -> dict[int, _Who]:
        """Clients the payer may be, by IBAN and by name."""
        found: dict[int, _Who] = {}
        iban = _iban_key(credit.payer_iban)
        ibans = self.by_iban.get(iban, []) if iban else []
        for client_id in ibans:
            found[client_id] = _Who(iban=2 if len(set(ibans)) == 1 else 1)
        if not credit.payer_name:
            return found
        # The referenced clients are compared directly; a search only when nothing else told.
        items = self.items
        referenced = {items[i].client_id for i in refs.found}
        if len(ibans) == 1 and ibans[0] in referenced:
            return found  # the account already says who pays
        payer = name_key(credit.payer_name)
        if not payer:
            return found
        pool = referenced | set(found)
        search = not pool
        if search:
            blocks = _name_blocks(payer)
            pairs = [b for b in blocks if " " in b]
            for block in pairs or blocks:  # pairs of words are far more selective
                clients = self.by_name.get(block, ())
                if len(clients) <= NAME_BLOCK_LIMIT:
                    pool.update(clients)
        scores: dict[int, float] = {}
        known = self.names
        ordered = sorted(pool)
        owners = [c for c in ordered for _ in known.get(c, ())]
        names = [n for c in ordered for n in known.get(c, ())]
        # One call into rapidfuzz for the whole pool (a blocked list, not every client).
        for _, score, position in process.extract(
            payer, names, scorer=fuzz.token_set_ratio, score_cutoff=NAME_WEAK, limit=None
        ):
            client_id = owners[position]
            scores[client_id] = max(score, scores.get(client_id, 0))
        if search and scores:
            # A name search keeps the closest few: the amount decides between them.
            top = max(scores.values())
            close = sorted((c for c, v in scores.items() if v >= top - 5), key=scores.__getitem__)
            scores = {c: scores[c] for c in close[-NAME_CANDIDATES:]}
        for client_id, score in scores.items():
            found.setdefault(client_id, _Who()).name = 2 if score >= NAME_STRONG else 1
        return found

    # -- amounts -------------------------------------------------------------------

    def _due(self, item: OpenItem, on: date) -> tuple[Decimal, bool]:
        """What settles the item when paid on ``on``: the balance, less the
        early-payment discount within its window."""
        if item.discount_amount and item.discount_until and on <= item.discount_until:
            return item.balance - item.discount_amount, True
        return item.balance, False

    def _referenced(
        self,
        credit: Credit,
        client_id: int,
        indexes: list[int],
        refs: _Refs,
        identity: dict[int, _Who],
    ) -> _Candidate:
        indexes = sorted(
            {i for i in indexes if self.items[i].currency == credit.currency}, key=self._age
        )
        strengths = [refs.found[i] for i in indexes]
        score = max((s for s, _ in strengths), default=0)
        reasons = list(dict.fromkeys(r for _, r in sorted(strengths, reverse=True)))
        only_bad = all(r == "reference_bad_checksum" for _, r in strengths)
        if not indexes:
            return _Candidate(client_id, [], 0, reasons, only_bad)
        shares, amount_score, amount_reason = self._fit(credit, indexes)
        reasons.append(amount_reason)
        if amount_reason == "amount_partial" and score >= REF_RF:
            amount_score = AMOUNT_PARTIAL_RF
        who = identity.get(client_id, _Who())
        reasons += who.reasons
        return _Candidate(client_id, shares, score + amount_score + who.bonus, reasons, only_bad)

    def _fit(
        self, credit: Credit, indexes: list[int]
    ) -> tuple[list[tuple[int, Decimal]], int, str]:
        """Shares of the credit on the referenced items, and what the amount says."""
        amount = credit.amount
        items = [self.items[i] for i in indexes]
        dues = [self._due(item, credit.date) for item in items]
        total = sum((d for d, _ in dues), ZERO)
        if amount == total:
            reason = "amount_discount" if any(used for _, used in dues) else "amount_exact"
            return (
                [(it.invoice_id, d) for it, (d, _) in zip(items, dues, strict=True)],
                AMOUNT_EXACT,
                reason,
            )
        full = sum((it.balance for it in items), ZERO)
        if amount == full:
            return [(it.invoice_id, it.balance) for it in items], AMOUNT_EXACT, "amount_exact"
        if amount < full:
            subset = _subset_either(amount, items, [d for d, _ in dues])
            if subset is not None:
                return subset, AMOUNT_SUBSET, "amount_sum"
            shares, left = [], amount
            for item in items:  # oldest first
                part = min(left, item.balance)
                if part > 0:
                    shares.append((item.invoice_id, part))
                left -= part
            return shares, AMOUNT_PARTIAL, "amount_partial"
        shares = [(it.invoice_id, it.balance) for it in items]
        # The rest may be exactly one more open invoice of the same client.
        excess = amount - full
        taken = set(indexes)
        for index in self._open(items[0].client_id):
            other = self.items[index]
            if (
                index not in taken
                and other.currency == credit.currency
                and self._due(other, credit.date)[0] == excess
            ):
                shares.append((other.invoice_id, excess))
                return shares, AMOUNT_SUBSET, "amount_sum"
        return shares, AMOUNT_OVER, "amount_over"

    def _bare(self, credit: Credit, client_id: int, who: _Who) -> _Candidate | None:
        """No reference: the amount against the client's open items."""
        items, currency, amount = self.items, credit.currency, credit.amount
        pool = [items[i] for i in self._open(client_id) if items[i].currency == currency]
        if not pool:
            return None
        dues = [self._due(item, credit.date)[0] for item in pool]
        has_iban = who.iban == 2
        # Else a name, or an IBAN shared by several clients.
        base = BARE_IBAN if has_iban else BARE_NAME_STRONG if who.name == 2 else BARE_NAME_WEAK
        reasons = who.reasons
        singles = [it for it, due in zip(pool, dues, strict=True) if amount in (it.balance, due)]
        if len(singles) == 1:
            used = credit.amount != singles[0].balance
            shares = [(singles[0].invoice_id, credit.amount)]
            score = BARE_AMOUNT_ONE
            reasons.append("amount_discount" if used else "amount_exact")
        elif singles:
            shares = [(singles[0].invoice_id, credit.amount)]  # the oldest of equals
            score = BARE_AMOUNT_AMBIGUOUS
            reasons.append("amount_exact_several")
        else:
            oldest = pool[:SUBSET_ITEMS]
            prefix = _prefix(credit.amount, oldest)
            subset = prefix or _subset_either(credit.amount, oldest, dues[:SUBSET_ITEMS])
            if subset is not None:
                shares = subset
                score = BARE_AMOUNT_OLDEST if prefix else BARE_AMOUNT_SET
                reasons.append("amount_sum")
            else:
                # Not a combination of its invoices: proposed oldest first, for a person.
                shares, left = [], credit.amount
                for item in pool:
                    part = min(left, item.balance)
                    if part > 0:
                        shares.append((item.invoice_id, part))
                    left -= part
                score = 0
                reasons.append("amount_unexplained")
        confidence = base + score
        if not has_iban:
            confidence = min(confidence, BARE_NAME_CAP)
        return _Candidate(client_id, shares, confidence, reasons)

    def _amount_only(self, credit: Credit) -> _Candidate | None:
        hits = [
            i for i in self._with_amount(credit.amount) if self.items[i].currency == credit.currency
        ]
        if len(hits) != 1:
            return None
        item = self.items[hits[0]]
        return _Candidate(
            item.client_id, [(item.invoice_id, item.balance)], AMOUNT_ONLY, ["amount_only"]
        )

    def match_all(self, credits: Iterable[Credit]) -> list[Match]:
        """``match`` for each credit, in order. The answers make no cycles: the
        cyclic collector, off meanwhile, would only walk the indexes again and again."""
        with collector.paused():
            return [self.match(credit) for credit in credits]


def match_credits(
    items: Sequence[OpenItem],
    clients: Iterable[ClientInfo],
    credits: Iterable[Credit],
    *,
    threshold: int = AUTO_THRESHOLD,
) -> list[Match]:
    """Match every credit against the open items; one answer per credit, in order."""
    return Matcher(items, clients, threshold=threshold).match_all(credits)


def _prefix(amount: Decimal, items: list[OpenItem]) -> list[tuple[int, Decimal]] | None:
    """The oldest k invoices, paid together (the usual way of catching up)."""
    total = ZERO
    for k, item in enumerate(items, 1):
        total += item.balance
        if total == amount:
            return [(it.invoice_id, it.balance) for it in items[:k]] if k > 1 else None
        if total > amount:
            return None
    return None


def _subset(
    amount: Decimal, items: list[tuple[OpenItem, Decimal]]
) -> list[tuple[int, Decimal]] | None:
    """The one set of 2 to 3 of these items whose dues add up to the amount
    (oldest first), or None when there is none or more than one. Each pair
    looks its third up in a set: n² steps, not n³."""
    target = _cents(amount)
    items = items[:SUBSET_ITEMS]
    cents = [_cents(due) for _, due in items]
    present = set(cents)
    count = len(cents)
    found: list[tuple[int, ...]] = []
    for i in range(count):
        rest = target - cents[i]
        if rest in present:
            found += [(i, j) for j in range(i + 1, count) if cents[j] == rest]
    if len(found) > 1:
        return None
    if not found:
        for i in range(count - 2):
            rest = target - cents[i]
            # The pairs whose third is there at all, then where it is.
            for j in [j for j in range(i + 1, count - 1) if rest - cents[j] in present]:
                third = rest - cents[j]
                found += [(i, j, k) for k in range(j + 1, count) if cents[k] == third]
            if len(found) > 1:
                return None
        if not found:
            return None
    return [(items[i][0].invoice_id, items[i][1]) for i in found[0]]


def _subset_either(
    amount: Decimal, items: list[OpenItem], dues: list[Decimal]
) -> list[tuple[int, Decimal]] | None:
    """``_subset`` on the dues (discounts taken), else on the balances."""
    subset = _subset(amount, list(zip(items, dues, strict=True)))
    if subset is None and any(due != item.balance for item, due in zip(items, dues, strict=True)):
        subset = _subset(amount, [(item, item.balance) for item in items])
    return subset


_AMOUNT_CHARS = str.maketrans("", "", "0123456789.-\n")
_THIRD_DECIMAL = re.compile(r"\.[0-9]{3}")
_WHOLE_AMOUNT = re.compile(r"^(-?[0-9]+)$", re.MULTILINE)
_ONE_DECIMAL = re.compile(r"(\.[0-9])$", re.MULTILINE)


def _amount_key(amount: Decimal) -> int | Decimal:
    """What an amount is filed under: its cents (an int hashes far faster than a
    Decimal), or the Decimal itself for a fraction of a cent."""
    cents = amount * 100
    return int(cents) if cents == cents.to_integral_value() else cents


def _amount_keys(amounts: list[Decimal]) -> list[int | Decimal]:
    """``_amount_key`` of each amount; for amounts written with at most two
    decimals (as they come from the database), in a few passes over one text."""
    text = "\n".join(map(str, amounts))
    # Anything but digits, points and minus signs (an exponent: "1E+2"), or a third decimal.
    if not amounts or text.translate(_AMOUNT_CHARS) or _THIRD_DECIMAL.search(text):
        return [_amount_key(amount) for amount in amounts]
    text = _ONE_DECIMAL.sub(r"\g<1>0", _WHOLE_AMOUNT.sub(r"\1.00", text))
    return list(map(int, text.replace(".", "").split("\n")))


class _Groups:
    """The positions in a list of keys, grouped by key (each group in order).
    Int keys: one sorted list of ``key << shift | position``, a sort of ints in C
    and a bisection per look-up, where a dict of lists would take a Python step
    per repeated key. Other keys: the positions sorted by key, beside their keys."""

    __slots__ = ("_keys", "_order", "_packed", "_shift")

    def __init__(self, keys: list) -> None:
        count = len(keys)
        self._shift = max(1, count.bit_length())
        if set(map(type, keys)) <= {int}:
            self._packed: list[int] | None = list(
                map(add, map(lshift, keys, repeat(self._shift)), range(count))
            )
            self._packed.sort()
        else:
            self._packed = None
            self._order = sorted(range(count), key=keys.__getitem__)
            self._keys = list(map(keys.__getitem__, self._order))

    def get(self, key: object) -> list[int]:
        packed = self._packed
        if packed is None:
            start = bisect_left(self._keys, key)
            return self._order[start : bisect_right(self._keys, key, start)]
        if key.__class__ is not int:
            return []  # an int key only equals an int
        shift = self._shift
        start = bisect_left(packed, key << shift)
        stop = bisect_left(packed, (key + 1) << shift, start)
        mask = (1 << shift) - 1
        return [value & mask for value in packed[start:stop]]


def _multimap(keys: list) -> dict:
    """key -> position in ``keys`` (an int), or the positions (a list) when
    several share it; built in C, with a Python loop over the repeated keys only."""
    count = len(keys)
    index = dict(zip(keys, range(count), strict=True))
    if len(index) == count:
        return index
    first = dict(zip(reversed(keys), range(count - 1, -1, -1), strict=True))
    # The positions that are not their key's first one, found in C.
    repeats = compress(range(count), map(ne, map(first.__getitem__, keys), range(count)))
    for position in repeats:
        key = keys[position]
        present = index[key]
        if present.__class__ is int:
            index[key] = [first[key], position]
        else:
            present.append(position)
    return index


def _put(index: dict, key: object, value: int) -> None:
    # Most keys have one item: an int, not a one-element list, halves the memory.
    present = index.get(key)
    if present is None:
        index[key] = value
    elif isinstance(present, list):
        present.append(value)
    else:
        index[key] = [present, value]


def _get(index: dict, key: object) -> list[int]:
    present = index.get(key)
    if present is None:
        return []
    return present if isinstance(present, list) else [present]
