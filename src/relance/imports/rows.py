"""What every importer produces: invoices as plain rows, and problems that
say where they are.

Nothing here knows Django. The CSV, FEC and e-invoice readers all turn a
file into ``InvoiceRow`` values and ``Problem`` values; ``check`` holds the
rules every row must pass whatever its source, and ``lines_for`` writes the
invoice lines that reproduce a row's totals exactly.

Messages are English msgids with ``%(name)s`` placeholders, marked with
``gettext_noop`` so the catalogue picks them up; they are translated where
they are shown (``Problem.text(gettext)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from relance.rules.money import (
    CURRENCIES,
    MAX_AMOUNT,
    ZERO,
    has_sub_minor_digits,
    quantum,
    round_money,
)
from relance.rules.totals import compute_totals

# Column widths of the register (ledger.models): longer values are refused, not cut.
MAX_NUMBER = 40
MAX_CLIENT_NAME = 200
MAX_CLIENT_REFERENCE = 30
MAX_PURCHASE_ORDER = 50
MAX_DESCRIPTION = 500
MAX_EMAIL = 254


def gettext_noop(message: str) -> str:
    """Mark a message for the catalogue; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Problem:
    """An error or a warning, with its place: line (1-based, 0 = the whole
    file), column (the file's own header name) and file name (several files)."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)
    line: int = 0
    column: str = ""
    file: str = ""

    def text(self, translate: Callable[[str], str] = str) -> str:
        return translate(self.message) % self.params if self.params else translate(self.message)

    def __str__(self) -> str:
        place = [self.file] if self.file else []
        if self.line:
            place.append(f"line {self.line}")
        if self.column:
            place.append(f"column {self.column}")
        return f"{', '.join(place)}: {self.text()}" if place else self.text()


@dataclass(frozen=True, slots=True)
class Settlement:
    """Money already received on an imported invoice."""

    date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineRow:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    vat_category: str = ""  # EN 16931 code when the source gives one


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One invoice to import, as its source gave it."""

    line: int
    number: str
    client_name: str
    issue_date: date
    due_date: date
    currency: str
    total_gross: Decimal
    total_net: Decimal
    total_vat: Decimal
    client_reference: str = ""
    client_siren: str = ""
    client_vat: str = ""
    client_email: str = ""
    payments: tuple[Settlement, ...] = ()
    description: str = ""
    purchase_order: str = ""
    lines: tuple[LineRow, ...] = ()  # the source's own lines, when it has them
    file: str = ""

    @property
    def amount_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def client_label(self) -> str:
        return self.client_name or self.client_reference


@dataclass
class Parsed:
    """What a reader made of a file: rows, errors (nothing may be imported
    while there is one) and warnings (the user decides), and what it chose."""

    rows: list[InvoiceRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # encoding, delimiter, date format …


# Identifiers ------------------------------------------------------------------------


def compact_siren(value: str) -> str:
    """A SIREN from a SIREN or a SIRET; raises ValueError when neither."""
    digits = re.sub(r"[\s.\-]", "", value)
    try:
        if len(digits) == 14:
            return fr_siret.validate(digits)[:9]
        return fr_siren.validate(digits)
    except stdnum_errors.ValidationError:
        raise ValueError(value) from None


def compact_vat(value: str) -> str:
    try:
        return eu_vat.validate(value)
    except stdnum_errors.ValidationError:
        raise ValueError(value) from None


def split_identifier(value: str) -> tuple[str, str]:
    """(SIREN, VAT number) from one column that may hold either; ValueError when neither."""
    text = value.strip()
    if re.fullmatch(r"[\d\s.\-]+", text):
        return compact_siren(text), ""
    vat = compact_vat(text)
    siren = vat[4:] if vat.startswith("FR") and len(vat) == 13 else ""
    return siren, vat


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# The rules every row passes ---------------------------------------------------------


def _amount_problems(value: Decimal, currency: str, column: str) -> list[Problem]:
    if value > MAX_AMOUNT:
        return [Problem(gettext_noop("%(amount)s is too large."), {"amount": value}, column=column)]
    # Read the written decimals first (cheap); has_sub_minor_digits only when there are
    # more than the currency has: "12.500" is fine.
    text = str(value)
    dot = text.find(".")
    too_precise = "E" in text or (dot >= 0 and len(text) - dot - 1 > CURRENCIES.get(currency, 2))
    if too_precise and currency in CURRENCIES and has_sub_minor_digits(value, currency):
        return [
            Problem(
                gettext_noop("%(amount)s has more decimals than %(currency)s allows."),
                {"amount": value, "currency": currency},
                column=column,
            )
        ]
    return []


def check(row: InvoiceRow, columns: Mapping[str, str] | None = None) -> list[Problem]:
    """Every reason this row cannot be imported, each placed at its line and column.

    ``columns`` names the file's column of each field (field -> header).
    """
    cols = columns or {}
    found: list[Problem] = []

    def add(field_name: str, message: str, **params: object) -> None:
        found.append(Problem(message, params, column=cols.get(field_name, "")))

    if not row.number:
        add("number", gettext_noop("The invoice number is missing."))
    elif len(row.number) > MAX_NUMBER:
        add(
            "number",
            gettext_noop("The invoice number is longer than %(n)s characters."),
            n=MAX_NUMBER,
        )
    if not row.client_name and not row.client_reference:
        add("client_name", gettext_noop("The client is missing (give a name or a reference)."))
    if len(row.client_name) > MAX_CLIENT_NAME:
        add(
            "client_name",
            gettext_noop("The client name is longer than %(n)s characters."),
            n=MAX_CLIENT_NAME,
        )
    if len(row.client_reference) > MAX_CLIENT_REFERENCE:
        add(
            "client_reference",
            gettext_noop("The client reference is longer than %(n)s characters."),
            n=MAX_CLIENT_REFERENCE,
        )
    if row.client_email and (
        len(row.client_email) > MAX_EMAIL or not EMAIL.match(row.client_email)
    ):
        add(
            "client_email",
            gettext_noop("%(value)s is not an email address."),
            value=row.client_email,
        )
    if len(row.purchase_order) > MAX_PURCHASE_ORDER:
        add(
            "purchase_order",
            gettext_noop("The purchase order number is longer than %(n)s characters."),
            n=MAX_PURCHASE_ORDER,
        )
    if len(row.description) > MAX_DESCRIPTION:
        add(
            "description",
            gettext_noop("The description is longer than %(n)s characters."),
            n=MAX_DESCRIPTION,
        )
    if row.due_date < row.issue_date:
        add(
            "due_date",
            gettext_noop("The due date %(due)s is before the issue date %(issued)s."),
            due=row.due_date.isoformat(),
            issued=row.issue_date.isoformat(),
        )
    if row.currency not in CURRENCIES:
        add("currency", gettext_noop("Unknown currency: %(code)s."), code=row.currency)
    found.extend(_total_problems(row, cols))
    return [
        Problem(p.message, p.params, line=row.line, column=p.column, file=row.file) for p in found
    ]


def _total_problems(row: InvoiceRow, cols: Mapping[str, str]) -> list[Problem]:
    found: list[Problem] = []
    gross_col = cols.get("total_gross", "")
    if row.total_gross < 0:
        found.append(
            Problem(
                gettext_noop(
                    "The total %(amount)s is negative: import credit notes with the "
                    "invoice they correct, not as a negative invoice."
                ),
                {"amount": row.total_gross},
                column=gross_col,
            )
        )
    elif row.total_gross == 0:
        found.append(Problem(gettext_noop("The total is zero."), column=gross_col))
    reported: set[Decimal] = set()
    for name, value in (
        ("total_gross", row.total_gross),
        ("total_net", row.total_net),
        ("total_vat", row.total_vat),
    ):
        if value not in reported:  # a net taken from the total is not a second problem
            problems = _amount_problems(value, row.currency, cols.get(name, ""))
            found.extend(problems)
            reported.update([value] if problems else [])
    if row.total_gross > 0 and (row.total_net < 0 or row.total_vat < 0):
        found.append(
            Problem(
                gettext_noop("Amounts excl. VAT and VAT cannot be negative."),
                column=cols.get("total_vat" if row.total_vat < 0 else "total_net", ""),
            )
        )
    elif row.total_vat > row.total_net >= 0:
        found.append(
            Problem(
                gettext_noop("The VAT %(vat)s is more than the amount excl. VAT %(net)s."),
                {"vat": row.total_vat, "net": row.total_net},
                column=cols.get("total_vat", ""),
            )
        )
    if row.total_net + row.total_vat != row.total_gross:
        found.append(
            Problem(
                gettext_noop(
                    "The totals do not add up: %(net)s excl. VAT + %(vat)s VAT is not "
                    "%(gross)s incl. VAT."
                ),
                {"net": row.total_net, "vat": row.total_vat, "gross": row.total_gross},
                column=gross_col,
            )
        )
    found.extend(_payment_problems(row, cols))
    return found


def _payment_problems(row: InvoiceRow, cols: Mapping[str, str]) -> list[Problem]:
    found: list[Problem] = []
    column = cols.get("amount_paid", cols.get("paid_on", ""))
    for payment in row.payments:
        if payment.amount <= 0:
            found.append(
                Problem(
                    gettext_noop("The amount paid must be greater than zero."),
                    column=cols.get("amount_paid", ""),
                )
            )
        found.extend(_amount_problems(payment.amount, row.currency, column))
    if row.total_gross > 0 and row.amount_paid > row.total_gross:
        found.append(
            Problem(
                gettext_noop("The amount paid %(paid)s is more than the total %(gross)s."),
                {"paid": row.amount_paid, "gross": row.total_gross},
                column=column,
            )
        )
    return found


# Lines that reproduce the totals ----------------------------------------------------

COMMON_RATES = tuple(Decimal(r) for r in ("20", "10", "5.5", "2.1", "0", "21", "19", "7", "6"))


def lines_for(row: InvoiceRow, label: str) -> list[LineRow]:
    """Invoice lines whose EN 16931 totals are exactly the row's totals.

    The source's own lines when they add up; else one line at the rate the
    totals imply (a common rate first), else two lines: the VAT at a rate
    that reaches it to the cent, and the rest of the base without VAT.
    """
    wanted = (row.total_net, row.total_vat, row.total_gross)
    if row.lines and _totals(row.lines, row.currency) == wanted:
        return list(row.lines)
    net, vat, currency = row.total_net, row.total_vat, row.currency
    if vat == 0:
        return [LineRow(label, Decimal(1), net, ZERO)]
    # One line of quantity 1 at the net: its VAT is the net at the rate, rounded.
    for rate in _candidate_rates(net, vat):
        if round_money(net * rate / 100, currency) == vat:
            return [LineRow(label, Decimal(1), net, rate)]
    # The lowest common rate at or above the one the totals imply leaves a base
    # no larger than the net; 100 % always does (VAT is never more than the net).
    rate = min((r for r in COMMON_RATES if r > 0 and r * net >= vat * 100), default=Decimal(100))
    base = _base_for(vat, rate, currency)
    if base > net:
        rate, base = Decimal(100), _base_for(vat, Decimal(100), currency)
    return [
        LineRow(label, Decimal(1), base, rate),
        LineRow(label, Decimal(1), net - base, ZERO),
    ]


def _totals(lines: Iterable[LineRow], currency: str) -> tuple[Decimal, Decimal, Decimal]:
    totals = compute_totals(((x.quantity, x.unit_price, x.vat_rate) for x in lines), currency)
    return totals.net, totals.vat, totals.gross


def _candidate_rates(net: Decimal, vat: Decimal) -> list[Decimal]:
    """The common rates nearest the rate the totals imply, then that rate to 0.01 %."""
    if net <= 0:
        return []
    implied = (vat * 100 / net).quantize(Decimal("0.01"))
    common = sorted(COMMON_RATES, key=lambda r: abs(r - implied))[:2]
    near = [implied + step * Decimal("0.01") for step in (0, -1, 1)]
    return [r for r in (*common, *near) if 0 < r <= 100]


def _base_for(vat: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The smallest base whose VAT at ``rate`` rounds to ``vat`` exactly.

    With a rate of at most 100 %, one more minor unit of base moves the VAT
    by at most one minor unit, so every VAT amount is reached.
    """
    cent = quantum(currency)
    base = round_money(vat * 100 / rate, currency)
    while base > 0 and round_money((base - cent) * rate / 100, currency) >= vat:
        base -= cent
    while round_money(base * rate / 100, currency) < vat:
        base += cent
    return base


# Lost leading zeros -----------------------------------------------------------------


@dataclass(frozen=True)
class LeadingZeros:
    """Numeric invoice numbers of one width, some shorter: zeros lost on the way
    (a spreadsheet reads "0000611365" as the number 611365)."""

    width: int
    shorter: int
    total: int
    examples: tuple[tuple[int, str], ...]  # (line, number)

    def problem(self) -> Problem:
        line, number = self.examples[0]
        return Problem(
            gettext_noop(
                "%(shorter)s of %(total)s invoice numbers have fewer digits than the "
                "%(width)s of the others (line %(line)s: %(number)s, probably %(padded)s): "
                "their leading zeros were probably lost, as a spreadsheet does. Restore "
                "them on the mapping page, or export the file again with the numbers as text."
            ),
            {
                "shorter": self.shorter,
                "total": self.total,
                "width": self.width,
                "line": line,
                "number": number,
                "padded": number.zfill(self.width),
            },
        )


def lost_leading_zeros(numbers: list[tuple[int, str]]) -> LeadingZeros | None:
    """Detect numbers that lost their leading zeros, from (line, number) pairs.

    The sign: all numbers are digits, none is longer than the most common
    width, a minority is shorter, and the values are scattered (a counter
    1, 2, … 9999 is short at the start by nature, and dense).
    """
    digits = [(line, n) for line, n in numbers if n.isdigit()]
    if len(digits) < 2 or len(digits) != len(numbers):
        return None
    widths: dict[int, int] = {}
    for _line, n in digits:
        widths[len(n)] = widths.get(len(n), 0) + 1
    width = max(widths, key=lambda w: (widths[w], w))
    shorter = [(line, n) for line, n in digits if len(n) < width]
    if not shorter or max(widths) > width or len(shorter) * 2 >= len(digits):
        return None
    values = [int(n) for _line, n in digits]
    spread = max(values) - min(values) + 1
    if len(set(values)) * 2 > spread:  # dense: a plain counter
        return None
    return LeadingZeros(width, len(shorter), len(digits), tuple(shorter[:5]))
