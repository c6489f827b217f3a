"""Vista's HTTP API: the Backend contract as JSON under /api/v1, a Starlette app for uvicorn.

Every request carries `Authorization: Bearer <token>` (401 otherwise). The role
of the token decides, on the server: supervisors read only (403 on every
write), operators act only as themselves (the store is opened as the token's
agent), admins also manage tokens. Errors answer with a status from the
VistaError class and a JSON body `{"error": {type, title, message, current?}}`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backends.base import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
    VistaError,
)
from backends.http import codec
from backends.http.hub import Hub
from backends.http.openapi import openapi_document
from backends.http.routes import API_PREFIX, ENDPOINTS, Endpoint, _contract_hints
from backends.models import Role, utcnow
from backends.sqlite.tokens import TokenInfo

log = logging.getLogger("vista.server")

MAX_BODY = 1_000_000  # bytes
MAX_WAIT = 30.0  # seconds a change-feed request may be held
WAKE_CHECK = 5.0  # a long-poll re-reads the feed at least this often, even if not woken
READ_ONLY_HEADER = "x-vista-read-only"
IDEMPOTENCY_HEADER = "idempotency-key"

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
    body = json.dumps(
        payload, ensure_ascii=False, separators=(",", ":"), default=codec.json_default
    ).encode("utf-8")
    return Response(body, status, {**_HEADERS, **(headers or {})}, "application/json")


def _error(error: VistaError, status: int | None = None) -> Response:
    extra = {"www-authenticate": 'Bearer realm="vista"'} if status == 401 else None
    return _json(codec.error_body(error), status or status_of(error), extra)


class Unauthorized(Forbidden):
    title = "Unauthorized"


def _grant(hub: Hub, request: Request) -> TokenInfo:
    """The caller's grant, or Unauthorized."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
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


def _kwargs(ep: Endpoint, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's arguments, decoded from path, query and body by their types."""
    kwargs: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    known_query, known_body = set(), set()
    for p in ep.params():
        if p.where == "path":
            value = codec.from_query(p.type, [request.path_params[p.name]])
        elif p.where == "query":
            known_query.add(p.name)
            values = request.query_params.getlist(p.name)
            if not values:
                if p.required:
                    raise InvalidInput(f"missing query parameter {p.name!r}")
                continue
            value = codec.from_query(p.type, values)
        else:
            known_body.add(p.name)
            if p.name not in body:
                if p.required:
                    raise InvalidInput(f"missing field {p.name!r} in the request body")
                continue
            value = codec.from_json(p.type, body[p.name])
        if p.group is not None:
            groups.setdefault(p.group, {})[p.name] = value
        else:
            kwargs[p.name] = value
    unknown = sorted(set(request.query_params) - known_query) + sorted(set(body) - known_body)
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) for {ep.method} {ep.url_path}: {', '.join(unknown)}"
        )
    for group, fields in groups.items():
        kwargs[group] = _contract_hints(ep.call)[group](**fields)
    return kwargs


def _invoke(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Any:
    """Run one endpoint's operation (in a worker thread)."""
    if ep.call == "admin.tokens_list":
        return hub.tokens.list()
    if ep.call == "admin.tokens_create":
        token, info = hub.tokens.create(kwargs["name"], kwargs["role"], kwargs.get("agent"))
        return {"token": token, **info.to_json()}
    if ep.call == "admin.tokens_revoke":
        return hub.tokens.revoke(kwargs["name"]).to_json()
    return getattr(hub.backend_for(grant, read_only=read_only), ep.call)(**kwargs)


async def _body(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return {}
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise InvalidInput(f"request body over {MAX_BODY} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidInput(f"request body over {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise InvalidInput(f"the request body is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    return data


def _handler(hub: Hub, ep: Endpoint) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        read_only = hub.read_only or request.headers.get(READ_ONLY_HEADER, "") in ("1", "true")
        if not ep.write and ep.call != "changes":  # one trip to the thread pool for a read
            return await run_in_threadpool(_read, hub, ep, request, read_only)
        try:
            grant = await run_in_threadpool(_grant, hub, request)
        except Unauthorized as e:
            return _error(e, 401)
        except VistaError as e:
            return _error(e)
        try:
            _authorise(ep, grant, read_only)
            body = await _body(request)
            kwargs = _kwargs(ep, request, body)
        except VistaError as e:
            return _error(e, 400 if isinstance(e, InvalidInput) else None)
        if ep.call == "changes":
            return await _long_poll(hub, grant, read_only, kwargs)
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:200]
        if not ep.write or not key:
            return await _run(hub, ep, grant, read_only, kwargs)
        replay_key = (grant.name, key)
        async with hub.replays.lock(replay_key):
            seen = hub.replays.get(replay_key)
            if seen is not None:
                return Response(
                    seen[1], seen[0], {**_HEADERS, "idempotent-replay": "true"}, "application/json"
                )
            if ep.call in ("reply", "add_note") and "idempotency_key" not in kwargs:
                kwargs["idempotency_key"] = f"{grant.agent}:{key}"
            response = await _run(hub, ep, grant, read_only, kwargs)
            if response.status_code < 500:
                hub.replays.put(replay_key, response.status_code, bytes(response.body))
            return response

    handle.__name__ = ep.operation_id
    return handle


def _read(hub: Hub, ep: Endpoint, request: Request, read_only: bool) -> Response:
    """A whole read, in a worker thread: authenticate, decode, call, encode."""
    try:
        grant = _grant(hub, request)
    except Unauthorized as e:
        return _error(e, 401)
    except VistaError as e:
        return _error(e)
    try:
        _authorise(ep, grant, read_only)
        kwargs = _kwargs(ep, request, {})
    except VistaError as e:
        return _error(e, 400 if isinstance(e, InvalidInput) else None)
    return _execute(hub, ep, grant, read_only, kwargs)


def _execute(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Response:
    """Call the operation and encode its answer (in a worker thread)."""
    try:
        return _json(codec.to_json(_invoke(hub, ep, grant, read_only, kwargs)))
    except VistaError as e:
        return _error(e)
    except Exception:  # a bug: log it, tell the client no more than that
        log.exception("%s %s failed", ep.method, ep.url_path)
        return _json(
            {
                "error": {
                    "type": "VistaError",
                    "title": "Server error",
                    "message": "internal server error (see the server log)",
                }
            },
            500,
        )


async def _run(
    hub: Hub, ep: Endpoint, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Response:
    response = await run_in_threadpool(_execute, hub, ep, grant, read_only, kwargs)
    if ep.write and response.status_code < 400:
        hub.changed.notify()
    return response


async def _long_poll(
    hub: Hub, grant: TokenInfo, read_only: bool, kwargs: dict[str, Any]
) -> Response:
    """The change feed, held open until a change arrives or `wait` runs out."""
    wait = min(max(float(kwargs.pop("wait", 0.0)), 0.0), MAX_WAIT)
    deadline = time.monotonic() + wait
    backend = hub.backend_for(grant, read_only=read_only)
    while True:
        try:
            batch = await run_in_threadpool(backend.changes, **kwargs)
        except VistaError as e:
            return _error(e)
        left = deadline - time.monotonic()
        if batch.changes or kwargs.get("since", 0) < 0 or left <= 0:
            return _json(batch.to_json())
        await hub.changed.wait(min(WAKE_CHECK, left))


def _openapi(hub: Hub) -> Callable[[Request], Any]:
    document = openapi_document()

    async def openapi(request: Request) -> Response:
        try:
            await run_in_threadpool(_grant, hub, request)
        except VistaError as e:
            return _error(e, 401)
        return _json(document)

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
    return _json(
        {
            "error": {
                "type": "InvalidInput",
                "title": "Method not allowed",
                "message": f"{request.method} is not allowed on {request.url.path}",
            }
        },
        405,
    )


def create_app(
    path: str | Path | None = None,
    *,
    hub: Hub | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The ASGI app serving the SQLite store at `path` (or an existing `hub`)."""
    if hub is None:
        if path is None:
            raise InvalidInput("create_app needs a store path or a hub")
        hub = Hub(path, clock=clock)
    routes: dict[str, list[Route]] = {}
    for ep in ENDPOINTS:
        routes.setdefault(ep.url_path, []).append(
            Route(ep.url_path, _handler(hub, ep), methods=[ep.method], name=ep.operation_id)
        )
    flat = [r for group in routes.values() for r in group]
    flat.append(Route(API_PREFIX + "/openapi.json", _openapi(hub), methods=["GET"], name="openapi"))
    app = Starlette(routes=flat, exception_handlers={404: _not_found, 405: _bad_method})
    app.state.hub = hub
    return app
