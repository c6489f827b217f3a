"""SMS through a Twilio-compatible provider: the webhook's signature and form, the send.

Twilio posts form-encoded webhooks signed with `X-Twilio-Signature`: the base64
HMAC-SHA1, keyed with the account's auth token, of the full URL it requested
followed by every POST parameter, sorted by name, as name + value. An incoming
message carries From/To/Body/MessageSid/NumMedia (MediaUrlN, MediaContentTypeN);
a status callback carries MessageSid and MessageStatus (and ErrorCode on failure).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

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

PROVIDER = "sms"
SIGNATURE_HEADER = "x-twilio-signature"
API_URL = "https://api.twilio.com"
#: The answer to an incoming message when Vista has nothing to say at once (the reply comes later).
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio sends at most 10 media per message
_STATES = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The `X-Twilio-Signature` of a POST to `url` with these form parameters."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], header: str
) -> bool:
    """True when `header` signs this URL and these parameters with `auth_token` (constant time)."""
    if not auth_token or not header:
        return False
    expected = signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def parse_webhook(params: Iterable[tuple[str, str]]) -> InboundMessage | DeliveryUpdate:
    """An incoming message, or a status callback about one Vista sent.

    Raises:
        InvalidInput: no MessageSid, an incoming message without From, or an unknown status.
    """
    form: dict[str, str] = {}
    for name, value in params:
        form.setdefault(name, value)
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise InvalidInput("not a Twilio message webhook: MessageSid is missing")
    status = (form.get("MessageStatus") or "").strip().lower()
    if status and status != "received":
        state = _STATES.get(status)
        if state is None:
            raise InvalidInput(f"unknown MessageStatus {status!r}")
        reason = ""
        if form.get("ErrorCode"):
            reason = f"error {form['ErrorCode']}"
            if form.get("ErrorMessage"):
                reason += f": {form['ErrorMessage']}"
        elif state is DeliveryState.FAILED:
            reason = status
        return DeliveryUpdate(PROVIDER, sid, state, reason)
    sender = form.get("From", "").strip()
    if not sender:
        raise InvalidInput("an incoming message without From")
    return InboundMessage(
        channel=Channel.SMS,
        sender=sender,
        text=_text(form),
        external_id=sid,
    )


def _text(form: Mapping[str, str]) -> str:
    lines = [form.get("Body", "")] if form.get("Body", "").strip() else []
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    for i in range(count):
        kind = form.get(f"MediaContentType{i}", "").strip() or "media"
        url = form.get(f"MediaUrl{i}", "").strip()
        lines.append(f"[attachment: {kind}{' ' + url if url else ''}]")
    return "\n".join(lines) or "[empty message]"


def messages_request(
    account_sid: str,
    auth_token: str,
    to: str,
    body: str,
    *,
    from_: str = "",
    messaging_service_sid: str = "",
    status_callback: str = "",
    base: str = API_URL,
) -> ProviderRequest:
    """`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (Basic auth, form fields)."""
    if not account_sid.strip() or not auth_token:
        raise InvalidInput("an SMS send needs the account SID and the auth token")
    if not to.strip() or not body.strip():
        raise InvalidInput("an SMS needs a recipient and a body")
    if not (from_.strip() or messaging_service_sid.strip()):
        raise InvalidInput("an SMS needs From or a MessagingServiceSid")
    fields = [("To", to.strip()), ("Body", body)]
    if from_.strip():
        fields.append(("From", from_.strip()))
    if messaging_service_sid.strip():
        fields.append(("MessagingServiceSid", messaging_service_sid.strip()))
    if status_callback:
        fields.append(("StatusCallback", status_callback))
    credentials = base64.b64encode(f"{account_sid.strip()}:{auth_token}".encode()).decode()
    return ProviderRequest(
        "POST",
        f"{base.rstrip('/')}/2010-04-01/Accounts/{account_sid.strip()}/Messages.json",
        {
            "authorization": f"Basic {credentials}",
            "content-type": "application/x-www-form-urlencoded",
        },
        urlencode(fields).encode(),
    )


def parse_send_response(status: int, body: bytes) -> SendResult:
    """The Messages API's answer: the new message's `sid`, or its `code` and `message`."""
    try:
        data: Any = json.loads(body) if body.strip() else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    if 200 <= status < 300 and data.get("sid"):
        if data.get("status") in ("failed", "undelivered"):
            return SendResult(None, f"error {data.get('error_code')}: {data.get('error_message')}")
        return SendResult(str(data["sid"]))
    words = str(data.get("message") or f"HTTP {status}")
    code = f"error {data['code']}: " if data.get("code") else ""
    return SendResult(None, code + words, retryable=retryable_status(status))
