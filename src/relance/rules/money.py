"""Money: the one place amounts are made, rounded and added.

Amounts are ``Decimal`` from input to storage to screen; never ``float``.
Rounding happens only where an invoice or the law fixes an amount, half-up
to the currency's minor unit. Adding amounts of two currencies is an error.

>>> D("1 234,50")
Decimal('1234.50')
>>> Money(D("10.005"), "EUR").rounded()
Money(amount=Decimal('10.01'), currency='EUR')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")
CENT = Decimal("0.01")
# The largest amount relance stores (money columns are DECIMAL(15, 2)).
MAX_AMOUNT = Decimal("9999999999999.99")

# Currencies relance accepts, with their minor-unit exponent (ISO 4217).
# Only currencies with at most two decimals: amounts are stored with two.
CURRENCIES: dict[str, int] = {
    "EUR": 2, "GBP": 2, "CHF": 2, "USD": 2, "CAD": 2, "AUD": 2, "NZD": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2,
    "BGN": 2, "MAD": 2, "XOF": 0, "XAF": 0, "XPF": 0, "JPY": 0, "CNY": 2,
    "SGD": 2, "HKD": 2, "ZAR": 2, "MXN": 2, "BRL": 2, "INR": 2, "TRY": 2,
    "AED": 2, "ILS": 2,
}  # fmt: skip


class MoneyError(ValueError):
    """An amount or a currency that relance cannot accept."""


class CurrencyMismatch(MoneyError):
    pass


def D(value: str | int | Decimal) -> Decimal:
    """Make a Decimal from user text ("1 234,50", "1234.50") or an int.

    Floats are refused: they cannot hold most decimal amounts exactly.
    """
    if isinstance(value, float):
        raise TypeError("use a string or a Decimal, never a float, for money")
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"not an amount: {value!r}")
        return value
    if isinstance(value, int):
        return Decimal(value)
    text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if "," in text and "." in text:
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else (text.replace(".", "").replace(",", "."))
        )
    else:
        text = text.replace(",", ".")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"not an amount: {value!r}") from None
    if not result.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return result


def exponent(currency: str) -> int:
    try:
        return CURRENCIES[currency]
    except KeyError:
        raise MoneyError(f"unsupported currency: {currency!r}") from None


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (the one rounding rule)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def has_sub_minor_digits(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has more decimals than the currency allows."""
    # Read the digits rather than quantize or normalize: both round or raise
    # on amounts with more digits than the decimal context holds.
    places = exponent(currency)
    _sign, digits, exp = amount.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not isinstance(exp, int) or not significant:
        return False
    return exp + len(digits) - len(significant) < -places


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        exponent(self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)
