"""WhatsApp Business webhooks on a live server: subscription check, signatures, messages, statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backends.models import Channel
from backends.providers import whatsapp
from backends.providers.delivery import DeliveryState
from tests.conftest import NOW
from tests.providers.conftest import (
    APP_SECRET,
    VERIFY_TOKEN,
    WHATSAPP_PATH,
    ChannelServer,
    fixture_bytes,
)

#: Each documented message type and the words the operator sees for it.
MESSAGES = {
    "text.json": "Does it come in another color?",
    "image.json": "[image: image/jpeg, media id 1003383421387256] Black jacket",
    "document.json": (
        "[document: lucky-shrub-invoice.pdf, application/pdf, media id 1003383421387256] "
        "Lucky Shrub Invoice"
    ),
    "audio.json": "[audio: audio/ogg; codecs=opus, media id 1003383421387256, voice note]",
    "interactive_button_reply.json": "[button] Cancel (id cancel-button)",
    "interactive_list_reply.json": (
        "[list choice] Priority Mail Express - Next Day to 2 Days (id priority_express)"
    ),
    "button.json": "[button] Unsubscribe from Promos (payload Unsubscribe from Promos)",
}


def _verify(server: ChannelServer, **params: str) -> httpx.Response:
    return httpx.get(server.url + WHATSAPP_PATH, params=params)


def test_subscription_check_echoes_the_challenge_only_for_our_token(
    channels: ChannelServer,
) -> None:
    ok = _verify(
        channels,
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = _verify(
        channels,
        **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN + "x", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403 and VERIFY_TOKEN not in wrong.text
    mode = _verify(
        channels,
        **{"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    )
    assert mode.status_code == 403
    assert _verify(channels).status_code == 403


@pytest.mark.parametrize("fixture", sorted(MESSAGES))
def test_each_documented_message_becomes_a_queued_contact(
    channels: ChannelServer, fixture: str
) -> None:
    answer = channels.post_whatsapp(fixture_bytes(f"whatsapp/{fixture}"))
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"skipped": []} == {
        "delivered": 1,
        "duplicates": 0,
        "rejected": [],
        "updates": 0,
        "skipped": [],
    }
    backend = channels.live.backend_for("giulia")
    try:
        view = backend.customer_view(backend.search_customers("Sheena Nelson")[0].id)
        assert view.customer.phones == ("+16505551234",)
        event = view.timeline.events[0]
        assert event.channel == "whatsapp" and event.payload["body"] == MESSAGES[fixture]
        contact_id = event.contact_id
        assert contact_id is not None
        detail = backend.get_contact(contact_id)
    finally:
        backend.close()
    assert detail.messages[-1].body == MESSAGES[fixture]
    payload = json.loads(fixture_bytes(f"whatsapp/{fixture}"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    sent = datetime.fromtimestamp(int(message["timestamp"]), UTC)
    assert detail.messages[-1].at == sent
    queued = channels.queued(contact_id)
    assert queued is not None and queued.channel is Channel.WHATSAPP


def test_a_redelivered_notification_is_stored_once(channels: ChannelServer) -> None:
    body = fixture_bytes("whatsapp/text.json")
    before = channels.message_count()
    first = channels.post_whatsapp(body).json()
    again = channels.post_whatsapp(body).json()
    assert (first["delivered"], first["duplicates"]) == (1, 0)
    assert (again["delivered"], again["duplicates"]) == (0, 1)
    assert channels.message_count() == before + 1


def test_a_forged_or_missing_signature_stores_nothing(channels: ChannelServer) -> None:
    body = fixture_bytes("whatsapp/text.json")
    before = channels.message_count()
    forged = channels.post_whatsapp(body, secret="not-the-app-secret")
    assert forged.status_code == 403
    missing = channels.post_whatsapp(body, signature="")
    assert missing.status_code == 401
    tampered_body = body.replace(b"another color", b"a free refund")
    tampered = channels.post_whatsapp(tampered_body, signature=whatsapp.signature(APP_SECRET, body))
    assert tampered.status_code == 403
    not_hex = channels.post_whatsapp(body, signature="sha256=zz")
    assert not_hex.status_code == 403
    assert channels.message_count() == before
    assert APP_SECRET not in forged.text + missing.text + tampered.text
    good = channels.post_whatsapp(body)  # the same body, rightly signed, goes in
    assert good.status_code == 200 and channels.message_count() == before + 1


def test_statuses_reach_the_delivery_hook_and_store_nothing(channels: ChannelServer) -> None:
    before = channels.message_count()
    answer = channels.post_whatsapp(fixture_bytes("whatsapp/statuses.json"))
    assert answer.status_code == 200 and answer.json()["updates"] == 3
    wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"
    assert [(u.provider, u.provider_message_id, u.state) for u in channels.updates] == [
        ("whatsapp", wamid, DeliveryState.SENT),
        ("whatsapp", wamid, DeliveryState.DELIVERED),
        ("whatsapp", wamid, DeliveryState.READ),
    ]
    assert channels.updates[0].at == NOW - timedelta(hours=1)  # the fixtures are moved there
    channels.updates.clear()
    failed = channels.post_whatsapp(fixture_bytes("whatsapp/status_failed.json"))
    assert failed.status_code == 200
    (update,) = channels.updates
    assert update.state is DeliveryState.FAILED
    assert update.reason.startswith("131047 Re-engagement message: Message failed to send")
    assert channels.message_count() == before


def test_a_message_the_store_refuses_is_listed_and_the_rest_go_in(
    channels: ChannelServer,
) -> None:
    payload = json.loads(fixture_bytes("whatsapp/text.json"))
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    bad = dict(messages[0], id="wamid.bad", **{"from": "12"})
    messages.insert(0, bad)
    answer = channels.post_whatsapp(json.dumps(payload).encode())
    assert answer.status_code == 200  # a 5xx would make Meta retry a hopeless message
    body = answer.json()
    assert body["delivered"] == 1 and [r["id"] for r in body["rejected"]] == ["wamid.bad"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"object": "page", "entry": []}'],
)
def test_a_signed_body_that_is_not_a_whatsapp_notification_is_refused(
    channels: ChannelServer, body: bytes
) -> None:
    answer = channels.post_whatsapp(body)
    assert answer.status_code == 400


def test_other_fields_are_skipped_not_refused(channels: ChannelServer) -> None:
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}
            ],
        }
    ).encode()
    answer = channels.post_whatsapp(body)
    assert answer.status_code == 200 and answer.json()["skipped"] == [
        "message_template_status_update"
    ]


def test_an_unconfigured_whatsapp_webhook_answers_503_naming_the_variable(
    proxied: ChannelServer,
) -> None:
    body = fixture_bytes("whatsapp/text.json")
    before = proxied.message_count()
    answer = proxied.post_whatsapp(body)
    assert answer.status_code == 503
    assert "VISTA_WHATSAPP_APP_SECRET" in answer.json()["error"]["message"]
    check = _verify(
        proxied, **{"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )
    assert check.status_code == 503 and "VISTA_WHATSAPP_VERIFY_TOKEN" in check.text
    assert proxied.message_count() == before


def test_a_read_only_server_refuses_webhook_messages(channels: ChannelServer) -> None:
    before = channels.message_count()
    channels.live.hub.read_only = True
    try:
        answer = channels.post_whatsapp(fixture_bytes("whatsapp/text.json"))
    finally:
        channels.live.hub.read_only = False
    assert answer.status_code == 403 and channels.message_count() == before
