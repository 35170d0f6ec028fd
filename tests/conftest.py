"""Shared fixtures: organisations and the people in them.

Personas (as in healthchecks): alice owns Atelier Durand, bob is a member
there, rita has read-only access; charlie owns another organisation and must
never see Atelier Durand's data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings

# Property tests check values, not speed: a per-example time limit only makes
# them flaky on a busy two-core machine (CI runs SQLite and PostgreSQL side by side).
settings.register_profile("relance", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("relance")

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files of a test live in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas are created in almost every test: a deliberately slow
    password hash would dominate the suite's run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages raised outside a request (services, forms) read in English,
    the language of the msgids the tests assert on."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client(client, settings):
    """The test client reads pages in English, the language of the msgids
    tests assert on; tests of the French interface use ``client_fr``."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def client_fr():
    from django.test import Client

    return Client()


@pytest.fixture
def org(db):
    from relance.organisations.models import Organisation

    # Everything French law asks to print on an invoice: issuing works unless
    # a test takes a mention away.
    return Organisation.objects.create(
        legal_name="Atelier Durand SAS",
        legal_form="SAS",
        share_capital=Decimal("10000"),
        siren="732829320",
        vat_number="FR44732829320",
        rcs_city="Paris",
        address_line1="12 rue de la Paix",
        postcode="75002",
        city="Paris",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
        email="compta@atelier-durand.fr",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
    )


@pytest.fixture
def other_org(db):
    from relance.organisations.models import Organisation

    return Organisation.objects.create(legal_name="Concurrent SARL", country="FR")


def _user(username, organisation, role):
    from django.contrib.auth import get_user_model

    from relance.organisations.models import Membership

    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def alice(org):
    return _user("alice", org, "owner")


@pytest.fixture
def bob(org):
    return _user("bob", org, "member")


@pytest.fixture
def rita(org):
    return _user("rita", org, "read_only")


@pytest.fixture
def charlie(other_org):
    return _user("charlie", other_org, "owner")


@pytest.fixture
def client_acme(org):
    from relance.ledger.models import Client

    return Client.objects.create(
        organisation=org,
        name="ACME Industries",
        siren="552100554",
        address_line1="3 quai Rambaud",
        postcode="69002",
        city="Lyon",
    )


@pytest.fixture
def new_acme(org):
    """new_acme(phone="", **fields): ACME Industries (Lyon, with its SIREN) and Claire
    Martin, its billing contact (factures@acme.example); ``fields`` set the client's
    own (language, cycle…)."""
    from relance.ledger.models import Client, Contact, ContactRole

    def make(phone: str = "", **fields):
        client = Client.objects.create(
            organisation=org,
            name="ACME Industries",
            siren="552100554",
            address_line1="3 quai Rambaud",
            postcode="69002",
            city="Lyon",
            **fields,
        )
        Contact.objects.create(
            organisation=org,
            client=client,
            first_name="Claire",
            last_name="Martin",
            role=ContactRole.BILLING,
            email="factures@acme.example",
            phone=phone,
        )
        return client

    return make


@pytest.fixture
def make_invoice():
    """Create and issue an invoice: make_invoice(client, "120.00", due=date(...))."""
    from relance.ledger import issuing

    def make(
        client,
        gross="120.00",
        *,
        issue_date=date(2026, 1, 5),
        due=date(2026, 2, 4),
        currency="EUR",
        vat="20",
        issue=True,
    ):
        net = (Decimal(gross) * 100 / (100 + Decimal(vat))).quantize(Decimal("0.0001"))
        invoice = issuing.create_draft(
            client=client,
            lines=[("Prestation", Decimal(1), net, Decimal(vat))],
            issue_date=issue_date,
            due_date=due,
            currency=currency,
        )
        if issue:
            invoice = issuing.issue(invoice, as_of=issue_date)
        return invoice

    return make


class _Inbox:
    """What a real SMTP server (aiosmtpd) received: envelopes and parsed messages."""

    def __init__(self):
        self.envelopes = []
        self.reject_with = None  # e.g. "451 Try again later"

    async def handle_DATA(self, server, session, envelope):
        if self.reject_with:
            return self.reject_with
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        from email import message_from_bytes, policy

        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


@pytest.fixture
def serve_smtp(settings):
    """serve_smtp(handler) -> controller: a real SMTP server (aiosmtpd) on localhost
    with this handler, relance's default mailer pointed at it; stopped after the test."""
    import socket

    from aiosmtpd.controller import Controller

    started = []

    def start(handler):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
            }
        }
        return controller

    try:
        yield start
    finally:
        for controller in started:
            controller.stop()


@pytest.fixture
def smtp_server(serve_smtp):
    """A real SMTP server on localhost; relance's default mailer points at it."""
    inbox = _Inbox()
    serve_smtp(inbox)
    return inbox
