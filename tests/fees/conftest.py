"""A client chased by a ladder whose late-fee notice repeats every 30 days."""

from __future__ import annotations

import pytest


@pytest.fixture
def fee_policy(org):
    """Friendly email at +1, late-fee notice at +8 then every 30 days (20 times)."""
    from relance.dunning.models import Policy, Step

    policy = Policy.objects.create(organisation=org, name="Fees ladder")
    Step.objects.create(
        policy=policy, position=1, offset_days=1, channels=["email"], template="friendly"
    )
    Step.objects.create(
        policy=policy,
        position=2,
        kind="late_fee_notice",
        offset_days=8,
        channels=["email"],
        tone="firm",
        template="late_fee_notice",
        repeat_every=30,
        repeat_max=20,
    )
    return policy


@pytest.fixture
def debtor(new_acme, fee_policy):
    return new_acme(language="fr", dunning_policy=fee_policy)
