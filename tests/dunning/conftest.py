"""Clients and invoices for the dunning engine's time-travel tests."""

from datetime import date

import pytest


@pytest.fixture
def chased(new_acme):
    """ACME (B2B, French) with a billing contact who has an email and a mobile."""
    return new_acme(phone="+33612345678", language="fr")


@pytest.fixture
def run_day(org):
    """run_day(date) runs the organisation's daily decision for that local day."""
    from relance.dunning import engine

    def run(day: date, **kwargs):
        org.refresh_from_db()
        return engine.run(org, day, **kwargs)

    return run
