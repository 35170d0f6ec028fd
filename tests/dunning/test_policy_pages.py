"""Reminder-policy pages: the list in plain words, creating and editing a
ladder (refused with clear words when it is out of order, collides or sends
an SMS too long), duplicate / delete / defaults, the wording editor (checked,
previewed with a real client's invoices), the reminder settings, and the
client and invoice forms that choose a policy. Another organisation's ids
are 404."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from relance.dunning.forms_policies import parse_min_amounts
from relance.dunning.models import Chase, DunningSettings, MessageTemplate, Policy, Step
from relance.ledger.models import Client
from relance.web.forms.invoices import InvoiceEditor

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-03-10 10:00:00+00:00", tick=False):
        yield


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def standard(org):
    return Policy.objects.get(organisation=org, builtin="standard_b2b")


def text_of(response) -> str:
    html = response.content.decode()
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&#x27;", "'"), ("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<")):
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text.replace("&gt;", ">"))


def step(
    days: int | None = None,
    when: str = "after",
    *,
    channels: tuple[str, ...] = ("email",),
    tone: str = "friendly",
    template: str = "friendly",
    kind: str = "message",
    **more: str,
) -> dict[str, object]:
    values: dict[str, object] = {
        "id": "",
        "name": "",
        "days": "" if days is None else str(days),
        "when": when,
        "channels": list(channels),
        "tone": tone,
        "template": template,
        "kind": kind,
        "repeat_every": "",
        "repeat_max": "",
        "min_amounts": "",
        "client_kind": "",
    }
    values.update(more)
    return values


def policy_data(
    name: str, steps: list[dict[str, object]], *, initial: int = 0, **more: str
) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name,
        "description": "",
        "example_due": "",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(initial),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "30",
    }
    for index, values in enumerate(steps):
        for key, value in values.items():
            if value is True:
                data[f"steps-{index}-{key}"] = "on"
            elif value is not False:
                data[f"steps-{index}-{key}"] = value
    data.update(more)
    return data


def stored_steps(policy: Policy) -> list[tuple]:
    return list(
        policy.steps.order_by("position").values_list(
            "position", "offset_days", "channels", "tone", "template", "kind"
        )
    )


# -- the list ------------------------------------------------------------------------


def test_the_list_says_each_step_in_words_never_a_signed_number(as_alice, standard):
    response = as_alice.get(reverse("reminder_policy_list"))
    assert response.status_code == 200
    text = text_of(response)
    assert standard.name in text
    assert "Default" in text and "Default for individuals" in text
    assert "3 days before the due date: email (friendly)" in text
    assert "The day after the due date: email and SMS (friendly)" in text
    assert "4 days after the due date: phone call (friendly)" in text
    assert "then every 7 days, at most 6 times" in text
    assert not re.search(r"(?<![\w-])[-+]\d+ ?(days|jours)", text)


def test_the_list_renders_in_french(client_fr, alice, standard):
    client_fr.force_login(alice)
    response = client_fr.get(reverse("reminder_policy_list"))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
    assert standard.name in text_of(response)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_page_renders_in_both_languages(client, alice, standard, language, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(alice)
    urls = [
        reverse("reminder_policy_list"),
        reverse("reminder_policy_create"),
        reverse("reminder_policy_edit", args=[standard.pk]),
        reverse("reminder_template_list"),
        reverse("reminder_settings"),
    ]
    urls += [
        reverse("reminder_template_edit", args=[key, channel, lang])
        for key in ("before_due", "friendly", "firm", "late_fee_notice", "formal", "work_stop")
        for channel in ("email", "sms", "letter", "call")
        for lang in ("fr", "en")
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode(), url


def test_the_list_counts_the_clients_that_chose_a_policy(as_alice, org, client_acme, standard):
    gentle = Policy.objects.get(organisation=org, builtin="gentle")
    client_acme.dunning_policy = gentle
    client_acme.save()
    text = text_of(as_alice.get(reverse("reminder_policy_list")))
    assert "Chosen for 1 client" in text


# -- create and edit -------------------------------------------------------------------


def test_create_a_policy(as_alice, org):
    data = policy_data(
        "Chantiers",
        [
            step(2, "before", template="before_due"),
            step(when="on", channels=("email", "sms")),
            step(
                10,
                channels=("call",),
                kind="call",
                tone="firm",
                template="firm",
                repeat_every="7",
                repeat_max="3",
                min_amounts="EUR 50; GBP 40",
                client_kind="company",
                risk_levels=["high"],
                needs_approval=True,
            ),
        ],
    )
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert response.status_code == 302, text_of(response)
    policy = Policy.objects.get(organisation=org, name="Chantiers")
    assert stored_steps(policy) == [
        (1, -2, ["email"], "friendly", "before_due", "message"),
        (2, 0, ["email", "sms"], "friendly", "friendly", "message"),
        (3, 10, ["call"], "firm", "firm", "call"),
    ]
    call = policy.steps.get(position=3)
    assert (call.repeat_every, call.repeat_max) == (7, 3)
    assert call.min_amounts == {"EUR": "50.00", "GBP": "40.00"}
    assert (call.client_kind, call.risk_levels, call.needs_approval) == ("company", ["high"], True)
    assert not policy.is_default and not policy.builtin
    listed = text_of(as_alice.get(reverse("reminder_policy_list")))
    assert (
        "10 days after the due date: phone call (firm); then every 7 days, at most 3 times; "
        "only if at least €50.00 or £40.00 is overdue; only for companies; only for high risk; "
        "needs approval"
    ) in listed


def test_blank_rows_are_ignored_and_no_step_at_all_is_refused(as_alice, org):
    blank = step()
    response = as_alice.post(reverse("reminder_policy_create"), policy_data("Vide", [blank]))
    assert response.status_code == 200
    assert "Add at least one step." in text_of(response)
    assert not Policy.objects.filter(organisation=org, name="Vide").exists()


def test_edit_keeps_the_steps_in_place_and_follows_the_new_order(as_alice, org, standard):
    before = list(standard.steps.order_by("position"))
    courtesy, friendly = before[0], before[1]
    data = policy_data(
        standard.name,
        [
            step(5, "before", template="before_due", id=str(courtesy.pk)),
            step(1, channels=("email",), id=str(friendly.pk), DELETE=True),
            step(2, channels=("letter",), tone="firm", template="firm"),
        ],
        initial=2,
    )
    response = as_alice.post(reverse("reminder_policy_edit", args=[standard.pk]), data)
    assert response.status_code == 302, text_of(response)
    assert stored_steps(standard) == [
        (1, -5, ["email"], "friendly", "before_due", "message"),
        (2, 2, ["letter"], "firm", "firm", "message"),
    ]
    assert standard.steps.get(position=1).pk == courtesy.pk  # the same row, changed
    assert not Step.objects.filter(pk=friendly.pk).exists()


def test_steps_out_of_order_are_refused_and_nothing_changes(as_alice, standard):
    before = stored_steps(standard)
    data = policy_data(
        "Renamed", [step(8, template="firm", tone="firm"), step(2, "before")], initial=0
    )
    response = as_alice.post(reverse("reminder_policy_edit", args=[standard.pk]), data)
    assert response.status_code == 200
    text = text_of(response)
    assert "Step 2 comes before step 1: put the steps in the order they happen." in text
    assert "Nothing was saved" in text
    standard.refresh_from_db()
    assert standard.name != "Renamed"
    assert stored_steps(standard) == before


def test_two_steps_on_the_same_day_are_refused(as_alice, org):
    data = policy_data("Doublon", [step(3), step(3, channels=("sms",))])
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert response.status_code == 200
    assert "Steps 1 and 2 fall on the same day" in text_of(response)
    assert not Policy.objects.filter(organisation=org, name="Doublon").exists()


def test_a_repeat_without_a_count_is_refused(as_alice, org):
    data = policy_data("Répète", [step(3, repeat_every="7")])
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert "Step 1: to repeat it, give both how often" in text_of(response)
    assert not Policy.objects.filter(organisation=org, name="Répète").exists()


def test_a_step_without_a_number_of_days_or_channel_is_refused(as_alice, org):
    data = policy_data("Flou", [step(None, "after", tone="firm"), step(4, channels=())])
    text = text_of(as_alice.post(reverse("reminder_policy_create"), data))
    assert "Say how many days." in text
    assert not Policy.objects.filter(organisation=org, name="Flou").exists()
    data = policy_data("Flou", [step(4, channels=())])
    text = text_of(as_alice.post(reverse("reminder_policy_create"), data))
    assert "Step 1: choose at least one channel." in text


def test_a_taken_name_is_refused(as_alice, standard):
    data = policy_data(standard.name.upper(), [step(3)])
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert "Another policy is already called" in text_of(response)


def test_an_sms_step_longer_than_allowed_is_refused_with_its_measure(as_alice, org):
    limits = DunningSettings.for_org(org)
    limits.sms_max_segments = 1
    limits.save()
    MessageTemplate.objects.create(
        organisation=org,
        key="friendly",
        channel="sms",
        language="fr",
        text="{{ organisation.name }} : " + "Merci de régler vos factures au plus vite. " * 5,
    )
    data = policy_data("SMS", [step(1, channels=("email", "sms"))])
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert response.status_code == 200
    text = text_of(response)
    assert "Step 1, SMS in French: The SMS would need 2 parts" in text
    assert "the reminder settings allow 1" in text
    assert not Policy.objects.filter(organisation=org, name="SMS").exists()
    # The same step by email only is fine.
    data = policy_data("SMS", [step(1, channels=("email",))])
    assert as_alice.post(reverse("reminder_policy_create"), data).status_code == 302


def test_add_a_step_shows_one_more_row_and_saves_nothing(as_alice, org):
    data = policy_data("Plus", [step(3)], add_step="1")
    response = as_alice.post(reverse("reminder_policy_create"), data)
    assert response.status_code == 200
    assert 'name="steps-1-days"' in response.content.decode()
    assert not Policy.objects.filter(organisation=org, name="Plus").exists()


def test_saving_wakes_the_chases_of_the_policy(as_alice, org, standard, client_acme, make_invoice):
    invoice = make_invoice(client_acme, due=date(2026, 3, 20), issue_date=date(2026, 3, 1))
    chase = Chase.objects.get(invoice=invoice)
    Chase.objects.filter(pk=chase.pk).update(next_action_on=date(2026, 4, 30))
    steps = [
        step(
            s.offset_days if s.offset_days >= 0 else -s.offset_days,
            "before" if s.offset_days < 0 else "after",
            channels=tuple(s.channels),
            kind=s.kind,
            tone=s.tone,
            template=s.template,
            id=str(s.pk),
            repeat_every=str(s.repeat_every or ""),
            repeat_max=str(s.repeat_max or ""),
        )
        for s in standard.steps.order_by("position")
    ]
    data = policy_data(standard.name, steps, initial=len(steps))
    response = as_alice.post(reverse("reminder_policy_edit", args=[standard.pk]), data)
    assert response.status_code == 302, text_of(response)
    chase.refresh_from_db()
    assert chase.next_action_on <= TODAY


# -- the live preview ------------------------------------------------------------------


def test_the_preview_dates_the_reminders_of_an_example_invoice(as_alice):
    data = policy_data(
        "", [step(3, "before", template="before_due"), step(4, channels=("call",), kind="call")]
    )
    data["example_due"] = "2026-05-15"  # a Friday
    response = as_alice.post(reverse("reminder_policy_preview"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = text_of(response)
    assert "3 days before the due date: email (friendly)" in text
    assert "For an invoice due on Friday, May 15, 2026, the client would hear from you on:" in text
    assert "Tuesday, May 12, 2026 — email (friendly)" in text
    # +4 is a Tuesday too; and business days only is the default setting.
    assert "Tuesday, May 19, 2026 — phone call (friendly)" in text
    assert "<!doctype" not in response.content.decode()  # a fragment for htmx


def test_the_preview_says_when_a_weekend_moves_a_reminder(as_alice):
    data = policy_data("", [step(1)], example_due="2026-05-15")  # +1 = Saturday
    text = text_of(as_alice.post(reverse("reminder_policy_preview"), data))
    assert "Saturday, May 16, 2026 — email (friendly)" in text
    assert "Not a business day: sent on Monday, May 18, 2026." in text


def test_the_preview_reports_problems_without_saving(as_alice, org):
    data = policy_data("Nouveau", [step(5), step(2)])
    text = text_of(as_alice.post(reverse("reminder_policy_preview"), data))
    assert "Step 2 comes before step 1" in text
    assert not Policy.objects.filter(organisation=org, name="Nouveau").exists()


def test_the_edit_page_shows_the_preview_of_the_stored_ladder(as_alice, standard):
    response = as_alice.get(reverse("reminder_policy_edit", args=[standard.pk]))
    assert response.status_code == 200
    text = text_of(response)
    assert "What the client will receive" in text
    assert "3 days before the due date: email (friendly)" in text
    assert "the client would hear from you on:" in text
    assert f'hx-post="{reverse("reminder_policy_preview")}"' in response.content.decode()


# -- duplicate, delete, defaults ---------------------------------------------------------


def test_duplicate_copies_the_steps(as_alice, org, standard):
    response = as_alice.post(reverse("reminder_policy_duplicate", args=[standard.pk]))
    copy = Policy.objects.get(organisation=org, name=f"{standard.name} (copy)")
    assert response.url == reverse("reminder_policy_edit", args=[copy.pk])
    assert stored_steps(copy) == stored_steps(standard)
    assert not copy.is_default and not copy.builtin
    as_alice.post(reverse("reminder_policy_duplicate", args=[standard.pk]))
    assert Policy.objects.filter(organisation=org, name=f"{standard.name} (copy 2)").exists()


def test_delete_is_refused_while_a_client_or_an_invoice_uses_the_policy(
    as_alice, org, client_acme, make_invoice
):
    gentle = Policy.objects.get(organisation=org, builtin="gentle")
    client_acme.dunning_policy = gentle
    client_acme.save()
    invoice = make_invoice(client_acme)
    invoice.dunning_policy = gentle
    invoice.save(update_fields=["dunning_policy"])
    response = as_alice.post(reverse("reminder_policy_delete", args=[gentle.pk]), follow=True)
    text = text_of(response)
    assert "cannot be deleted: it is used by clients: ACME Industries; invoices: " in text
    assert invoice.number in text
    assert Policy.objects.filter(pk=gentle.pk).exists()

    client_acme.dunning_policy = None
    client_acme.save()
    invoice.dunning_policy = None
    invoice.save(update_fields=["dunning_policy"])
    response = as_alice.post(reverse("reminder_policy_delete", args=[gentle.pk]), follow=True)
    assert "deleted" in text_of(response)
    assert not Policy.objects.filter(pk=gentle.pk).exists()


def test_the_default_policy_cannot_be_deleted(as_alice, standard):
    response = as_alice.post(reverse("reminder_policy_delete", args=[standard.pk]), follow=True)
    assert "make another policy the default first" in text_of(response)
    assert Policy.objects.filter(pk=standard.pk).exists()


def test_make_default_for_companies_and_for_individuals(as_alice, org, standard):
    gentle = Policy.objects.get(organisation=org, builtin="gentle")
    as_alice.post(reverse("reminder_policy_default", args=[gentle.pk]), {"for": "companies"})
    assert list(Policy.objects.filter(organisation=org, is_default=True)) == [gentle]
    as_alice.post(reverse("reminder_policy_default", args=[gentle.pk]), {"for": "individuals"})
    assert list(Policy.objects.filter(organisation=org, is_default_individuals=True)) == [gentle]


def test_read_only_members_may_look_but_not_change(client, rita, standard):
    client.force_login(rita)
    response = client.get(reverse("reminder_policy_edit", args=[standard.pk]))
    assert response.status_code == 200
    assert "Read-only access" in text_of(response)
    data = policy_data("Changed", [step(3)])
    assert client.post(reverse("reminder_policy_edit", args=[standard.pk]), data).status_code == 403
    assert client.post(reverse("reminder_policy_delete", args=[standard.pk])).status_code == 403
    url = reverse("reminder_template_edit", args=["friendly", "email", "fr"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": "Bonjour"}).status_code == 403
    assert client.post(reverse("reminder_settings"), {"run_hour": "9"}).status_code == 403


# -- isolation ------------------------------------------------------------------------------


def test_another_organisations_policies_are_not_found(as_alice, other_org):
    foreign = Policy.objects.filter(organisation=other_org).first()
    assert foreign is not None
    for name in (
        "reminder_policy_edit",
        "reminder_policy_duplicate",
        "reminder_policy_delete",
        "reminder_policy_default",
    ):
        url = reverse(name, args=[foreign.pk])
        assert as_alice.get(url).status_code == 404, name
        assert as_alice.post(url, {"for": "companies"}).status_code == 404, name
    foreign.refresh_from_db()
    assert Policy.objects.filter(organisation=other_org).count() == 3
    listed = text_of(as_alice.get(reverse("reminder_policy_list")))
    assert listed.count("Duplicate") == 3  # alice's three, not charlie's


def test_a_foreign_step_id_does_not_move_another_organisations_step(as_alice, org, other_org):
    foreign = Step.objects.filter(policy__organisation=other_org).first()
    before = (foreign.policy_id, foreign.offset_days)
    data = policy_data("Volé", [step(9, id=str(foreign.pk))], initial=1)
    assert as_alice.post(reverse("reminder_policy_create"), data).status_code == 302
    foreign.refresh_from_db()
    assert (foreign.policy_id, foreign.offset_days) == before
    mine = Policy.objects.get(organisation=org, name="Volé")
    assert stored_steps(mine) == [(1, 9, ["email"], "friendly", "friendly", "message")]


def test_preview_with_real_data_never_shows_another_organisations_client(
    as_alice, other_org, make_invoice
):
    theirs = Client.objects.create(organisation=other_org, name="Secret Client SA")
    url = reverse("reminder_template_edit", args=["friendly", "email", "en"])
    response = as_alice.post(url, {"text": "Hello {{ client.name }}", "client": str(theirs.pk)})
    assert "Secret Client SA" not in response.content.decode()


def test_another_organisations_wording_is_not_used(as_alice, org, other_org):
    MessageTemplate.objects.create(
        organisation=other_org, key="friendly", channel="email", language="en", text="THEIRS"
    )
    url = reverse("reminder_template_edit", args=["friendly", "email", "en"])
    response = as_alice.get(url)
    assert "THEIRS" not in response.content.decode()
    as_alice.post(reverse("reminder_template_reset", args=["friendly", "email", "en"]))
    assert MessageTemplate.objects.filter(organisation=other_org).count() == 1


# -- wording ----------------------------------------------------------------------------


def test_the_wording_list_shows_defaults_and_own_texts(as_alice, org):
    MessageTemplate.objects.create(
        organisation=org, key="firm", channel="sms", language="fr", text="Merci de payer."
    )
    response = as_alice.get(reverse("reminder_template_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("reminder_template_edit", args=["firm", "sms", "fr"]) in html
    assert text_of(response).count("Yours") == 1


def test_an_unknown_variable_is_refused_and_nothing_saved(as_alice, org):
    url = reverse("reminder_template_edit", args=["friendly", "email", "fr"])
    response = as_alice.post(
        url, {"subject": "Facture", "text": "Bonjour {{ clent.name }},\nMerci.", "client": ""}
    )
    assert response.status_code == 200
    text = text_of(response)
    assert '{{ clent.name }}: unknown variable "clent"' in text
    assert "Nothing was saved" in text
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_a_forbidden_tag_and_a_syntax_error_are_refused(as_alice, org):
    url = reverse("reminder_template_edit", args=["friendly", "email", "fr"])
    text = text_of(as_alice.post(url, {"text": "{% include 'x.html' %}"}))
    assert "{% include %} is not allowed in a reminder template." in text
    text = text_of(as_alice.post(url, {"text": "{% if client.name %}oops"}))
    assert "Template syntax error" in text
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_save_an_own_wording_and_go_back_to_the_default(as_alice, org):
    url = reverse("reminder_template_edit", args=["friendly", "email", "en"])
    response = as_alice.post(
        url,
        {"subject": "About {{ total }}", "text": "Dear {{ client.name }},\n\n{{ invoice_table }}"},
    )
    assert response.status_code == 302
    own = MessageTemplate.objects.get(organisation=org, key="friendly", channel="email")
    assert (own.language, own.subject) == ("en", "About {{ total }}")
    page = as_alice.get(url)
    assert "Your own wording" in text_of(page)
    assert "Dear {{ client.name }}" in page.content.decode()
    as_alice.post(reverse("reminder_template_reset", args=["friendly", "email", "en"]))
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_saving_the_default_text_unchanged_stores_nothing(as_alice, org):
    from relance.dunning import templating

    url = reverse("reminder_template_edit", args=["firm", "letter", "fr"])
    data = {
        "subject": templating.default_source("firm", "letter", "fr", "subject"),
        "text": templating.default_source("firm", "letter", "fr"),
    }
    assert as_alice.post(url, data).status_code == 302
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_the_preview_uses_a_real_client_and_its_open_invoices(
    as_alice, org, client_acme, make_invoice
):
    invoice = make_invoice(client_acme, "480.00", due=date(2026, 2, 4))
    url = reverse("reminder_template_edit", args=["friendly", "email", "en"])
    response = as_alice.get(url)
    text = text_of(response)
    assert "As ACME Industries would receive it today" in text
    assert invoice.number in text
    # An htmx preview of typed text, with the chosen client: a fragment, nothing saved.
    response = as_alice.post(
        url,
        {"subject": "Hi", "text": "For {{ client.name }}: {{ total }}", "client": client_acme.pk},
        HTTP_HX_REQUEST="true",
    )
    fragment = text_of(response)
    assert "For ACME Industries: €480.00" in fragment
    assert "<!doctype" not in response.content.decode()
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_the_preview_falls_back_to_example_data(as_alice):
    response = as_alice.get(reverse("reminder_template_edit", args=["firm", "sms", "fr"]))
    text = text_of(response)
    assert "With example data." in text
    assert "Boulangerie Martin" in text or "Atelier Durand" in text
    assert "SMS" in text and "characters (GSM-7)" in text


def test_an_sms_wording_too_long_is_refused(as_alice, org):
    limits = DunningSettings.for_org(org)
    limits.sms_max_segments = 1
    limits.save()
    url = reverse("reminder_template_edit", args=["friendly", "sms", "fr"])
    response = as_alice.post(url, {"text": "Bonjour {{ client.name }}. " + "x" * 200})
    assert "The SMS would need 2 parts" in text_of(response)
    assert not MessageTemplate.objects.filter(organisation=org).exists()


def test_an_unknown_wording_is_404(as_alice):
    assert as_alice.get("/reminders/wording/nope/email/fr/").status_code == 404
    assert as_alice.get("/reminders/wording/firm/pigeon/fr/").status_code == 404
    assert as_alice.get("/reminders/wording/firm/email/de/").status_code == 404


# -- settings ------------------------------------------------------------------------------


def test_reminder_settings(as_alice, org):
    url = reverse("reminder_settings")
    assert as_alice.get(url).status_code == 200
    data = {
        "run_hour": "7",
        "window_start": "9",
        "window_end": "18",
        "business_days_only": "on",
        "sms_max_segments": "2",
        "statement_max_age_days": "5",
    }
    assert as_alice.post(url, data).status_code == 302
    saved = DunningSettings.for_org(org)
    assert (saved.run_hour, saved.window_start, saved.window_end) == (7, 9, 18)
    assert (saved.sms_max_segments, saved.statement_max_age_days) == (2, 5)
    bad = data | {"window_start": "19", "window_end": "8", "sms_max_segments": "50"}
    text = text_of(as_alice.post(url, bad))
    assert "The sending window must end after it starts." in text
    saved.refresh_from_db()
    assert saved.window_start == 9


# -- the client and invoice forms ---------------------------------------------------------------


def test_the_client_form_chooses_a_policy_and_a_risk_level(as_alice, org, other_org, client_acme):
    gentle = Policy.objects.get(organisation=org, builtin="gentle")
    foreign = Policy.objects.filter(organisation=other_org).first()
    page = as_alice.get(reverse("client_edit", args=[client_acme.pk]))
    html = page.content.decode()
    assert f'value="{gentle.pk}"' in html and f'value="{foreign.pk}"' not in html
    data = {
        "kind": "company",
        "name": "ACME Industries",
        "siren": "552100554",
        "address_line1": "3 quai Rambaud",
        "postcode": "69002",
        "city": "Lyon",
        "country": "FR",
        "language": "fr",
        "time_zone": "Europe/Paris",
        "status": "active",
        "risk_level": "high",
        "dunning_policy": str(foreign.pk),
    }
    response = as_alice.post(reverse("client_edit", args=[client_acme.pk]), data)
    assert response.status_code == 200  # another organisation's policy is not a choice
    response = as_alice.post(
        reverse("client_edit", args=[client_acme.pk]), data | {"dunning_policy": str(gentle.pk)}
    )
    assert response.status_code == 302
    client_acme.refresh_from_db()
    assert (client_acme.dunning_policy, client_acme.risk_level) == (gentle, "high")


def test_the_invoice_editor_offers_the_organisations_policies(org, other_org, client_acme):
    gentle = Policy.objects.get(organisation=org, builtin="gentle")
    foreign = Policy.objects.filter(organisation=other_org).first()
    clients = Client.objects.filter(organisation=org)
    policies = Policy.objects.filter(organisation=org)
    data = {
        "client": str(client_acme.pk),
        "currency": "EUR",
        "operation_category": "services",
        "due_date": "2026-04-01",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Travaux",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-vat_rate": "20",
        "lines-0-vat_category": "S",
        "installments-TOTAL_FORMS": "0",
        "installments-INITIAL_FORMS": "0",
    }
    editor = InvoiceEditor.build(
        data | {"dunning_policy": str(foreign.pk)}, clients=clients, policies=policies
    )
    assert not editor.is_valid()
    assert "dunning_policy" in editor.form.errors
    editor = InvoiceEditor.build(
        data | {"dunning_policy": str(gentle.pk)}, clients=clients, policies=policies
    )
    assert editor.is_valid(), editor.form.errors
    assert editor.header()["dunning_policy"] == gentle
    # Where the view does not pass the policies, the field is left out (nothing is cleared).
    editor = InvoiceEditor.build(data, clients=clients)
    assert editor.is_valid()
    assert "dunning_policy" not in editor.header()


# -- min amounts ---------------------------------------------------------------------------------


def test_minimum_amounts_per_currency():
    assert parse_min_amounts("EUR 50; GBP 40,5") == {"EUR": "50.00", "GBP": "40.50"}
    assert parse_min_amounts("50 €\n1 000,00 chf") == {"EUR": "50.00", "CHF": "1000.00"}
    assert parse_min_amounts("") == {}
    assert parse_min_amounts("JPY 500") == {"JPY": "500"}
    for bad in ("EUR", "50", "XYZ 10", "EUR 10; EUR 20", "EUR 10.005", "JPY 1.5"):
        with pytest.raises(ValidationError):
            parse_min_amounts(bad)
    assert Decimal(parse_min_amounts("EUR 0.5")["EUR"]) == Decimal("0.50")
