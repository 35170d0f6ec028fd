"""A local HTTP server that speaks Twilio's Messages API, for the SMS transport's tests.

It checks what Twilio checks first (HTTP Basic credentials, the account in
the path, the required form fields), answers 201 with a message resource
like Twilio's, records every request, and can be told to answer a given
number with an error, to stall (the client times out after sending) or to
hang up without answering.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "3f1c9e2b" * 4
AUTH_TOKEN = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")

STALL = "stall"  # never answer: the client's read times out
HANG_UP = "hang up"  # close the connection without a response


def error(status: int, code: int, message: str) -> tuple[int, dict]:
    """An error answer shaped like Twilio's."""
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[Request] = field(default_factory=list)
    # To number -> (status, JSON body), STALL or HANG_UP.
    answers: dict[str, object] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    base_url: str = ""

    def answer(self, form: dict[str, str], path_sid: str, authorization: str):
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if authorization != f"Basic {expected}":
            return error(401, 20003, "Authenticate")
        if path_sid != self.account_sid:
            return error(404, 20404, f"The requested resource {path_sid} was not found")
        if not form.get("To"):
            return error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body"):
            return error(400, 21602, "Message body is required.")
        scripted = self.answers.get(form["To"])
        if scripted is not None:
            return scripted
        sid = "SM" + uuid.uuid4().hex
        return 201, {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": formatdate(usegmt=True),
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_segments": "1",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def serve(fake: FakeTwilio) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
            fake.requests.append(Request("POST", self.path, dict(self.headers.items()), form))
            match = PATH.match(self.path)
            if not match:
                self._reply(*error(404, 20404, "The requested resource was not found"))
                return
            answer = fake.answer(form, match["sid"], self.headers.get("Authorization", ""))
            if answer == STALL:
                fake.release.wait(30)
                self.close_connection = True
                return
            if answer == HANG_UP:
                self.close_connection = True
                return
            self._reply(*answer)

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll keeps shutdown() quick at the end of each test.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
