"""WhatsApp Business (Cloud API): the webhook's checks and payload, and the send request.

Meta verifies a webhook with a GET (`hub.mode=subscribe`, `hub.verify_token`,
`hub.challenge`) and signs every POST with `X-Hub-Signature-256: sha256=<hex
HMAC-SHA256 of the raw body, keyed with the app secret>`. A POST carries
`entry[].changes[].value` with `messages[]` (what customers sent), `contacts[]`
(their profile names) and `statuses[]` (what became of Vista's messages).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.models import Channel
from backends.providers.delivery import (
    DeliveryState,
    DeliveryUpdate,
    InboundMessage,
    ProviderRequest,
    SendResult,
    retryable_status,
)

PROVIDER = "whatsapp"
SIGNATURE_HEADER = "x-hub-signature-256"
GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "played": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}


def verify_subscription(query: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo when the GET is a subscription with our verify token, else None."""
    if query.get("hub.mode") != "subscribe" or not verify_token:
        return None
    given = query.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge", "")


def signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, header: str) -> bool:
    """True when `header` is the signature of `body` with `app_secret` (constant time)."""
    if not app_secret or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), header.strip().encode())


@dataclass(frozen=True, slots=True)
class Notification:
    """One webhook POST, read: customer messages, delivery updates, and what was skipped."""

    messages: tuple[InboundMessage, ...] = ()
    updates: tuple[DeliveryUpdate, ...] = ()
    skipped: tuple[str, ...] = ()  # changes of other fields (templates, account updates...)


def parse_notification(body: bytes) -> Notification:
    """Read a webhook POST body.

    Raises:
        InvalidInput: not JSON, or not a WhatsApp Business Account notification.
    """
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise InvalidInput(f"the webhook body is not JSON: {e}") from e
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise InvalidInput("not a WhatsApp Business Account notification (object field)")
    messages: list[InboundMessage] = []
    updates: list[DeliveryUpdate] = []
    skipped: list[str] = []
    for entry in _list(payload.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            field = str(change.get("field", ""))
            value = _dict(change.get("value"))
            if field != "messages":
                skipped.append(field or "?")
                continue
            names = {
                str(c.get("wa_id", "")): str(_dict(c.get("profile")).get("name", ""))
                for c in map(_dict, _list(value.get("contacts")))
            }
            for message in map(_dict, _list(value.get("messages"))):
                messages.append(_message(message, names))
            for status in map(_dict, _list(value.get("statuses"))):
                update = _status(status)
                if update is not None:
                    updates.append(update)
    return Notification(tuple(messages), tuple(updates), tuple(skipped))


def _message(message: dict[str, Any], names: dict[str, str]) -> InboundMessage:
    sender = str(message.get("from", "")).strip()
    context = _dict(message.get("context"))
    return InboundMessage(
        channel=Channel.WHATSAPP,
        sender=f"+{sender.lstrip('+')}" if sender else "",
        text=describe(message),
        name=names.get(sender, ""),
        external_id=str(message.get("id", "")) or None,
        at=_time(message.get("timestamp")),
        in_reply_to=str(context.get("id", "")),
    )


def describe(message: Mapping[str, Any]) -> str:
    """A message as text for the timeline: its words, or what it carries (media, a reply)."""
    kind = str(message.get("type", ""))
    part = _dict(message.get(kind))
    if kind == "text":
        return str(part.get("body", ""))
    if kind in MEDIA_TYPES:
        facts = [str(part[k]) for k in ("filename", "mime_type") if part.get(k)]
        if part.get("id"):
            facts.append(f"media id {part['id']}")
        if part.get("voice"):
            facts.append("voice note")
        head = f"[{kind}{': ' if facts else ''}{', '.join(facts)}]"
        caption = str(part.get("caption", "")).strip()
        return f"{head} {caption}" if caption else head
    if kind == "interactive":
        reply_kind = str(part.get("type", ""))
        reply = _dict(part.get(reply_kind))
        label = {"button_reply": "button", "list_reply": "list choice"}.get(reply_kind, reply_kind)
        words = str(reply.get("title", ""))
        if reply.get("description"):
            words += f" - {reply['description']}"
        ref = f" (id {reply['id']})" if reply.get("id") else ""
        return f"[{label or 'interactive reply'}] {words}{ref}".rstrip()
    if kind == "button":  # a template's quick-reply button
        ref = f" (payload {part['payload']})" if part.get("payload") else ""
        return f"[button] {part.get('text', '')}{ref}"
    if kind == "location":
        where = [str(part[k]) for k in ("name", "address") if part.get(k)]
        where.append(f"({part.get('latitude')}, {part.get('longitude')})")
        return f"[location] {', '.join(where)}"
    if kind == "reaction":
        return f"[reaction] {part.get('emoji', '')} to {part.get('message_id', '')}"
    if kind == "contacts":
        people = [
            str(_dict(c.get("name")).get("formatted_name", ""))
            for c in map(_dict, _list(message.get("contacts")))
        ]
        return f"[contacts] {', '.join(p for p in people if p)}".rstrip()
    errors = "; ".join(_error_text(e) for e in map(_dict, _list(message.get("errors"))))
    return f"[{kind or 'unknown'} message{': ' + errors if errors else ''}]"


def _status(status: dict[str, Any]) -> DeliveryUpdate | None:
    state = _STATES.get(str(status.get("status", "")))
    message_id = str(status.get("id", ""))
    if state is None or not message_id:
        return None
    reason = "; ".join(_error_text(e) for e in map(_dict, _list(status.get("errors"))))
    return DeliveryUpdate(PROVIDER, message_id, state, reason, _time(status.get("timestamp")))


def _error_text(error: dict[str, Any]) -> str:
    details = str(_dict(error.get("error_data")).get("details", ""))
    words = str(error.get("message") or error.get("title") or "")
    text = f"{error.get('code', '')} {words}".strip()
    return f"{text}: {details}" if details and details != words else text


def _time(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(raw)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- sending -------------------------------------------------------------------


def _send(
    phone_number_id: str, access_token: str, message: dict[str, Any], version: str, base: str
) -> ProviderRequest:
    if not phone_number_id.strip() or not access_token:
        raise InvalidInput("a WhatsApp send needs the phone number id and an access token")
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
    return ProviderRequest(
        "POST",
        f"{base.rstrip('/')}/{version}/{phone_number_id.strip()}/messages",
        {"authorization": f"Bearer {access_token}", "content-type": "application/json"},
        json.dumps(body, ensure_ascii=False).encode(),
    )


def _recipient(to: str) -> str:
    digits = to.strip().lstrip("+")
    if not digits.isdigit():
        raise InvalidInput(f"WhatsApp recipient {to!r} is not a phone number (digits only)")
    return digits


def text_request(
    phone_number_id: str,
    access_token: str,
    to: str,
    text: str,
    *,
    preview_url: bool = False,
    version: str = GRAPH_VERSION,
    base: str = GRAPH_URL,
) -> ProviderRequest:
    """`POST /{version}/{phone_number_id}/messages` sending a text (within the 24-hour window)."""
    if not text.strip():
        raise InvalidInput("the WhatsApp message is empty")
    message = {
        "to": _recipient(to),
        "type": "text",
        "text": {"preview_url": preview_url, "body": text},
    }
    return _send(phone_number_id, access_token, message, version, base)


def template_request(
    phone_number_id: str,
    access_token: str,
    to: str,
    template: str,
    language: str,
    parameters: Sequence[str] = (),
    *,
    version: str = GRAPH_VERSION,
    base: str = GRAPH_URL,
) -> ProviderRequest:
    """A template message (the only kind allowed outside the 24-hour window), its body
    parameters filled in order."""
    if not template.strip() or not language.strip():
        raise InvalidInput("a WhatsApp template needs a name and a language code")
    spec: dict[str, Any] = {"name": template.strip(), "language": {"code": language.strip()}}
    if parameters:
        spec["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    message = {"to": _recipient(to), "type": "template", "template": spec}
    return _send(phone_number_id, access_token, message, version, base)


def parse_send_response(status: int, body: bytes) -> SendResult:
    """The Graph API's answer to a send: `messages[0].id`, or its `error`."""
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        data = {}
    data = _dict(data)
    if 200 <= status < 300:
        messages = _list(data.get("messages"))
        message_id = str(_dict(messages[0]).get("id", "")) if messages else ""
        if message_id:
            return SendResult(message_id)
        return SendResult(None, f"HTTP {status} without a message id", retryable=False)
    error = _dict(data.get("error"))
    words = _error_text(error) if error else f"HTTP {status}"
    # 130429 (rate limit), 131000 (something went wrong), 131016 (service unavailable)
    retry = retryable_status(status) or error.get("code") in (4, 80007, 130429, 131000, 131016)
    return SendResult(None, words, retryable=bool(retry))
