"""The legal constants relance applies: one table, each row with its source
and the dates it is valid for.

Code never writes "40" or "60 days": it asks ``constant(key, country, on)``.
A constant that the table does not hold for that country and date raises
``MissingLegalRule`` — relance then refuses to compute rather than guess.
Rates that move every half-year (ECB, legal interest) live in their own
tables (fees-and-interest issue); this table holds the fixed rules.

>>> constant("recovery_indemnity", "FR", date(2026, 3, 1)).value
Decimal('40')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["LEGAL_CONSTANTS", "LegalConstant", "MissingLegalRule", "constant", "uk_indemnity"]


class MissingLegalRule(LookupError):
    """No rule in the table for this country and date: do not guess."""


@dataclass(frozen=True, slots=True)
class LegalConstant:
    key: str
    country: str  # ISO 3166 code, or "EU" for the directive's default
    value: Decimal
    unit: str  # "days", "EUR", "GBP", "points"
    valid_from: date
    valid_to: date | None
    source: str
    article: str  # short citation printed to users
    # For tiered amounts (UK): the debt must be at least this much.
    min_debt: Decimal = Decimal(0)


_LME = "Loi 2008-776 (LME), C. com. L441-6 then L441-10 I (ordonnance 2019-359)"
_L441_10 = "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038414003"
_D441_5 = "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000026489478"
_UK = "https://www.legislation.gov.uk/ukpga/1998/20/section/5A"

LEGAL_CONSTANTS: tuple[LegalConstant, ...] = (
    # -- payment-term caps (France, B2B) --
    LegalConstant("payment_term_max_days", "FR", Decimal(60), "days", date(2009, 1, 1), None,
                  f"{_LME}; {_L441_10}", "L441-10 I du Code de commerce"),
    LegalConstant("payment_term_max_days_eom", "FR", Decimal(45), "days", date(2009, 1, 1), None,
                  f"{_LME}; {_L441_10}", "L441-10 I du Code de commerce"),
    LegalConstant("payment_term_max_days_periodic", "FR", Decimal(45), "days", date(2019, 4, 26),
                  None, f"Ordonnance 2019-359; {_L441_10}", "L441-10 I du Code de commerce"),
    # -- late-payment penalty margin over the reference rate (B2B) --
    LegalConstant("late_penalty_margin", "FR", Decimal(10), "points", date(2009, 1, 1), None,
                  f"C. com. L441-10 II; {_L441_10}", "L441-10 II du Code de commerce"),
    LegalConstant("late_penalty_min_legal_rate_multiple", "FR", Decimal(3), "times",
                  date(2009, 1, 1), None, f"C. com. L441-10 II; {_L441_10}",
                  "L441-10 II du Code de commerce"),
    LegalConstant("late_penalty_margin", "EU", Decimal(8), "points", date(2013, 3, 16), None,
                  "Directive 2011/7/EU art. 2(6)", "Directive 2011/7/EU"),
    LegalConstant("late_penalty_margin", "DE", Decimal(9), "points", date(2014, 7, 29), None,
                  "BGB § 288 Abs. 2", "§ 288 BGB"),
    LegalConstant("late_penalty_margin_consumer", "DE", Decimal(5), "points", date(2002, 1, 1),
                  None, "BGB § 288 Abs. 1", "§ 288 Abs. 1 BGB"),
    LegalConstant("late_penalty_margin", "GB", Decimal(8), "points", date(2002, 8, 7), None,
                  "Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002",
                  "Late Payment of Commercial Debts (Interest) Act 1998"),
    # -- fixed recovery indemnity per late invoice (B2B only) --
    LegalConstant("recovery_indemnity", "FR", Decimal(40), "EUR", date(2013, 1, 1), None,
                  f"Décret 2012-1115, C. com. D441-5; {_D441_5}", "D441-5 du Code de commerce"),
    LegalConstant("recovery_indemnity", "EU", Decimal(40), "EUR", date(2013, 3, 16), None,
                  "Directive 2011/7/EU art. 6", "Directive 2011/7/EU"),
    LegalConstant("recovery_indemnity", "DE", Decimal(40), "EUR", date(2014, 7, 29), None,
                  "BGB § 288 Abs. 5", "§ 288 Abs. 5 BGB"),
    LegalConstant("recovery_indemnity", "GB", Decimal(40), "GBP", date(2002, 8, 7), None,
                  f"Late Payment of Commercial Debts (Interest) Act 1998 s. 5A; {_UK}",
                  "Late Payment of Commercial Debts (Interest) Act 1998", Decimal(0)),
    LegalConstant("recovery_indemnity", "GB", Decimal(70), "GBP", date(2002, 8, 7), None,
                  f"Late Payment of Commercial Debts (Interest) Act 1998 s. 5A; {_UK}",
                  "Late Payment of Commercial Debts (Interest) Act 1998", Decimal(1000)),
    LegalConstant("recovery_indemnity", "GB", Decimal(100), "GBP", date(2002, 8, 7), None,
                  f"Late Payment of Commercial Debts (Interest) Act 1998 s. 5A; {_UK}",
                  "Late Payment of Commercial Debts (Interest) Act 1998", Decimal(10000)),
    # -- limitation periods of a debt (escalation issue): years from the due date --
    LegalConstant("limitation_years_b2b", "FR", Decimal(5), "years", date(2008, 6, 19), None,
                  "Loi 2008-561; C. com. L110-4 I, C. civ. 2224", "L110-4 du Code de commerce"),
    LegalConstant("limitation_years_b2c", "FR", Decimal(2), "years", date(2008, 6, 19), None,
                  "Loi 2008-561; C. conso. L218-2", "L218-2 du Code de la consommation"),
    LegalConstant("limitation_years_b2b", "GB", Decimal(6), "years", date(1980, 11, 13), None,
                  "Limitation Act 1980 s. 5 (England and Wales)", "Limitation Act 1980 s. 5"),
    LegalConstant("limitation_years_b2c", "GB", Decimal(6), "years", date(1980, 11, 13), None,
                  "Limitation Act 1980 s. 5 (England and Wales)", "Limitation Act 1980 s. 5"),
    # Germany: 3 years counted from the end of the year the claim arose (§ 199 BGB).
    LegalConstant("limitation_years_b2b", "DE", Decimal(3), "years_from_year_end",
                  date(2002, 1, 1), None, "BGB §§ 195, 199 Abs. 1", "§§ 195, 199 BGB"),
    LegalConstant("limitation_years_b2c", "DE", Decimal(3), "years_from_year_end",
                  date(2002, 1, 1), None, "BGB §§ 195, 199 Abs. 1", "§§ 195, 199 BGB"),
    # -- small-claims procedure (France): principal and interest up to this amount --
    LegalConstant("small_claims_max", "FR", Decimal(5000), "EUR", date(2022, 1, 1), None,
                  "CPCE L125-1, R125-1 (décret 2021-1322)", "L125-1 du CPCE"),
    # -- insolvency: time to declare a claim from the BODACC publication (France) --
    LegalConstant("claim_declaration_months", "FR", Decimal(2), "months", date(2006, 1, 1), None,
                  "C. com. R622-24 al. 1", "R622-24 du Code de commerce"),
    LegalConstant("claim_declaration_months_abroad", "FR", Decimal(4), "months",
                  date(2006, 1, 1), None, "C. com. R622-24 al. 1 (creditors outside "
                  "metropolitan France: + 2 months)", "R622-24 du Code de commerce"),
)  # fmt: skip

# Member states whose own rules are not in the table fall back to the directive's.
EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


def _rows(key: str, country: str, on: date) -> list[LegalConstant]:
    return [
        row
        for row in LEGAL_CONSTANTS
        if row.key == key
        and row.country == country
        and row.valid_from <= on
        and (row.valid_to is None or on <= row.valid_to)
    ]


def constant(key: str, country: str, on: date) -> LegalConstant:
    """The rule ``key`` for a seller in ``country`` on date ``on``.

    An EU member without its own row gets the directive's ("EU") row.
    """
    rows = _rows(key, country, on)
    if not rows and country in EU_MEMBERS:
        rows = _rows(key, "EU", on)
    if not rows:
        raise MissingLegalRule(f"no legal rule {key!r} for country {country} on {on.isoformat()}")
    return min(rows, key=lambda row: row.min_debt)


def uk_indemnity(debt: Decimal, on: date) -> LegalConstant:
    """UK fixed compensation by debt size (£40 / £70 / £100)."""
    rows = [row for row in _rows("recovery_indemnity", "GB", on) if debt >= row.min_debt]
    if not rows:
        raise MissingLegalRule(f"no UK fixed compensation rule on {on.isoformat()}")
    return max(rows, key=lambda row: row.min_debt)
