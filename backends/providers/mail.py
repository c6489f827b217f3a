"""E-mail in: a raw RFC 822 message read into a customer message, an auto-reply or a bounce.

- A customer message keeps its sender, subject, text (an HTML-only mail is turned
  into text), a line per attachment (name, type, size), its Message-ID as the
  external id (a hash of the raw message when it has none) and In-Reply-To /
  References for threading.
- An auto-reply (`Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`,
  `Precedence: auto_reply | bulk | junk`) is not a customer message: it is not
  delivered, so it neither opens nor reopens a contact nor starts an SLA clock.
  When it answers one of Vista's messages (In-Reply-To) it becomes a delivery
  update (delivered, reason "auto-reply: <subject>") so the outbox can show it.
- A bounce (RFC 3464 `multipart/report; report-type=delivery-status`) becomes a
  delivery update of the original message (its Message-ID from the returned
  headers): failed with the Status and Diagnostic-Code, or queued when delayed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import parsedate_to_datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

from backends.base import Backend, InvalidInput
from backends.models import Channel
from backends.providers.delivery import DeliveryHook, DeliveryState, DeliveryUpdate, InboundMessage

log = logging.getLogger("vista.providers")

PROVIDER = "email"
CONTENT_TYPE = "message/rfc822"
AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_DSN_STATES = {
    "failed": DeliveryState.FAILED,
    "delayed": DeliveryState.QUEUED,
    "delivered": DeliveryState.DELIVERED,
    "relayed": DeliveryState.SENT,
    "expanded": DeliveryState.DELIVERED,
}


class TooLarge(InvalidInput):
    """The message is over the configured size."""

    title = "Message too large"


class MailKind(StrEnum):
    MESSAGE = "message"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int  # bytes, decoded

    def describe(self) -> str:
        return f"[attachment: {self.name}, {self.content_type}, {self.size:,} bytes]"


@dataclass(frozen=True, slots=True)
class Mail:
    """One e-mail, read."""

    kind: MailKind
    sender: str
    name: str
    subject: str
    text: str
    message_id: str  # without angle brackets
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    automatic: str = ""  # the header that marked an auto-reply
    update: DeliveryUpdate | None = None  # a bounce's (or an auto-reply's) news

    def inbound(self) -> InboundMessage:
        """The customer message `deliver_inbound` stores (text plus a line per attachment)."""
        lines = [self.text.strip()] if self.text.strip() else []
        if self.attachments:
            lines.append("\n".join(a.describe() for a in self.attachments))
        text = "\n\n".join(lines) or (f"[no text] {self.subject}".strip())
        return InboundMessage(
            channel=Channel.EMAIL,
            sender=self.sender,
            text=text,
            name=self.name,
            external_id=self.message_id,
            at=self.at,
            subject=self.subject,
            in_reply_to=self.in_reply_to,
            references=self.references,
        )


def parse_mail(raw: bytes, max_bytes: int) -> Mail:
    """Read a raw message (RFC 822 bytes).

    Raises:
        TooLarge: over `max_bytes`.
        InvalidInput: empty, or no usable From address (except in a bounce).
    """
    if len(raw) > max_bytes:
        raise TooLarge(f"the message is {len(raw):,} bytes, over the limit of {max_bytes:,}")
    if not raw.strip():
        raise InvalidInput("the message is empty")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    sender, name = _from(msg)
    message_id = _bare(_header(msg, "Message-ID"))
    if not message_id:
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()[:40]
    common: dict[str, Any] = {
        "sender": sender,
        "name": name,
        "subject": _header(msg, "Subject"),
        "message_id": message_id,
        "in_reply_to": _bare(_header(msg, "In-Reply-To").split(" ")[0]),
        "references": tuple(_bare(r) for r in _header(msg, "References").split() if _bare(r)),
        "at": _date(_header(msg, "Date")),
    }
    if msg.get_content_type() == "multipart/report" and (
        str(msg.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return Mail(MailKind.BOUNCE, text="", update=_bounce(msg, common["at"]), **common)
    if not sender:
        raise InvalidInput("the message has no usable From address")
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        text = _content(body_part).replace("\r\n", "\n")
        if body_part.get_content_type() == "text/html":
            text = html_to_text(text)
    attachments = tuple(_attachments(msg, body_part))
    automatic = auto_reply_marker(msg)
    if automatic:
        update = None
        if common["in_reply_to"]:
            reason = f"auto-reply: {common['subject']}".strip()
            update = DeliveryUpdate(
                PROVIDER, common["in_reply_to"], DeliveryState.DELIVERED, reason, common["at"]
            )
        return Mail(
            MailKind.AUTO_REPLY,
            text=text,
            attachments=attachments,
            automatic=automatic,
            update=update,
            **common,
        )
    return Mail(MailKind.MESSAGE, text=text, attachments=attachments, **common)


def auto_reply_marker(msg: Message) -> str:
    """The header that marks the message as sent by a machine, or ''."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if str(msg.get(name, "")).strip():
            return f"{name}: {str(msg.get(name)).strip()}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    return ""


def _bounce(msg: EmailMessage, at: datetime | None) -> DeliveryUpdate | None:
    """The delivery update of a delivery status notification, or None without the
    original Message-ID."""
    original = ""
    action, status, diagnostic, recipient = "", "", "", ""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks[1:] if isinstance(blocks, list) else []:
                if not isinstance(block, Message):
                    continue
                action = action or str(block.get("Action", "")).strip().lower()
                status = status or str(block.get("Status", "")).strip()
                diagnostic = diagnostic or " ".join(str(block.get("Diagnostic-Code", "")).split())
                recipient = recipient or str(block.get("Final-Recipient", "")).strip()
        elif kind == "text/rfc822-headers" and not original:
            headers = HeaderParser(policy=policy.default).parsestr(_content(part))
            original = _bare(str(headers.get("Message-ID", "")))
        elif kind == "message/rfc822" and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = _bare(str(inner[0].get("Message-ID", "")))
    if not original:
        return None
    state = _DSN_STATES.get(action, DeliveryState.FAILED)
    if not action and status.startswith("2"):
        state = DeliveryState.DELIVERED
    words = [w for w in (status, diagnostic) if w]
    if recipient:
        words.append(f"recipient {recipient.split(';')[-1].strip()}")
    return DeliveryUpdate(PROVIDER, original, state, "; ".join(words) or action, at)


def _attachments(msg: EmailMessage, body: Message | None) -> list[Attachment]:
    found = []
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        kind = part.get_content_type()
        filename = part.get_filename() or ""
        is_file = part.get_content_disposition() == "attachment" or bool(filename)
        if not is_file and kind in ("text/plain", "text/html"):
            continue  # the other half of an alternative, not a file
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        found.append(Attachment(filename or f"unnamed {kind}", kind, size))
    return found


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, KeyError, AssertionError):
        pass  # an unknown charset or a broken transfer encoding: decode leniently
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


def _from(msg: EmailMessage) -> tuple[str, str]:
    header = msg.get("From")
    addresses = getattr(header, "addresses", ()) if header is not None else ()
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            return address.addr_spec, str(address.display_name or "")
    return "", ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError):  # a header the policy cannot parse
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def _date(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        at = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


_SPACES = re.compile(r"\s+")


class _Text(HTMLParser):
    """HTML to plain text: block elements break lines, scripts and styles vanish."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
        | {"table", "ul", "ol", "section", "article"}
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """The visible text of an HTML body, one line per block."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text, blank = [], False
    for line in lines:
        if line or not blank:
            text.append(line)
        blank = not line
    return "\n".join(text).strip()


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What became of one e-mail: delivered to the store, or handed to the delivery hook."""

    kind: MailKind
    delivered: bool = False
    duplicate: bool = False
    contact_id: int | None = None
    customer_id: int | None = None
    message_id: int | None = None
    update: DeliveryUpdate | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind.value, "delivered": self.delivered}
        if self.delivered:
            body.update(
                duplicate=self.duplicate,
                contact_id=self.contact_id,
                customer_id=self.customer_id,
                message_id=self.message_id,
            )
        if self.update is not None:
            body["update"] = {
                "provider": self.update.provider,
                "provider_message_id": self.update.provider_message_id,
                "state": self.update.state.value,
                "reason": self.update.reason,
            }
        if self.note:
            body["note"] = self.note
        return body


def route_mail(mail: Mail, backend: Backend, on_update: DeliveryHook) -> MailOutcome:
    """Deliver a customer message; hand a bounce's or an auto-reply's update to `on_update`.

    Raises:
        VistaError: from `deliver_inbound` (a bad sender, a read-only store...).
    """
    if mail.kind is MailKind.MESSAGE:
        result = mail.inbound().deliver(backend)
        return MailOutcome(
            mail.kind,
            delivered=True,
            duplicate=result.duplicate,
            contact_id=result.contact.id,
            customer_id=result.customer_id,
            message_id=result.message.id,
        )
    if mail.update is not None:
        on_update(mail.update)
        return MailOutcome(mail.kind, update=mail.update)
    if mail.kind is MailKind.BOUNCE:
        note = "a bounce without the original Message-ID: nothing to update"
    else:
        note = f"an auto-reply ({mail.automatic}) not answering a known message: not stored"
    log.info("e-mail %s from %s: %s", mail.message_id, mail.sender or "?", note)
    return MailOutcome(mail.kind, note=note)
