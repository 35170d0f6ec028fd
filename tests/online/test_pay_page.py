"""The client's pay page, the checkout through the Stripe stand-in, the adapter,
the links on invoices and reminders, and the settings page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from stripe_standin import StandInError

from relance.ledger.models import Invoice, Payment
from relance.online import links, stripe_api
from relance.online.models import OnlinePaymentSettings

pytestmark = pytest.mark.django_db


def pay_path(client, invoices=()):
    return reverse("online:pay", args=[links.make_token(client.pk, [i.pk for i in invoices])])


# --- tokens and links ------------------------------------------------------------------


def test_a_token_names_a_client_and_invoices_and_cannot_be_altered():
    token = links.make_token(42, [7, 1300])
    assert links.read_token(token) == links.PayTarget(42, (7, 1300))
    assert links.read_token(links.make_token(42)) == links.PayTarget(42, ())
    value, _sep, sig = token.partition(":")
    assert value == "16.7-104"  # base 36: short enough for an SMS
    assert links.read_token("17.7-104:" + sig) is None  # another client, same signature
    assert links.read_token("garbage") is None
    assert len(token) < 70  # it goes into SMS


def test_no_link_when_online_payment_is_off(payer, two_invoices, settings):
    older, _newer = two_invoices
    assert links.pay_url(payer, [older]) == ""
    OnlinePaymentSettings.objects.create(
        organisation=payer.organisation, enabled=False, secret_key="sk_test_x"
    )
    payer.organisation.refresh_from_db()
    assert links.pay_url(payer, [older]) == ""


def test_the_link_is_absolute_on_the_site_url(payer, two_invoices, online, settings):
    settings.SITE_URL = "https://factures.example.fr/"
    older, _newer = two_invoices
    url = links.pay_url(payer, [older])
    assert url.startswith("https://factures.example.fr/pay/")
    assert links.read_token(url.rsplit("/", 2)[-2]) == links.PayTarget(payer.pk, (older.pk,))


def test_invoice_document_and_reminder_carry_the_link_and_the_letter_the_qr_code(
    payer, two_invoices, online
):
    from relance.dunning import context as reminder_context
    from relance.dunning.letters import letter_html
    from relance.invoicing.snapshot import build_document

    older, newer = two_invoices
    assert "/pay/" in build_document(older).pay_url
    items = [reminder_context.Item(older, None, older.balance)]
    ctx = reminder_context.build(payer, items, day=date(2026, 3, 1), template="friendly",
                                 tone="friendly")  # fmt: skip
    assert "/pay/" in ctx["payment_link"]
    assert ctx["epc_qr"].startswith("BCD\n002\n1\nSCT\n")
    assert "EUR1200.00" in ctx["epc_qr"] and "\nRF" in ctx["epc_qr"]  # the invoice's reference
    page = letter_html(ctx, "Bonjour,\n\nMerci.", "fr")
    assert "<svg" in page and "epc-qr" in page

    both = [reminder_context.Item(i, None, i.balance) for i in (older, newer)]
    ctx = reminder_context.build(payer, both, day=date(2026, 3, 1), template="friendly",
                                 tone="friendly")  # fmt: skip
    assert "EUR1500.00" in ctx["epc_qr"] and "\nRF" not in ctx["epc_qr"]  # numbers as text
    assert older.number in ctx["epc_qr"]


def test_no_qr_code_on_a_reminder_in_another_currency(payer, make_invoice):
    from relance.dunning import context as reminder_context

    dollars = make_invoice(payer, "50.00", currency="USD")
    ctx = reminder_context.build(
        payer, [reminder_context.Item(dollars, None, dollars.balance)], day=date(2026, 3, 1),
        template="friendly", tone="friendly",
    )  # fmt: skip
    assert ctx["epc_qr"] == ""


# --- the pay page ----------------------------------------------------------------------


def test_the_pay_page_shows_the_invoices_transfer_details_and_pay_button(
    client_fr, payer, two_invoices, online
):
    older, newer = two_invoices
    page = client_fr.get(pay_path(payer, [older, newer]))
    assert page.status_code == 200
    text = page.content.decode()
    assert older.number in text and newer.number in text
    assert "1\u202f500,00\xa0€" in text  # French: the client's language
    assert "Payer en ligne" in text or "Pay online" in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text and "<svg" in text
    assert 'name="currency" value="EUR"' in text


def test_a_paid_invoice_says_already_paid_thank_you(client, payer, two_invoices, online):
    from relance.ledger import settlement

    older, _newer = two_invoices
    settlement.record_payment(
        client=payer, amount=Decimal("1200.00"), currency="EUR", date=date(2026, 2, 5),
        shares=[settlement.Share(older, Decimal("1200.00"))],
    )  # fmt: skip
    payer.language = "en"
    payer.save()
    text = client.get(pay_path(payer, [older])).content.decode()
    assert "Already paid, thank you!" in text
    assert 'name="currency"' not in text  # nothing to pay, no button


def test_a_forged_or_unknown_link_is_a_clean_404(client, payer, online):
    assert client.get("/pay/1.2:forged/").status_code == 404
    from relance.online.links import make_token

    # Another client's id under this client's signature: the signature no longer matches.
    signature = make_token(payer.pk).rpartition(":")[2]
    assert (
        client.get(f"/pay/{make_token(payer.pk + 1).rpartition(':')[0]}:{signature}/").status_code
        == 404
    )
    assert client.get(f"/pay/{make_token(10**9)}/").status_code == 404  # signed, no such client


def test_without_online_payment_the_page_offers_the_transfer_only(client, payer, two_invoices):
    older, _newer = two_invoices
    text = client.get(pay_path(payer, [older])).content.decode()
    assert "FR76 3000" in text and 'name="currency"' not in text


# --- checkout through the stand-in --------------------------------------------------------


def test_pay_online_creates_a_checkout_session_and_redirects_there(
    client, payer, two_invoices, online, standin
):
    older, newer = two_invoices
    answer = client.post(
        reverse("online:checkout", args=[links.make_token(payer.pk, [older.pk, newer.pk])]),
        {"currency": "EUR"},
    )
    assert answer.status_code == 303
    [session] = standin.sessions.values()
    assert answer["Location"] == session["url"] and session["url"].startswith(standin.url)
    [sent] = standin.requests
    params = sent["params"]
    assert sent["headers"]["Authorization"] == f"Bearer {standin.secret_key}"
    assert sent["headers"]["Idempotency-Key"].startswith("relance-")
    assert params["mode"] == "payment"
    assert [line["price_data"]["unit_amount"] for line in params["line_items"]] == [
        "120000", "30000",
    ]  # fmt: skip
    assert {line["price_data"]["currency"] for line in params["line_items"]} == {"eur"}
    assert params["payment_method_types"] == ["card", "sepa_debit"]
    assert params["metadata"]["invoices"] == f"{older.pk},{newer.pk}"
    assert params["metadata"]["organisation"] == str(payer.organisation_id)
    assert params["customer_email"] == "factures@acme.example"
    assert "{CHECKOUT_SESSION_ID}" in params["success_url"]
    assert session["amount_total"] == 150000

    # A double click: the same session again (Stripe's idempotency).
    again = client.post(
        reverse("online:checkout", args=[links.make_token(payer.pk, [older.pk, newer.pk])]),
        {"currency": "EUR"},
    )
    assert again["Location"] == answer["Location"] and len(standin.sessions) == 1


def test_the_whole_card_payment_records_through_the_webhook_only(
    client, payer, two_invoices, online, standin, post_event
):
    older, _newer = two_invoices
    token = links.make_token(payer.pk, [older.pk])
    client.post(reverse("online:checkout", args=[token]), {"currency": "EUR"})
    [session_id] = standin.sessions
    events = standin.pay(session_id)
    # Back on the success page first: it thanks, and records nothing.
    thanks = client.get(reverse("online:thanks", args=[token]), {"session_id": session_id})
    assert thanks.status_code == 200 and not Payment.objects.exists()
    for body, header in events:
        assert post_event(body, header).status_code == 200
    assert Invoice.objects.get(pk=older.pk).status == "paid"
    assert Payment.objects.get().reference.startswith("pi_")


def test_the_sepa_debit_flow_through_the_stand_in(client, payer, two_invoices, online, standin,
                                                  post_event):  # fmt: skip
    older, _newer = two_invoices
    client.post(reverse("online:checkout", args=[links.make_token(payer.pk, [older.pk])]),
                {"currency": "EUR"})  # fmt: skip
    [session_id] = standin.sessions
    [(body, header)] = standin.pay(session_id, method="sepa_debit")
    assert post_event(body, header).json()["outcome"] == "pending"
    assert Invoice.objects.get(pk=older.pk).status == "issued"
    assert post_event(*standin.settle_debit(session_id)).json()["outcome"] == "recorded"
    assert Invoice.objects.get(pk=older.pk).status == "paid"
    assert Payment.objects.get().method == "direct_debit"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (StandInError(400, "Amount must convert to at least 50 cents.", "line_items"),
         "Amount must convert to at least 50 cents."),
        (StandInError(401, "Invalid API Key provided: sk_test_****"), "not set up correctly"),
        (StandInError(500, "An unknown error occurred", kind="api_error"),
         "An unknown error occurred"),
    ],
)  # fmt: skip
def test_stripe_errors_show_a_clear_message_never_a_500(
    client, payer, two_invoices, online, standin, error, shown
):
    payer.language = "en"
    payer.save()
    older, _newer = two_invoices
    standin.fail_next = error
    standin.fail_times = 2  # the library retries a 500 once (same idempotency key)
    answer = client.post(
        reverse("online:checkout", args=[links.make_token(payer.pk, [older.pk])]),
        {"currency": "EUR"},
    )
    assert answer.status_code == 502
    assert shown in answer.content.decode()
    assert older.number in answer.content.decode()  # the page is still there, transfer too


def test_stripe_out_of_reach_shows_a_clear_message(client, payer, two_invoices, online):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    online.api_base = f"http://127.0.0.1:{port}"
    online.save()
    payer.language = "en"
    payer.save()
    older, _newer = two_invoices
    answer = client.post(
        reverse("online:checkout", args=[links.make_token(payer.pk, [older.pk])]),
        {"currency": "EUR"},
    )
    assert answer.status_code == 502
    assert "cannot be reached" in answer.content.decode()


def test_checkout_of_an_invoice_paid_meanwhile_goes_back_to_the_page(
    client, payer, two_invoices, online, standin
):
    from relance.ledger import settlement

    older, _newer = two_invoices
    settlement.record_payment(
        client=payer, amount=Decimal("1200.00"), currency="EUR", date=date(2026, 2, 5),
        shares=[settlement.Share(older, Decimal("1200.00"))],
    )  # fmt: skip
    token = links.make_token(payer.pk, [older.pk])
    answer = client.post(reverse("online:checkout", args=[token]), {"currency": "EUR"})
    assert answer.status_code == 302 and answer["Location"] == reverse("online:pay", args=[token])
    assert not standin.sessions


# --- the adapter on its own ---------------------------------------------------------------


def adapter_request(**changes):
    values = dict(
        currency="EUR",
        lines=[stripe_api.Line("Invoice F-1", Decimal("12.34"))],
        payment_method_types=["card"],
        success_url="http://127.0.0.1/ok",
        cancel_url="http://127.0.0.1/back",
        client_reference_id="relance-1-2",
        metadata={"organisation": "1", "client": "2", "invoices": "3"},
    )
    values.update(changes)
    return stripe_api.CheckoutRequest(**values)


def test_the_adapter_creates_a_session_with_amounts_in_cents(standin):
    session = stripe_api.create_checkout_session(standin.secret_key, standin.url, adapter_request())
    assert session.id.startswith("cs_test_") and session.url.startswith(standin.url)
    assert standin.sessions[session.id]["amount_total"] == 1234
    assert standin.sessions[session.id]["currency"] == "eur"


def test_the_adapter_reports_stripe_s_validation_error(standin):
    with pytest.raises(stripe_api.CheckoutError, match="does not support currency `usd`"):
        stripe_api.create_checkout_session(
            standin.secret_key,
            standin.url,
            adapter_request(currency="USD", payment_method_types=["sepa_debit"]),
        )


def test_the_adapter_refuses_a_wrong_key(standin):
    with pytest.raises(stripe_api.CheckoutError, match="not set up correctly"):
        stripe_api.create_checkout_session("sk_test_wrong", standin.url, adapter_request())


# --- the settings page --------------------------------------------------------------------


def test_a_writer_sets_up_online_payment_and_secrets_are_never_shown_back(client, alice, org):
    client.force_login(alice)
    page = client.get(reverse("organisation_settings"))
    assert reverse("online:settings") in page.content.decode()
    answer = client.post(
        reverse("online:settings"),
        {
            "enabled": "on",
            "secret_key": "sk_live_abcdefghijklmnop1234",
            "webhook_secret": "whsec_supersecretvalue9876",
            "accept_card": "on",
            "api_base": "https://api.stripe.com",
        },
    )
    assert answer.status_code == 302
    online = OnlinePaymentSettings.objects.get(organisation=org)
    assert online.is_ready and online.secret_key.endswith("1234")
    text = client.get(reverse("online:settings")).content.decode()
    assert "sk_live_abcdefghijklmnop1234" not in text and "sk_live_…1234" in text
    assert "whsec_supersecretvalue9876" not in text
    assert f"/pay/stripe/webhook/{online.webhook_token}/" in text
    # Saving again with the secret fields empty keeps them.
    client.post(reverse("online:settings"), {"enabled": "on", "accept_card": "on",
                                             "api_base": "https://api.stripe.com"})  # fmt: skip
    online.refresh_from_db()
    assert online.secret_key.endswith("1234") and online.webhook_secret.endswith("9876")


def test_enabling_without_keys_says_what_is_missing(client, alice, org):
    client.force_login(alice)
    answer = client.post(
        reverse("online:settings"),
        {"enabled": "on", "accept_card": "on", "api_base": "https://api.stripe.com"},
    )
    assert answer.status_code == 200
    assert "needs the Stripe secret key" in answer.content.decode()
    assert not OnlinePaymentSettings.objects.filter(organisation=org).exists()


def test_read_only_members_cannot_change_the_settings(client, rita):
    client.force_login(rita)
    assert client.get(reverse("online:settings")).status_code == 200
    answer = client.post(reverse("online:settings"), {"enabled": "on"})
    assert answer.status_code == 403


def test_settings_are_per_organisation(client, charlie, online):
    client.force_login(charlie)
    text = client.get(reverse("online:settings")).content.decode()
    assert online.webhook_token not in text


def test_the_invoice_email_carries_the_pay_link(payer, two_invoices, online, settings):
    from pathlib import Path

    from relance.invoicing.sending import build_message

    older, _newer = two_invoices
    archived = Path(settings.MEDIA_ROOT) / "invoices" / "archived.pdf"  # as once issued
    archived.parent.mkdir(parents=True, exist_ok=True)
    archived.write_bytes(b"%PDF-1.4\n")
    Invoice.objects.filter(pk=older.pk).update(pdf="invoices/archived.pdf")
    message = build_message(Invoice.objects.get(pk=older.pk))
    link = links.pay_url(payer, [older])
    assert link and link in message.body
    assert any(link in content for content, _mime in message.alternatives)


def test_the_client_page_gives_the_link_to_pay_the_whole_balance(
    client, alice, payer, two_invoices, online
):
    client.force_login(alice)
    page = client.get(f"/clients/{payer.pk}/").content.decode()
    assert 'data-testid="balance-pay-link"' in page
    link = page.split('id="pay-link" type="text" readonly value="')[1].split('"')[0]
    from urllib.parse import urlsplit

    text = client.get(urlsplit(link).path).content.decode()
    for invoice in two_invoices:
        assert invoice.number in text


def test_no_balance_link_without_online_payment(client, alice, payer, two_invoices):
    client.force_login(alice)
    page = client.get(f"/clients/{payer.pk}/").content.decode()
    assert 'data-testid="balance-pay-link"' not in page
