"""Replies leave Vista by WhatsApp and SMS: the connectors against stand-ins of the Cloud API
and Twilio on loopback (tests/provider_api.py), a real SQLite store, and the providers'
signed status webhooks on a live server with `vista serve`'s receipt hook."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.base import InvalidInput
from backends.channels import config
from backends.channels.connector import PermanentFailure, ProviderReceipt, TemporaryFailure
from backends.channels.dispatcher import Dispatcher, build_connector
from backends.channels.receipts import record
from backends.models import Channel, Delivery, QueueQuery, Role
from backends.providers import twilio, whatsapp
from backends.providers.delivery import DeliveryState, DeliveryUpdate
from backends.providers.settings import ChannelSettings
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox, template_parameters
from console.cli.channels import receipt_recorder
from tests.backends.live_server import LiveServer
from tests.conftest import NOW
from tests.provider_api import (
    ACCOUNT_SID,
    GRAPH_VERSION,
    PHONE_NUMBER_ID,
    TWILIO_INVALID_TO,
    TWILIO_TOKEN,
    WHATSAPP_TOKEN,
    WHATSAPP_UNDELIVERABLE,
    Fault,
    ProviderApi,
)
from tests.unit.test_channels_cli import vista

APP_SECRET = "wa-app-secret-for-receipts"
AUTH_TOKEN = "twilio-webhook-token-for-receipts"
WA_PHONE = "+393331234567"
SMS_PHONE = "+393339876543"
SENDER = "+15005550006"


class Clock:
    """The dispatcher's and the outbox's time, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api() -> Iterator[ProviderApi]:
    with ProviderApi() as server:
        yield server


@pytest.fixture
def backend(demo_db: Path) -> Iterator[SQLiteBackend]:
    b = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    yield b
    b.close()


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_WA_TOKEN", WHATSAPP_TOKEN)
    monkeypatch.setenv("TEST_TWILIO_TOKEN", TWILIO_TOKEN)


def write_channels(path: Path, api: ProviderApi, *, timeout: float = 5.0, extra: str = "") -> Path:
    path.write_text(
        "[dispatch]\nbackoff_seconds = 30\n\n"
        f'[connectors.wa]\ntype = "whatsapp"\nphone_number_id = "{PHONE_NUMBER_ID}"\n'
        f'token_env = "TEST_WA_TOKEN"\napi_url = "{api.url}/{GRAPH_VERSION}"\n'
        f'template_language = "en_US"\ntimeout = {timeout}\n\n'
        f'[connectors.sms]\ntype = "sms"\naccount_sid = "{ACCOUNT_SID}"\nfrom = "{SENDER}"\n'
        f'token_env = "TEST_TWILIO_TOKEN"\napi_url = "{api.url}"\ntimeout = {timeout}\n{extra}',
        "utf-8",
    )
    return path


def dispatcher(
    backend: SQLiteBackend, tmp_path: Path, api: ProviderApi, clock: Clock, **kw: Any
) -> Dispatcher:
    loaded = config.load(write_channels(tmp_path / "channels.toml", api, **kw))
    return Dispatcher.from_config(SQLiteOutbox(backend.store, clock=clock), loaded, clock=clock)


def phone_contact(
    backend: SQLiteBackend, demo_db: Path, channel: Channel, phone: str, hours_ago: float
) -> int:
    """An unassigned contact on `channel` whose customer last wrote from `phone` (the
    message is the contact's newest; the WhatsApp window counts from `hours_ago`)."""
    contact = backend.queue(QueueQuery(unassigned=True, channels=(channel,)), limit=1).contacts[0]
    at = int(NOW.timestamp() - hours_ago * 3600)
    with closing(sqlite3.connect(demo_db)) as db, db:
        db.execute(
            "INSERT INTO messages(contact_id, direction, channel, author, body, at, external_id) "
            "VALUES (?, 'inbound', ?, ?, 'Dov''è il mio ordine?', ?, ?)",
            (contact.id, channel.value, phone, int(NOW.timestamp()), f"in-{contact.id}"),
        )
        db.execute("UPDATE contacts SET last_inbound_at = ? WHERE id = ?", (at, contact.id))
    return contact.id


def delivery(backend: SQLiteBackend, contact_id: int) -> tuple[Delivery | None, str | None]:
    last = backend.get_contact(contact_id).messages[-1]
    return last.delivery, last.failure


def test_a_whatsapp_and_an_sms_reply_go_out_as_the_providers_document(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=2)
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=2)
    wa_reply = backend.reply(wa, "Il suo ordine è partito ieri. 📦")
    backend.reply(sms, "Ordine spedito, arriva domani.")
    assert wa_reply.delivery is Delivery.QUEUED and api.sends == []

    callback = 'status_callback = "https://vista.example.com/api/v1/channels/sms/webhook"\n'
    report = dispatcher(backend, tmp_path, api, Clock(), extra=callback).drain()
    assert (report.sent, report.retried, report.failed) == (2, 0, 0)
    by_path = {r.path: r for r in api.sends}
    sent_wa = by_path[f"/{GRAPH_VERSION}/{PHONE_NUMBER_ID}/messages"]
    assert sent_wa.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert sent_wa.headers["content-type"] == "application/json"
    assert sent_wa.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_PHONE.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": "Il suo ordine è partito ieri. 📦"},
    }
    sent_sms = by_path[f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"]
    assert sent_sms.headers["authorization"].startswith("Basic ")
    assert sent_sms.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent_sms.form() == {
        "To": SMS_PHONE,
        "From": SENDER,
        "Body": "Ordine spedito, arriva domani.",
        "StatusCallback": "https://vista.example.com/api/v1/channels/sms/webhook",
    }
    # the provider's id of the message is what its status webhooks will name
    wa_msg = backend.get_contact(wa).messages[-1]
    assert wa_msg.delivery is Delivery.SENT and wa_msg.external_id.startswith("wamid.")
    sms_msg = backend.get_contact(sms).messages[-1]
    assert sms_msg.delivery is Delivery.SENT and sms_msg.external_id.startswith("SM")
    assert WHATSAPP_TOKEN not in repr(config.load(tmp_path / "channels.toml"))


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_or_a_throttle_is_retried_then_sent(
    backend: SQLiteBackend,
    demo_db: Path,
    tmp_path: Path,
    api: ProviderApi,
    tokens: None,
    status: int,
) -> None:
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=1)
    backend.reply(wa, "Un attimo, verifico.")
    api.faults.append(
        Fault(status, {"error": {"message": "Service temporarily unavailable", "code": 2}})
    )
    clock = Clock()
    d = dispatcher(backend, tmp_path, api, clock)
    first = d.drain()
    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    assert delivery(backend, wa) == (Delivery.QUEUED, None)
    assert d.drain().claimed == 0  # waits for its backoff
    clock.now += 30
    again = d.drain()
    assert again.sent == 1 and len(api.sends) == 2
    assert delivery(backend, wa) == (Delivery.SENT, None)


def test_a_refusal_fails_the_message_with_the_providers_words(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=1)
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=1)
    backend.reply(wa, "Buongiorno")
    api.faults.append(Fault(400, WHATSAPP_UNDELIVERABLE))
    d = dispatcher(backend, tmp_path, api, Clock())
    assert d.drain().failed == 1
    state, reason = delivery(backend, wa)
    assert state is Delivery.FAILED
    assert reason is not None and reason.startswith("HTTP 400: 131026")
    assert "not a WhatsApp user" in reason

    backend.reply(sms, "Buongiorno")
    api.faults.append(Fault(400, TWILIO_INVALID_TO))
    assert d.drain().failed == 1
    state, reason = delivery(backend, sms)
    assert state is Delivery.FAILED
    assert reason == "HTTP 400: error 21211: The 'To' number +3900 is not a valid phone number."
    assert len(api.sends) == 2  # never tried again


def test_a_slow_provider_times_out_and_is_retried(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=1)
    backend.reply(sms, "Arrivo!")
    api.faults.append(Fault(delay=1.5))
    clock = Clock()
    d = dispatcher(backend, tmp_path, api, clock, timeout=0.3)
    assert d.drain().retried == 1
    with closing(sqlite3.connect(demo_db)) as db:
        error = db.execute("SELECT last_error FROM outbox ORDER BY message_id DESC").fetchone()[0]
    assert error == f"{api.url.removeprefix('http://')} did not answer within 0.3 s"
    clock.now += 30
    assert d.drain().sent == 1


def test_a_wrong_or_missing_token_waits_for_a_fix(
    backend: SQLiteBackend,
    demo_db: Path,
    tmp_path: Path,
    api: ProviderApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_WA_TOKEN", "expired")
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=1)
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=1)
    backend.reply(wa, "Ciao")
    backend.reply(sms, "Ciao")
    outcomes: list[tuple[str, str]] = []
    loaded = config.load(write_channels(tmp_path / "channels.toml", api))
    d = Dispatcher.from_config(
        SQLiteOutbox(backend.store), loaded, on_result=lambda m, o, why: outcomes.append((o, why))
    )
    d.drain()
    assert sorted(outcomes) == [
        (
            "retry",
            "authentication refused: 190 Invalid OAuth access token - Cannot parse access token",
        ),
        ("retry", "the environment variable TEST_TWILIO_TOKEN is not set"),
    ]


def test_outside_the_window_an_approved_template_goes_out_as_a_template_message(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    with closing(sqlite3.connect(demo_db)) as db, db:
        db.execute(
            "INSERT INTO templates(name, channel, language, whatsapp_approved, body) "
            "VALUES ('order_shipped', 'whatsapp', 'it', 1, "
            "'Ciao {first_name}, il suo ordine è partito.')"
        )
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=72)
    with pytest.raises(InvalidInput, match="24-hour window"):
        backend.reply(wa, "Testo libero")
    backend.set_consent(backend.get_contact(wa).contact.customer_id, "whatsapp", True)
    reply = backend.reply(wa, "", template="order_shipped")
    name = backend.get_customer(backend.get_contact(wa).contact.customer_id).first_name
    assert reply.body == f"Ciao {name}, il suo ordine è partito."

    assert dispatcher(backend, tmp_path, api, Clock()).drain().sent == 1
    assert api.sends[0].json()["type"] == "template"
    assert api.sends[0].json()["template"] == {
        "name": "order_shipped",
        "language": {"code": "it"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": name}]}],
    }


def test_the_dispatcher_refuses_a_proactive_message_whose_consent_was_withdrawn(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    with closing(sqlite3.connect(demo_db)) as db, db:
        db.execute(
            "INSERT INTO templates(name, channel, language, whatsapp_approved, body) "
            "VALUES ('order_shipped', 'whatsapp', 'it', 1, 'Il suo ordine è partito.')"
        )
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=72)
    customer = backend.get_contact(wa).contact.customer_id
    backend.set_consent(customer, "whatsapp", True)
    backend.reply(wa, "", template="order_shipped")  # queued with consent
    backend.set_consent(customer, "whatsapp", False)  # withdrawn before it went out
    report = dispatcher(backend, tmp_path, api, Clock()).drain()
    assert (report.sent, report.failed, api.sends) == (0, 1, [])
    state, reason = delivery(backend, wa)
    assert state is Delivery.FAILED and reason is not None and "no whatsapp consent" in reason
    # (a reply within the window goes out without consent: see the first test above)


def test_template_parameters_are_the_filled_variables_in_order() -> None:
    body = "Ciao {first_name}, ordine {last_order.number}: {last_order.status}."
    assert template_parameters("Ciao Anna, ordine 42: spedito.", body) == ("Anna", "42", "spedito")
    assert template_parameters("Ciao Anna, ordine 42: spedito!", body) is None
    assert template_parameters("Ciao Anna\nRossi, ordine 42: spedito.", body) is None
    assert template_parameters("Nessuna variabile", "Nessuna variabile") == ()


def test_channels_toml_checks_the_api_connectors(tmp_path: Path, api: ProviderApi) -> None:
    path = write_channels(tmp_path / "channels.toml", api)
    loaded = config.load(path)
    wa, sms = loaded.connectors
    assert (wa.kind, sms.kind) == ("whatsapp", "sms")
    assert wa.channels == {Channel.WHATSAPP} and sms.channels == {Channel.SMS}
    bad = {
        'token = "EAAG"': "does not belong in the file",
        'api_url = "ftp://x"': "api_url must start with",
        'phone_number_id = "me"': "phone_number_id must be",
        'token_file = "t"': "token_env or token_file, not both",
        'channels = ["sms"]': "carries only the whatsapp channel",
    }
    for line, words in bad.items():
        key = line.split(" ")[0]
        text = path.read_text().replace("[connectors.sms]", f"{line}\n\n[connectors.sms]")
        if key in ("api_url", "phone_number_id"):
            text = "\n".join(
                ln for ln in text.splitlines() if not ln.startswith(f"{key} =") or ln == line
            )
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(InvalidInput, match=words):
            config.load(tmp_path / "bad.toml")
    no_from = path.read_text().replace(f'from = "{SENDER}"\n', "")
    (tmp_path / "bad.toml").write_text(no_from)
    with pytest.raises(InvalidInput, match="messaging_service_sid"):
        config.load(tmp_path / "bad.toml")
    no_version = path.read_text().replace(f'/{GRAPH_VERSION}"', '"')
    (tmp_path / "bad.toml").write_text(no_version)
    with pytest.raises(InvalidInput, match="Graph API version"):
        config.load(tmp_path / "bad.toml")


def test_check_asks_each_provider_a_harmless_question(
    tmp_path: Path, api: ProviderApi, tokens: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = config.load(write_channels(tmp_path / "channels.toml", api))
    wa, sms = (build_connector(c) for c in loaded.connectors)
    assert "+1 555-078-3881 (Vista Shop)" in wa.check()
    assert "Vista test account (active)" in sms.check()
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", f"/{GRAPH_VERSION}/{PHONE_NUMBER_ID}"),
        ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"),
    ]
    monkeypatch.setenv("TEST_TWILIO_TOKEN", "wrong")
    with pytest.raises(TemporaryFailure, match="authentication refused: Authenticate"):
        sms.check()
    api.faults.append(Fault(404, {"error": {"message": "Unsupported get request", "code": 100}}))
    with pytest.raises(PermanentFailure, match="HTTP 404: Unsupported get request"):
        wa.check()
    wa.close()
    sms.close()


def test_status_webhooks_and_bounces_mark_the_messages_delivered_read_or_failed(
    backend: SQLiteBackend, demo_db: Path, tmp_path: Path, api: ProviderApi, tokens: None
) -> None:
    wa = phone_contact(backend, demo_db, Channel.WHATSAPP, WA_PHONE, hours_ago=1)
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=1)
    backend.reply(wa, "Spedito oggi.")
    backend.reply(sms, "Spedito oggi.")
    assert dispatcher(backend, tmp_path, api, Clock()).drain().sent == 2
    wamid = backend.get_contact(wa).messages[-1].external_id
    sid = backend.get_contact(sms).messages[-1].external_id
    email = backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
    mail_contact = email.contacts[0].id
    mailed = backend.reply(mail_contact, "Le scrivo per l'ordine.")
    with closing(sqlite3.connect(demo_db)) as db, db:  # as the SMTP connector's receipt stamps it
        db.execute(
            "UPDATE outbox SET status = 'sent', provider_id = '<vista.r1@shop.example>' "
            "WHERE message_id = ?",
            (mailed.id,),
        )
        db.execute(
            "UPDATE messages SET delivery = 'sent', external_id = '<vista.r1@shop.example>' "
            "WHERE id = ?",
            (mailed.id,),
        )

    settings = ChannelSettings(whatsapp_app_secret=APP_SECRET, twilio_auth_token=AUTH_TOKEN)
    hooks: list[object] = []
    live = LiveServer(demo_db, channels=settings, on_delivery_update=lambda u: hooks[0](u))
    hooks.append(receipt_recorder(live.hub))  # what `vista serve` passes create_app
    live.start()
    try:

        def status(state: str, at: int) -> httpx.Response:
            body = (
                '{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{'
                '"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [{'
                f'"id": "{wamid}", "status": "{state}", "timestamp": "{at}", '
                f'"recipient_id": "{WA_PHONE[1:]}"}}]}}}}]}}]}}'
            ).encode()
            return httpx.post(
                live.url + "/api/v1/channels/whatsapp/webhook",
                content=body,
                headers={
                    "content-type": "application/json",
                    "x-hub-signature-256": whatsapp.signature(APP_SECRET, body),
                },
            )

        now = int(NOW.timestamp())
        assert status("delivered", now - 50).status_code == 200
        assert delivery(backend, wa) == (Delivery.DELIVERED, None)
        assert status("read", now - 40).status_code == 200
        assert delivery(backend, wa) == (Delivery.READ, None)
        assert status("delivered", now - 30).status_code == 200  # late news never moves it back
        assert delivery(backend, wa) == (Delivery.READ, None)

        form = {
            "MessageSid": sid or "",
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
            "To": SMS_PHONE,
            "From": SENDER,
            "AccountSid": ACCOUNT_SID,
        }
        url = live.url + "/api/v1/channels/sms/webhook"
        signed = {"x-twilio-signature": twilio.signature(AUTH_TOKEN, url, form.items())}
        assert httpx.post(url, data=form, headers=signed).status_code == 200
        assert delivery(backend, sms) == (Delivery.FAILED, "error 30003")

        bounce = (
            Path(__file__).parents[1] / "providers" / "fixtures" / "email" / "bounce.eml"
        ).read_bytes()
        bounce = bounce.replace(b"<vista-reply-43@vista.example>", b"<vista.r1@shop.example>")
        token = live.token("mail-gateway", Role.OPERATOR)
        answer = httpx.post(
            live.url + "/api/v1/channels/email/inbound",
            content=bounce,
            headers={"authorization": f"Bearer {token}", "content-type": "message/rfc822"},
        )
        assert answer.status_code == 200 and answer.json()["kind"] == "bounce"
        state, reason = delivery(backend, mail_contact)
        assert state is Delivery.FAILED and reason is not None and "User unknown" in reason
        with closing(sqlite3.connect(demo_db)) as db:
            assert db.execute(
                "SELECT status FROM outbox WHERE message_id = ?", (mailed.id,)
            ).fetchone() == ("failed",)
    finally:
        live.stop()


def test_channels_list_and_test_show_the_api_connectors_never_their_tokens(
    tmp_path: Path, api: ProviderApi
) -> None:
    path = write_channels(tmp_path / "channels.toml", api)
    env = {"TEST_WA_TOKEN": WHATSAPP_TOKEN, "TEST_TWILIO_TOKEN": TWILIO_TOKEN}
    listed = vista("channels", "list", "--channels", str(path), "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["type"], r["channels"]) for r in rows] == [
        ("wa", "whatsapp", ["whatsapp"]),
        ("sms", "sms", ["sms"]),
    ]
    assert rows[0]["password"] == "$TEST_WA_TOKEN (set)"
    assert rows[1]["server"] == api.url and rows[1]["from"] == SENDER
    assert WHATSAPP_TOKEN not in listed.stdout and TWILIO_TOKEN not in listed.stdout

    tested = vista("channels", "test", "wa", "--channels", str(path), env=env)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith("wa: ok, ") and "(Vista Shop)" in tested.stdout
    refused = vista(
        "channels", "test", "sms", "--channels", str(path), env={**env, "TEST_TWILIO_TOKEN": "x"}
    )
    assert refused.returncode == 1
    assert "sms: authentication refused: Authenticate" in refused.stderr
    assert api.sends == []  # nothing was sent


def test_receipts_move_a_message_forward_and_a_failure_never_unreads_it(
    backend: SQLiteBackend, demo_db: Path
) -> None:
    sms = phone_contact(backend, demo_db, Channel.SMS, SMS_PHONE, hours_ago=1)
    sent = backend.reply(sms, "Ecco.")
    outbox = SQLiteOutbox(backend.store)
    outbox.sent(sent.id, ProviderReceipt("<vista.7@shop.example>"))
    update = partial(DeliveryUpdate, "email", "vista.7@shop.example")
    assert record(outbox, update(DeliveryState.QUEUED)) is False  # nothing new
    assert record(outbox, update(DeliveryState.DELIVERED)) is True  # without <>, as bounces say
    assert delivery(backend, sms) == (Delivery.DELIVERED, None)
    assert record(outbox, update(DeliveryState.SENT)) is True
    assert delivery(backend, sms) == (Delivery.DELIVERED, None)  # never back
    assert record(outbox, update(DeliveryState.READ)) is True
    assert record(outbox, update(DeliveryState.FAILED, "5.1.1 late bounce")) is True
    assert delivery(backend, sms) == (Delivery.READ, None)
    assert outbox.record_failure("SMunknown", "30003") is False
    assert outbox.record_receipt("SMunknown", Delivery.READ) is False
