"""Channel webhooks against a real `vista serve` app on loopback, with known test secrets.

Two servers for the session: `channels` has every secret and no public URL (the
signed URL is the one the request used); `proxied` has only the SMS secret and a
public base URL, as behind a reverse proxy. Each records the delivery updates its
hook receives.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from backends.models import Contact, QueueQuery, Role
from backends.providers import twilio, whatsapp
from backends.providers.delivery import DeliveryUpdate
from backends.providers.settings import ChannelSettings
from tests.backends.live_server import LiveServer
from tests.conftest import NOW
from tests.providers.dovecot import dovecot  # noqa: F401 - fixture

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "wa-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC_URL = "https://vista.example.com/support"
EMAIL_MAX_BYTES = 64_000
WHATSAPP_PATH = "/api/v1/channels/whatsapp/webhook"
SMS_PATH = "/api/v1/channels/sms/webhook"
EMAIL_PATH = "/api/v1/channels/email/inbound"


@dataclass
class ChannelServer:
    live: LiveServer
    updates: list[DeliveryUpdate] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.live.url

    def message_count(self) -> int:
        """Messages in the served store (read from the file itself)."""
        with closing(sqlite3.connect(self.live.db)) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def queued(self, contact_id: int) -> Contact | None:
        """The contact as an operator's queue shows it (through the API), or None."""
        backend = self.live.backend_for("giulia")
        try:
            page = backend.queue(QueueQuery(), limit=500)
        finally:
            backend.close()
        return next((c for c in page.contacts if c.id == contact_id), None)

    def post_whatsapp(
        self, body: bytes, *, secret: str = APP_SECRET, signature: str | None = None
    ) -> httpx.Response:
        sig = whatsapp.signature(secret, body) if signature is None else signature
        headers = {"content-type": "application/json"}
        if sig:
            headers["x-hub-signature-256"] = sig
        return httpx.post(self.url + WHATSAPP_PATH, content=body, headers=headers)

    def post_sms(
        self,
        form: dict[str, str],
        *,
        signed_url: str | None = None,
        token: str = AUTH_TOKEN,
        signature: str | None = None,
    ) -> httpx.Response:
        url = self.url + SMS_PATH if signed_url is None else signed_url
        sig = twilio.signature(token, url, form.items()) if signature is None else signature
        headers = {"x-twilio-signature": sig} if sig else {}
        return httpx.post(self.url + SMS_PATH, data=form, headers=headers)

    def post_email(self, raw: bytes, *, role: Role = Role.OPERATOR) -> httpx.Response:
        token = self.live.token("mail-gateway", role)
        headers = {"authorization": f"Bearer {token}", "content-type": "message/rfc822"}
        return httpx.post(self.url + EMAIL_PATH, content=raw, headers=headers)


#: The documented examples' send times (April 2025) are moved to an hour before the tests'
#: clock: a server refuses messages sent more than 30 days before its own time.
_SENT = str(int(NOW.timestamp()) - 3600).encode()


def fixture_bytes(name: str) -> bytes:
    return re.sub(
        rb'"timestamp": "\d+"', b'"timestamp": "' + _SENT + b'"', (FIXTURES / name).read_bytes()
    )


def fixture_form(name: str) -> dict[str, str]:
    return dict(json.loads((FIXTURES / name).read_text()))


def _start(demo_template: Path, tmp: Path, settings: ChannelSettings) -> Iterator[ChannelServer]:
    first = tmp / "first.db"
    shutil.copy(demo_template, first)
    updates: list[DeliveryUpdate] = []
    live = LiveServer(first, channels=settings, on_delivery_update=updates.append)
    live.start()
    yield ChannelServer(live, updates)
    live.stop()


@pytest.fixture(scope="session")
def channels_server(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChannelServer]:
    settings = ChannelSettings(
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        twilio_auth_token=AUTH_TOKEN,
        email_max_bytes=EMAIL_MAX_BYTES,
    )
    yield from _start(demo_template, tmp_path_factory.mktemp("channels"), settings)


@pytest.fixture(scope="session")
def proxied_server(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChannelServer]:
    settings = ChannelSettings(twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    yield from _start(demo_template, tmp_path_factory.mktemp("proxied"), settings)


@pytest.fixture
def channels(channels_server: ChannelServer, demo_db: Path) -> ChannelServer:
    """The full server on a fresh store, its hook's record emptied."""
    channels_server.live.serve(demo_db)
    channels_server.updates.clear()
    return channels_server


@pytest.fixture
def proxied(proxied_server: ChannelServer, demo_db: Path) -> ChannelServer:
    proxied_server.live.serve(demo_db)
    proxied_server.updates.clear()
    return proxied_server
