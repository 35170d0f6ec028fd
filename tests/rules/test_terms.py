"""Payment terms: worked examples checked by hand, caps, and properties."""

import doctest
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules import terms as terms_module
from relance.rules.law import MissingLegalRule
from relance.rules.money import D, round_money
from relance.rules.terms import (
    ARTICLE_L441_10_I,
    PaymentTerms,
    add_months,
    check_fr_b2b_cap,
    discount,
    due_date,
    end_of_month,
    schedule,
    suggest_mid_month_issue_date,
)


def test_doctests():
    result = doctest.testmod(terms_module)
    assert result.attempted > 0
    assert result.failed == 0


# -- due dates, by hand -----------------------------------------------------


def test_immediate_is_the_invoice_date():
    assert due_date(PaymentTerms("immediate"), date(2026, 3, 31)) == date(2026, 3, 31)


def test_net_30_across_a_leap_february():
    # 2024-02-15 + 14 = 2024-02-29 (leap day), + 16 more = 2024-03-16.
    assert due_date(PaymentTerms("net", days=30), date(2024, 2, 15)) == date(2024, 3, 16)
    # Same in 2026 (no leap day): 2026-02-15 + 13 = 02-28, + 17 = 03-17.
    assert due_date(PaymentTerms("net", days=30), date(2026, 2, 15)) == date(2026, 3, 17)


def test_45_days_end_of_month_both_methods():
    # (a) end of January (01-31) + 45 days: +28 -> 02-28, +17 -> 03-17.
    a = PaymentTerms("eom_then_days", days=45)
    assert due_date(a, date(2026, 1, 15)) == date(2026, 3, 17)
    # (b) 01-15 + 45 days: +16 -> 01-31, +28 -> 02-28, +1 -> 03-01; end of March.
    b = PaymentTerms("days_then_eom", days=45)
    assert due_date(b, date(2026, 1, 15)) == date(2026, 3, 31)


def test_end_of_month_terms_from_a_month_end():
    # 30 days end of month from 2024-01-31: (a) 01-31 + 30 = 03-01 (2024 is leap:
    # +29 -> 02-29, +1 -> 03-01); (b) 01-31 + 30 = 03-01, end of month 03-31.
    assert due_date(PaymentTerms("eom_then_days", days=30), date(2024, 1, 31)) == date(2024, 3, 1)
    assert due_date(PaymentTerms("days_then_eom", days=30), date(2024, 1, 31)) == date(2024, 3, 31)
    # "fin de mois" with 0 days is simply the end of the invoice month.
    assert due_date(PaymentTerms("eom_then_days"), date(2026, 2, 3)) == date(2026, 2, 28)
    assert due_date(PaymentTerms("days_then_eom"), date(2028, 2, 3)) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(d, months, expected):
    assert add_months(d, months) == expected


def test_end_of_month():
    assert end_of_month(date(2026, 4, 2)) == date(2026, 4, 30)
    assert end_of_month(date(2100, 2, 1)) == date(2100, 2, 28)  # not a leap year
    assert end_of_month(date(2000, 2, 1)) == date(2000, 2, 29)  # leap year


# -- business days ----------------------------------------------------------


def test_business_days_skip_a_weekend_and_14_july():
    # Fri 2026-07-10 + 3 business days: Sat/Sun skipped, Mon 13 (1),
    # Tue 14 July is a holiday, Wed 15 (2), Thu 16 (3).
    t = PaymentTerms("net", days=3, business_days=True)
    assert due_date(t, date(2026, 7, 10)) == date(2026, 7, 16)
    # Calendar days land on Monday 13.
    assert due_date(PaymentTerms("net", days=3), date(2026, 7, 10)) == date(2026, 7, 13)


def test_business_days_skip_11_november():
    # Fri 2026-11-06 + 5: Mon 9 (1), Tue 10 (2), Wed 11 holiday, Thu 12 (3),
    # Fri 13 (4), weekend, Mon 16 (5).
    t = PaymentTerms("net", days=5, business_days=True)
    assert due_date(t, date(2026, 11, 6)) == date(2026, 11, 16)


def test_business_days_use_the_given_country():
    # 14 July is not a German holiday: Mon 13, Tue 14, Wed 15.
    t = PaymentTerms("net", days=3, business_days=True, holiday_country="DE")
    assert due_date(t, date(2026, 7, 10)) == date(2026, 7, 15)


def test_business_days_discount_window():
    # 10 business days from Fri 2026-07-10, 14 July skipped: Mon 27 July.
    t = PaymentTerms("net", days=30, business_days=True, discount_percent=D("2"), discount_days=10)
    assert discount(t, date(2026, 7, 10), D("100.00"), "EUR") == (date(2026, 7, 27), D("98.00"))


# -- schedules --------------------------------------------------------------


def test_simple_terms_have_one_row():
    rows = schedule(PaymentTerms("net", days=30), date(2026, 1, 15), D("1234.56"), "EUR")
    assert rows == [(date(2026, 2, 14), D("1234.56"))]


def test_deposit_then_balance_on_a_precise_date():
    # 30 % of 1000.01 = 300.003 -> 300.00; the balance takes the rest, 700.01.
    t = PaymentTerms("deposit", deposit_percent=D("30"), balance_date=date(2026, 3, 1))
    rows = schedule(t, date(2026, 1, 15), D("1000.01"), "EUR")
    assert rows == [(date(2026, 1, 15), D("300.00")), (date(2026, 3, 1), D("700.01"))]
    assert due_date(t, date(2026, 1, 15)) == date(2026, 3, 1)


def test_half_up_front_and_the_balance_after_30_days():
    # 50 % of 999.99 = 499.995 -> 500.00 (half-up); balance 499.99.
    t = PaymentTerms("deposit", deposit_percent=50, days=30)
    rows = schedule(t, date(2026, 1, 15), D("999.99"), "EUR")
    assert rows == [(date(2026, 1, 15), D("500.00")), (date(2026, 2, 14), D("499.99"))]


def test_balance_date_before_the_invoice_is_refused():
    t = PaymentTerms("deposit", deposit_percent=50, balance_date=date(2026, 1, 1))
    with pytest.raises(ValueError, match="before the invoice date"):
        schedule(t, date(2026, 1, 15), D("100.00"), "EUR")


def test_monthly_installments_from_the_31st_keep_the_month_end():
    # Jan 31, Feb 28, Mar 31 (computed from the first date, not chained,
    # which would give Mar 28). 100 / 3 = 33.33, 33.33, last 33.34.
    t = PaymentTerms("installments", count=3)
    rows = schedule(t, date(2026, 1, 31), D("100.00"), "EUR")
    assert rows == [
        (date(2026, 1, 31), D("33.33")),
        (date(2026, 2, 28), D("33.33")),
        (date(2026, 3, 31), D("33.34")),
    ]


def test_installments_every_two_months_starting_after_30_days():
    # First 30 days after 2026-01-15 = 02-14, then 04-14, 06-14.
    t = PaymentTerms("installments", count=3, every_months=2, days=30)
    rows = schedule(t, date(2026, 1, 15), D("200.00"), "EUR")
    assert [d for d, _ in rows] == [date(2026, 2, 14), date(2026, 4, 14), date(2026, 6, 14)]
    assert [a for _, a in rows] == [D("66.67"), D("66.67"), D("66.66")]


def test_custom_installments():
    t = PaymentTerms(
        "installments",
        custom=((date(2026, 2, 1), D("40")), (date(2026, 3, 1), D("60"))),
    )
    rows = schedule(t, date(2026, 1, 15), D("99.99"), "EUR")
    # 40 % of 99.99 = 39.996 -> 40.00; the rest 59.99.
    assert rows == [(date(2026, 2, 1), D("40.00")), (date(2026, 3, 1), D("59.99"))]
    assert due_date(t, date(2026, 1, 15)) == date(2026, 3, 1)
    with pytest.raises(ValueError, match="before the invoice date"):
        due_date(t, date(2026, 2, 2))


def test_zero_decimal_currency():
    rows = schedule(PaymentTerms("installments", count=3), date(2026, 1, 15), D("1000"), "XOF")
    assert [a for _, a in rows] == [D("333"), D("333"), D("334")]


def test_tiny_total_never_gives_a_negative_row():
    # 0.03 / 5 = 0.006 -> 0.01 each would overshoot; rows are capped instead.
    rows = schedule(PaymentTerms("installments", count=5), date(2026, 1, 15), D("0.03"), "EUR")
    assert [a for _, a in rows] == [D("0.01"), D("0.01"), D("0.01"), D("0.00"), D("0.00")]


@pytest.mark.parametrize("total", [D("-1.00"), D("10.001")])
def test_schedule_refuses_negative_or_sub_cent_totals(total):
    with pytest.raises(ValueError):
        schedule(PaymentTerms("net", days=30), date(2026, 1, 15), total, "EUR")


# -- discount ---------------------------------------------------------------


def test_five_percent_within_ten_days_to_the_cent():
    t = PaymentTerms("net", days=30, discount_percent=D("5"), discount_days=10)
    # 5 % of 1234.57 = 61.7285 -> 61.73; pay 1172.84 by 2026-01-25.
    assert discount(t, date(2026, 1, 15), D("1234.57"), "EUR") == (
        date(2026, 1, 25),
        D("1172.84"),
    )


def test_discount_rounds_half_up():
    t = PaymentTerms("net", days=30, discount_percent=D("2"), discount_days=10)
    # 2 % of 0.25 = 0.005 -> 0.01; pay 0.24.
    assert discount(t, date(2026, 1, 15), D("0.25"), "EUR") == (date(2026, 1, 25), D("0.24"))


def test_no_discount():
    assert discount(PaymentTerms("net", days=30), date(2026, 1, 15), D("10.00"), "EUR") is None


# -- mid-month issue --------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 1, 1), date(2026, 1, 15)),
        (date(2026, 1, 15), date(2026, 1, 15)),
        (date(2026, 1, 16), date(2026, 2, 15)),
        (date(2026, 12, 31), date(2027, 1, 15)),
    ],
)
def test_suggest_mid_month_issue_date(d, expected):
    assert suggest_mid_month_issue_date(d) == expected


# -- French caps (L441-10 I) ------------------------------------------------


@pytest.mark.parametrize(
    ("due", "ok"),
    [(date(2026, 3, 15), True), (date(2026, 3, 16), True), (date(2026, 3, 17), False)],
)
def test_60_days_cap(due, ok):
    # 2026-01-15 + 60 days = 2026-03-16 (+16 -> 01-31, +28 -> 02-28, +16).
    check = check_fr_b2b_cap(date(2026, 1, 15), due)
    assert check.ok is ok
    assert check.reason == ("ok" if ok else "exceeds_60_days")
    assert check.article == ARTICLE_L441_10_I == "L441-10 I du Code de commerce"
    assert check.limit == date(2026, 3, 16)


def test_45_eom_accepts_method_b_when_agreed():
    # From 2026-01-15, method (b) gives 03-31: later than 60 days (03-16)
    # and method (a) (03-17), lawful only with an express 45 EOM clause.
    assert check_fr_b2b_cap(date(2026, 1, 15), date(2026, 3, 31)).ok is False
    check = check_fr_b2b_cap(date(2026, 1, 15), date(2026, 3, 31), agreed_45_eom=True)
    assert check.ok is True and check.limit == date(2026, 3, 31)
    late = check_fr_b2b_cap(date(2026, 1, 15), date(2026, 4, 1), agreed_45_eom=True)
    assert (late.ok, late.reason) == (False, "exceeds_45_days_end_of_month")


def test_45_eom_accepts_method_a_when_it_is_later():
    # From 2026-01-01: 60 days = 03-02; (a) 01-31 + 45 = 03-17;
    # (b) 01-01 + 45 = 02-15, end of month 02-28. The limit is (a).
    check = check_fr_b2b_cap(date(2026, 1, 1), date(2026, 3, 17), agreed_45_eom=True)
    assert check.ok is True and check.limit == date(2026, 3, 17)
    assert check_fr_b2b_cap(date(2026, 1, 1), date(2026, 3, 18), agreed_45_eom=True).ok is False


def test_periodic_invoices_45_days_even_with_a_45_eom_clause():
    # 2026-01-15 + 45 = 2026-03-01.
    for agreed in (False, True):
        ok = check_fr_b2b_cap(
            date(2026, 1, 15), date(2026, 3, 1), periodic=True, agreed_45_eom=agreed
        )
        assert ok.ok is True and ok.limit == date(2026, 3, 1)
        late = check_fr_b2b_cap(
            date(2026, 1, 15), date(2026, 3, 2), periodic=True, agreed_45_eom=agreed
        )
        assert (late.ok, late.reason) == (False, "exceeds_45_days_periodic")


# -- validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "weekly"}, "unknown payment-term kind"),
        ({"kind": "net", "days": -1}, "cannot be negative"),
        ({"kind": "immediate", "days": 5}, "immediate terms have no days"),
        ({"kind": "deposit", "deposit_percent": D("101"), "days": 30}, "between 0 and 100"),
        ({"kind": "deposit", "deposit_percent": D("-5"), "days": 30}, "between 0 and 100"),
        ({"kind": "deposit", "deposit_percent": D("0"), "days": 30}, "between 0 and 100"),
        ({"kind": "deposit", "deposit_percent": D("50")}, "balance_date or days"),
        ({"kind": "deposit", "deposit_percent": 0.5, "days": 30}, "not float"),
        ({"kind": "net", "days": 30, "deposit_percent": D("50")}, "only apply to kind 'deposit'"),
        ({"kind": "installments"}, "at least one installment"),
        ({"kind": "installments", "count": 0}, "at least one installment"),
        ({"kind": "installments", "count": 3, "every_months": 3}, "every two months"),
        (
            {
                "kind": "installments",
                "custom": ((date(2026, 2, 1), D("40")), (date(2026, 3, 1), D("50"))),
            },
            "sum to 100",
        ),
        (
            {
                "kind": "installments",
                "custom": ((date(2026, 3, 1), D("40")), (date(2026, 2, 1), D("60"))),
            },
            "date order",
        ),
        (
            {
                "kind": "installments",
                "custom": ((date(2026, 2, 1), D("120")), (date(2026, 3, 1), D("-20"))),
            },
            r"in \(0, 100\]",
        ),
        ({"kind": "net", "days": 30, "discount_percent": D("5")}, "needs both"),
        ({"kind": "net", "days": 30, "discount_days": 10}, "needs both"),
        (
            {"kind": "net", "days": 30, "discount_percent": D("100"), "discount_days": 10},
            "between 0 and 100",
        ),
        (
            {"kind": "net", "days": 30, "discount_percent": D("5"), "discount_days": -1},
            "cannot be negative",
        ),
        (
            {"kind": "net", "days": 3, "business_days": True, "holiday_country": "XX"},
            "unknown holiday country",
        ),
    ],
)
def test_invalid_terms_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PaymentTerms(**kwargs)


def test_int_percentages_become_decimals():
    t = PaymentTerms("deposit", deposit_percent=30, days=10)
    assert t.deposit_percent == Decimal("30") and isinstance(t.deposit_percent, Decimal)


# -- properties -------------------------------------------------------------

invoice_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2039, 12, 31))
# Small totals too: that is where rounding could push a row below zero.
totals = st.one_of(
    st.decimals(min_value=0, max_value=1, places=2),
    st.decimals(min_value=0, max_value=10**9, places=2),
)
percents = st.integers(min_value=1, max_value=99).map(Decimal)


@st.composite
def any_terms(draw):
    kind = draw(
        st.sampled_from(
            ["immediate", "net", "eom_then_days", "days_then_eom", "deposit", "installments"]
        )
    )
    business = draw(st.booleans())
    days = 0 if kind == "immediate" else draw(st.integers(min_value=0, max_value=120))
    extra = {}
    if draw(st.booleans()):
        extra = {"discount_percent": draw(percents), "discount_days": draw(st.integers(0, 30))}
    if kind == "deposit":
        days = max(days, 1)
        extra["deposit_percent"] = draw(percents)
    if kind == "installments":
        extra["count"] = draw(st.integers(min_value=1, max_value=36))
        extra["every_months"] = draw(st.sampled_from([1, 2]))
    return PaymentTerms(kind, days=days, business_days=business, **extra)


@given(any_terms(), invoice_dates)
def test_due_date_is_never_before_the_invoice_date(t, d):
    assert due_date(t, d) >= d


@given(any_terms(), invoice_dates, totals)
def test_schedule_rows_are_ordered_and_sum_exactly(t, d, total):
    rows = schedule(t, d, total, "EUR")
    dates = [r[0] for r in rows]
    assert dates == sorted(dates)
    assert dates[0] >= d
    assert dates[-1] == due_date(t, d)
    assert sum(a for _, a in rows) == total
    assert all(a >= 0 and a == round_money(a, "EUR") for _, a in rows)


@given(invoice_dates, st.decimals(min_value=10, max_value=10**9, places=2), st.integers(1, 36))
def test_equal_installments_are_the_rounded_share_except_the_last(d, total, count):
    rows = schedule(PaymentTerms("installments", count=count), d, total, "EUR")
    assert len(rows) == count
    share = round_money(total / count, "EUR")
    assert all(a == share for _, a in rows[:-1])
    # The last row absorbs at most half a cent per other row.
    assert abs(rows[-1][1] - total / count) <= Decimal("0.005") * count


@given(
    invoice_dates,
    totals,
    st.lists(percents, min_size=1, max_size=12),
)
def test_custom_installments_sum_exactly(d, total, weights):
    # Turn random weights into percentages summing to exactly 100.
    scale = sum(weights)
    pcts = [round_money(w * 100 / scale, "EUR") for w in weights[:-1]]
    pcts.append(Decimal(100) - sum(pcts, Decimal(0)))
    if any(p <= 0 for p in pcts):
        return
    custom = tuple((add_months(d, i), p) for i, p in enumerate(pcts))
    rows = schedule(PaymentTerms("installments", custom=custom), d, total, "EUR")
    assert sum(a for _, a in rows) == total
    assert [r[0] for r in rows] == [c[0] for c in custom]


@given(any_terms(), invoice_dates, totals)
def test_discounted_amount_is_never_above_the_total(t, d, total):
    result = discount(t, d, total, "EUR")
    if t.discount_percent is None:
        assert result is None
        return
    last_day, amount = result
    assert last_day >= d
    assert 0 <= amount <= total
    assert amount == round_money(amount, "EUR")


# The caps exist since the LME (1 January 2009): the law table holds nothing before.
capped_dates = st.dates(min_value=date(2009, 1, 1), max_value=date(2039, 12, 31))


def test_no_cap_is_guessed_before_the_law_existed():
    with pytest.raises(MissingLegalRule, match="payment_term_max_days"):
        check_fr_b2b_cap(date(2008, 12, 31), date(2009, 1, 30))


@given(capped_dates, st.integers(0, 60))
def test_net_terms_up_to_60_days_are_lawful(d, days):
    due = due_date(PaymentTerms("net", days=days), d)
    assert check_fr_b2b_cap(d, due).ok


@given(capped_dates)
def test_45_days_eom_is_lawful_only_when_agreed_or_short(d):
    for kind in ("eom_then_days", "days_then_eom"):
        due = due_date(PaymentTerms(kind, days=45), d)
        assert check_fr_b2b_cap(d, due, agreed_45_eom=True).ok
        unagreed = check_fr_b2b_cap(d, due)
        assert unagreed.ok == ((due - d).days <= 60)


@given(invoice_dates)
def test_mid_month_suggestion_is_the_next_15th(d):
    s = suggest_mid_month_issue_date(d)
    assert s.day == 15 and s >= d
    assert (s - d).days < 31
