"""Stand-ins for the WhatsApp Cloud API and Twilio's Messages API on a loopback port.

Built from the providers' documented requests and answers: the Graph API's
`POST /{version}/{phone_number_id}/messages` (bearer token, JSON) answering
`{"messaging_product", "contacts", "messages": [{"id": "wamid..."}]}` and
`GET /{version}/{phone_number_id}` (the phone number object); Twilio's
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (Basic auth, form
fields) answering 201 with the message resource, and `GET .../Accounts/{sid}.json`.
A wrong credential gets each provider's documented 401. `faults` scripts the
next answers (a status and body, or a delay before the normal answer).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

GRAPH_VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_TOKEN = "EAAG-test-access-token"
ACCOUNT_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-api-auth-token-for-tests"


@dataclass(frozen=True)
class Fault:
    """One scripted answer: `status` with `body`, or (status 0) the normal answer late."""

    status: int = 0
    body: dict[str, Any] | None = None
    delay: float = 0.0


@dataclass
class Seen:
    """A request the stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class ProviderApi:
    """Both providers' APIs on one loopback server (`url` is its base)."""

    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __enter__(self) -> Self:
        api = self

        class Handler(BaseHTTPRequestHandler):
            # an answer is written as its headers then its body: without TCP_NODELAY the
            # body waits for the client's delayed ACK (40 ms)
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                api.handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                api.handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # `shutdown` waits up to one interval (0.5 s)
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def sends(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    def handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        seen = Seen(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        self.requests.append(seen)
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            self._answer(h, fault.status, fault.body or {})
            return
        status, answer = self._normal(seen)
        self._answer(h, status, answer)

    def _normal(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        whatsapp = f"/{GRAPH_VERSION}/{PHONE_NUMBER_ID}"
        twilio = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
        if seen.path in (whatsapp, f"{whatsapp}/messages"):
            if seen.headers.get("authorization") != f"Bearer {WHATSAPP_TOKEN}":
                return 401, {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AX8xa3MZ0cQ",
                    }
                }
            if seen.method == "GET":
                return 200, {
                    "verified_name": "Vista Shop",
                    "display_phone_number": "+1 555-078-3881",
                    "id": PHONE_NUMBER_ID,
                    "quality_rating": "GREEN",
                }
            to = seen.json()["to"]
            wamid = f"wamid.HBgL{next(self._ids):06d}FQIAERgS"
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        if seen.path in (f"{twilio}.json", f"{twilio}/Messages.json"):
            basic = base64.b64encode(f"{ACCOUNT_SID}:{TWILIO_TOKEN}".encode()).decode()
            if seen.headers.get("authorization") != f"Basic {basic}":
                return 401, {
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                }
            if seen.method == "GET":
                return 200, {
                    "sid": ACCOUNT_SID,
                    "friendly_name": "Vista test account",
                    "status": "active",
                    "type": "Full",
                }
            form = seen.form()
            return 201, {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "direction": "outbound-api",
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_segments": "1",
                "sid": f"SM{next(self._ids):032d}",
                "status": "queued",
                "to": form.get("To"),
                "error_code": None,
                "error_message": None,
            }
        return 404, {"message": f"no route {seen.method} {seen.path}"}

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


#: The Graph API's answer to a send to a number that cannot receive WhatsApp messages.
WHATSAPP_UNDELIVERABLE = {
    "error": {
        "message": "(#131026) Message Undeliverable.",
        "type": "OAuthException",
        "code": 131026,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "Message Undeliverable: the recipient is not a WhatsApp user",
        },
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
}

#: Twilio's answer to a send to a malformed number.
TWILIO_INVALID_TO = {
    "code": 21211,
    "message": "The 'To' number +3900 is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211",
    "status": 400,
}
