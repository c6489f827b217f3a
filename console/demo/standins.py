"""Loopback stand-ins of the providers, so that the demo shows delivery without an account.

- `SmtpSink`: an SMTP relay (aiosmtpd) that accepts every message and keeps a count.
- `GraphStandIn`: the WhatsApp Cloud API's `POST /{version}/{phone_number_id}/messages`
  (bearer token) answering a wamid as the Graph API does, then posting the documented
  status webhooks (sent, delivered, read), signed with the app secret in
  `X-Hub-Signature-256`, to Vista's webhook, a few seconds apart as a phone would.
- `channels_toml`: the channels file that points Vista's connectors at them.

`vista standins` runs both, and `vista serve` on the demo store to dispatch replies to them
and take their webhooks (console/cli/standins.py).
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from backends.providers import whatsapp

log = logging.getLogger("vista.standins")

GRAPH_VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
BUSINESS_ACCOUNT_ID = "102290129340398"

#: Seconds after the API accepted a message when its status webhooks are posted.
STATUS_DELAYS: tuple[tuple[str, float], ...] = (("sent", 0.5), ("delivered", 2.0), ("read", 5.0))


class SmtpSink:
    """An SMTP server on 127.0.0.1:`port` that accepts every message (and logs its id)."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller  # here: only `vista standins` runs one

        self.port = port
        self.received = 0
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received += 1
        log.info("smtp: accepted a message for %s", ", ".join(envelope.rcpt_tos))
        return "250 2.0.0 accepted"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def status_notification(wamid: str, recipient: str, status: str, at: float) -> dict[str, Any]:
    """The Cloud API's status webhook body for one message (one `statuses` entry)."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(at)),
        "recipient_id": recipient.lstrip("+"),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": BUSINESS_ACCOUNT_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": DISPLAY_NUMBER,
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "statuses": [entry],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def post_signed(url: str, app_secret: str, payload: dict[str, Any], timeout: float = 5.0) -> int:
    """POST `payload` to a webhook as Meta does (JSON, `X-Hub-Signature-256`); the status."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": whatsapp.signature(app_secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


class GraphStandIn:
    """The WhatsApp Cloud API on 127.0.0.1:`port` (`url` is its base, with the version).

    A send with the right token is answered with a fresh wamid; its status webhooks go
    to `webhook` (signed with `app_secret`) after `delays`. A wrong token gets the Graph
    API's documented 401. `GET /{version}/{phone_number_id}` answers the phone number
    object (`vista channels test`)."""

    def __init__(
        self,
        port: int,
        token: str,
        webhook: str,
        app_secret: str,
        *,
        delays: tuple[tuple[str, float], ...] = STATUS_DELAYS,
        post: Callable[[str, str, dict[str, Any]], int] = post_signed,
    ) -> None:
        self.token = token
        self.webhook = webhook
        self.app_secret = app_secret
        self.delays = delays
        self._post = post
        # wamids unique across runs too: a store keeps the ids of earlier runs' messages
        self._prefix = secrets.token_hex(6).upper()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                stand_in._handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/{GRAPH_VERSION}"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, name="graph", daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        number = f"/{GRAPH_VERSION}/{PHONE_NUMBER_ID}"
        if h.path not in (number, f"{number}/messages"):
            self._answer(h, 404, {"error": {"message": f"Unknown path {h.path}", "code": 100}})
            return
        if h.headers.get("authorization") != f"Bearer {self.token}":
            self._answer(
                h,
                401,
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                    }
                },
            )
            return
        if h.command == "GET":
            self._answer(
                h,
                200,
                {
                    "verified_name": "Vista demo shop",
                    "display_phone_number": f"+{DISPLAY_NUMBER}",
                    "id": PHONE_NUMBER_ID,
                    "quality_rating": "GREEN",
                },
            )
            return
        try:
            to = str(json.loads(body)["to"])
        except (ValueError, KeyError, TypeError):
            self._answer(h, 400, {"error": {"message": "(#100) Invalid parameter", "code": 100}})
            return
        wamid = f"wamid.DEMO{self._prefix}{next(self._ids):06d}"
        self._answer(
            h,
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                "messages": [{"id": wamid}],
            },
        )
        log.info("whatsapp: accepted %s for %s", wamid, to)
        self._schedule(wamid, to)

    def _schedule(self, wamid: str, to: str) -> None:
        with self._lock:
            for status, delay in self.delays:
                timer = threading.Timer(delay, self._report, (wamid, to, status))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
            self._timers = [t for t in self._timers if t.is_alive()]

    def _report(self, wamid: str, to: str, status: str) -> None:
        payload = status_notification(wamid, to, status, time.time())
        try:
            answer = self._post(self.webhook, self.app_secret, payload)
        except OSError as e:
            log.warning("whatsapp: status %s of %s not delivered to Vista: %s", status, wamid, e)
            return
        log.info("whatsapp: status %s of %s posted, Vista answered %s", status, wamid, answer)

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client went away


def channels_toml(smtp_port: int, graph_url: str, token_env: str) -> str:
    """The channels file for the stand-ins: e-mail to the sink, WhatsApp to the Graph
    stand-in (its token in `token_env`), dispatched at once."""
    return (
        "# Written by `vista standins`: the demo's loopback stand-ins of the providers.\n"
        "[dispatch]\n"
        "poll_seconds = 0.5\n"
        "backoff_seconds = 2\n"
        "max_attempts = 3\n\n"
        "[connectors.mail]\n"
        'type = "smtp"\n'
        'host = "127.0.0.1"\n'
        f"port = {smtp_port}\n"
        'security = "none"\n'
        'from = "Vista demo <care@vista-demo.example>"\n\n'
        "[connectors.whatsapp]\n"
        'type = "whatsapp"\n'
        f'phone_number_id = "{PHONE_NUMBER_ID}"\n'
        f'token_env = "{token_env}"\n'
        f'api_url = "{graph_url}"\n'
    )
