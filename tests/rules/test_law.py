from datetime import date
from decimal import Decimal

import pytest

from relance.rules.law import LEGAL_CONSTANTS, MissingLegalRule, constant, uk_indemnity


def test_every_rule_names_its_source_and_validity():
    for row in LEGAL_CONSTANTS:
        assert row.source and row.article, row
        assert row.valid_to is None or row.valid_from <= row.valid_to, row


def test_french_indemnity_is_40_euros_since_2013():
    row = constant("recovery_indemnity", "FR", date(2026, 11, 23))
    assert (row.value, row.unit) == (Decimal(40), "EUR")
    assert "D441-5" in row.article
    with pytest.raises(MissingLegalRule, match=r"recovery_indemnity.*FR.*2012-12-31"):
        constant("recovery_indemnity", "FR", date(2012, 12, 31))


def test_eu_members_without_their_own_row_use_the_directive():
    assert constant("late_penalty_margin", "BE", date(2026, 1, 1)).value == Decimal(8)
    assert constant("late_penalty_margin", "DE", date(2026, 1, 1)).value == Decimal(9)


def test_a_country_outside_the_table_is_refused_not_guessed():
    with pytest.raises(MissingLegalRule, match="US"):
        constant("recovery_indemnity", "US", date(2026, 1, 1))


@pytest.mark.parametrize(
    ("debt", "expected"),
    [("999.99", 40), ("1000.00", 70), ("9999.99", 70), ("10000.00", 100), ("250000", 100)],
)
def test_uk_fixed_compensation_by_debt_size(debt, expected):
    assert uk_indemnity(Decimal(debt), date(2026, 1, 1)).value == Decimal(expected)
