"""A local stand-in for the part of Stripe's API relance uses, on 127.0.0.1.

It speaks what Stripe documents: ``POST /v1/checkout/sessions`` with a
form-encoded body (nested keys such as ``line_items[0][price_data][unit_amount]``),
Bearer authentication, an ``Idempotency-Key`` header (the same key gives the same
session back), and JSON error objects (``{"error": {"type", "message", "param"}}``)
on bad input. The session's ``url`` is a "hosted" checkout page served here with
a Pay button; paying completes the session, posts a signed
``checkout.session.completed`` event (current API shape) to the webhook address,
then redirects to the session's ``success_url``.

Tests that cannot receive an HTTP webhook (the Django test client) call
``pay(session_id)`` themselves and post the returned events.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from relance.online import signature

API_VERSION = "2025-03-31.basil"
METHOD_TYPES = {"card", "sepa_debit", "paypal"}
ZERO_DECIMAL = {"jpy", "xof", "xaf", "xpf"}


class StandInError(Exception):
    def __init__(self, status: int, message: str, param: str = "", kind: str = ""):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param
        self.kind = kind or ("authentication_error" if status == 401 else "invalid_request_error")

    def body(self) -> dict[str, Any]:
        error = {"type": self.kind, "message": self.message}
        if self.param:
            error["param"] = self.param
        return {"error": error}


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back to objects: ``a[b][0][c]=v`` -> {"a": {"b": [{"c": "v"}]}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        if not parts or not re.fullmatch(r"[^\[\]]+(\[[^\[\]]*\])*", key):
            raise StandInError(400, f"Invalid parameter name: {key}", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    """{"0": x, "1": y} -> [x, y] (Stripe's arrays are indexed keys)."""
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


@dataclass
class StripeStandIn:
    secret_key: str = "sk_test_standin_4242"
    webhook_secret: str = "whsec_standin_secret"
    webhook_url: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[tuple[str, int]] = field(default_factory=list)  # (event type, status)
    fail_next: StandInError | None = None
    fail_times: int = 1  # how many requests in a row fail_next answers
    _keys: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- running -----------------------------------------------------------------------

    def start(self) -> StripeStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                standin._post(self)

            def do_GET(self) -> None:
                standin._get(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- the API ------------------------------------------------------------------------

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode()
        path = urlsplit(handler.path).path
        if path.startswith("/pay/"):
            self._pay_form(handler, path.removeprefix("/pay/"), raw)
            return
        try:
            if path != "/v1/checkout/sessions":
                raise StandInError(404, f"Unrecognized request URL (POST: {path}).")
            self._authenticate(handler.headers.get("Authorization", ""))
            params = nested(parse_qsl(raw, keep_blank_values=True))
            self.requests.append(
                {"params": params, "headers": dict(handler.headers.items()), "raw": raw}
            )
            if self.fail_next is not None:
                error = self.fail_next
                self.fail_times -= 1
                if self.fail_times <= 0:
                    self.fail_next, self.fail_times = None, 1
                raise error
            session = self._create(params, handler.headers.get("Idempotency-Key", ""))
        except StandInError as error:
            self._json(handler, error.status, error.body())
            return
        self._json(handler, 200, {k: v for k, v in session.items() if k != "line_items_for_page"})

    def _authenticate(self, header: str) -> None:
        scheme, _sep, key = header.partition(" ")
        if scheme != "Bearer" or not key:
            raise StandInError(401, "You did not provide an API key.")
        if key != self.secret_key:
            raise StandInError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")

    def _create(self, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        with self._lock:
            if idempotency_key and idempotency_key in self._keys:
                return self.sessions[self._keys[idempotency_key]]
            session = self._validated(params)
            self.sessions[session["id"]] = session
            if idempotency_key:
                self._keys[idempotency_key] = session["id"]
            return session

    def _validated(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "payment":
            raise StandInError(400, "Missing required param: mode.", "mode")
        for name in ("success_url", "cancel_url"):
            if not str(params.get(name, "")).startswith(("http://", "https://")):
                raise StandInError(400, f"Not a valid URL: {name}", name)
        lines = params.get("line_items")
        if not isinstance(lines, list) or not lines:
            raise StandInError(400, "line_items is required in payment mode.", "line_items")
        currencies, total = set(), 0
        for index, line in enumerate(lines):
            data = line.get("price_data") or {}
            param = f"line_items[{index}][price_data][unit_amount]"
            try:
                amount = int(data.get("unit_amount", ""))
                quantity = int(line.get("quantity", "1"))
            except ValueError:
                raise StandInError(400, "Invalid integer: unit_amount", param) from None
            if amount < 1:
                raise StandInError(400, "This value must be greater than or equal to 1.", param)
            currency = str(data.get("currency", ""))
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise StandInError(400, f"Invalid currency: {currency}", param)
            if not (data.get("product_data") or {}).get("name"):
                raise StandInError(400, "Missing required param: product_data[name].", param)
            currencies.add(currency)
            total += amount * quantity
        if len(currencies) != 1:
            raise StandInError(400, "All line items must have the same currency.", "line_items")
        currency = currencies.pop()
        types = params.get("payment_method_types") or ["card"]
        for kind in types:
            if kind not in METHOD_TYPES:
                raise StandInError(
                    400, f"Invalid payment_method_types[0]: {kind}", "payment_method_types"
                )
        if "sepa_debit" in types and currency != "eur":
            raise StandInError(
                400,
                f"The payment method `sepa_debit` does not support currency `{currency}`.",
                "payment_method_types",
            )
        session_id = "cs_test_" + secrets.token_hex(24)
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params["cancel_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": int(time.time()),
            "currency": currency,
            "customer_email": params.get("customer_email"),
            "expires_at": int(time.time()) + 86400,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": params.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": types,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{self.url}/pay/{session_id}",
            "line_items_for_page": [
                ((line.get("price_data") or {}).get("product_data") or {}).get("name", "")
                for line in lines
            ],
        }

    # --- paying -------------------------------------------------------------------------

    def pay(self, session_id: str, method: str = "card") -> list[tuple[bytes, str]]:
        """Complete a session as a payer would; returns the signed events
        (body, Stripe-Signature header) Stripe would send."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_intent="pi_" + secrets.token_hex(12),
            payment_status="unpaid" if method == "sepa_debit" else "paid",
        )
        return [self.event("checkout.session.completed", session)]

    def settle_debit(self, session_id: str, succeeded: bool = True) -> tuple[bytes, str]:
        """The SEPA debit of a completed session went through (or failed)."""
        session = self.sessions[session_id]
        session["payment_status"] = "paid" if succeeded else "unpaid"
        kind = "succeeded" if succeeded else "failed"
        return self.event(f"checkout.session.async_payment_{kind}", session)

    def event(self, kind: str, obj: dict[str, Any], at: int | None = None) -> tuple[bytes, str]:
        now = int(time.time()) if at is None else at
        public = {k: v for k, v in obj.items() if k != "line_items_for_page"}
        envelope = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": API_VERSION,
            "created": now,
            "data": {"object": public},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        body = json.dumps(envelope).encode()
        return body, signature.header(body, self.webhook_secret, now)

    def deliver(self, body: bytes, header: str) -> int:
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.deliveries.append((json.loads(body)["type"], status))
        return status

    # --- the hosted page ----------------------------------------------------------------

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        session = self.sessions.get(path.removeprefix("/pay/"))
        if not path.startswith("/pay/") or session is None:
            self._json(handler, 404, StandInError(404, "No such page.").body())
            return
        exponent = 0 if session["currency"] in ZERO_DECIMAL else 2
        amount = f"{session['amount_total'] / 10**exponent:.{exponent}f}"
        items = "".join(f"<li>{html.escape(n)}</li>" for n in session["line_items_for_page"])
        methods = "".join(
            f'<label><input type="radio" name="method" value="{m}"{" checked" if i == 0 else ""}>'
            f" {m}</label> "
            for i, m in enumerate(session["payment_method_types"])
        )
        page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Stripe stand-in checkout</title></head><body>
<h1>Test checkout</h1><ul>{items}</ul>
<p id="amount">{amount} {session["currency"].upper()}</p>
<form method="post" action="/pay/{session["id"]}">{methods}
<button type="submit" id="pay">Pay</button></form>
<p><a href="{html.escape(session["cancel_url"])}">Back</a></p></body></html>"""
        data = page.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _pay_form(self, handler: BaseHTTPRequestHandler, session_id: str, raw: str) -> None:
        if session_id not in self.sessions:
            self._json(handler, 404, StandInError(404, "No such checkout session.").body())
            return
        method = dict(parse_qsl(raw)).get("method", "card")
        for body, header in self.pay(session_id, method):
            self.deliver(body, header)
        target = self.sessions[session_id]["success_url"].replace(
            "{CHECKOUT_SESSION_ID}", session_id
        )
        handler.send_response(303)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Request-Id", "req_" + secrets.token_hex(7))
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
