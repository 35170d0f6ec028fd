"""Reminder steps in plain words: "3 days before the due date", "4 days after
the due date: phone call (friendly)", never a bare signed number (peers.md:
users of other tools misread "-3" and "+3"). Also the words for what
``rules.ladder.problems`` finds wrong with a ladder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from relance import formats
from relance.ledger.models import RiskLevel
from relance.rules import ladder

from .models import Channel, StepKind, Tone

# Kinds whose channel already says what happens ("email", "phone call").
PLAIN_KINDS = (StepKind.MESSAGE, StepKind.CALL)


def describe_offset(days: int, business_days: bool = False) -> str:
    """When a step fires, relative to the due date, in words (lowercase, to
    be used inside a sentence)."""
    side, n = ladder.offset_parts(days)
    if side == "on":
        if business_days:
            return _("on the due date (or the next business day)")
        return _("on the due date")
    if business_days:
        if side == "before":
            return ngettext(
                "%(n)d business day before the due date",
                "%(n)d business days before the due date",
                n,
            ) % {"n": n}
        return ngettext(
            "%(n)d business day after the due date",
            "%(n)d business days after the due date",
            n,
        ) % {"n": n}
    if n == 1:
        return (
            _("the day before the due date")
            if side == "before"
            else _("the day after the due date")
        )
    if side == "before":
        return ngettext("%(n)d day before the due date", "%(n)d days before the due date", n) % {
            "n": n
        }
    return ngettext("%(n)d day after the due date", "%(n)d days after the due date", n) % {"n": n}


def join_words(words: Sequence[str], conjunction: str | None = None) -> str:
    """ "a", "a and b", "a, b and c" (or another conjunction)."""
    words = [w for w in words if w]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    word = conjunction if conjunction is not None else _("and")
    return f"{', '.join(words[:-1])} {word} {words[-1]}"


def channel_words(channels: Iterable[str]) -> str:
    """("email", "sms") -> "email and SMS"."""
    labels = dict(Channel.choices)
    names = [str(labels.get(c, c)) for c in channels]
    # Lowercase inside a sentence, but keep acronyms ("SMS") as they are.
    return join_words([n if n.isupper() else n[:1].lower() + n[1:] for n in names])


def tone_word(tone: str) -> str:
    return str(dict(Tone.choices).get(tone, tone)).lower()


def what_happens(rule: ladder.StepRule) -> str:
    """ "phone call (friendly)", "late-fee notice by email (firm)"."""
    channels = channel_words(rule.channels) or _("no channel")
    tone = tone_word(rule.tone)
    if rule.kind in PLAIN_KINDS:
        return _("%(channels)s (%(tone)s)") % {"channels": channels, "tone": tone}
    kind = str(dict(StepKind.choices).get(rule.kind, rule.kind))
    return _("%(kind)s by %(channels)s (%(tone)s)") % {
        "kind": kind[:1].lower() + kind[1:],
        "channels": channels,
        "tone": tone,
    }


def repeat_words(every: int | None, times: int) -> str:
    """ "then every 7 days, at most 6 times" ("" when the step does not repeat)."""
    if not every or times <= 0:
        return ""
    how_often = ngettext("every day", "every %(n)d days", every) % {"n": every}
    how_many = ngettext("at most once", "at most %(n)d times", times) % {"n": times}
    return _("then %(every)s, %(times)s") % {"every": how_often, "times": how_many}


def condition_words(rule: ladder.StepRule) -> list[str]:
    """The step's conditions, each a short phrase."""
    found = []
    if rule.min_amounts:
        amounts = [formats.money(amount, code) for code, amount in rule.min_amounts]
        found.append(
            _("only if at least %(amount)s is overdue") % {"amount": join_words(amounts, _("or"))}
        )
    if rule.client_kind == "company":
        found.append(_("only for companies"))
    elif rule.client_kind == "individual":
        found.append(_("only for individuals"))
    if rule.risk_levels:
        labels = dict(RiskLevel.choices)
        levels = [
            str(labels[level]).lower() for level in RiskLevel.values if level in rule.risk_levels
        ]
        found.append(_("only for %(levels)s risk") % {"levels": join_words(levels, _("or"))})
    if rule.needs_approval:
        found.append(_("needs approval"))
    return found


def as_rule(step: Any) -> ladder.StepRule:
    """A Step model or a StepRule, as a StepRule."""
    return step if isinstance(step, ladder.StepRule) else step.rule()


def describe_step(step: Any) -> str:
    """One line for one step: "4 days after the due date: phone call (friendly);
    then every 7 days, at most 6 times; only for companies"."""
    rule = as_rule(step)
    line = _("%(when)s: %(what)s") % {
        "when": describe_offset(rule.offset_days, rule.business_days),
        "what": what_happens(rule),
    }
    parts = [line, repeat_words(rule.repeat_every, rule.repeat_max), *condition_words(rule)]
    # French puts a space before ";": the separator is translated too.
    sentence = pgettext("between the parts of a step's description", "; ").join(
        p for p in parts if p
    )
    return sentence[:1].upper() + sentence[1:]


def problem_text(problem: ladder.Problem, previous: int | None = None) -> str:
    """The message for one problem; ``previous`` is the position of the step before."""
    n = problem.position
    before = previous if previous is not None else n - 1
    values = {"n": n, "previous": before}
    if problem.code == "order":
        return (
            _("Step %(n)d comes before step %(previous)d: put the steps in the order they happen.")
            % values
        )
    if problem.code == "collision":
        return (
            _(
                "Steps %(previous)d and %(n)d fall on the same day: give them different days, "
                "or make one step with several channels."
            )
            % values
        )
    if problem.code == "repeat":
        return (
            _(
                "Step %(n)d: to repeat it, give both how often (every … days) and how many "
                "times; to not repeat it, leave both empty."
            )
            % values
        )
    if problem.code == "channels":
        return _("Step %(n)d: choose at least one channel.") % values
    if problem.code == "tone":
        return _("Step %(n)d: choose a tone.") % values
    if problem.code == "kind":
        return _("Step %(n)d: choose what the step does.") % values
    if problem.code == "condition":
        return _("Step %(n)d: a minimum amount cannot be negative.") % values
    return _("Step %(n)d cannot be saved as it is.") % values


def problems_text(
    problems: Iterable[ladder.Problem], positions: Sequence[int] | None = None
) -> list[str]:
    """Messages for ``rules.ladder.problems``; ``positions`` are the ladder's
    positions in order (to name the step before a misplaced one)."""
    order = list(positions or ())
    texts = []
    for problem in problems:
        previous = None
        if problem.position in order and order.index(problem.position) > 0:
            previous = order[order.index(problem.position) - 1]
        texts.append(problem_text(problem, previous))
    return list(dict.fromkeys(texts))
