"""Invoice totals, computed exactly the way EN 16931 does.

Each line's net amount is quantity x unit price, rounded to the minor unit.
VAT is computed once per rate on the sum of the line nets at that rate
(BT-116 x BT-119), not line by line, so the totals match the e-invoice.

>>> t = compute_totals([(D("3"), D("33.333"), D("20")), (D("1"), D("10"), D("5.5"))], "EUR")
>>> t.net, t.vat, t.gross
(Decimal('110.00'), Decimal('20.55'), Decimal('130.55'))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from relance.rules.money import ZERO, D, round_money

__all__ = ["D", "LineInput", "Totals", "compute_totals", "line_net", "rate_key"]

LineInput = tuple[Decimal, Decimal, Decimal]  # quantity, unit price excl. VAT, VAT rate %


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    # VAT rate -> (taxable base, VAT amount), rates in increasing order.
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)


def line_net(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return round_money(quantity * unit_price, currency)


def rate_key(rate: Decimal) -> Decimal:
    """One key per rate, printable as typed: 20.00 -> 20 (not 2E+1), 5.50 -> 5.5."""
    if rate == rate.to_integral_value():
        return rate.quantize(Decimal(1))
    return rate.normalize()


def compute_totals(lines: Iterable[LineInput], currency: str) -> Totals:
    bases: dict[Decimal, Decimal] = {}
    for quantity, unit_price, rate in lines:
        key = rate_key(rate)
        bases[key] = bases.get(key, ZERO) + line_net(quantity, unit_price, currency)
    by_rate = {
        rate: (base, round_money(base * rate / 100, currency))
        for rate, base in sorted(bases.items())
    }
    net = sum((base for base, _ in by_rate.values()), ZERO)
    vat = sum((tax for _, tax in by_rate.values()), ZERO)
    return Totals(
        net=round_money(net, currency),
        vat=round_money(vat, currency),
        gross=round_money(net + vat, currency),
        by_rate=by_rate,
    )
