"""The SMS transports: Twilio's API spoken to a local server, the console, the settings."""

from __future__ import annotations

import base64
import io

import pytest
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, HANG_UP, STALL, error
from smtp_peers import free_port

from relance.dunning.transports import (
    ChannelDown,
    MessageRejected,
    Outgoing,
    RecipientRejected,
    TemporaryError,
    Uncertain,
    transport_for,
)
from relance.dunning.transports import sms as sms_module
from relance.dunning.transports.sms import ConsoleSms, LocmemSms, TwilioSms

MOBILE = "+33612345678"
OTHER_MOBILE = "+33698765432"
TEXT = "Atelier Durand : la facture F2026-0042 (1 200,00 €) est échue depuis 12 jours. Merci !"


def sms(*to: str, **changes) -> Outgoing:
    return Outgoing(**({"channel": "sms", "to": to or (MOBILE,), "text": TEXT} | changes))


@pytest.fixture
def twilio_sms(twilio) -> TwilioSms:
    return TwilioSms(ACCOUNT_SID, AUTH_TOKEN, "+33700000001", base_url=twilio.base_url, timeout=1)


# --- Twilio: what is sent ---------------------------------------------------


def test_the_sms_reaches_twilio_as_its_api_wants(twilio, twilio_sms):
    delivery = twilio_sms.send(sms())

    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    credentials = base64.b64decode(request.headers["Authorization"].removeprefix("Basic "))
    assert credentials.decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.form == {"To": MOBILE, "From": "+33700000001", "Body": TEXT}
    assert delivery.provider_id.startswith("SM")
    assert delivery.rejected == ()


def test_a_sender_on_the_message_replaces_the_configured_one(twilio, twilio_sms):
    twilio_sms.send(sms(sender="ATELIERDUR"))

    assert twilio.requests[0].form["From"] == "ATELIERDUR"


def test_a_messaging_service_is_named_as_such(twilio, twilio_sms):
    service = "MG" + "0123456789abcdef" * 2

    twilio_sms.send(sms(sender=service))

    form = twilio.requests[0].form
    assert form["MessagingServiceSid"] == service
    assert "From" not in form


def test_one_request_per_number_and_all_the_sids(twilio, twilio_sms):
    delivery = twilio_sms.send(sms(MOBILE, OTHER_MOBILE))

    assert [r.form["To"] for r in twilio.requests] == [MOBILE, OTHER_MOBILE]
    sids = delivery.provider_id.split(",")
    assert len(sids) == 2
    assert all(sid.startswith("SM") for sid in sids)


# --- Twilio: what its answers mean ------------------------------------------


@pytest.mark.parametrize(
    "code",
    [21211, 21614, 21610, 21408, 21612],
    ids=["invalid", "not mobile", "opted out", "region", "unreachable"],
)
def test_a_refused_number_is_a_bounce(twilio, twilio_sms, code):
    twilio.answers[MOBILE] = error(400, code, f"The 'To' number {MOBILE} is refused.")

    with pytest.raises(RecipientRejected) as raised:
        twilio_sms.send(sms())

    assert raised.value.recipients == (MOBILE,)
    assert str(code) in str(raised.value)


def test_a_refused_number_among_others_is_reported(twilio, twilio_sms):
    twilio.answers[MOBILE] = error(400, 21610, "Attempt to send to unsubscribed recipient")

    delivery = twilio_sms.send(sms(MOBILE, OTHER_MOBILE))

    assert delivery.rejected == (MOBILE,)
    assert delivery.provider_id.startswith("SM")
    assert "," not in delivery.provider_id


def test_wrong_credentials_take_the_channel_down(twilio):
    transport = TwilioSms(ACCOUNT_SID, "not-the-token", "+33700000001", base_url=twilio.base_url)

    with pytest.raises(ChannelDown, match="20003"):
        transport.send(sms())


def test_an_unknown_account_takes_the_channel_down(twilio):
    twilio.account_sid = "AC" + "1" * 32  # the server knows another account

    transport = TwilioSms(ACCOUNT_SID, AUTH_TOKEN, "+33700000001", base_url=twilio.base_url)
    with pytest.raises(ChannelDown):
        transport.send(sms())


@pytest.mark.parametrize(
    "answer",
    [
        error(403, 20005, "Account not active"),
        error(400, 21606, "The 'From' phone number provided is not a valid message-capable number"),
        error(400, 21659, "'From' is not a Twilio phone number"),
    ],
    ids=["suspended", "from not sms-capable", "from not twilio"],
)
def test_account_and_sender_problems_take_the_channel_down(twilio, twilio_sms, answer):
    twilio.answers[MOBILE] = answer

    with pytest.raises(ChannelDown):
        twilio_sms.send(sms())


@pytest.mark.parametrize(
    "answer",
    [
        error(429, 20429, "Too Many Requests"),
        error(500, 20500, "An internal server error has occurred"),
        error(503, 20503, "Service Unavailable"),
    ],
    ids=["429", "500", "503"],
)
def test_overload_and_server_errors_are_temporary(twilio, twilio_sms, answer):
    twilio.answers[MOBILE] = answer

    with pytest.raises(TemporaryError):
        twilio_sms.send(sms())


def test_a_gateway_timeout_is_uncertain(twilio, twilio_sms):
    twilio.answers[MOBILE] = error(504, 20504, "Gateway Timeout")

    with pytest.raises(Uncertain):
        twilio_sms.send(sms())


def test_a_message_twilio_refuses_fails_alone(twilio, twilio_sms):
    twilio.answers[MOBILE] = error(400, 21617, "The concatenated message body exceeds 1600")

    with pytest.raises(MessageRejected, match="21617"):
        twilio_sms.send(sms())


def test_no_answer_after_sending_is_uncertain(twilio, twilio_sms):
    twilio.answers[MOBILE] = STALL

    with pytest.raises(Uncertain):
        twilio_sms.send(sms())
    # Twilio did receive the request: it may well send the SMS.
    assert len(twilio.requests) == 1


def test_hanging_up_after_the_request_is_uncertain(twilio, twilio_sms):
    twilio.answers[MOBILE] = HANG_UP

    with pytest.raises(Uncertain):
        twilio_sms.send(sms())


def test_a_201_without_sid_is_uncertain(twilio, twilio_sms):
    twilio.answers[MOBILE] = (201, {"status": "queued"})

    with pytest.raises(Uncertain):
        twilio_sms.send(sms())


def test_nothing_listening_is_temporary():
    transport = TwilioSms(
        ACCOUNT_SID, AUTH_TOKEN, "+33700000001", base_url=f"http://127.0.0.1:{free_port()}"
    )

    with pytest.raises(TemporaryError, match="cannot be reached"):
        transport.send(sms())


def test_a_failure_after_a_number_got_it_is_not_raised(twilio, twilio_sms):
    # Raising would have the message retried, and the first number texted twice.
    third = "+33611111111"
    twilio.answers[OTHER_MOBILE] = error(503, 20503, "Service Unavailable")

    delivery = twilio_sms.send(sms(MOBILE, OTHER_MOBILE, third))

    assert delivery.provider_id.startswith("SM")
    assert delivery.rejected == (OTHER_MOBILE, third)
    assert [r.form["To"] for r in twilio.requests] == [MOBILE, OTHER_MOBILE]


def test_a_failure_on_the_first_number_is_raised(twilio, twilio_sms):
    twilio.answers[MOBILE] = error(503, 20503, "Service Unavailable")

    with pytest.raises(TemporaryError):
        twilio_sms.send(sms(MOBILE, OTHER_MOBILE))
    assert len(twilio.requests) == 1


def test_missing_configuration_takes_the_channel_down(twilio):
    transport = TwilioSms(ACCOUNT_SID, "", "", base_url=twilio.base_url)

    with pytest.raises(ChannelDown, match="auth token, sender"):
        transport.send(sms())
    assert twilio.requests == []


# --- console and in-memory ----------------------------------------------------


def test_the_console_prints_the_sms():
    stream = io.StringIO()

    delivery = ConsoleSms(stream).send(sms(MOBILE, OTHER_MOBILE, sender="ATELIERDUR"))

    assert delivery.provider_id.startswith("console-")
    printed = stream.getvalue()
    assert delivery.provider_id in printed
    assert f"To: {MOBILE}, {OTHER_MOBILE}" in printed
    assert "From: ATELIERDUR" in printed
    assert TEXT in printed


def test_the_console_writes_to_standard_output_by_default(capsys):
    ConsoleSms().send(sms())

    assert TEXT in capsys.readouterr().out


def test_the_locmem_backend_keeps_what_it_sent(monkeypatch):
    monkeypatch.setattr(sms_module, "outbox", [])

    LocmemSms().send(sms())

    assert sms_module.outbox == [sms()]


def test_no_number_is_a_bounce_on_every_backend(twilio, twilio_sms):
    for transport in (ConsoleSms(io.StringIO()), LocmemSms(), twilio_sms):
        with pytest.raises(RecipientRejected):
            transport.send(sms(to=()))


# --- configuration -------------------------------------------------------------


@pytest.fixture
def no_sms_setting(settings, monkeypatch):
    if hasattr(settings, "RELANCE_SMS"):
        del settings.RELANCE_SMS
    for name in [
        "RELANCE_SMS_BACKEND",
        "RELANCE_TWILIO_ACCOUNT_SID",
        "RELANCE_TWILIO_AUTH_TOKEN",
        "RELANCE_TWILIO_FROM",
        "RELANCE_TWILIO_BASE_URL",
        "RELANCE_TWILIO_TIMEOUT",
    ]:
        monkeypatch.delenv(name, raising=False)


def test_the_console_is_the_default(no_sms_setting):
    assert isinstance(transport_for("sms"), ConsoleSms)


def test_twilio_from_the_environment(no_sms_setting, monkeypatch, twilio):
    monkeypatch.setenv("RELANCE_SMS_BACKEND", "twilio")
    monkeypatch.setenv("RELANCE_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("RELANCE_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("RELANCE_TWILIO_FROM", "+33700000002")
    monkeypatch.setenv("RELANCE_TWILIO_BASE_URL", twilio.base_url)

    delivery = transport_for("sms").send(sms())

    assert delivery.provider_id.startswith("SM")
    assert twilio.requests[0].form["From"] == "+33700000002"


def test_twilio_from_the_settings(settings, twilio):
    settings.RELANCE_SMS = {
        "BACKEND": "twilio",
        "ACCOUNT_SID": ACCOUNT_SID,
        "AUTH_TOKEN": AUTH_TOKEN,
        "FROM": "+33700000003",
        "BASE_URL": twilio.base_url + "/",
        "TIMEOUT": 5,
    }

    transport = transport_for("sms")
    transport.send(sms())

    assert isinstance(transport, TwilioSms)
    assert transport.timeout == 5
    assert twilio.requests[0].form["From"] == "+33700000003"


def test_the_settings_win_over_the_environment(settings, monkeypatch):
    monkeypatch.setenv("RELANCE_SMS_BACKEND", "twilio")
    settings.RELANCE_SMS = {"BACKEND": "locmem"}

    assert isinstance(transport_for("sms"), LocmemSms)


def test_an_unknown_backend_takes_the_channel_down(settings):
    settings.RELANCE_SMS = {"BACKEND": "carrier-pigeon"}

    with pytest.raises(ChannelDown, match="carrier-pigeon"):
        transport_for("sms")
