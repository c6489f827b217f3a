"""Providers' webhooks: WhatsApp Business (Cloud API), Twilio-style SMS, and e-mail in.

- `GET  /api/v1/channels/whatsapp/webhook`: Meta's subscription check; the challenge
  as text/plain when `hub.verify_token` is the configured one, 403 otherwise.
- `POST /api/v1/channels/whatsapp/webhook`: signed with `X-Hub-Signature-256`
  (missing: 401, wrong: 403, nothing read). Messages go to `deliver_inbound` (a
  redelivery stores nothing twice), statuses to the delivery hook. 200 with counts.
- `POST /api/v1/channels/sms/webhook`: a Twilio-compatible form, signed with
  `X-Twilio-Signature` over the URL the provider called (`VISTA_PUBLIC_URL` + path
  behind a proxy). An incoming SMS is delivered, a status callback goes to the hook;
  the answer is an empty TwiML `<Response/>`.
- `POST /api/v1/channels/email/inbound`: a raw `message/rfc822` body with an
  operator's or admin's bearer token (a mail gateway's); see backends/providers/mail.py
  for what becomes of messages, auto-replies and bounces.

A provider's webhook whose secret is not configured answers 503 naming the
environment variable. Secrets and signatures are never logged nor echoed. A message
the store refuses (say, a sender that is not a phone number) is logged and listed
in the answer as rejected, with 200, so the provider does not retry it forever; an
unavailable store answers 503 so it does.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backends.base import (
    Backend,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
    VistaError,
)
from backends.http import wire
from backends.http.routes import API_PREFIX
from backends.models import Role
from backends.providers import mail, twilio, whatsapp
from backends.providers.delivery import DeliveryHook, DeliveryUpdate, InboundMessage, ignore_update
from backends.providers.settings import (
    TWILIO_AUTH_TOKEN,
    WHATSAPP_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN,
    ChannelSettings,
)
from console.server.hub import Hub

log = logging.getLogger("vista.server.webhooks")

WHATSAPP_PATH = API_PREFIX + "/channels/whatsapp/webhook"
SMS_PATH = API_PREFIX + "/channels/sms/webhook"
EMAIL_PATH = API_PREFIX + "/channels/email/inbound"
MAX_WEBHOOK_BODY = 1_000_000  # bytes; providers' notifications are a few kB
#: The agent a provider's deliveries are recorded as (in the change log).
WEBHOOK_AGENT = {"whatsapp": "channel:whatsapp", "sms": "channel:sms"}
_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


class Unauthorized(Forbidden):
    title = "Unauthorized"


class NotConfigured(Unavailable):
    title = "Channel not configured"


def _status(error: VistaError) -> int:
    if isinstance(error, mail.TooLarge):
        return 413
    for cls, status in (
        (Unauthorized, 401),
        (Forbidden, 403),
        (NotFound, 404),
        (InvalidInput, 400),
        (Unavailable, 503),
    ):
        if isinstance(error, cls):
            return status
    return 400


def _error(error: VistaError) -> Response:
    status = _status(error)
    headers = dict(_HEADERS)
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="vista"'
    return Response(wire.error_body(error), status, headers, "application/json")


def _json(payload: dict[str, Any]) -> Response:
    return Response(wire.encode(payload), 200, _HEADERS, "application/json")


async def _read(request: Request, limit: int) -> bytes:
    """The raw body, refused past `limit` bytes (before reading it when Content-Length says so)."""
    length = request.headers.get("content-length", "")
    too_big = f"the request body is over {limit:,} bytes"
    if length.isdigit() and int(length) > limit:
        raise mail.TooLarge(too_big)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise mail.TooLarge(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


class Webhooks:
    """The channel routes of one server: its hub, its secrets, and where updates go."""

    def __init__(
        self, hub: Hub, settings: ChannelSettings, on_delivery_update: DeliveryHook | None = None
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.on_delivery_update: DeliveryHook = on_delivery_update or ignore_update

    def routes(self) -> list[Route]:
        return [
            Route(WHATSAPP_PATH, self.whatsapp_verify, methods=["GET"], name="whatsapp_verify"),
            Route(WHATSAPP_PATH, self.whatsapp_notify, methods=["POST"], name="whatsapp_webhook"),
            Route(SMS_PATH, self.sms_webhook, methods=["POST"], name="sms_webhook"),
            Route(EMAIL_PATH, self.email_inbound, methods=["POST"], name="email_inbound"),
        ]

    def _backend(self, provider: str) -> Backend:
        return self.hub.backend(
            WEBHOOK_AGENT[provider], read_only=False, role=Role.OPERATOR, origin="webhook"
        )

    # -- WhatsApp ------------------------------------------------------------------

    async def whatsapp_verify(self, request: Request) -> Response:
        token = self.settings.whatsapp_verify_token
        if not token:
            return _error(_not_configured("WhatsApp", WHATSAPP_VERIFY_TOKEN))
        challenge = whatsapp.verify_subscription(dict(request.query_params), token)
        if challenge is None:
            log.warning("WhatsApp subscription check refused (wrong mode or verify token)")
            return _error(Forbidden("the verify token or hub.mode is wrong"))
        return Response(challenge, 200, _HEADERS, "text/plain")

    async def whatsapp_notify(self, request: Request) -> Response:
        secret = self.settings.whatsapp_app_secret
        try:
            if not secret:
                raise _not_configured("WhatsApp", WHATSAPP_APP_SECRET)
            body = await _read(request, MAX_WEBHOOK_BODY)
            header = request.headers.get(whatsapp.SIGNATURE_HEADER, "")
            if not header:
                raise Unauthorized(f"missing {whatsapp.SIGNATURE_HEADER} header")
            if not whatsapp.signature_valid(secret, body, header):
                log.warning("WhatsApp webhook refused: the signature does not match")
                raise Forbidden("the signature does not match the body")
            note = whatsapp.parse_notification(body)
            answer = await run_in_threadpool(self._deliver, "whatsapp", note.messages, note.updates)
        except VistaError as e:
            return _error(e)
        answer["skipped"] = list(note.skipped)
        return _json(answer)

    # -- SMS -----------------------------------------------------------------------

    def _signed_url(self, request: Request) -> str:
        """The URL the provider called: the public base URL behind a proxy, else the request's."""
        if not self.settings.public_url:
            return str(request.url)
        query = request.url.query
        return self.settings.public_url + request.url.path + (f"?{query}" if query else "")

    async def sms_webhook(self, request: Request) -> Response:
        token = self.settings.twilio_auth_token
        try:
            if not token:
                raise _not_configured("SMS", TWILIO_AUTH_TOKEN)
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/x-www-form-urlencoded":
                raise InvalidInput("the SMS webhook takes application/x-www-form-urlencoded")
            body = await _read(request, MAX_WEBHOOK_BODY)
            params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            header = request.headers.get(twilio.SIGNATURE_HEADER, "")
            if not header:
                raise Unauthorized(f"missing {twilio.SIGNATURE_HEADER} header")
            if not twilio.signature_valid(token, self._signed_url(request), params, header):
                log.warning("SMS webhook refused: the signature does not match")
                raise Forbidden("the signature does not match the URL and parameters")
            event = twilio.parse_webhook(params)
            if isinstance(event, InboundMessage):
                await run_in_threadpool(self._deliver, "sms", (event,), ())
            else:
                await run_in_threadpool(self._deliver, "sms", (), (event,))
        except VistaError as e:
            return _error(e)
        return Response(twilio.EMPTY_TWIML, 200, _HEADERS, "text/xml")

    def _deliver(
        self,
        provider: str,
        messages: tuple[InboundMessage, ...],
        updates: tuple[DeliveryUpdate, ...],
    ) -> dict[str, Any]:
        """Store the messages and hand on the updates (in the thread pool).

        Raises:
            VistaError: the store cannot take messages now (not a bad message: those are
                listed as rejected).
        """
        delivered = duplicates = 0
        rejected: list[dict[str, str]] = []
        backend = self._backend(provider)
        try:
            for message in messages:
                try:
                    result = message.deliver(backend)
                except InvalidInput as e:
                    log.warning("%s message %s refused: %s", provider, message.external_id, e)
                    rejected.append({"id": message.external_id or "", "error": str(e)})
                    continue
                duplicates += result.duplicate
                delivered += not result.duplicate
        finally:
            if delivered:
                self.hub.changed.notify()
        for update in updates:
            self.on_delivery_update(update)
        return {
            "delivered": delivered,
            "duplicates": duplicates,
            "rejected": rejected,
            "updates": len(updates),
        }

    # -- e-mail --------------------------------------------------------------------

    async def email_inbound(self, request: Request) -> Response:
        try:
            backend = self._mail_gateway(request.headers.get("authorization", ""))
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != mail.CONTENT_TYPE:
                raise InvalidInput(f"send the raw message as {mail.CONTENT_TYPE}")
            limit = self.settings.email_max_bytes
            raw = await _read(request, limit)
            outcome = await run_in_threadpool(self._route_mail, backend, raw, limit)
        except VistaError as e:
            return _error(e)
        return _json(outcome.to_json())

    def _mail_gateway(self, authorization: str) -> Backend:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        grant = self.hub.authenticate(token.strip())
        if grant is None:
            raise Unauthorized("the token is unknown or revoked")
        if grant.role not in (Role.OPERATOR, Role.ADMIN):
            raise Forbidden(
                f"{grant.name} is a {grant.role.value} token: operators and admins only"
            )
        return self.hub.backend_for(grant, read_only=self.hub.read_only)

    def _route_mail(self, backend: Backend, raw: bytes, limit: int) -> mail.MailOutcome:
        parsed = mail.parse_mail(raw, limit)
        outcome = mail.route_mail(parsed, backend, self.on_delivery_update)
        if outcome.delivered and not outcome.duplicate:
            self.hub.changed.notify()
        return outcome


def _not_configured(channel: str, variable: str) -> NotConfigured:
    return NotConfigured(f"the {channel} webhook is not configured on this server: set {variable}")


def channel_routes(
    hub: Hub,
    settings: ChannelSettings | None = None,
    on_delivery_update: DeliveryHook | None = None,
) -> list[Route]:
    """The webhook routes for `create_app` (settings from the environment unless given)."""
    return Webhooks(hub, settings or ChannelSettings.from_env(), on_delivery_update).routes()
