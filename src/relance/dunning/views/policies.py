"""Reminder policies, their wording and the reminder settings.

A policy is edited as a whole: its name and a list of steps in the order they
happen. Nothing is saved unless the whole ladder passes ``rules.ladder.problems``
and every SMS step fits the configured number of SMS parts. Beside the form,
a plain-language preview (refreshed by htmx on every change) says each step in
words and dates the reminders of an example invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import Client, Invoice
from relance.rules import ladder
from relance.rules.terms import is_business_day
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view

from .. import context as reminder_context
from .. import describe, engine, templating
from ..forms_policies import (
    MAX_STEPS,
    BaseStepFormSet,
    OwnText,
    PolicyForm,
    SettingsForm,
    TemplateForm,
    sms_problem,
    step_formset,
    step_initial,
)
from ..models import Channel, DunningSettings, MessageTemplate, Policy, Step, TemplateKey

OPEN_STATUSES = ("issued", "partially_paid")
EXAMPLE_DUE_IN_DAYS = 7  # the example invoice falls due a week from today: courtesy steps show
NEW_POLICY_ROWS = 3
MAX_NAMED = 5  # clients or invoices named when a delete is refused
MAX_PREVIEW_CLIENTS = 200
# The tone a wording is written in (the preview of a wording uses it).
TONE_OF = {
    "before_due": "friendly",
    "friendly": "friendly",
    "firm": "firm",
    "late_fee_notice": "firm",
    "formal": "formal",
    "work_stop": "firm",
}


def _wake(policy: Policy, today: date) -> None:
    """Have the next run look again at the chases this policy drives."""
    engine.wake_policy(policy, today)


def _language_name(code: str) -> str:
    return {"fr": _("French"), "en": _("English")}.get(code, code)


# -- the ladder preview -----------------------------------------------------------


@dataclass
class DatedEvent:
    day: str
    sent: str  # the day it actually leaves, when business days move it ("" otherwise)
    what: str
    repeat: int


@dataclass
class LadderPreview:
    lines: list[str] = field(default_factory=list)
    example_due: str = ""
    events: list[DatedEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    incomplete: list[int] = field(default_factory=list)


def _long_day(value: date) -> str:
    """ "lundi 11 mai 2026": the weekday shows when a reminder would fall on a weekend."""
    return format_date(value, format="full", locale=formats.current_locale())


def ladder_preview(
    rules: list[ladder.StepRule], example_due: date, organisation: Any, settings: DunningSettings
) -> LadderPreview:
    preview = LadderPreview(example_due=_long_day(example_due))
    preview.lines = [describe.describe_step(rule) for rule in rules]
    country = organisation.country or "FR"
    for event in ladder.expand(rules, example_due, country):
        sent = event.on
        if settings.business_days_only:
            while not is_business_day(sent, country):
                sent += timedelta(days=1)
        preview.events.append(
            DatedEvent(
                day=_long_day(event.on),
                sent=_long_day(sent) if sent != event.on else "",
                what=describe.what_happens(event.step),
                repeat=event.occurrence,
            )
        )
    return preview


# -- the policy editor -------------------------------------------------------------


@dataclass
class Editor:
    form: PolicyForm
    steps: BaseStepFormSet
    stored: list[ladder.StepRule] = field(default_factory=list)  # shown before any change
    problems: list[str] = field(default_factory=list)

    def example_due(self, today: date) -> date:
        if self.form.is_bound:
            self.form.is_valid()  # a wrong name does not stop the example
            chosen = self.form.cleaned_data.get("example_due")
            if chosen:
                return chosen
        return today + timedelta(days=EXAMPLE_DUE_IN_DAYS)

    def ready_rules(self) -> tuple[list[ladder.StepRule], list[int]]:
        """The rules of the steps that are complete, and the numbers of those
        that are not (for the live preview while typing)."""
        if not self.steps.is_bound:
            return self.stored, []
        rules, incomplete = [], []
        for position, form in enumerate(self.steps.filled(), start=1):
            if form.is_valid():
                rules.append(form.rule(position))
            else:
                incomplete.append(position)
        return rules, incomplete


def _editor(request: HttpRequest, policy: Policy, data: Any = None, *, extra: int = 1) -> Editor:
    rows, stored = None, []
    if policy.pk:
        steps = list(policy.steps.all())
        rows = [step_initial(step) for step in steps]
        stored = [step.rule() for step in steps]
    if data is not None and "add_step" in data:
        data = data.copy()
        try:
            count = int(data.get("steps-TOTAL_FORMS", "0"))
        except ValueError:
            count = 0
        data["steps-TOTAL_FORMS"] = str(min(count + 1, MAX_STEPS))
    initial = {"example_due": policy.organisation.today() + timedelta(days=EXAMPLE_DUE_IN_DAYS)}
    form = PolicyForm(data, instance=policy, initial=initial)
    return Editor(form, step_formset(data, initial=rows, extra=extra), stored)


def sms_problems(
    request: HttpRequest, rules: list[ladder.StepRule], settings: DunningSettings
) -> list[str]:
    """Steps whose SMS (the organisation's wording or the default), rendered with
    the example data in each language, needs more parts than allowed."""
    found = []
    own = {
        (t.key, t.language): t for t in scoped(request, MessageTemplate).filter(channel=Channel.SMS)
    }
    for rule in rules:
        if "sms" not in rule.channels:
            continue
        for language in templating.LANGUAGES:
            override = own.get((rule.template, language))
            try:
                rendered = templating.render(
                    rule.template,
                    "sms",
                    language,
                    templating.sample_context(language),
                    override,
                )
            except templating.InvalidTemplate as exc:
                problem = "; ".join(exc.messages)
            else:
                problem = sms_problem(rendered.text, settings.sms_max_segments)
            if problem:
                found.append(
                    _("Step %(n)d, SMS in %(language)s: %(problem)s")
                    % {"n": rule.position, "language": _language_name(language), "problem": problem}
                )
    return found


def _validate(request: HttpRequest, editor: Editor, settings: DunningSettings) -> bool:
    form_ok = editor.form.is_valid()
    steps_ok = editor.steps.is_valid()
    if not (form_ok and steps_ok):
        return False
    rules = editor.steps.rules()
    if not rules:
        editor.problems.append(_("Add at least one step."))
        return False
    editor.problems += describe.problems_text(
        ladder.problems(rules), [rule.position for rule in rules]
    )
    editor.problems += sms_problems(request, rules, settings)
    return not editor.problems


def _save_steps(policy: Policy, steps: BaseStepFormSet) -> None:
    """Update the stored steps in place (their reminders keep pointing at them),
    create the new ones and delete those removed; positions follow the order."""
    kept = steps.filled()
    existing = {step.pk: step for step in policy.steps.all()}
    keep_ids = {form.cleaned_data.get("id") for form in kept} & set(existing)
    Step.objects.filter(policy=policy).exclude(pk__in=keep_ids).delete()
    # Out of the way first: positions are unique per policy and may swap.
    Step.objects.filter(policy=policy).update(position=F("position") + 1000)
    used: set[int] = set()
    for position, form in enumerate(kept, start=1):
        values = form.model_values()
        step_id = form.cleaned_data.get("id")
        step = existing.get(step_id) if step_id not in used else None
        if step is None:
            Step.objects.create(policy=policy, position=position, **values)
            continue
        used.add(step.pk)
        for name, value in values.items():
            setattr(step, name, value)
        step.position = position
        step.save()


def _policy_page(
    request: HttpRequest, editor: Editor, policy: Policy | None, settings: DunningSettings
) -> HttpResponse:
    organisation = request.organisation
    today = organisation.today()
    rules, incomplete = editor.ready_rules()
    preview = ladder_preview(rules, editor.example_due(today), organisation, settings)
    preview.incomplete = incomplete
    can_write = request.membership.can_write
    if not can_write:
        for name, form_field in editor.form.fields.items():
            form_field.disabled = name != "example_due"
        for step_form in editor.steps.forms:
            for form_field in step_form.fields.values():
                form_field.disabled = True
    context = {
        "editor": editor,
        "form": editor.form,
        "steps": editor.steps,
        "policy": policy,
        "preview": preview,
        "can_write": can_write,
        "settings": settings,
    }
    return render(request, "dunning/pages/policies/form.html", context)


def _save_policy(
    request: HttpRequest, editor: Editor, settings: DunningSettings, created: bool
) -> HttpResponse | None:
    if "add_step" in request.POST or "preview" in request.POST:
        return None
    if not _validate(request, editor, settings):
        return None
    with transaction.atomic():
        policy = editor.form.save()
        _save_steps(policy, editor.steps)
    _wake(policy, request.organisation.today())
    if created:
        messages.success(request, _("Reminder policy %(name)s created.") % {"name": policy})
    else:
        messages.success(request, _("Reminder policy %(name)s saved.") % {"name": policy})
    return redirect("reminder_policy_list")


@writer_view
def policy_create(request: HttpRequest) -> HttpResponse:
    settings = DunningSettings.for_org(request.organisation)
    policy = Policy(organisation=request.organisation)
    if request.method != "POST":
        editor = _editor(request, policy, extra=NEW_POLICY_ROWS)
        return _policy_page(request, editor, None, settings)
    editor = _editor(request, policy, request.POST)
    return _save_policy(request, editor, settings, created=True) or _policy_page(
        request, editor, None, settings
    )


@writer_view
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    settings = DunningSettings.for_org(request.organisation)
    policy = get_scoped_or_404(request, Policy, pk=pk)
    if request.method != "POST":
        return _policy_page(request, _editor(request, policy), policy, settings)
    # The form writes into the instance while validating: show the stored name.
    stored = get_scoped_or_404(request, Policy, pk=pk)
    editor = _editor(request, policy, request.POST)
    return _save_policy(request, editor, settings, created=False) or _policy_page(
        request, editor, stored, settings
    )


@member_view
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The live preview (htmx): the steps typed so far, in words and dated; saves nothing."""
    if request.method != "POST":
        return redirect("reminder_policy_list")
    settings = DunningSettings.for_org(request.organisation)
    editor = _editor(request, Policy(organisation=request.organisation), request.POST)
    editor.form.is_valid()  # for the example date; a taken name does not matter here
    rules, incomplete = editor.ready_rules()
    preview = ladder_preview(
        rules, editor.example_due(request.organisation.today()), request.organisation, settings
    )
    preview.incomplete = incomplete
    preview.problems = describe.problems_text(
        ladder.problems(rules), [rule.position for rule in rules]
    )
    preview.problems += sms_problems(request, rules, settings)
    return render(request, "dunning/pages/policies/_preview.html", {"preview": preview})


# -- list, duplicate, delete, defaults ---------------------------------------------


def _counts(queryset: QuerySet, name: str = "dunning_policy") -> dict[int, int]:
    rows = queryset.filter(**{f"{name}__isnull": False}).values(name).annotate(n=Count("pk"))
    return {row[name]: row["n"] for row in rows}


@member_view
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = scoped(request, Policy).prefetch_related("steps")
    clients = _counts(scoped(request, Client))
    invoices = _counts(scoped(request, Invoice))
    rows = [
        {
            "policy": policy,
            "steps": [describe.describe_step(step) for step in policy.steps.all()],
            "clients": clients.get(policy.pk, 0),
            "invoices": invoices.get(policy.pk, 0),
        }
        for policy in policies
    ]
    has_individuals_default = any(row["policy"].is_default_individuals for row in rows)
    context = {
        "rows": rows,
        "can_write": request.membership.can_write,
        "has_individuals_default": has_individuals_default,
    }
    return render(request, "dunning/pages/policies/list.html", context)


def _copy_name(request: HttpRequest, name: str) -> str:
    taken = {n.casefold() for n in scoped(request, Policy).values_list("name", flat=True)}
    for n in range(1, 100):
        if n == 1:
            candidate = _("%(name)s (copy)") % {"name": name}
        else:
            candidate = _("%(name)s (copy %(n)d)") % {"name": name, "n": n}
        candidate = candidate[:100]
        if candidate.casefold() not in taken:
            return candidate
    raise Http404("too many copies")


@writer_view
def policy_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_scoped_or_404(request, Policy, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("reminder_policy_list")
    with transaction.atomic():
        copy = Policy.objects.create(
            organisation=request.organisation,
            name=_copy_name(request, policy.name),
            description=policy.description,
            hold_for_cycle=policy.hold_for_cycle,
        )
        Step.objects.bulk_create(
            Step(
                policy=copy,
                position=step.position,
                name=step.name,
                kind=step.kind,
                offset_days=step.offset_days,
                business_days=step.business_days,
                channels=list(step.channels),
                tone=step.tone,
                template=step.template,
                needs_approval=step.needs_approval,
                repeat_every=step.repeat_every,
                repeat_max=step.repeat_max,
                min_amounts=dict(step.min_amounts or {}),
                client_kind=step.client_kind,
                risk_levels=list(step.risk_levels or ()),
            )
            for step in policy.steps.all()
        )
    messages.success(
        request,
        _("%(name)s is a copy of %(original)s: change it as you need.")
        % {"name": copy.name, "original": policy.name},
    )
    return redirect("reminder_policy_edit", pk=copy.pk)


def _invoice_label(invoice: Invoice) -> str:
    return invoice.number or _("draft of %(client)s") % {"client": invoice.client.name}


def _named(names: list[str], total: int) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    if total > MAX_NAMED:
        shown = _("%(names)s and %(n)d more") % {"names": shown, "n": total - MAX_NAMED}
    return shown


@writer_view
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_scoped_or_404(request, Policy, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("reminder_policy_list")
    clients = scoped(request, Client).filter(dunning_policy=policy).order_by("name")
    invoices = (
        scoped(request, Invoice)
        .filter(dunning_policy=policy)
        .select_related("client")
        .order_by("number", "pk")
    )
    client_count, invoice_count = clients.count(), invoices.count()
    if policy.is_default or policy.is_default_individuals:
        messages.error(
            request,
            _("%(name)s is a default policy: make another policy the default first.")
            % {"name": policy},
        )
    elif client_count or invoice_count:
        used_by = []
        if client_count:
            used_by.append(
                _("clients: %(names)s")
                % {"names": _named([c.name for c in clients[:MAX_NAMED]], client_count)}
            )
        if invoice_count:
            used_by.append(
                _("invoices: %(names)s")
                % {
                    "names": _named(
                        [_invoice_label(i) for i in invoices[:MAX_NAMED]], invoice_count
                    )
                }
            )
        messages.error(
            request,
            _(
                "%(name)s cannot be deleted: it is used by %(users)s. Choose another policy "
                "for them first."
            )
            % {"name": policy, "users": "; ".join(used_by)},
        )
    else:
        name = str(policy)
        policy.delete()
        messages.success(request, _("Reminder policy %(name)s deleted.") % {"name": name})
    return redirect("reminder_policy_list")


@writer_view
def policy_default(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the policy the organisation's default, or the default for individuals."""
    policy = get_scoped_or_404(request, Policy, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("reminder_policy_list")
    flag = "is_default_individuals" if request.POST.get("for") == "individuals" else "is_default"
    with transaction.atomic():
        previous = list(scoped(request, Policy).filter(**{flag: True}).exclude(pk=policy.pk))
        scoped(request, Policy).filter(**{flag: True}).update(**{flag: False})
        scoped(request, Policy).filter(pk=policy.pk).update(**{flag: True})
    today = request.organisation.today()
    for changed in [*previous, policy]:
        _wake(changed, today)
    if flag == "is_default":
        text = _("%(name)s is now the default reminder policy.")
    else:
        text = _("%(name)s is now the reminder policy for individuals.")
    messages.success(request, text % {"name": policy})
    return redirect("reminder_policy_list")


# -- wording -------------------------------------------------------------------------


def _template_or_404(key: str, channel: str, language: str) -> None:
    if (
        key not in templating.TEMPLATE_KEYS
        or channel not in templating.CHANNELS
        or language not in templating.LANGUAGES
    ):
        raise Http404("no such wording")


@member_view
def template_list(request: HttpRequest) -> HttpResponse:
    own = set(scoped(request, MessageTemplate).values_list("key", "channel", "language"))
    used: dict[str, set[str]] = {}
    for template, name in (
        Step.objects.filter(policy__organisation=request.organisation)
        .values_list("template", "policy__name")
        .distinct()
    ):
        used.setdefault(template, set()).add(name)
    keys = dict(TemplateKey.choices)
    channels = dict(Channel.choices)
    columns = [
        {
            "channel": c,
            "language": lang,
            "label": channels[c],
            "language_name": _language_name(lang),
        }
        for c in templating.CHANNELS
        for lang in templating.LANGUAGES
    ]
    rows = [
        {
            "key": key,
            "label": keys[key],
            "policies": sorted(used.get(key, ())),
            "cells": [
                {**column, "own": (key, column["channel"], column["language"]) in own}
                for column in columns
            ],
        }
        for key in templating.TEMPLATE_KEYS
    ]
    context = {
        "rows": rows,
        "columns": columns,
        "channel_labels": [channels[c] for c in templating.CHANNELS],
        "languages": templating.LANGUAGES,
        "can_write": request.membership.can_write,
    }
    return render(request, "dunning/pages/policies/templates.html", context)


def _preview_clients(request: HttpRequest) -> list[tuple[str, str]]:
    """The organisation's clients with something left to pay (for a preview with real data)."""
    clients = (
        scoped(request, Client)
        .filter(invoices__status__in=OPEN_STATUSES, invoices__balance__gt=0)
        .distinct()
        .order_by("name")
        .values_list("pk", "name")[:MAX_PREVIEW_CLIENTS]
    )
    return [(str(pk), name) for pk, name in clients]


def real_context(
    client: Client, key: str, channel: str, language: str, today: date
) -> dict[str, Any]:
    """The context a reminder to ``client`` about all its open invoices would have today."""
    invoices = (
        Invoice.objects.filter(
            client=client, status__in=OPEN_STATUSES, balance__gt=0, kind="invoice"
        )
        .select_related("client")
        .order_by("due_date", "number")
    )
    items = [reminder_context.Item(invoice, None, invoice.balance) for invoice in invoices]
    contacts, _addresses = reminder_context.recipients(client, channel)
    with translation.override(language):
        return reminder_context.build(
            client,
            items,
            day=today,
            template=key,
            tone=TONE_OF.get(key, "friendly"),
            contact=contacts[0] if contacts else None,
        )


@dataclass
class WordingPreview:
    subject: str = ""
    text: str = ""
    html: str = ""
    error: str = ""
    sms: Any = None  # rules.sms.SmsLength
    client_name: str = ""


def wording_preview(
    request: HttpRequest,
    key: str,
    channel: str,
    language: str,
    own: Any,
    client_id: str,
) -> WordingPreview:
    preview = WordingPreview()
    client = None
    if client_id and client_id.isdigit():
        client = scoped(request, Client).filter(pk=int(client_id)).first()
    if client is not None:
        data = real_context(client, key, channel, language, request.organisation.today())
        preview.client_name = client.name
    else:
        data = templating.sample_context(language)
    try:
        rendered = templating.render(key, channel, language, data, own)
    except templating.InvalidTemplate as exc:
        preview.error = "; ".join(exc.messages)
        return preview
    preview.subject, preview.text, preview.html = rendered.subject, rendered.text, rendered.html
    if channel == "sms":
        from relance.rules import sms

        preview.sms = sms.measure(rendered.text)
    return preview


def _defaults(key: str, channel: str, language: str) -> dict[str, str]:
    found = {"text": templating.default_source(key, channel, language)}
    if channel != "sms":
        found["subject"] = templating.default_source(key, channel, language, "subject")
    return found


def _strip_defaults(values: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """A part typed exactly as the default is stored empty: a later, better
    default then reaches the organisation too."""
    return {
        name: "" if value.strip() == defaults.get(name, "").strip() else value
        for name, value in values.items()
    }


@writer_view
def template_edit(request: HttpRequest, key: str, channel: str, language: str) -> HttpResponse:
    _template_or_404(key, channel, language)
    settings = DunningSettings.for_org(request.organisation)
    own = (
        scoped(request, MessageTemplate).filter(key=key, channel=channel, language=language).first()
    )
    defaults = _defaults(key, channel, language)
    clients = _preview_clients(request)
    options = {
        "key": key,
        "channel": channel,
        "language": language,
        "max_segments": settings.sms_max_segments,
        "clients": clients,
    }
    can_write = request.membership.can_write
    if request.method == "POST":
        form = TemplateForm(request.POST, **options)
        valid = form.is_valid()
        wants_save = "preview" not in request.POST and not request.htmx
        if valid and wants_save:
            parts = {name: form.cleaned_data.get(name, "") for name in ("subject", "text", "html")}
            parts = _strip_defaults(parts, defaults)
            if not any(value.strip() for value in parts.values()):
                scoped(request, MessageTemplate).filter(
                    key=key, channel=channel, language=language
                ).delete()
            else:
                MessageTemplate.objects.update_or_create(
                    organisation=request.organisation,
                    key=key,
                    channel=channel,
                    language=language,
                    defaults=parts,
                )
            messages.success(
                request,
                _("Your wording of “%(template)s” (%(channel)s, %(language)s) is saved.")
                % {
                    "template": TemplateKey(key).label,
                    "channel": Channel(channel).label,
                    "language": _language_name(language),
                },
            )
            return redirect("reminder_template_edit", key=key, channel=channel, language=language)
        preview = None
        if valid:
            typed = OwnText(
                **{n: form.cleaned_data.get(n, "") for n in ("subject", "text", "html")}
            )
            preview = wording_preview(
                request, key, channel, language, typed, form.cleaned_data.get("client", "")
            )
        if request.htmx:
            if preview is None:
                preview = WordingPreview(error=_("Correct the wording to see the preview."))
            return render(
                request,
                "dunning/pages/policies/_template_preview.html",
                {"preview": preview, "channel": channel},
            )
    else:
        initial = {
            "subject": (own.subject if own and own.subject else defaults.get("subject", "")),
            "text": own.text if own and own.text else defaults["text"],
            "html": own.html if own else "",
            "client": clients[0][0] if clients else "",
        }
        form = TemplateForm(initial=initial, **options)
        preview = wording_preview(request, key, channel, language, own, initial["client"])
    if not can_write:
        for name, form_field in form.fields.items():
            form_field.disabled = name != "client"
    context = {
        "form": form,
        "key": key,
        "key_label": TemplateKey(key).label,
        "channel": channel,
        "channel_label": Channel(channel).label,
        "language": language,
        "language_name": _language_name(language),
        "own": own,
        "defaults": defaults,
        "preview": preview,
        "variables": [("{{ " + name + " }}", help) for name, help in templating.VARIABLES.items()],
        "variables_help": _(
            "Write %(variable)s to insert a value, e.g. %(example)s; %(condition)s keeps a "
            "sentence only when there is a value."
        )
        % {
            "variable": "{{ name }}",
            "example": "{{ client.name }}",
            "condition": "{% if payment_link %}…{% endif %}",
        },
        "can_write": can_write,
        "settings": settings,
    }
    return render(request, "dunning/pages/policies/template_form.html", context)


@writer_view
def template_reset(request: HttpRequest, key: str, channel: str, language: str) -> HttpResponse:
    _template_or_404(key, channel, language)
    if request.method == "POST":
        scoped(request, MessageTemplate).filter(
            key=key, channel=channel, language=language
        ).delete()
        messages.success(request, _("Back to the default wording."))
    return redirect("reminder_template_edit", key=key, channel=channel, language=language)


# -- settings ---------------------------------------------------------------------------


@writer_view
def reminder_settings(request: HttpRequest) -> HttpResponse:
    settings = DunningSettings.for_org(request.organisation)
    form = SettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Reminder settings saved."))
        return redirect("reminder_settings")
    can_write = request.membership.can_write
    if not can_write:
        for form_field in form.fields.values():
            form_field.disabled = True
    return render(
        request,
        "dunning/pages/policies/settings.html",
        {"form": form, "can_write": can_write},
    )
