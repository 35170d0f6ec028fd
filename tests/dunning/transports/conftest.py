"""Real servers for the transports: aiosmtpd with AUTH whose every step can
fail (``mailbox``), a scripted bare SMTP peer (``scripted_smtp``) and a local
Twilio (``twilio``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_twilio import FakeTwilio, serve
from smtp_peers import LOGIN, PASSWORD, SMTP_TIMEOUT, Mailbox, ScriptedSmtp, authenticate, free_port


@pytest.fixture
def mailbox(settings) -> Iterator[Mailbox]:
    """A real SMTP server (with AUTH) that the default mailer logs in to."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": port,
                "timeout": SMTP_TIMEOUT,
                "username": LOGIN,
                "password": PASSWORD,
            },
        }
    }
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def scripted_smtp(settings):
    """scripted_smtp(greeting, replies) -> ScriptedSmtp, the default mailer pointing at it."""
    peers: list[ScriptedSmtp] = []

    def start(greeting: str = "220 scripted ESMTP", replies=None) -> ScriptedSmtp:
        peer = ScriptedSmtp(greeting, replies or {})
        peers.append(peer)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": peer.port, "timeout": SMTP_TIMEOUT},
            }
        }
        return peer

    yield start
    for peer in peers:
        peer.close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    server = serve(fake)
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
