"""Steps in plain words: an offset is never shown as a bare signed number,
and every problem the ladder rules find has a sentence a person can act on."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import translation

from relance.dunning.describe import describe_offset, describe_step, problems_text
from relance.dunning.models import Step
from relance.rules import ladder


@pytest.mark.parametrize(
    ("days", "business", "words"),
    [
        (-3, False, "3 days before the due date"),
        (-1, False, "the day before the due date"),
        (0, False, "on the due date"),
        (1, False, "the day after the due date"),
        (4, False, "4 days after the due date"),
        (5, True, "5 business days after the due date"),
        (1, True, "1 business day after the due date"),
        (-2, True, "2 business days before the due date"),
        (0, True, "on the due date (or the next business day)"),
    ],
)
def test_describe_offset(days, business, words):
    assert describe_offset(days, business) == words


@pytest.mark.parametrize("days", range(-30, 31))
def test_an_offset_is_never_a_bare_signed_number(days):
    for business in (False, True):
        words = describe_offset(days, business)
        assert not re.search(r"[-+\u2212]\s*\d", words), words
        assert "due date" in words


def rule(**values) -> ladder.StepRule:
    return ladder.StepRule(**{"key": 1, "position": 1, "offset_days": 4} | values)


def test_describe_a_call_step():
    assert (
        describe_step(rule(channels=("call",), kind="call"))
        == "4 days after the due date: phone call (friendly)"
    )


def test_describe_a_repeated_step_with_conditions():
    step = rule(
        offset_days=11,
        channels=("email", "sms"),
        tone="firm",
        repeat_every=7,
        repeat_max=6,
        min_amounts=(("EUR", Decimal("50.00")),),
        client_kind="individual",
        risk_levels=frozenset({"high", "normal"}),
        needs_approval=True,
    )
    assert describe_step(step) == (
        "11 days after the due date: email and SMS (firm); then every 7 days, at most 6 "
        "times; only if at least €50.00 is overdue; only for individuals; only for normal or "
        "high risk; needs approval"
    )


def test_describe_an_escalation_step_and_several_currencies():
    step = rule(
        offset_days=-3,
        channels=("email", "letter", "sms"),
        kind="late_fee_notice",
        tone="firm",
        min_amounts=(("EUR", Decimal("50")), ("GBP", Decimal("40"))),
        repeat_every=1,
        repeat_max=1,
    )
    assert describe_step(step) == (
        "3 days before the due date: late-fee notice by email, letter and SMS (firm); then "
        "every day, at most once; only if at least €50.00 or £40.00 is overdue"
    )


def test_describe_a_stored_step():
    step = Step(position=2, offset_days=0, channels=["letter"], tone="formal", template="formal")
    assert describe_step(step) == "On the due date: letter (formal)"


def test_describe_in_french_has_no_signed_number():
    with translation.override("fr"):
        words = describe_step(rule(offset_days=-3))
    assert not re.search(r"[-+\u2212]\s*\d", words)


def test_problems_in_words():
    steps = [
        rule(position=1, offset_days=5),
        rule(position=2, offset_days=2),
        rule(position=3, offset_days=2, channels=()),
        rule(position=4, offset_days=9, repeat_every=7),
        rule(position=5, offset_days=12, min_amounts=(("EUR", Decimal("-1")),)),
    ]
    found = problems_text(ladder.problems(steps), [s.position for s in steps])
    assert found == [
        "Step 2 comes before step 1: put the steps in the order they happen.",
        "Steps 2 and 3 fall on the same day: give them different days, or make one step "
        "with several channels.",
        "Step 3: choose at least one channel.",
        "Step 4: to repeat it, give both how often (every … days) and how many times; to not "
        "repeat it, leave both empty.",
        "Step 5: a minimum amount cannot be negative.",
    ]


def test_problems_of_a_bad_tone_or_kind():
    steps = [rule(tone="angry", kind="summon")]
    assert problems_text(ladder.problems(steps)) == [
        "Step 1: choose a tone.",
        "Step 1: choose what the step does.",
    ]


def test_a_valid_ladder_has_no_problem():
    steps = [rule(position=1, offset_days=-3), rule(position=2, offset_days=1)]
    assert problems_text(ladder.problems(steps)) == []
