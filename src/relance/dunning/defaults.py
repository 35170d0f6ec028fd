"""The three ready policies every organisation starts with.

"Standard B2B" follows the seeds: a courtesy reminder 3 days before the due
date; a friendly email and SMS the day after; a call at +4; a firm email at +8
announcing the late fee 48 hours ahead; then twice a week, alternating email
and call. "Good client (gentle)" waits for the client's usual cycle and asks
less often. "Individual (B2C)" never mentions B2B fees and ends with a letter a
person approves. Standard B2B ends with a formal notice prepared at +45 and a
collection-agency hand-off proposed at +75, each taken up (or not) by a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import Policy, Step


@dataclass(frozen=True)
class S:
    offset: int
    channels: tuple[str, ...]
    tone: str
    template: str
    kind: str = "message"
    every: int | None = None
    times: int = 0
    approval: bool = False
    name: str = ""


STANDARD_B2B = (
    S(-3, ("email",), "friendly", "before_due", name=gettext_noop("Courtesy reminder")),
    S(1, ("email", "sms"), "friendly", "friendly", name=gettext_noop("Friendly reminder")),
    S(4, ("call",), "friendly", "friendly", "call", name=gettext_noop("Phone call")),
    S(
        8,
        ("email",),
        "firm",
        "late_fee_notice",
        "late_fee_notice",
        name=gettext_noop("Late fee announced (48 hours)"),
    ),
    S(11, ("email",), "firm", "firm", every=7, times=6, name=gettext_noop("Firm reminder")),
    S(14, ("call",), "firm", "firm", "call", every=7, times=6, name=gettext_noop("Follow-up call")),
    # The last amicable reminder announces the formal notice, which is prepared for a
    # person to approve (escalation.steps); the email itself waits for the same person.
    S(
        45,
        ("email",),
        "formal",
        "formal",
        "formal_notice",
        approval=True,
        name=gettext_noop("Last reminder, formal notice prepared"),
    ),
    # End of the ladder: a call, and a collection-agency hand-off proposed to a person.
    S(
        75,
        ("call",),
        "formal",
        "formal",
        "handoff",
        name=gettext_noop("Last call, hand-off proposed"),
    ),
)

GENTLE = (
    S(-3, ("email",), "friendly", "before_due", name=gettext_noop("Courtesy reminder")),
    S(7, ("email",), "friendly", "friendly", name=gettext_noop("Friendly reminder")),
    S(15, ("call",), "friendly", "friendly", "call", name=gettext_noop("Phone call")),
    S(21, ("email",), "firm", "firm", every=14, times=4, name=gettext_noop("Firm reminder")),
)

INDIVIDUAL = (
    S(-3, ("email", "sms"), "friendly", "before_due", name=gettext_noop("Courtesy reminder")),
    S(2, ("email", "sms"), "friendly", "friendly", name=gettext_noop("Friendly reminder")),
    S(7, ("call",), "friendly", "friendly", "call", name=gettext_noop("Phone call")),
    S(12, ("email",), "firm", "firm", name=gettext_noop("Firm reminder")),
    S(20, ("email",), "firm", "firm", every=10, times=3, name=gettext_noop("Firm reminder")),
    S(
        30,
        ("letter",),
        "formal",
        "formal",
        approval=True,
        name=gettext_noop("Last amicable reminder by letter"),
    ),
)

BUILTIN = {
    "standard_b2b": (
        gettext_noop("Standard B2B"),
        gettext_noop(
            "Courtesy reminder before the due date, then email, SMS and calls about twice a "
            "week; the late fee is announced 48 hours ahead; a formal notice is prepared at "
            "45 days and a collection agency proposed at 75, each for a person to approve."
        ),
        STANDARD_B2B,
    ),
    "gentle": (
        gettext_noop("Good client (gentle)"),
        gettext_noop(
            "For long-standing clients who pay: waits for their usual payment cycle and asks "
            "less often."
        ),
        GENTLE,
    ),
    "individual": (
        gettext_noop("Individual (B2C)"),
        gettext_noop(
            "For private individuals: no B2B late-payment indemnity; ends with a letter a "
            "person approves."
        ),
        INDIVIDUAL,
    ),
}


def install(organisation: Any) -> list[Policy]:
    """Create the ready policies the organisation does not have yet (in its language)."""
    made = []
    with transaction.atomic(), translation.override(organisation.locale or "fr"):
        have = set(
            Policy.objects.filter(organisation=organisation).values_list("builtin", flat=True)
        )
        has_default = Policy.objects.filter(organisation=organisation, is_default=True).exists()
        for slug, (name, description, steps) in BUILTIN.items():
            if slug in have:
                continue
            policy = Policy.objects.create(
                organisation=organisation,
                name=_(name),
                description=_(description),
                builtin=slug,
                is_default=slug == "standard_b2b" and not has_default,
                is_default_individuals=slug == "individual",
                hold_for_cycle=slug == "gentle",
            )
            Step.objects.bulk_create(
                Step(
                    policy=policy,
                    position=i + 1,
                    name=_(s.name),
                    kind=s.kind,
                    offset_days=s.offset,
                    channels=list(s.channels),
                    tone=s.tone,
                    template=s.template,
                    needs_approval=s.approval,
                    repeat_every=s.every,
                    repeat_max=s.times,
                )
                for i, s in enumerate(steps)
            )
            made.append(policy)
    return made
