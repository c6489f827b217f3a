"""Vista's HTTP API: the Backend contract as JSON under /api/v1, a Starlette app for uvicorn.

Every request carries `Authorization: Bearer <token>` (401 otherwise). The role
of the token decides, on the server: supervisors read only (403 on every
write), operators act only as themselves (the store is opened as the token's
agent), admins also manage tokens and import files. Errors answer with a
status from the VistaError class and a JSON body `{"error": {type, title,
message, current?}}`.

Each endpoint is a plain ASGI app (`_Api`) inside Starlette's router: it reads
what it needs straight from the scope, without Request/Response objects.
Reads bounded by one customer or contact run on the event loop itself (no
thread switch, no GIL hand-off); anything that may scan, and every write,
runs in the thread pool. Bodies are read and answers written by `backends.http.wire`
(msgspec). A token
is verified against the store on every request (an indexed lookup of its
hash, ~10 µs): a revocation, even by another process, takes effect at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from backends import limits, open_factory
from backends.base import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
    VistaError,
)
from backends.http import wire
from backends.http.routes import API_PREFIX, ENDPOINTS, Endpoint, contract_hints
from backends.models import QueueQuery, Role, TokenInfo, WriteAnswer, utcnow
from backends.providers.delivery import DeliveryHook
from backends.providers.settings import ChannelSettings
from backends.text import json_escaped_bytes
from console.server import imports
from console.server.asgi_body import receive_chunks
from console.server.hub import Hub
from console.server.openapi import openapi_document
from console.server.webhooks import channel_routes

log = logging.getLogger("vista.server")

MAX_BODY = 1_000_000  # bytes
MAX_WAIT = 30.0  # seconds a change-feed request may be held
WAKE_CHECK = 5.0  # a long-poll re-reads the feed at least this often, even if not woken
READ_ONLY_HEADER = b"x-vista-read-only"
IDEMPOTENCY_HEADER = b"idempotency-key"
MAX_IDEMPOTENCY_KEY = 200  # characters

_STATUS: tuple[tuple[type[VistaError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),  # ReadOnly too
    (InvalidInput, 422),
    (Unavailable, 503),
)
_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def status_of(error: VistaError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json_escaped_bytes(wire.encode(payload))
    return Response(body, status, {**_HEADERS, **(headers or {})}, "application/json")


def _error(error: VistaError, status: int | None = None) -> Response:
    status, body, extra = _error_answer(error, status)
    return Response(body, status, {**_HEADERS, **(extra or {})}, "application/json")


#: An API answer before it is sent: status, JSON body, extra headers.
Answer = tuple[int, bytes, dict[str, str] | None]

_SERVER_ERROR = wire.encode(
    {
        "error": {
            "type": "VistaError",
            "title": "Server error",
            "message": "internal server error (see the server log)",
        }
    }
)


def _error_answer(error: VistaError, status: int | None = None) -> Answer:
    extra = {"www-authenticate": 'Bearer realm="vista"'} if status == 401 else None
    return status or status_of(error), wire.error_body(error), extra


class Unauthorized(Forbidden):
    title = "Unauthorized"


#: Who a public endpoint's request without a token acts as: a read-only grant.
PUBLIC_GRANT = TokenInfo(
    name="public", role=Role.SUPERVISOR, agent="public", created_at=datetime(2026, 1, 1, tzinfo=UTC)
)
#: A public endpoint answers any web page's script (a website's FAQ search).
_PUBLIC_HEADERS = ((b"access-control-allow-origin", b"*"),)


class _Call:
    """What an endpoint needs from one request, read straight from the ASGI scope."""

    __slots__ = (
        "authorization",
        "content_length",
        "content_type",
        "idempotency_key",
        "path",
        "path_params",
        "query",
        "read_only",
    )

    def __init__(self, scope: Scope) -> None:
        self.path: str = scope.get("path", "")
        self.path_params: dict[str, Any] = scope.get("path_params", {})
        self.query: dict[str, list[str]] = {}
        raw_query = scope.get("query_string", b"")
        if raw_query:  # as Starlette's QueryParams reads it
            for name, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True):
                self.query.setdefault(name, []).append(value)
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of repeated headers, as Starlette
        self.authorization = headers.get(b"authorization", b"").decode("latin-1")
        self.read_only = headers.get(READ_ONLY_HEADER, b"").decode("latin-1") in ("1", "true")
        self.idempotency_key = headers.get(IDEMPOTENCY_HEADER, b"").decode("latin-1")
        self.content_length = headers.get(b"content-length", b"").decode("latin-1") or None
        self.content_type = headers.get(b"content-type", b"").decode("latin-1")


def _grant(hub: Hub, call: _Call) -> TokenInfo:
    """The caller's grant, or Unauthorized."""
    scheme, _, token = call.authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    grant = hub.authenticate(token.strip())
    if grant is None:
        raise Unauthorized("the token is unknown or revoked")
    return grant


def _authorise(ep: Endpoint, grant: TokenInfo, read_only_client: bool) -> None:
    """Role rules, enforced here whatever the client sends."""
    if ep.write and grant.role is Role.SUPERVISOR:
        raise ReadOnly(f"{grant.name} is a supervisor token: read-only")
    if ep.write and read_only_client:
        raise ReadOnly("read-only: this server or this client does not change data")
    if grant.role not in ep.roles:
        raise Forbidden(f"{ep.method} {ep.url_path} is not allowed for {grant.role.value} tokens")


def _kwargs(ep: Endpoint, call: _Call, body: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's arguments, decoded from path and query by their types, plus the
    body's (decoded by `wire.body_decoder`)."""
    kwargs: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    known_query = set()
    for p in ep.params():
        if p.where == "path":
            value = wire.from_query(p.type, [call.path_params[p.name]])
        elif p.where == "query":
            known_query.add(p.name)
            values = call.query.get(p.name)
            if not values:
                if p.required:
                    raise InvalidInput(f"missing query parameter {p.name!r}")
                continue
            value = wire.from_query(p.type, values)
        else:
            if p.name not in body:
                continue
            value = body[p.name]
        if p.group is not None:
            groups.setdefault(p.group, {})[p.name] = value
        else:
            kwargs[p.name] = value
    unknown = sorted(set(call.query) - known_query)
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) for {ep.method} {ep.url_path}: {', '.join(unknown)}"
        )
    for group, fields in groups.items():
        kwargs[group] = contract_hints(ep.call)[group](**fields)
    return kwargs


def _invoke(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Any:
    """Run one endpoint's operation: its contract method on the caller's backend."""
    return getattr(hub.backend_for(grant, read_only=read_only), ep.call)(**kwargs)


async def _body(ep: Endpoint, call: _Call, receive: Receive) -> dict[str, Any]:
    """The request's JSON object body as the endpoint's arguments ({} when empty), at most
    MAX_BODY bytes."""
    length = call.content_length
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise InvalidInput(f"request body over {MAX_BODY} bytes")
    too_big = f"request body over {MAX_BODY} bytes"
    raw = b"".join([chunk async for chunk in receive_chunks(receive, MAX_BODY, too_big)])
    try:
        return wire.body_decoder(ep)(raw)
    except RecursionError as e:  # thousands of nested [ or {
        raise InvalidInput("the request body is nested too deeply to read") from e


#: Reads bounded by one customer, contact or event (or tiny tables): they run on the event
#: loop itself, skipping two thread switches. A profile read (`get_customer`,
#: `customer_view`) writes its audit entry, so it may wait for the store: thread pool. Anything that may scan (search, KPIs, a
#: filtered queue) runs in the thread pool so it cannot hold up other requests.
_INLINE_READS = frozenset(
    {
        "whoami",
        "agents",
        "templates",
        "store_id",
        "customer_facts",
        "timeline",
        "get_event",
        "get_contact",
    }
)
_DEFAULT_QUEUE = QueueQuery()


def _runs_inline(ep: Endpoint, kwargs: dict[str, Any]) -> bool:
    if ep.call in _INLINE_READS:
        return True
    if ep.call == "queue":  # the unfiltered queue (and its unassigned view) walks an index
        query = kwargs.get("query", _DEFAULT_QUEUE)
        return (
            query.statuses == _DEFAULT_QUEUE.statuses
            and not query.channels
            and not query.priorities
            and query.assignee is None
            and not query.text.strip()
        )
    return False


class _Api:
    """One endpoint as a plain ASGI app: decode, check the token and role, call, encode."""

    def __init__(self, hub: Hub, ep: Endpoint) -> None:
        self.hub = hub
        self.ep = ep
        self.__name__ = ep.operation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, extra = await self._answer(_Call(scope), receive)
        except Exception:  # a bug: log it, tell the client no more than that
            log.exception("%s %s failed", self.ep.method, self.ep.url_path)
            status, body, extra = 500, _SERVER_ERROR, None
        body = json_escaped_bytes(body)  # no raw bidi or C1 control for a terminal to act on
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            *_RAW_HEADERS,
        ]
        if extra:
            headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
        if self.ep.public:
            headers.extend(_PUBLIC_HEADERS)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _granted(self, call: _Call, read_only: bool) -> TokenInfo | Answer:
        """The caller's grant, allowed this endpoint, or the error answer."""
        ep = self.ep
        try:
            grant = PUBLIC_GRANT if ep.public and not call.authorization else _grant(self.hub, call)
        except Unauthorized as e:
            return _error_answer(e, 401)
        except VistaError as e:
            return _error_answer(e)
        try:
            _authorise(ep, grant, read_only)
        except VistaError as e:
            return _error_answer(e)
        return grant

    def _read(self, call: _Call, read_only: bool) -> Answer:
        """A read for a store whose reads wait for another process (`Hub.reads_wait`): the
        token check and the call in one trip to a worker thread, off the event loop."""
        grant = self._granted(call, read_only)
        if not isinstance(grant, TokenInfo):
            return grant
        try:
            kwargs = _kwargs(self.ep, call, {})
        except VistaError as e:
            return _error_answer(e, 400 if isinstance(e, InvalidInput) else None)
        try:
            _check_ints(self.ep, kwargs)
        except InvalidInput as e:
            return _error_answer(e)
        if self.ep.call == "whoami":
            return _whoami(self.hub, self.ep, grant, read_only, kwargs)
        return _execute(self.hub, self.ep, grant, read_only, kwargs)

    async def _answer(self, call: _Call, receive: Receive) -> Answer:
        hub, ep = self.hub, self.ep
        read_only = hub.read_only or call.read_only
        waits = hub.reads_wait
        if waits and not ep.write and not ep.raw_body and ep.call != "changes":
            return await run_in_threadpool(self._read, call, read_only)
        grant = (
            await run_in_threadpool(self._granted, call, read_only)
            if waits
            else self._granted(call, read_only)
        )
        if not isinstance(grant, TokenInfo):
            return grant
        try:
            if ep.raw_body:  # a file, streamed to disk by the operation itself
                return await _import(hub, grant, call, receive, _kwargs(ep, call, {}))
            body = {} if not ep.write else await _body(ep, call, receive)
            kwargs = _kwargs(ep, call, body)
        except VistaError as e:
            return _error_answer(e, 400 if isinstance(e, InvalidInput) else None)
        try:
            _check_ints(ep, kwargs)
        except InvalidInput as e:
            return _error_answer(e)
        if ep.call == "changes":
            return await _long_poll(hub, grant, read_only, kwargs)
        if ep.call == "whoami":
            return _whoami(hub, ep, grant, read_only, kwargs)
        if not ep.write:
            if _runs_inline(ep, kwargs):
                return _execute(hub, ep, grant, read_only, kwargs)
            return await run_in_threadpool(_execute, hub, ep, grant, read_only, kwargs)
        key = call.idempotency_key.strip()
        if not key:
            return await _run(hub, ep, grant, read_only, kwargs)
        if len(key) > MAX_IDEMPOTENCY_KEY:
            return _error_answer(
                InvalidInput(
                    f"Idempotency-Key is {len(key)} characters long; "
                    f"at most {MAX_IDEMPOTENCY_KEY} are accepted"
                ),
                400,
            )
        replay_key = (grant.name, key)
        shared = hub.shares_answers and not read_only  # a read-only server writes no answers
        request = _fingerprint(ep, call, body)
        async with hub.replays.lock(replay_key):
            if ep.call in ("reply", "add_note") and "idempotency_key" not in kwargs:
                # the store keeps it past a restart; another request under the key is new
                kwargs["idempotency_key"] = f"{grant.agent}:{key}:{request[:16]}"
            seen = hub.replays.get(replay_key)
            answer: Answer | None = None
            if seen is None and shared:  # another server on the store may have answered it
                answer, kept = await run_in_threadpool(
                    _write_kept, hub, ep, grant, read_only, kwargs, (key, request)
                )
                if kept is not None:
                    seen = (kept.status, kept.body, kept.request)
            if seen is not None:
                if seen[2] != request:
                    return _error_answer(
                        InvalidInput(
                            "this Idempotency-Key was used for another request "
                            "(another method, path or body): use a new key for a new write"
                        )
                    )
                return seen[0], seen[1], {"idempotent-replay": "true"}
            if answer is None:
                answer = await run_in_threadpool(_execute, hub, ep, grant, read_only, kwargs)
            if answer[0] < 400:
                hub.changed.notify()
                hub.wrote()
            if answer[0] < 500:
                hub.replays.put(replay_key, answer[0], answer[1], request)
            return answer


#: Writes that do work after their own commit (an erasure clears the old row versions):
#: their answer is kept after them, not in their transaction (`Backend.answer_once`).
_COMMIT_THEMSELVES = frozenset({"erase_customer"})


def _write_kept(
    hub: Hub,
    ep: Endpoint,
    grant: TokenInfo,
    read_only: bool,
    kwargs: dict[str, Any],
    keyed: tuple[str, str],
) -> tuple[Answer | None, WriteAnswer | None]:
    """A write with an idempotency key on a store that keeps the answers, in one worker
    thread: the answer kept by any server (nothing run), else the write run and its answer
    kept with it, in its transaction. `keyed`: the key and the request's fingerprint."""
    key, request = keyed
    ran: list[Answer] = []

    def write() -> WriteAnswer:
        ran.append(_execute(hub, ep, grant, read_only, kwargs))
        return WriteAnswer(request, ran[-1][0], ran[-1][1])

    try:
        answer, replayed = hub.answer_once(
            grant.name, key, write, atomic=ep.call not in _COMMIT_THEMSELVES
        )
    except VistaError as e:  # the store failed around the write: nothing of it was kept
        log.warning("idempotency keys: %s", e)
        return _error_answer(e), None
    if replayed:
        return None, answer
    return ran[-1], None


def _check_ints(ep: Endpoint, kwargs: dict[str, Any]) -> None:
    """Every integer argument within SQLite's signed 64 bits.

    Raises:
        InvalidInput: one is not (naming it); the API answers 422.
    """
    for p in ep.params():
        if p.group is not None:
            value = getattr(kwargs.get(p.group), p.name, None)
        else:
            value = kwargs.get(p.name)
        for item in value if isinstance(value, tuple) else (value,):
            if type(item) is int:
                limits.check_int(item, p.name)


def _fingerprint(ep: Endpoint, call: _Call, body: dict[str, Any]) -> str:
    """What makes a write this write: method, path, query and body (keys in any order)."""
    text = json.dumps(
        [ep.method, call.path, sorted(call.query.items()), body],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_RAW_HEADERS = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in _HEADERS.items())


def _execute(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Answer:
    """Call the operation and encode its answer."""
    try:
        return 200, wire.encode(_invoke(hub, ep, grant, read_only, kwargs)), None
    except VistaError as e:
        return _error_answer(e)
    except Exception:  # a bug: log it, tell the client no more than that
        log.exception("%s %s failed", ep.method, ep.url_path)
        return 500, _SERVER_ERROR, None


def _whoami(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Answer:
    """`GET /me`, naming the served store's capabilities in `wire.CAPABILITIES_HEADER`: a
    client offers only what the store behind the server can do."""
    status, body, extra = _execute(hub, ep, grant, read_only, kwargs)
    if status == 200:
        named = wire.encode_capabilities(hub.store_capabilities)
        extra = {**(extra or {}), wire.CAPABILITIES_HEADER: named}
    return status, body, extra


async def _run(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Answer:
    answer = await run_in_threadpool(_execute, hub, ep, grant, read_only, kwargs)
    if ep.write and answer[0] < 400:
        hub.changed.notify()
        hub.wrote()
    return answer


async def _import(
    hub: Hub, grant: TokenInfo, call: _Call, receive: Receive, kwargs: dict[str, Any]
) -> Answer:
    """`POST /imports`: the body to a temporary file, then the import pipeline on it.

    Option errors answer 400 before the file is read; errors of the import itself
    (a bad file, a strict import's bad row) answer with their own status.
    """
    fmt = imports.check(kwargs, call.content_type)
    backend = hub.backend_for(grant)
    file = await imports.spool(receive, hub.spool_dir, fmt)
    try:
        report = await run_in_threadpool(imports.run, backend, file, fmt, kwargs)
    except VistaError as e:
        return _error_answer(e)
    except Exception:  # a bug: log it, tell the client no more than that
        log.exception("POST %s/imports failed", API_PREFIX)
        return 500, _SERVER_ERROR, None
    finally:
        file.unlink(missing_ok=True)
    hub.changed.notify()
    hub.wrote()
    return 200, wire.encode(report), None


async def _long_poll(hub: Hub, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]) -> Answer:
    """The change feed, held open until a change arrives or `wait` runs out."""
    wait = min(max(float(kwargs.pop("wait", 0.0)), 0.0), MAX_WAIT)
    deadline = time.monotonic() + wait
    backend = hub.backend_for(grant, read_only=read_only)
    while True:
        armed = hub.changed.armed()  # before the read: a write during it still wakes us
        try:
            batch = await run_in_threadpool(backend.changes, **kwargs)
        except VistaError as e:
            return _error_answer(e)
        left = deadline - time.monotonic()
        if batch.changes or kwargs.get("since", 0) < 0 or left <= 0:
            return 200, wire.encode(batch), None
        await hub.changed.wait(min(WAKE_CHECK, left), armed=armed, seen=batch.cursor)


def _openapi(hub: Hub) -> Callable[[Request], Any]:
    document = openapi_document()

    body = wire.encode(document)

    async def openapi(request: Request) -> Response:
        try:
            _grant(hub, _Call(request.scope))
        except VistaError as e:
            return _error(e, 401)
        return Response(body, 200, _HEADERS, "application/json")

    return openapi


async def _not_found(request: Request, exc: Exception) -> Response:
    return _json(
        {
            "error": {
                "type": "NotFound",
                "title": "Not found",
                "message": f"no endpoint {request.method} {request.url.path}",
            }
        },
        404,
    )


async def _bad_method(request: Request, exc: Exception) -> Response:
    allowed: set[str] = set()
    for route in request.app.router.routes:  # every route of this path, not only the first
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            allowed |= route.methods or set()
    return _json(
        {
            "error": {
                "type": "InvalidInput",
                "title": "Method not allowed",
                "message": f"{request.method} is not allowed on {request.url.path}",
            }
        },
        405,
        {"allow": ", ".join(sorted(allowed))},
    )


def create_app(
    path: str | Path | None = None,
    *,
    hub: Hub | None = None,
    clock: Callable[[], datetime] = utcnow,
    channels: ChannelSettings | None = None,
    on_delivery_update: DeliveryHook | None = None,
) -> Starlette:
    """The ASGI app serving the SQLite store at `path` (or an existing `hub`), with the
    providers' webhooks (console/server/webhooks.py): their secrets from `channels`, or
    from the environment; their delivery updates to `on_delivery_update` (default: ignored)."""
    if hub is None:
        if path is None:
            raise InvalidInput("create_app needs a store path or a hub")
        hub = Hub(open_factory(str(path), clock=clock))
    routes: dict[str, list[Route]] = {}
    for ep in ENDPOINTS:
        routes.setdefault(ep.url_path, []).append(
            Route(ep.url_path, _Api(hub, ep), methods=[ep.method], name=ep.operation_id)
        )
    flat = [r for group in routes.values() for r in group]
    flat.append(Route(API_PREFIX + "/openapi.json", _openapi(hub), methods=["GET"], name="openapi"))
    flat.extend(channel_routes(hub, channels, on_delivery_update))
    app = Starlette(routes=flat, exception_handlers={404: _not_found, 405: _bad_method})
    app.state.hub = hub
    return app
