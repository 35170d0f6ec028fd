"""The reminder pages a person works in every day, through the real URLs:
what they show, what their buttons change, in English and in French, and
that another organisation's ids are simply not found."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from relance.dunning import actions, dispatch
from relance.dunning.models import (
    ChannelState,
    Message,
    MessageStatus,
    Pause,
    PauseKind,
    Policy,
    Run,
    Step,
    WorkerBeat,
)
from relance.ledger.models import Activity

DUE = date(2026, 2, 4)  # a Wednesday
ISSUED = date(2026, 1, 5)


@pytest.fixture
def invoice(chased, make_invoice):
    return make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)


@pytest.fixture
def call_task(invoice, run_day):
    run_day(DUE + timedelta(days=4))
    return Message.objects.get(channel="call")


@pytest.fixture
def waiting(org, invoice, run_day):
    Step.objects.filter(policy__organisation=org, policy__is_default=True, offset_days=1).update(
        needs_approval=True
    )
    run_day(DUE + timedelta(days=1))
    return Message.objects.get(channel="email")


@pytest.fixture
def letter(org, invoice, run_day):
    Step.objects.filter(policy__organisation=org, policy__is_default=True, offset_days=1).update(
        channels=["letter"]
    )
    run_day(DUE + timedelta(days=1))
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    return Message.objects.get(channel="letter")


@pytest.fixture
def uncertain(invoice, run_day):
    run_day(DUE + timedelta(days=1))
    email = Message.objects.get(channel="email")
    claimed = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
    Message.objects.filter(pk=email.pk).update(
        status=MessageStatus.SENDING, claimed_at=claimed, message_id="<abc@atelier-durand.fr>",
        recipients=["factures@acme.example"],
    )  # fmt: skip
    dispatch.recover(claimed + timedelta(hours=1))
    email.refresh_from_db()
    return email


def flat(response) -> str:
    """The page's HTML with the no-break spaces of French numbers made plain."""
    return response.content.decode().replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def as_alice_fr(client_fr, alice):
    client_fr.force_login(alice)
    return client_fr


# -- the overview, the banner and the dashboard -----------------------------------------


def test_the_overview_counts_what_waits(as_alice, org, waiting, call_task):
    ChannelState.objects.create(
        organisation=org, channel="sms", disabled_at=timezone.now(), reason="401 bad token"
    )
    html = as_alice.get(reverse("reminder_overview")).content.decode()
    assert 'data-testid="count-calls">1<' in html
    assert 'data-testid="count-approvals">2<' in html  # the email and the SMS
    assert "401 bad token" in html and "Switch it on again" in html
    assert "No daily run yet" not in html  # the runs above recorded their heartbeat
    assert "Reminders are not running" in html  # but no worker is alive


def test_the_overview_in_french(as_alice_fr, call_task):
    response = as_alice_fr.get(reverse("reminder_overview"))
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="fr">' in html
    assert "Factures" in html  # the French interface


def test_enable_a_channel_from_the_overview(as_alice, org):
    ChannelState.objects.create(
        organisation=org, channel="sms", disabled_at=timezone.now(), reason="401"
    )
    response = as_alice.post(reverse("reminder_channel_enable", args=["sms"]))
    assert response.status_code == 302 and not ChannelState.objects.exists()
    assert as_alice.post(reverse("reminder_channel_enable", args=["fax"])).status_code == 404


def test_the_banner_warns_only_when_the_heartbeat_is_stale(as_alice, org):
    assert "not running" in as_alice.get(reverse("reminder_banner")).content.decode()
    now = timezone.now()
    WorkerBeat.objects.create(name="w1", seen_at=now)
    Run.objects.create(
        organisation=org, day=org.today(now), started_at=now, finished_at=now
    )  # fmt: skip
    assert as_alice.get(reverse("reminder_banner")).content.decode().strip() == ""


def test_every_page_loads_the_banner_and_has_the_reminders_link(as_alice):
    html = as_alice.get(reverse("dashboard")).content.decode()
    assert reverse("reminder_banner") in html
    assert f'href="{reverse("reminder_overview")}"' in html
    assert reverse("reminder_dashboard_box") in html


def test_the_dashboard_box_counts_the_to_dos(as_alice, uncertain, call_task):
    html = as_alice.get(reverse("reminder_dashboard_box")).content.decode()
    assert "1 call to make" in html and "1 message failed or uncertain" in html
    assert "0 reminders to approve" in html


# -- approvals -----------------------------------------------------------------------------


def test_the_approval_queue_previews_and_approves(as_alice, chased, waiting):
    html = flat(as_alice.get(reverse("reminder_approvals")))
    assert "ACME Industries" in html and "F2026-00001" in html
    assert "1 200,00" in html  # the preview is in the client's language (French)
    response = as_alice.post(reverse("reminder_approve", args=[waiting.pk]))
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.QUEUED
    response = as_alice.post(reverse("reminder_approve", args=[waiting.pk]), follow=True)
    assert "no longer waiting" in response.content.decode()


def test_reject_with_a_reason(as_alice, waiting):
    as_alice.post(reverse("reminder_reject", args=[waiting.pk]), {"reason": "Paid by cheque"})
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.CANCELLED and waiting.note == "Paid by cheque"


def test_a_reader_cannot_approve(client, rita, waiting):
    client.force_login(rita)
    assert client.get(reverse("reminder_approvals")).status_code == 200
    assert client.post(reverse("reminder_approve", args=[waiting.pk])).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.AWAITING_APPROVAL


# -- calls -------------------------------------------------------------------------------------


def test_the_calls_page_gives_the_number_the_script_and_the_invoices(as_alice, call_task):
    html = flat(as_alice.get(reverse("reminder_calls")))
    assert 'href="tel:+33612345678"' in html and "Claire Martin" in html
    assert "F2026-00001" in html and "1 200,00" in html
    assert "Log the call" in html


def test_logging_a_promise_from_the_calls_page(as_alice, chased, call_task, time_machine):
    time_machine.move_to(datetime(2026, 2, 9, 9, 0, tzinfo=UTC), tick=False)
    prefix = f"call{call_task.pk}"
    response = as_alice.post(
        reverse("reminder_call_log", args=[call_task.pk]),
        {
            f"{prefix}-outcome": "promise",
            f"{prefix}-promise_until": "2026-02-13",
            f"{prefix}-promise_amount": "1 200,00",
            f"{prefix}-note": "Will pay next week",
        },
    )
    assert response.status_code == 302
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.DONE and call_task.outcome == "promise"
    pause = Pause.objects.get()
    assert pause.kind == PauseKind.PROMISE and pause.until == date(2026, 2, 13)
    assert str(pause.amount) == "1200.00"


def test_a_promise_without_a_date_is_shown_again_with_the_error(as_alice, call_task):
    prefix = f"call{call_task.pk}"
    response = as_alice.post(
        reverse("reminder_call_log", args=[call_task.pk]),
        {f"{prefix}-outcome": "promise", f"{prefix}-note": "kept note"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give the date the client promised to pay by." in html and "kept note" in html
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.TO_DO and not Pause.objects.exists()


def test_drop_a_call(as_alice, call_task):
    as_alice.post(reverse("reminder_cancel", args=[call_task.pk]), {"next": "/reminders/calls/"})
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.CANCELLED


# -- letters -------------------------------------------------------------------------------


def test_download_a_letter_and_mark_it_posted(as_alice, letter):
    html = as_alice.get(reverse("reminder_letters")).content.decode()
    assert "ACME Industries" in html and "F2026-00001" in html
    response = as_alice.get(reverse("reminder_letter_pdf", args=[letter.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf" and body.startswith(b"%PDF")
    text = " ".join(PdfReader(io.BytesIO(body)).pages[0].extract_text().split())
    assert "F2026-00001" in text
    as_alice.post(reverse("reminder_letter_printed", args=[letter.pk]))
    letter.refresh_from_db()
    assert letter.status == MessageStatus.DONE and letter.sent_at is not None
    assert "No letter to print." in as_alice.get(reverse("reminder_letters")).content.decode()


# -- attention ------------------------------------------------------------------------------


def test_the_attention_page_shows_the_message_id_and_resolves(as_alice, uncertain):
    html = as_alice.get(reverse("reminder_attention")).content.decode()
    assert "&lt;abc@atelier-durand.fr&gt;" in html and "factures@acme.example" in html
    assert "The worker stopped while sending" in html
    as_alice.post(reverse("reminder_resolve", args=[uncertain.pk]), {"delivered": "1"})
    uncertain.refresh_from_db()
    assert uncertain.status == MessageStatus.SENT
    assert (
        "Nothing needs attention." in as_alice.get(reverse("reminder_attention")).content.decode()
    )


def test_send_again_from_the_attention_page(as_alice, uncertain):
    as_alice.post(reverse("reminder_resolve", args=[uncertain.pk]), {"delivered": "0"})
    uncertain.refresh_from_db()
    assert uncertain.status == MessageStatus.QUEUED


# -- the next 7 days and what was sent ----------------------------------------------------------


def test_the_next_7_days(as_alice, org, invoice, run_day, time_machine):
    time_machine.move_to(datetime(2026, 2, 2, 7, 0, tzinfo=UTC), tick=False)
    run_day(ISSUED)
    html = as_alice.get(reverse("reminder_forecast")).content.decode()
    assert "ACME Industries" in html and "F2026-00001" in html
    assert "Monday 2 February 2026" in html  # the courtesy email
    assert "Thursday 5 February 2026" in html  # the friendly email and SMS


def test_the_sent_page_lists_messages_with_their_attempts(as_alice, invoice, run_day, smtp_server):
    run_day(DUE + timedelta(days=1))
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    html = as_alice.get(reverse("reminder_sent")).content.decode()
    assert "factures@acme.example" in html and " ms" in html and "F2026-00001" in html
    html = as_alice.get(reverse("reminder_sent"), {"channel": "sms"}).content.decode()
    assert "factures@acme.example" not in html and "+33612345678" in html


# -- the client page -------------------------------------------------------------------------


def test_the_client_page_shows_the_policy_pauses_and_history(as_alice, chased, call_task, alice):
    actions.pause(chased, kind="dispute", today=DUE + timedelta(days=4), reason="Wrong qty",
                  owner=alice)  # fmt: skip
    html = as_alice.get(reverse("client_detail", args=[chased.pk])).content.decode()
    default = Policy.objects.get(organisation=chased.organisation, is_default=True)
    assert escape(default.name) in html and "the organisation&#x27;s default policy" in html
    assert "Wrong qty" in html and "Lift" in html
    assert "Dispute" in html  # the reason for non-payment it set
    assert "Reminder step" in html  # the history
    assert reverse("reminder_client_history_pdf", args=[chased.pk]) in html


def test_pause_from_the_client_page(as_alice, chased, invoice):
    response = as_alice.post(
        reverse("reminder_client_pause", args=[chased.pk]),
        {"kind": "snooze", "until": "2030-01-01", "reason": "On holiday"},
    )
    assert response.status_code == 302
    pause = Pause.objects.get()
    assert pause.kind == PauseKind.SNOOZE and pause.invoice is None


def test_a_bad_pause_keeps_the_form_and_says_why(as_alice, chased, invoice):
    response = as_alice.post(
        reverse("reminder_client_pause", args=[chased.pk]),
        {"kind": "dispute", "reason": ""},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Say what the client disputes." in html
    assert not Pause.objects.exists()


def test_lift_from_the_client_page(as_alice, chased, invoice):
    pause = actions.pause(chased, kind="snooze", today=date(2026, 2, 5), until=date(2030, 1, 1))
    response = as_alice.post(reverse("reminder_pause_lift", args=[pause.pk]))
    assert response.status_code == 302
    pause.refresh_from_db()
    assert pause.outcome == "lifted"


def test_set_the_reason_for_non_payment(as_alice, chased):
    as_alice.post(
        reverse("reminder_client_reason", args=[chased.pk]),
        {"reason": "not_received", "detail": "Sent to the old address"},
    )
    html = as_alice.get(reverse("client_detail", args=[chased.pk])).content.decode()
    assert "Invoice not received" in html and "Sent to the old address" in html


def test_the_client_record_downloads(as_alice, chased, invoice, run_day):
    run_day(DUE + timedelta(days=1))
    response = as_alice.get(reverse("reminder_client_history_csv", args=[chased.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert any(r[3] == "Reminder step" and r[2] == "F2026-00001" for r in rows)
    response = as_alice.get(reverse("reminder_client_history_pdf", args=[chased.pk]))
    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "Record of the reminders: ACME Industries" in text and "Reminder step" in text


# -- the invoice page ---------------------------------------------------------------------------


def test_the_invoice_page_says_the_next_reminder(as_alice, invoice, run_day, time_machine):
    time_machine.move_to(datetime(2026, 1, 20, 9, 0, tzinfo=UTC), tick=False)
    run_day(ISSUED)
    html = as_alice.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    # The reminder part loads after the page, keeping the page as quick as it was.
    assert reverse("reminder_invoice_panel", args=[invoice.pk]) in html
    html = as_alice.get(reverse("reminder_invoice_panel", args=[invoice.pk])).content.decode()
    assert 'id="next-reminder"' in html
    assert "Monday 2 February 2026" in html and "3 days before the due date" in html


def test_pause_this_invoice(as_alice, invoice):
    response = as_alice.post(
        reverse("reminder_invoice_pause", args=[invoice.pk]),
        {"kind": "promise", "until": "2030-01-01", "amount": "100", "invoice": invoice.pk},
    )
    assert response.status_code == 302
    assert Pause.objects.get().invoice == invoice
    html = as_alice.get(reverse("reminder_invoice_panel", args=[invoice.pk])).content.decode()
    assert "promised by" in html and "Lift" in html


def test_a_bad_invoice_pause_is_shown_on_the_invoice_page(as_alice, invoice):
    response = as_alice.post(
        reverse("reminder_invoice_pause", args=[invoice.pk]),
        {"kind": "snooze", "invoice": invoice.pk},
    )
    assert response.status_code == 200
    assert "Give the day the reminders should resume." in response.content.decode()


def test_the_invoice_record_downloads(as_alice, invoice, run_day):
    run_day(DUE + timedelta(days=1))
    response = as_alice.get(reverse("reminder_invoice_history_csv", args=[invoice.pk]))
    assert "F2026-00001" in response.content.decode()


# -- every page in both languages -------------------------------------------------------------


PAGES = [
    "reminder_overview",
    "reminder_approvals",
    "reminder_calls",
    "reminder_letters",
    "reminder_attention",
    "reminder_forecast",
    "reminder_sent",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_with_data_in_both_languages(
    name, as_alice, client_fr, alice, chased, uncertain, call_task
):
    assert as_alice.get(reverse(name)).status_code == 200
    client_fr.force_login(alice)
    response = client_fr.get(reverse(name))
    assert response.status_code == 200 and '<html lang="fr">' in response.content.decode()


# -- isolation ----------------------------------------------------------------------------------


# URL name -> the kind of object its <pk> names (for the shared isolation map).
PK_URLS = {
    "reminder_approve": "message",
    "reminder_reject": "message",
    "reminder_call_log": "call",
    "reminder_letter_pdf": "letter",
    "reminder_letter_printed": "letter",
    "reminder_resolve": "message",
    "reminder_cancel": "call",
    "reminder_client_pause": "client",
    "reminder_client_reason": "client",
    "reminder_invoice_pause": "invoice",
    "reminder_invoice_panel": "invoice",
    "reminder_pause_lift": "pause",
    "reminder_client_history_csv": "client",
    "reminder_client_history_pdf": "client",
    "reminder_invoice_history_csv": "invoice",
    "reminder_invoice_history_pdf": "invoice",
}


def test_the_map_covers_every_url_that_takes_an_id():
    from relance.dunning import urls_operations

    names = {p.name for p in urls_operations.urlpatterns if "<int:pk>" in str(p.pattern)}
    assert names == set(PK_URLS)


def _snapshot():
    return (
        list(Message.objects.order_by("pk").values_list("status", "outcome", "note")),
        list(Pause.objects.order_by("pk").values_list("kind", "ended_on")),
        Activity.objects.count(),
    )


@pytest.mark.parametrize("name", sorted(PK_URLS))
def test_another_organisation_gets_404(client, charlie, chased, letter, call_task, name):
    pause = actions.pause(chased, kind="snooze", today=date(2026, 2, 5), until=date(2030, 1, 1))
    things = {
        "message": letter,
        "call": call_task,
        "letter": letter,
        "client": chased,
        "invoice": call_task.client.invoices.get(),
        "pause": pause,
    }
    client.force_login(charlie)
    before = _snapshot()
    url = reverse(name, args=[things[PK_URLS[name]].pk])
    assert client.get(url).status_code == 404, url
    data = {"kind": "snooze", "until": "2030-01-01", "reason": "x", "delivered": "1"}
    assert client.post(url, data).status_code == 404, url
    assert _snapshot() == before


def test_another_organisations_queues_are_empty(client, charlie, uncertain, call_task):
    client.force_login(charlie)
    for name in ("reminder_calls", "reminder_attention", "reminder_sent"):
        html = client.get(reverse(name)).content.decode()
        assert "ACME Industries" not in html, name


def test_anonymous_is_sent_to_login(client, call_task):
    response = client.get(reverse("reminder_calls"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
