"""The providers' pure parts: signature schemes against published vectors, send requests,
send answers, settings."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import pytest

from backends.base import InvalidInput
from backends.providers import twilio, whatsapp
from backends.providers.mail import html_to_text
from backends.providers.settings import DEFAULT_EMAIL_MAX_BYTES, ChannelSettings

#: Twilio's documented request-validation example (auth token 12345), with the three
#: caller numbers its docs and SDK test suites have used over time.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
    ],
)
def test_twilio_signature_matches_the_documented_vectors(caller: str, expected: str) -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": caller,
        "Digits": "1234",
        "From": caller,
        "To": "+18005551212",
    }
    assert twilio.signature("12345", TWILIO_URL, params.items()) == expected
    assert twilio.signature_valid("12345", TWILIO_URL, reversed(params.items()), expected)
    assert not twilio.signature_valid(
        "12345", TWILIO_URL, {**params, "Digits": "9"}.items(), expected
    )
    assert not twilio.signature_valid("54321", TWILIO_URL, params.items(), expected)
    assert not twilio.signature_valid("", TWILIO_URL, params.items(), expected)
    assert not twilio.signature_valid("12345", TWILIO_URL, params.items(), "")


def test_hub_signature_matches_the_published_vector() -> None:
    # GitHub documents this vector for the same scheme (X-Hub-Signature-256, hex HMAC-SHA256).
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert whatsapp.signature("It's a Secret to Everybody", b"Hello, World!") == expected
    assert whatsapp.signature_valid("It's a Secret to Everybody", b"Hello, World!", expected)
    assert not whatsapp.signature_valid("It's a Secret to Everybody", b"Hello, World?", expected)
    assert not whatsapp.signature_valid("", b"Hello, World!", expected)
    assert not whatsapp.signature_valid(
        "It's a Secret to Everybody", b"Hello, World!", expected.removeprefix("sha256=")
    )


def test_verify_subscription_needs_mode_and_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "t0k", "hub.challenge": "42"}
    assert whatsapp.verify_subscription(query, "t0k") == "42"
    assert whatsapp.verify_subscription(query, "other") is None
    assert whatsapp.verify_subscription(query, "") is None  # nothing configured: nothing matches
    assert whatsapp.verify_subscription({**query, "hub.mode": "x"}, "t0k") is None


def test_whatsapp_text_and_template_requests() -> None:
    text = whatsapp.text_request("106540352242922", "EAAG-token", "+16505551234", "Ciao!")
    assert text.method == "POST"
    assert text.url == "https://graph.facebook.com/v21.0/106540352242922/messages"
    assert text.headers["authorization"] == "Bearer EAAG-token"
    assert json.loads(text.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "Ciao!"},
    }
    assert "EAAG-token" not in repr(text)
    template = whatsapp.template_request(
        "106540352242922",
        "EAAG-token",
        "16505551234",
        "order_update",
        "it",
        ["Pia", "#4411"],
        version="v20.0",
    )
    assert template.url.endswith("/v20.0/106540352242922/messages")
    assert json.loads(template.body)["template"] == {
        "name": "order_update",
        "language": {"code": "it"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Pia"}, {"type": "text", "text": "#4411"}],
            }
        ],
    }
    bare = whatsapp.template_request("1", "t", "16505551234", "hello_world", "en_US")
    assert "components" not in json.loads(bare.body)["template"]
    with pytest.raises(InvalidInput):
        whatsapp.text_request("1", "t", "pia@x.it", "Ciao")
    with pytest.raises(InvalidInput):
        whatsapp.text_request("1", "t", "16505551234", "  ")
    with pytest.raises(InvalidInput):
        whatsapp.text_request("1", "", "16505551234", "Ciao")


def test_whatsapp_send_answers() -> None:
    ok = whatsapp.parse_send_response(
        200,
        b'{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],'
        b'"messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]}',
    )
    assert (
        ok.ok
        and ok.provider_message_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    )
    window = whatsapp.parse_send_response(
        400,
        b'{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException",'
        b'"code":131047,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours '
        b'have passed since the recipient last replied"},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}',
    )
    assert not window.ok and not window.retryable
    assert window.error.startswith("131047 (#131047) Re-engagement message: More than 24 hours")
    throttled = whatsapp.parse_send_response(
        400, b'{"error":{"message":"Rate limit hit","code":130429}}'
    )
    assert throttled.retryable
    assert whatsapp.parse_send_response(503, b"<html>down</html>").retryable
    assert not whatsapp.parse_send_response(200, b"{}").ok


def test_twilio_messages_request() -> None:
    request = twilio.messages_request(
        "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "auth-token",
        "+14158675309",
        "Il suo pacco è partito",
        from_="+14155238886",
        status_callback="https://vista.example.com/api/v1/channels/sms/webhook",
    )
    assert request.url == (
        "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages.json"
    )
    user, _, password = (
        base64.b64decode(request.headers["authorization"].split()[1]).decode().partition(":")
    )
    assert (user, password) == ("ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "auth-token")
    assert dict(parse_qsl(request.body.decode())) == {
        "To": "+14158675309",
        "Body": "Il suo pacco è partito",
        "From": "+14155238886",
        "StatusCallback": "https://vista.example.com/api/v1/channels/sms/webhook",
    }
    assert "auth-token" not in repr(request)
    with pytest.raises(InvalidInput):  # neither From nor a messaging service
        twilio.messages_request("AC1", "t", "+14158675309", "hi")
    service = twilio.messages_request("AC1", "t", "+14158675309", "hi", messaging_service_sid="MG1")
    assert dict(parse_qsl(service.body.decode()))["MessagingServiceSid"] == "MG1"


def test_twilio_send_answers() -> None:
    ok = twilio.parse_send_response(
        201, b'{"sid":"SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","status":"queued","error_code":null}'
    )
    assert ok.ok and ok.provider_message_id == "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    bad = twilio.parse_send_response(
        400,
        b'{"code":21211,"message":"The \'To\' number +1555 is not a valid phone number.",'
        b'"more_info":"https://www.twilio.com/docs/errors/21211","status":400}',
    )
    assert not bad.ok and not bad.retryable and bad.error.startswith("error 21211: The 'To'")
    assert twilio.parse_send_response(
        429, b'{"code":20429,"message":"Too Many Requests"}'
    ).retryable
    assert twilio.parse_send_response(500, b"").retryable


def test_twilio_status_mapping_and_unknown_status() -> None:
    update = twilio.parse_webhook(
        [
            ("MessageSid", "SM1"),
            ("MessageStatus", "failed"),
            ("ErrorCode", "30007"),
            ("ErrorMessage", "Carrier violation"),
        ]
    )
    assert update.reason == "error 30007: Carrier violation"  # type: ignore[union-attr]
    with pytest.raises(InvalidInput):
        twilio.parse_webhook([("MessageSid", "SM1"), ("MessageStatus", "teleported")])


def test_settings_come_from_the_environment_and_never_print_secrets() -> None:
    env = {
        "VISTA_WHATSAPP_APP_SECRET": "app-secret-value",
        "VISTA_WHATSAPP_VERIFY_TOKEN": "verify-value",
        "VISTA_TWILIO_AUTH_TOKEN": "twilio-value",
        "VISTA_PUBLIC_URL": "https://vista.example.com/support/",
    }
    settings = ChannelSettings.from_env(env)
    assert settings.whatsapp_app_secret == "app-secret-value"
    assert settings.public_url == "https://vista.example.com/support"
    assert settings.email_max_bytes == DEFAULT_EMAIL_MAX_BYTES == 10 * 1024 * 1024
    assert not any(
        v in repr(settings) for v in ("app-secret-value", "verify-value", "twilio-value")
    )
    assert ChannelSettings.from_env({"VISTA_EMAIL_MAX_BYTES": "2048"}).email_max_bytes == 2048
    for bad in (
        {"VISTA_EMAIL_MAX_BYTES": "0"},
        {"VISTA_EMAIL_MAX_BYTES": "ten"},
        {"VISTA_PUBLIC_URL": "vista.example.com"},
    ):
        with pytest.raises(InvalidInput):
            ChannelSettings.from_env(bad)


def test_html_to_text_keeps_words_and_drops_markup() -> None:
    html = "<div>Uno<br>Due</div><script>x()</script><p>Tre &amp; <i>quattro</i></p>"
    assert html_to_text(html) == "Uno\nDue\n\nTre & quattro"


def test_an_unknown_whatsapp_message_type_is_described_not_lost() -> None:
    described = whatsapp.describe(
        {"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}
    )
    assert described == "[unsupported message: 131051 Message type unknown]"
    assert (
        whatsapp.describe(
            {
                "type": "location",
                "location": {"latitude": 45.46, "longitude": 9.19, "name": "Duomo"},
            }
        )
        == "[location] Duomo, (45.46, 9.19)"
    )
