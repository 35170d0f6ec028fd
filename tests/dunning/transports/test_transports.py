"""What every channel shares: the retry schedule and the choice of transport."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.dunning.transports import Outgoing, PrintQueue, backoff, transport_for
from relance.dunning.transports.email import EmailTransport


@pytest.mark.parametrize(
    ("attempt", "wait"),
    [
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=4)),
        (3, timedelta(minutes=16)),
        (4, timedelta(minutes=64)),
        (5, timedelta(minutes=256)),
        (6, timedelta(hours=6)),
        (1000, timedelta(hours=6)),
    ],
)
def test_backoff_grows_four_times_up_to_six_hours(attempt, wait):
    assert backoff(attempt) == wait


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_never_shrinks(attempt):
    assert backoff(attempt) <= backoff(attempt + 1) <= timedelta(hours=6)


@pytest.mark.parametrize("attempt", [0, -1])
def test_backoff_counts_attempts_from_one(attempt):
    with pytest.raises(ValueError):
        backoff(attempt)


def test_a_letter_goes_to_the_print_queue():
    transport = transport_for("letter")
    letter = Outgoing(channel="letter", to=("ACME Industries",), text="Madame, Monsieur, …")

    first, second = transport.send(letter), transport.send(letter)

    assert isinstance(transport, PrintQueue)
    assert re.fullmatch(r"print-[0-9a-f-]{36}", first.provider_id)
    assert first.provider_id != second.provider_id


def test_email_goes_through_the_email_transport():
    assert isinstance(transport_for("email"), EmailTransport)


@pytest.mark.parametrize("channel", ["call", "fax", ""])
def test_no_transport_for_other_channels(channel):
    with pytest.raises(ValueError, match="no transport"):
        transport_for(channel)
