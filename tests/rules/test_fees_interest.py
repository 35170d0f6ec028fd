"""Late-payment interest and indemnities: worked examples to the cent."""

from __future__ import annotations

import doctest
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules import interest, law, rates
from relance.rules.interest import ContractRateTooLow, Debt, FeeTerms, compute
from relance.rules.rates import MissingRate, Rate, RateTable

D = Decimal
TABLE = rates.shipped()


def fr_b2b(**kw):
    return FeeTerms(country="FR", b2b=True, **kw)


def test_doctests_hold():
    for module in (interest, rates):
        assert doctest.testmod(module).failed == 0


# -- France, B2B ---------------------------------------------------------------


def test_fr_worked_case_15000_at_15_percent_30_days():
    """15,000 € TTC 30 days late at 15 % → 184.93 € + 40 € (no VAT on either)."""
    debt = Debt("EUR", D("15000.00"), date(2025, 1, 31))
    fees = compute(fr_b2b(policy="contractual", contract_rate=D(15)), debt, date(2025, 3, 2), TABLE)
    assert fees.interest == D("184.93")
    assert fees.indemnity == D("40")
    assert "D441-5" in fees.indemnity_source
    [line] = fees.lines
    assert (line.start, line.end, line.days, line.rate) == (
        date(2025, 2, 1),
        date(2025, 3, 2),
        30,
        D(15),
    )


def test_fr_statutory_is_ecb_of_the_half_year_plus_10():
    """H1 2025: ECB 3.15 % on 1 Jan + 10 = 13.15 %; H2 2025: 2.15 + 10 = 12.15 %."""
    debt = Debt("EUR", D("10000.00"), date(2025, 6, 20))
    fees = compute(fr_b2b(), debt, date(2025, 7, 10), TABLE)
    first, second = fees.lines
    assert (first.start, first.end, first.days, first.rate) == (
        date(2025, 6, 21),
        date(2025, 6, 30),
        10,
        D("13.15"),
    )
    assert (second.start, second.end, second.days, second.rate) == (
        date(2025, 7, 1),
        date(2025, 7, 10),
        10,
        D("12.15"),
    )
    # 10000 x 13.15 % x 10/365 = 36.027… ; 10000 x 12.15 % x 10/365 = 33.287…
    assert (first.amount, second.amount) == (D("36.03"), D("33.29"))
    assert fees.interest == D("69.32")
    assert "L441-10" in first.source and "3.15" in first.source


def test_fr_mid_semester_ecb_cut_does_not_change_the_rate():
    """The ECB cut of 5 Feb 2025 applies from 1 July only (semester rule)."""
    debt = Debt("EUR", D("1000.00"), date(2025, 1, 15))
    fees = compute(fr_b2b(), debt, date(2025, 4, 30), TABLE)
    assert {line.rate for line in fees.lines} == {D("13.15")}


def test_fr_partial_payment_changes_the_base_the_day_after_and_keeps_the_40():
    """6,000 € due 31 Jan 2025, 2,000 € paid on 15 Feb, as of 2 Mar at 15 %:
    6000 x 15 days + 4000 x 15 days → 36.99 + 24.66; the 40 € stays whole."""
    debt = Debt("EUR", D("6000.00"), date(2025, 1, 31), reductions=((date(2025, 2, 15), D(2000)),))
    fees = compute(fr_b2b(policy="contractual", contract_rate=D(15)), debt, date(2025, 3, 2), TABLE)
    first, second = fees.lines
    assert (first.base, first.days, first.end) == (D("6000.00"), 15, date(2025, 2, 15))
    assert (second.base, second.days, second.start) == (D("4000.00"), 15, date(2025, 2, 16))
    assert (first.amount, second.amount) == (D("36.99"), D("24.66"))
    assert fees.interest == D("61.65")
    assert fees.indemnity == D("40")


def test_fr_paid_in_full_late_keeps_interest_to_the_payment_day():
    debt = Debt("EUR", D("15000.00"), date(2025, 1, 31), reductions=((date(2025, 3, 2), D(15000)),))
    terms = fr_b2b(policy="contractual", contract_rate=D(15))
    later = compute(terms, debt, date(2025, 6, 1), TABLE)
    assert later.interest == D("184.93") and later.indemnity == D("40")


def test_fr_paid_on_time_owes_nothing():
    debt = Debt("EUR", D("500.00"), date(2025, 1, 31), reductions=((date(2025, 1, 31), D(500)),))
    assert compute(fr_b2b(), debt, date(2025, 3, 1), TABLE) == interest.Fees()


def test_fr_contractual_rate_below_three_times_legal_is_refused():
    """H2 2025 floor: 3 x 2.76 = 8.28 %; 8.27 % is refused citing L441-10."""
    debt = Debt("EUR", D("1000.00"), date(2025, 8, 1))
    with pytest.raises(ContractRateTooLow, match="L441-10"):
        compute(
            fr_b2b(policy="contractual", contract_rate=D("8.27")), debt, date(2025, 9, 1), TABLE
        )
    fees = compute(
        fr_b2b(policy="contractual", contract_rate=D("8.28")), debt, date(2025, 9, 1), TABLE
    )
    assert fees.interest > 0


def test_fr_b2c_no_40_and_legal_interest_only_from_the_formal_notice():
    terms = FeeTerms(country="FR", b2b=False)
    debt = Debt("EUR", D("1200.00"), date(2025, 9, 1))
    fees = compute(terms, debt, date(2025, 12, 31), TABLE)
    assert (fees.interest, fees.indemnity, fees.lines) == (D(0), D(0), ())
    assert any("formal notice" in note for note in fees.notes)
    noticed = Debt("EUR", D("1200.00"), date(2025, 9, 1), formal_notice_on=date(2025, 11, 30))
    fees = compute(terms, noticed, date(2025, 12, 31), TABLE)
    [line] = fees.lines
    # From 1 Dec to 31 Dec (31 days) at the legal rate H2 2025 of 2.76 %: 2.813… → 2.81
    assert (line.start, line.days, line.rate, line.amount) == (
        date(2025, 12, 1),
        31,
        D("2.76"),
        D("2.81"),
    )
    assert fees.indemnity == 0


def test_fr_b2c_custom_fixed_fee_is_refused_by_l111_8():
    terms = FeeTerms(country="FR", b2b=False, policy="custom", fixed_fee=D("15.00"))
    fees = compute(terms, Debt("EUR", D("100.00"), date(2025, 9, 1)), date(2025, 10, 1), TABLE)
    assert fees.fixed == 0 and any("L111-8" in n for n in fees.notes)


# -- United Kingdom ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("debt", "fixed"),
    [
        ("999.99", "40"),
        ("1000.00", "70"),
        ("9999.99", "70"),
        ("10000.00", "100"),
    ],
)
def test_uk_fixed_sums_by_debt_size(debt, fixed):
    terms = FeeTerms(country="GB", b2b=True)
    fees = compute(terms, Debt("GBP", D(debt), date(2025, 3, 10)), date(2025, 4, 9), TABLE)
    assert fees.indemnity == D(fixed)


def test_uk_rate_is_fixed_by_the_half_year_the_debt_became_late():
    """Late from 31 Mar 2025: BoE 4.75 % on 31 Dec 2024 + 8 = 12.75 % for the
    whole life of the debt, even after the cuts and across 1 July."""
    terms = FeeTerms(country="GB", b2b=True)
    debt = Debt("GBP", D("1000.00"), date(2025, 3, 30))
    fees = compute(terms, debt, date(2025, 9, 30), TABLE)
    assert {line.rate for line in fees.lines} == {D("12.75")}
    # 1000 x 12.75 % x 92 days / 365 = 32.14, twice (lines split at 1 July)
    assert sum(line.days for line in fees.lines) == 184
    assert fees.interest == D("64.28")
    assert sum(line.amount for line in fees.lines) == fees.interest
    late_h2 = compute(terms, Debt("GBP", D("1000.00"), date(2025, 7, 1)), date(2025, 7, 31), TABLE)
    assert {line.rate for line in late_h2.lines} == {D("12.25")}  # 4.25 on 30 Jun + 8


def test_uk_consumer_has_no_statutory_interest_nor_fixed_sum():
    fees = compute(
        FeeTerms(country="GB", b2b=False),
        Debt("GBP", D("500.00"), date(2025, 3, 1)),
        date(2025, 6, 1),
        TABLE,
    )
    assert (fees.interest, fees.indemnity) == (0, 0)


# -- Germany -------------------------------------------------------------------------


def test_de_across_a_half_year_rate_change():
    """Basiszins 2.27 % (H1 2025) then 1.27 % (H2): + 9 points B2B."""
    terms = FeeTerms(country="DE", b2b=True)
    debt = Debt("EUR", D("20000.00"), date(2025, 6, 15))
    fees = compute(terms, debt, date(2025, 7, 15), TABLE)
    first, second = fees.lines
    assert (first.rate, first.days, second.rate, second.days) == (D("11.27"), 15, D("10.27"), 15)
    # 20000 x 11.27 % x 15/365 = 92.63; 20000 x 10.27 % x 15/365 = 84.41
    assert (first.amount, second.amount) == (D("92.63"), D("84.41"))
    assert fees.indemnity == D("40") and "288" in fees.indemnity_source


def test_de_consumer_is_base_plus_5_from_the_notice_without_40():
    terms = FeeTerms(country="DE", b2b=False)
    debt = Debt("EUR", D("1000.00"), date(2025, 7, 1), formal_notice_on=date(2025, 7, 31))
    fees = compute(terms, debt, date(2025, 8, 30), TABLE)
    [line] = fees.lines
    assert (line.rate, line.days, line.amount) == (D("6.27"), 30, D("5.15"))
    assert fees.indemnity == 0


# -- EU default, custom, conventions ---------------------------------------------------


def test_eu_default_is_ecb_plus_8_and_40():
    terms = FeeTerms(country="IT", b2b=True)
    fees = compute(terms, Debt("EUR", D("1000.00"), date(2025, 7, 31)), date(2025, 8, 30), TABLE)
    assert {line.rate for line in fees.lines} == {D("10.15")}
    assert fees.indemnity == D("40")


def test_a_country_without_reference_rate_is_refused():
    with pytest.raises(law.MissingLegalRule, match="no reference rate for a seller in SE"):
        compute(
            FeeTerms(country="SE", b2b=True),
            Debt("SEK", D("1000.00"), date(2025, 7, 31)),
            date(2025, 8, 30),
            TABLE,
        )
    with pytest.raises(law.MissingLegalRule):
        compute(
            FeeTerms(country="US", b2b=True),
            Debt("USD", D("1000.00"), date(2025, 7, 31)),
            date(2025, 8, 30),
            TABLE,
        )


def test_missing_half_year_blocks_with_the_series_and_period():
    """H2 2026 is not in the shipped table: never a guess."""
    debt = Debt("EUR", D("1000.00"), date(2026, 6, 1))
    with pytest.raises(MissingRate, match=r"ECB_MRO rate for 2026-07-01 \(2026-H2\)"):
        compute(fr_b2b(), debt, date(2026, 7, 15), TABLE)
    imported = TABLE.with_overrides(
        [Rate("ECB_MRO", date(2026, 2, 6), date(2026, 12, 31), D("2.00"), "test")]
    )
    fees = compute(fr_b2b(), debt, date(2026, 7, 15), imported)
    assert [line.rate for line in fees.lines] == [D("12.15"), D("12.00")]


def test_custom_policy_percent_per_month_fixed_fee_and_grace():
    """1.5 % per month = 18 % a year, from the end of 10 grace days; 25 € once."""
    terms = FeeTerms(
        country="FR",
        b2b=True,
        policy="custom",
        monthly_rate=D("1.5"),
        fixed_fee=D("25.00"),
        grace_days=10,
    )
    debt = Debt("EUR", D("3650.00"), date(2025, 3, 1))
    assert compute(terms, debt, date(2025, 3, 11), TABLE) == interest.Fees()
    fees = compute(terms, debt, date(2025, 3, 31), TABLE)
    [line] = fees.lines
    # From 12 Mar to 31 Mar: 20 days x 3650 x 18 % / 365 = 36.00
    assert (line.start, line.days, line.rate, line.amount) == (date(2025, 3, 12), 20, D(18), D(36))
    assert (fees.fixed, fees.indemnity) == (D("25.00"), D("40"))
    paid_in_grace = Debt("EUR", D("3650.00"), date(2025, 3, 1), ((date(2025, 3, 5), D(3650)),))
    assert compute(terms, paid_in_grace, date(2025, 4, 30), TABLE) == interest.Fees()


def test_custom_monthly_rate_under_the_french_floor_is_refused():
    terms = FeeTerms(country="FR", b2b=True, policy="custom", monthly_rate=D("0.5"))
    with pytest.raises(ContractRateTooLow):
        compute(terms, Debt("EUR", D("100.00"), date(2025, 3, 1)), date(2025, 4, 1), TABLE)


def test_day_counts():
    debt = Debt("EUR", D("36000.00"), date(2024, 12, 31))
    as_of = date(2025, 1, 30)  # 30 days
    amounts = {
        count: compute(
            fr_b2b(policy="contractual", contract_rate=D(12), day_count=count), debt, as_of, TABLE
        ).interest
        for count in interest.DAY_COUNTS
    }
    assert amounts == {
        "actual/365": D("355.07"),  # 36000 x 12 % x 30/365
        "actual/360": D("360.00"),
        "actual/actual": D("355.07"),  # 2025 is not a leap year
    }


def test_rounding_per_line_or_on_the_total():
    """Three periods whose thirds of a cent add up differently."""
    payments = ((date(2025, 2, 10), D("0.01")), (date(2025, 2, 20), D("0.01")))
    debt = Debt("EUR", D("1000.00"), date(2025, 1, 31), reductions=payments)
    line = compute(fr_b2b(rounding="line"), debt, date(2025, 3, 2), TABLE)
    total = compute(fr_b2b(rounding="total"), debt, date(2025, 3, 2), TABLE)
    exact = sum(ln.exact for ln in line.lines)
    assert total.interest == exact.quantize(D("0.01"))
    assert line.interest == sum(ln.amount for ln in line.lines)
    assert abs(line.interest - total.interest) <= D("0.01") * len(line.lines)


def test_terms_reject_unknown_conventions():
    with pytest.raises(ValueError, match="day count"):
        FeeTerms(country="FR", b2b=True, day_count="30/360")
    with pytest.raises(ValueError, match="rate"):
        FeeTerms(country="FR", b2b=True, policy="contractual")


# -- properties ------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
days = st.integers(min_value=0, max_value=500)
due_days = st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31))


@given(principal=amounts, due=due_days, late=days, more=st.integers(min_value=0, max_value=60))
def test_interest_never_decreases_with_time(principal, due, late, more):
    debt = Debt("EUR", principal, due)
    as_of = min(due + timedelta(days=late), date(2026, 6, 30))
    later = min(as_of + timedelta(days=more), date(2026, 6, 30))
    a = compute(fr_b2b(rounding="total"), debt, as_of, TABLE)
    b = compute(fr_b2b(rounding="total"), debt, later, TABLE)
    assert b.interest >= a.interest


@given(
    principal=amounts,
    due=due_days,
    late=days,
    paid_after=st.integers(min_value=0, max_value=400),
    share=st.integers(min_value=1, max_value=100),
)
def test_a_payment_never_adds_interest_and_periods_cover_every_late_day(
    principal, due, late, paid_after, share
):
    as_of = min(due + timedelta(days=late), date(2026, 6, 30))
    paid = (principal * share / 100).quantize(D("0.01"))
    on = due + timedelta(days=paid_after)
    unpaid = compute(fr_b2b(rounding="total"), Debt("EUR", principal, due), as_of, TABLE)
    partly = compute(
        fr_b2b(rounding="total"), Debt("EUR", principal, due, ((on, paid),)), as_of, TABLE
    )
    assert partly.interest <= unpaid.interest
    assert sum(line.days for line in unpaid.lines) == max(0, (as_of - due).days)
    for line in unpaid.lines:
        assert rates.half_year(line.start) == rates.half_year(line.end)
    if on > due and as_of > due:  # paid late: the indemnity is still whole
        assert partly.indemnity == D(40)


@given(principal=amounts, due=due_days, late=st.integers(min_value=1, max_value=500))
def test_line_rounding_stays_within_half_a_cent_per_line_of_the_exact_sum(principal, due, late):
    as_of = min(due + timedelta(days=late), date(2026, 6, 30))
    fees = compute(fr_b2b(), Debt("EUR", principal, due), as_of, TABLE)
    exact = sum((line.exact for line in fees.lines), D(0))
    assert abs(fees.interest - exact) <= D("0.005") * len(fees.lines)


def test_rate_table_override_wins_and_overlaps_are_refused():
    table = RateTable([Rate("ECB_MRO", date(2025, 1, 1), date(2025, 12, 31), D(1), "a")])
    table = table.with_overrides([Rate("ECB_MRO", date(2025, 6, 1), date(2025, 6, 30), D(2), "b")])
    assert table.rate("ECB_MRO", date(2025, 6, 15)).rate == D(2)
    assert table.rate("ECB_MRO", date(2025, 7, 1)).rate == D(1)
    text = (
        "series,valid_from,valid_to,rate,source\n"
        "ECB_MRO,2026-01-01,2026-06-30,2.15,x\n"
        "ECB_MRO,2026-06-01,2026-12-31,2.00,y\n"
        "XX,2026-01-01,2026-06-30,abc,\n"
    )
    with pytest.raises(rates.RateFileError) as caught:
        rates.parse_csv(text)
    errors = caught.value.errors
    assert any(e.startswith("line 4: unknown series") for e in errors)
    assert "line 4: rate 'abc' is not a number (use a dot: 2.15)" in errors
    assert "line 4: the source is required" in errors
    assert any("overlap" in e for e in errors)


def test_shipped_table_matches_the_law_reference():
    """Spot values of law-and-standards §1.3, §1.4, §4.2, §4.3."""
    assert TABLE.rate("ECB_MRO", date(2025, 7, 1)).rate == D("2.15")
    assert TABLE.rate("FR_LEGAL_PRO", date(2026, 3, 1)).rate == D("2.62")
    assert TABLE.rate("FR_LEGAL_PERSON", date(2025, 3, 1)).rate == D("7.21")
    assert TABLE.rate("BOE_BANK_RATE", date(2025, 12, 31)).rate == D("3.75")
    assert TABLE.rate("DE_BASISZINS", date(2025, 7, 1)).rate == D("1.27")
    for row in TABLE.layers[0]:
        assert row.source and row.valid_to >= row.valid_from


@given(
    principal=amounts,
    due=due_days,
    cuts=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=6),
)
def test_booking_in_pieces_adds_up_to_the_whole(principal, due, cuts):
    """Interest booked period after period (``since``) is the interest of the
    whole period: no day lost, none counted twice."""
    end = min(due + timedelta(days=max(cuts)), date(2026, 6, 30))
    debt = Debt("EUR", principal, due)
    whole = compute(fr_b2b(), debt, end, TABLE)
    pieces, since = [], None
    for cut in sorted(set(cuts)):
        day = min(due + timedelta(days=cut), end)
        if since is not None and day < since:
            continue
        part = compute(fr_b2b(), debt, day, TABLE, since=since)
        pieces.extend(part.lines)
        since = day + timedelta(days=1)
    assert sum(line.days for line in pieces) == sum(line.days for line in whole.lines)
    exact = sum((line.exact for line in pieces), D(0))
    assert abs(exact - sum((line.exact for line in whole.lines), D(0))) < D("1e-15")
