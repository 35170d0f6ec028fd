"""SMTP peers for the email transport's tests: an aiosmtpd handler that can
refuse, stall or hang up at each step, and a scripted bare SMTP peer for what
aiosmtpd does not stage (a refused greeting, hanging up at DATA)."""

from __future__ import annotations

import asyncio
import socket
import threading

# Short enough that a stalled server fails the test quickly, long enough for a busy machine.
SMTP_TIMEOUT = 2
LOGIN, PASSWORD = "relance", "s3cret"


def free_port() -> int:
    """A local port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler whose every step can be made to fail."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refuse_sender: str | None = None  # reply to MAIL FROM, e.g. "550 5.7.1 …"
        self.refuse: dict[str, str] = {}  # recipient -> reply to its RCPT TO
        self.data_reply: str | None = None  # reply after the content, e.g. "554 …"
        self.stall_at: str | None = None  # "RCPT" or "DATA": never answer it
        self.hang_up_after_data = False  # take the content, then close without a reply

    @property
    def messages(self):
        from email import message_from_bytes, policy

        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    async def _stall(self) -> None:
        await asyncio.sleep(3600)  # cancelled when the server stops

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall_at == "RCPT":
            await self._stall()
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_at == "DATA":
            await self._stall()
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        if self.hang_up_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == LOGIN.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd answers the failure itself (535).
    return AuthResult(success=ok, handled=False)


class ScriptedSmtp:
    """A bare TCP peer playing one SMTP session from a script.

    ``greeting`` is sent on connection; each command line then gets
    ``replies[VERB]`` (default "250 OK"), and a reply of ``None`` closes the
    connection instead of answering. Lines seen are kept in ``heard``.
    """

    def __init__(self, greeting: str, replies: dict[str, str | None]) -> None:
        self.greeting = greeting
        self.replies = replies
        self.heard: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:  # closed before anyone connected
            return
        with connection, connection.makefile("rb") as lines:
            connection.settimeout(10)
            connection.sendall(self.greeting.encode() + b"\r\n")
            if not self.greeting.startswith("220"):
                return
            for line in lines:
                command = line.decode().strip()
                self.heard.append(command)
                reply = self.replies.get(command.split(" ", 1)[0].upper(), "250 OK")
                if reply is None:
                    return
                connection.sendall(reply.encode() + b"\r\n")

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)
