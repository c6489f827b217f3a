"""Twilio-style SMS webhooks on a live server: signatures over the URL, messages, statuses."""

from __future__ import annotations

import httpx
import pytest

from backends.models import Channel
from backends.providers import twilio
from backends.providers.delivery import DeliveryState
from tests.providers.conftest import (
    AUTH_TOKEN,
    PUBLIC_URL,
    SMS_PATH,
    ChannelServer,
    fixture_form,
)

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("sms/incoming_sms.json", "Hello! Is my order on its way?"),
        (
            "sms/incoming_mms.json",
            (
                "The box arrived like this\n[attachment: image/jpeg https://api.twilio.com/"
                "2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/"
                "MM8a3a8c5a0b7b4e0c9f2d1e3f4a5b6c7d/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f]"
            ),
        ),
    ],
)
def test_an_incoming_message_becomes_a_queued_sms_contact(
    channels: ChannelServer, fixture: str, text: str
) -> None:
    form = fixture_form(fixture)
    answer = channels.post_sms(form)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml") and answer.text == TWIML
    backend = channels.live.backend_for("giulia")
    try:
        view = backend.customer_view(backend.search_customers("+14158675309")[0].id)
        assert view.customer.phones == ("+14158675309",)
        event = view.timeline.events[0]
        assert event.channel == "sms" and event.payload["body"] == text
        assert event.payload["external_id"] == form["MessageSid"]
        assert event.contact_id is not None
    finally:
        backend.close()
    queued = channels.queued(event.contact_id)
    assert queued is not None and queued.channel is Channel.SMS


def test_a_redelivered_sms_is_stored_once(channels: ChannelServer) -> None:
    form = fixture_form("sms/incoming_sms.json")
    before = channels.message_count()
    assert channels.post_sms(form).status_code == 200
    assert channels.post_sms(form).status_code == 200
    assert channels.message_count() == before + 1


def test_a_forged_or_missing_signature_stores_nothing(channels: ChannelServer) -> None:
    form = fixture_form("sms/incoming_sms.json")
    before = channels.message_count()
    assert channels.post_sms(form, token="not-the-auth-token").status_code == 403
    assert channels.post_sms(form, signature="").status_code == 401
    # signed for another URL (a query parameter added), or a parameter changed after signing
    assert channels.post_sms(form, signed_url=channels.url + SMS_PATH + "?x=1").status_code == 403
    tampered = channels.post_sms(
        {**form, "Body": "Refund me"}, signature=_signature_of(channels, form)
    )
    assert tampered.status_code == 403 and AUTH_TOKEN not in tampered.text
    assert channels.message_count() == before


def _signature_of(server: ChannelServer, form: dict[str, str]) -> str:
    return twilio.signature(AUTH_TOKEN, server.url + SMS_PATH, form.items())


def test_status_callbacks_reach_the_delivery_hook(channels: ChannelServer) -> None:
    before = channels.message_count()
    delivered = channels.post_sms(fixture_form("sms/status_delivered.json"))
    undelivered = channels.post_sms(fixture_form("sms/status_undelivered.json"))
    assert delivered.status_code == undelivered.status_code == 200
    assert [(u.provider, u.provider_message_id, u.state, u.reason) for u in channels.updates] == [
        ("sms", "SM2xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", DeliveryState.DELIVERED, ""),
        ("sms", "SM3xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", DeliveryState.FAILED, "error 30003"),
    ]
    assert channels.message_count() == before


def test_the_signature_covers_the_public_url_behind_a_proxy(proxied: ChannelServer) -> None:
    form = fixture_form("sms/incoming_sms.json")
    before = proxied.message_count()
    as_seen_here = proxied.post_sms(form)  # signed for the loopback URL: not what Twilio called
    assert as_seen_here.status_code == 403
    public = proxied.post_sms(form, signed_url=PUBLIC_URL + SMS_PATH)
    assert public.status_code == 200 and proxied.message_count() == before + 1


def test_a_webhook_that_is_not_a_form_is_refused(channels: ChannelServer) -> None:
    answer = httpx.post(
        channels.url + SMS_PATH,
        json={"From": "+14158675309", "Body": "hi"},
        headers={"x-twilio-signature": "x"},
    )
    assert answer.status_code == 400 and "x-www-form-urlencoded" in answer.text


def test_a_signed_form_without_message_sid_is_refused(channels: ChannelServer) -> None:
    answer = channels.post_sms({"From": "+14158675309", "Body": "hi"})
    assert answer.status_code == 400 and "MessageSid" in answer.text
