"""Escalation rules with worked dates and amounts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.rules import escalation as rules
from relance.rules.escalation import Debt, EscalationRefused, Option, Thresholds
from relance.rules.law import MissingLegalRule

AS_OF = date(2026, 12, 6)


# -- limitation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "kind", "due", "ends_on", "article"),
    [
        ("FR", "company", date(2026, 2, 4), date(2031, 2, 4), "L110-4 du Code de commerce"),
        ("FR", "individual", date(2026, 2, 4), date(2028, 2, 4), "L218-2"),
        ("FR", "company", date(2024, 2, 29), date(2029, 2, 28), "L110-4"),  # leap day
        ("GB", "company", date(2026, 2, 4), date(2032, 2, 4), "Limitation Act 1980"),
        # Germany: three years from the end of the year the claim arose.
        ("DE", "company", date(2026, 2, 4), date(2029, 12, 31), "§§ 195, 199 BGB"),
        ("DE", "individual", date(2026, 12, 31), date(2029, 12, 31), "BGB"),
    ],
)
def test_limitation_dates(country, kind, due, ends_on, article):
    found = rules.limitation(country, kind, due)
    assert found.ends_on == ends_on
    assert found.alert_on == ends_on - timedelta(days=90)
    assert article in found.article


def test_the_alert_starts_90_days_before():
    found = rules.limitation("FR", "individual", date(2025, 3, 1))  # ends 2027-03-01
    assert found.alert_on == date(2026, 12, 1)
    assert found.state(date(2026, 11, 30)) == "ok"
    assert found.state(date(2026, 12, 1)) == "soon"
    assert found.state(date(2027, 3, 1)) == "soon"  # the last day still counts
    assert found.state(date(2027, 3, 2)) == "expired"
    assert found.days_left(date(2026, 12, 6)) == 85


def test_an_interruption_starts_a_new_period():
    found = rules.limitation("FR", "company", date(2022, 5, 10), interrupted_on=date(2026, 1, 15))
    assert found.ends_on == date(2031, 1, 15)


def test_a_country_without_a_rule_is_not_guessed():
    with pytest.raises(MissingLegalRule):
        rules.limitation("IT", "company", date(2026, 1, 1))


# -- insolvency -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "abroad", "deadline"),
    [
        (date(2026, 3, 10), False, date(2026, 5, 10)),
        (date(2026, 12, 31), False, date(2027, 2, 28)),  # no 31 February
        (date(2027, 12, 31), False, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 10), True, date(2026, 7, 10)),
    ],
)
def test_claim_declaration_deadline(published, abroad, deadline):
    assert rules.claim_deadline("FR", published, creditor_abroad=abroad) == deadline


def test_claim_deadline_outside_france_is_not_guessed():
    with pytest.raises(MissingLegalRule):
        rules.claim_deadline("GB", date(2026, 3, 10))


# -- decision -------------------------------------------------------------------

THRESHOLDS = Thresholds(write_off_below=Decimal(150), agency_from=Decimal(1000))


def debt(amount, days, **kwargs):
    return Debt(Decimal(amount), "EUR", AS_OF - timedelta(days=days), **kwargs)


@pytest.mark.parametrize(
    ("amount", "days", "options"),
    [
        # Small: written off; small claims still possible.
        ("120.00", 200, ("write_off", "small_claims", "order_for_payment")),
        ("150.00", 30, ("write_off", "small_claims", "order_for_payment")),
        # Too early for an agency: formal notice first.
        ("3000.00", 89, ("wait", "small_claims", "order_for_payment")),
        # Significant and 90 days late: agency.
        ("3000.00", 90, ("agency", "small_claims", "order_for_payment", "write_off")),
        ("12000.00", 120, ("agency", "order_for_payment", "write_off")),
        # In between: small claims first.
        ("600.00", 100, ("small_claims", "order_for_payment", "agency", "write_off")),
        ("5000.00", 100, ("agency", "small_claims", "order_for_payment", "write_off")),
        ("5000.01", 100, ("agency", "order_for_payment", "write_off")),
    ],
)
def test_decide_by_amount_and_age(amount, days, options):
    proposal = rules.decide(debt(amount, days), THRESHOLDS, AS_OF)
    assert tuple(o.value for o in proposal.options) == options
    assert proposal.days_late == days
    assert proposal.advice == Option(options[0])


def test_decide_insolvent_only_declares():
    proposal = rules.decide(debt("8000.00", 300, insolvent=True), THRESHOLDS, AS_OF)
    assert proposal.options == (Option.DECLARE_CLAIM,)


def test_no_french_court_for_a_debtor_abroad():
    proposal = rules.decide(debt("3000.00", 100, debtor_country="BE"), THRESHOLDS, AS_OF)
    assert proposal.options == (Option.AGENCY, Option.WRITE_OFF)


def test_nothing_owed_nothing_proposed():
    assert rules.decide(debt("0.00", 100), THRESHOLDS, AS_OF).options == ()


def test_small_claims_ceiling_only_in_euros_in_france():
    assert rules.small_claims_max("FR", "EUR", AS_OF) == Decimal(5000)
    assert rules.small_claims_max("FR", "GBP", AS_OF) is None
    assert rules.small_claims_max("GB", "GBP", AS_OF) is None


# -- amounts --------------------------------------------------------------------


def test_agency_estimate_worked():
    found = rules.agency_estimate(Decimal("3333.33"), "EUR", Decimal(20))
    assert found.fee_min == Decimal("333.33")
    assert found.fee_max == Decimal("833.33")
    assert found.fee == Decimal("666.67")
    assert found.recovered == Decimal("2666.66")


@pytest.mark.parametrize("rate", ["9.99", "25.01"])
def test_agency_rate_outside_the_usual_range_is_refused(rate):
    with pytest.raises(EscalationRefused) as caught:
        rules.agency_estimate(Decimal(100), "EUR", Decimal(rate))
    assert caught.value.code == "agency_rate"


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2))
def test_agency_estimate_adds_up(amount):
    found = rules.agency_estimate(amount, "EUR", Decimal(15))
    assert found.fee + found.recovered == amount
    assert found.fee_min <= found.fee <= found.fee_max


def test_write_off_limit():
    rules.check_write_off(Decimal("1000.00"), Decimal("1000.00"))
    with pytest.raises(EscalationRefused) as caught:
        rules.check_write_off(Decimal("1000.01"), Decimal("1000.00"))
    assert caught.value.code == "above_write_off_limit"
    assert caught.value.params == {"amount": Decimal("1000.01"), "limit": Decimal("1000.00")}
    with pytest.raises(EscalationRefused):
        rules.check_write_off(Decimal("0"), Decimal("1000.00"))


def test_formal_notice_needs_a_debt_that_is_due():
    rules.check_due([date(2026, 12, 5)], AS_OF)
    with pytest.raises(EscalationRefused) as caught:
        rules.check_due([date(2026, 11, 1), date(2026, 12, 6)], AS_OF)  # due today: not late
    assert caught.value.code == "not_due"
    assert caught.value.params["due_date"] == AS_OF
    with pytest.raises(EscalationRefused):
        rules.check_due([], AS_OF)


def test_the_module_examples_hold():
    import doctest

    failures, tried = doctest.testmod(rules)
    assert (failures, tried > 0) == (0, True)


@given(
    st.dates(min_value=date(2010, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from(["FR", "GB", "DE"]),
    st.sampled_from(["company", "individual"]),
)
def test_limitation_is_never_shorter_than_the_law_s_years(due, country, kind):
    found = rules.limitation(country, kind, due)
    years = {"FR": 5 if kind == "company" else 2, "GB": 6, "DE": 3}[country]
    assert found.ends_on >= rules.add_years(due, years) - timedelta(days=1)  # 29 Feb -> 28 Feb
    assert found.alert_on == found.ends_on - timedelta(days=rules.ALERT_DAYS)
    assert found.state(found.alert_on - timedelta(days=1)) == "ok"
    assert found.state(found.ends_on + timedelta(days=1)) == "expired"


@given(st.dates(min_value=date(2010, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 48))
def test_add_months_stays_in_the_target_month(day, months):
    moved = rules.add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
