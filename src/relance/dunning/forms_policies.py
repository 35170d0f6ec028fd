"""Forms of the reminder-policy pages: a policy and its steps, an
organisation's own wording of a reminder, and the reminder settings.

A step's date is typed as words ("3" "days before the due date"), never as
a signed number; the ladder as a whole is checked by ``rules.ladder.problems``
(in the view, which has every step) and an SMS step by the length of the SMS
it would send.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import RiskLevel
from relance.rules import ladder
from relance.rules import sms as sms_rules
from relance.rules.money import CURRENCIES, D, MoneyError, exponent, has_sub_minor_digits

from . import templating
from .models import Channel, DunningSettings, Policy, StepKind, TemplateKey, Tone

MAX_STEPS = 30
MAX_DAYS_BEFORE = 365
MAX_DAYS_AFTER = 3650
MAX_SMS_SEGMENTS = 10
SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD"}
_AMOUNT = r"[0-9][0-9\s\u00a0\u202f.,']*"
_CODE = r"[A-Za-z]{3}|[€£$]"
MIN_AMOUNT_PIECE = re.compile(
    rf"^(?:(?P<c1>{_CODE})\s*(?P<a1>{_AMOUNT})|(?P<a2>{_AMOUNT}?)\s*(?P<c2>{_CODE}))$"
)


def parse_min_amounts(text: str) -> dict[str, str]:
    """ "EUR 50; GBP 40" (or "50 €", one per line) -> {"EUR": "50.00", "GBP": "40.00"}."""
    found: dict[str, str] = {}
    for piece in re.split(r"[;\n]", text or ""):
        piece = piece.strip()
        if not piece:
            continue
        match = MIN_AMOUNT_PIECE.match(piece)
        if not match:
            raise ValidationError(
                _("“%(piece)s”: write a currency and an amount, e.g. EUR 50; GBP 40.")
                % {"piece": piece[:40]},
                code="min_amount",
            )
        code = (match.group("c1") or match.group("c2")).upper()
        code = SYMBOLS.get(code, code)
        if code not in CURRENCIES:
            raise ValidationError(
                _("%(code)s is not a currency relance knows.") % {"code": code[:3]},
                code="currency",
            )
        try:
            amount = D(match.group("a1") or match.group("a2"))
        except (MoneyError, ArithmeticError):
            raise ValidationError(
                _("“%(piece)s”: the amount is not a number.") % {"piece": piece[:40]},
                code="min_amount",
            ) from None
        if amount >= Decimal(10) ** 13:
            raise ValidationError(_("This number is too large."), code="max_digits")
        if has_sub_minor_digits(amount, code):
            raise ValidationError(
                _("Amounts in %(currency)s have at most %(n)d decimals.")
                % {"currency": code, "n": exponent(code)},
                code="decimals",
            )
        if code in found:
            raise ValidationError(
                _("%(code)s is given twice.") % {"code": code}, code="min_amount_twice"
            )
        found[code] = format(amount.quantize(Decimal(1).scaleb(-exponent(code))), "f")
    return found


def min_amounts_text(amounts: dict[str, Any]) -> str:
    """The stored minimums as the field shows them: "EUR 50; GBP 40.50"."""
    parts = []
    for code, value in sorted((amounts or {}).items()):
        number = Decimal(str(value))
        shown = format(number.quantize(Decimal(1)) if number == number.to_integral() else number)
        parts.append(f"{code} {shown}")
    return "; ".join(parts)


class PolicyForm(forms.ModelForm):
    """The policy itself; its steps are a formset beside it."""

    example_due = forms.DateField(
        label=_("Example due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The preview shows the days of the reminders for an invoice due that day."),
    )

    class Meta:
        model = Policy
        fields = ["name", "description", "hold_for_cycle"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_name(self) -> str:
        name = " ".join((self.cleaned_data.get("name") or "").split())
        taken = Policy.objects.for_org(self.instance.organisation).filter(name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if name and taken.exists():
            raise ValidationError(
                _("Another policy is already called “%(name)s”.") % {"name": name},
                code="unique",
            )
        return name


WHEN_CHOICES = [
    ("before", _("before the due date")),
    ("on", _("on the due date")),
    ("after", _("after the due date")),
]


class StepForm(forms.Form):
    """One rung of the ladder. ``id`` names an existing step of the same policy
    (the view ignores any other id)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    days = forms.IntegerField(
        label=_("Days"), min_value=0, max_value=MAX_DAYS_AFTER, required=False
    )
    when = forms.ChoiceField(label=_("When"), choices=WHEN_CHOICES, initial="after")
    business_days = forms.BooleanField(label=_("business days"), required=False)
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["email"],
    )
    tone = forms.ChoiceField(label=_("Tone"), choices=Tone.choices, initial=Tone.FRIENDLY)
    template = forms.ChoiceField(
        label=_("Wording"), choices=TemplateKey.choices, initial=TemplateKey.FRIENDLY
    )
    kind = forms.ChoiceField(
        label=_("What happens"), choices=StepKind.choices, initial=StepKind.MESSAGE
    )
    needs_approval = forms.BooleanField(label=_("needs approval"), required=False)
    repeat_every = forms.IntegerField(
        label=_("Repeat every (days)"), min_value=1, max_value=365, required=False
    )
    repeat_max = forms.IntegerField(
        label=_("At most (times)"), min_value=0, max_value=100, required=False
    )
    min_amounts = forms.CharField(
        label=_("Only from (amount overdue)"),
        required=False,
        max_length=200,
        help_text=_("Per currency, e.g. EUR 50; GBP 40. Empty: any amount."),
    )
    client_kind = forms.ChoiceField(
        label=_("Only for"),
        required=False,
        choices=[
            ("", _("every client")),
            ("company", _("companies (B2B)")),
            ("individual", _("individuals (B2C)")),
        ],
    )
    risk_levels = forms.MultipleChoiceField(
        label=_("Only at risk"),
        choices=RiskLevel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any risk level."),
    )

    def clean_min_amounts(self) -> dict[str, str]:
        return parse_min_amounts(self.cleaned_data.get("min_amounts", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        when, days = data.get("when"), data.get("days")
        if when == "on":
            data["offset_days"] = 0
        elif when in ("before", "after"):
            if days is None:
                self.add_error("days", _("Say how many days."))
            elif when == "before" and days > MAX_DAYS_BEFORE:
                self.add_error(
                    "days",
                    _("At most %(n)d days before the due date.") % {"n": MAX_DAYS_BEFORE},
                )
            else:
                data["offset_days"] = -days if when == "before" else days
        if data.get("kind") == StepKind.CALL and "call" not in (data.get("channels") or []):
            self.add_error("channels", _("A call task needs the phone-call channel."))
        return data

    def rule(self, position: int) -> ladder.StepRule:
        """The step as the rules see it (call on a valid form)."""
        data = self.cleaned_data
        return ladder.StepRule(
            key=data.get("id") or 0,
            position=position,
            offset_days=data["offset_days"],
            channels=tuple(data.get("channels") or ()),
            tone=data["tone"],
            kind=data["kind"],
            template=data["template"],
            business_days=bool(data.get("business_days")),
            needs_approval=bool(data.get("needs_approval")),
            repeat_every=data.get("repeat_every"),
            repeat_max=data.get("repeat_max") or 0,
            min_amounts=ladder.min_amounts_from(data.get("min_amounts") or {}),
            client_kind=data.get("client_kind") or "",
            risk_levels=frozenset(data.get("risk_levels") or ()),
        )

    def model_values(self) -> dict[str, Any]:
        """The Step fields this form sets (call on a valid form)."""
        data = self.cleaned_data
        return {
            "name": data.get("name", "").strip(),
            "kind": data["kind"],
            "offset_days": data["offset_days"],
            "business_days": bool(data.get("business_days")),
            "channels": [c for c in ladder.CHANNELS if c in (data.get("channels") or ())],
            "tone": data["tone"],
            "template": data["template"],
            "needs_approval": bool(data.get("needs_approval")),
            "repeat_every": data.get("repeat_every"),
            "repeat_max": data.get("repeat_max") or 0,
            "min_amounts": data.get("min_amounts") or {},
            "client_kind": data.get("client_kind") or "",
            "risk_levels": [r for r in RiskLevel.values if r in (data.get("risk_levels") or ())],
        }


def step_initial(step: Any) -> dict[str, Any]:
    """A stored Step as the form's initial values."""
    side, days = ladder.offset_parts(step.offset_days)
    return {
        "id": step.pk,
        "name": step.name,
        "days": days if side != "on" else None,
        "when": side,
        "business_days": step.business_days,
        "channels": list(step.channels),
        "tone": step.tone,
        "template": step.template,
        "kind": step.kind,
        "needs_approval": step.needs_approval,
        "repeat_every": step.repeat_every,
        "repeat_max": step.repeat_max or None,
        "min_amounts": min_amounts_text(step.min_amounts),
        "client_kind": step.client_kind,
        "risk_levels": list(step.risk_levels or ()),
    }


class BaseStepFormSet(forms.BaseFormSet):
    def filled(self) -> list[StepForm]:
        """The steps kept, in order: stored ones and new ones with something typed,
        minus those ticked for removal."""
        kept = []
        for index, form in enumerate(self.forms):
            if index < self.initial_form_count() or form.has_changed():
                form.is_valid()  # fills cleaned_data, DELETE included, even when invalid
                if self._should_delete_form(form):
                    continue
                kept.append(form)
        return kept

    def rules(self) -> list[ladder.StepRule]:
        return [form.rule(position) for position, form in enumerate(self.filled(), start=1)]


def step_formset(
    data: Any = None, *, initial: list[dict[str, Any]] | None = None, extra: int = 1
) -> BaseStepFormSet:
    """The steps formset with ``extra`` blank rows at the end."""
    formset_class = forms.formset_factory(
        StepForm,
        formset=BaseStepFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_STEPS,
        validate_max=True,
        absolute_max=MAX_STEPS + 5,
    )
    return formset_class(data, initial=initial, prefix="steps")


# -- wording -----------------------------------------------------------------------


def sms_problem(text: str, max_segments: int) -> str:
    """Why an SMS text is too long (empty when it fits)."""
    length = sms_rules.measure(text)
    if length.segments <= max_segments:
        return ""
    single, per_part = sms_rules.LIMITS[length.encoding]
    return str(
        _(
            "The SMS would need %(parts)d parts (%(units)d characters in %(encoding)s) but "
            "the reminder settings allow %(max)d; one SMS holds %(single)d characters, "
            "%(per_part)d per part once split."
        )
        % {
            "parts": length.segments,
            "units": length.units,
            "encoding": length.encoding,
            "max": max_segments,
            "single": single,
            "per_part": per_part,
        }
    )


class TemplateForm(forms.Form):
    """An organisation's own wording for one template key, channel and language.

    Each filled part is checked as a reminder template (unknown variable,
    syntax, forbidden tag); an SMS is also measured, rendered with the sample
    data, against the configured number of parts.
    """

    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
    )
    html = forms.CharField(
        label=_("HTML (optional)"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Leave empty: the email's HTML is made from the text."),
    )
    client = forms.ChoiceField(label=_("Preview with"), required=False)

    def __init__(
        self,
        *args: Any,
        key: str,
        channel: str,
        language: str,
        max_segments: int,
        clients: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.key, self.channel, self.language = key, channel, language
        self.max_segments = max_segments
        self.fields["client"].choices = [("", _("the example data")), *clients]
        if channel == "sms":
            del self.fields["subject"]
        if channel != "email":
            del self.fields["html"]
        if channel == "sms":
            self.fields["text"].widget.attrs["rows"] = 5

    def _checked(self, name: str) -> str:
        source = self.cleaned_data.get(name, "") or ""
        problems = templating.check(source) if source.strip() else []
        if problems:
            raise ValidationError(problems, code="template")
        return source

    def clean_subject(self) -> str:
        return " ".join(self._checked("subject").split())

    def clean_text(self) -> str:
        return self._checked("text").replace("\r\n", "\n")

    def clean_html(self) -> str:
        return self._checked("html").replace("\r\n", "\n")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.channel == "sms" and "text" in data and not self.errors:
            override = OwnText(text=data["text"])
            rendered = templating.render(
                self.key,
                "sms",
                self.language,
                templating.sample_context(self.language),
                override,
            )
            problem = sms_problem(rendered.text, self.max_segments)
            if problem:
                self.add_error("text", problem)
        return data


class OwnText:
    """Unsaved wording, shaped like a MessageTemplate for ``templating.render``."""

    def __init__(self, subject: str = "", text: str = "", html: str = "") -> None:
        self.subject, self.text, self.html = subject, text, html


# -- settings ------------------------------------------------------------------------

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


class SettingsForm(forms.ModelForm):
    run_hour = forms.TypedChoiceField(label=_("Daily run at"), choices=HOURS, coerce=int)
    window_start = forms.TypedChoiceField(
        label=_("Send from (client's time)"), choices=HOURS, coerce=int
    )
    window_end = forms.TypedChoiceField(
        label=_("Send until (client's time)"),
        choices=[*HOURS[1:], (24, "24:00")],
        coerce=int,
    )

    class Meta:
        model = DunningSettings
        fields = [
            "run_hour",
            "window_start",
            "window_end",
            "business_days_only",
            "sms_max_segments",
            "statement_max_age_days",
        ]
        help_texts = {
            "sms_max_segments": _(
                "A long SMS is sent and billed in parts of 153 characters (67 with accents "
                "or symbols outside the SMS alphabet). Steps whose SMS is longer are refused."
            ),
            "statement_max_age_days": _(
                "Reminders rely on payments being recorded: relance warns when the bank "
                "statement is older than this."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segments = self.fields["sms_max_segments"]
        segments.validators.append(MaxValueValidator(MAX_SMS_SEGMENTS))
        segments.widget.attrs["max"] = MAX_SMS_SEGMENTS
        self.fields["run_hour"].help_text = _(
            "In the organisation's time zone. Messages then leave within the sending window."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start is not None and end is not None and end <= start:
            self.add_error("window_end", _("The sending window must end after it starts."))
        return data
