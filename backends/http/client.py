"""The remote backend: the Backend contract spoken over HTTP to `vista serve`.

Requests go through one kept-alive `httpx.Client`; request bodies are written and
answers decoded straight into the models by `backends.http.wire` (msgspec).

Reads are retried with backoff when the connection fails or the server
answers 502/503/504; writes carry an `Idempotency-Key` (and replies/notes an
`idempotency_key` the store saves), so they are retried too and never applied
twice. Connection failures raise `Unavailable` within a fraction of a second,
so the console can say "offline, retrying". HTTP statuses map back to the
VistaError hierarchy; results are rebuilt into the frozen models.

The contract methods are generated from the route table (`routes.ENDPOINTS`):
a new endpoint there is a new method here.
"""

from __future__ import annotations

import abc
import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backends.base import (
    Backend,
    Capability,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
    VistaError,
    not_text,
)
from backends.http import wire
from backends.http.routes import API_PREFIX, ENDPOINTS, Endpoint, by_call
from backends.identity.readers import detect_format
from backends.models import (
    Agent,
    ChangeBatch,
    Contact,
    ContactDetail,
    ContactStatus,
    Customer,
    CustomerFacts,
    CustomerHit,
    CustomerView,
    EventKind,
    ImportResult,
    Message,
    Priority,
    QueuePage,
    QueueQuery,
    Role,
    Template,
    TimelineEvent,
    TimelinePage,
)

if TYPE_CHECKING:
    import httpx

_RETRY_STATUSES = frozenset({502, 503, 504})
_UPLOAD_CHUNK = 256 * 1024


@functools.cache
def _tls_context() -> Any:
    """One verifying TLS context per process (building one reads the CA bundle: ~20 ms)."""
    import httpx

    return httpx.create_ssl_context()


@functools.cache
def _signature(name: str) -> inspect.Signature:
    return inspect.signature(getattr(Backend, name))


class HTTPBackend(Backend):
    """A Vista server at `url`, as the agent its token names."""

    CAPABILITIES = (
        Capability.WRITE
        | Capability.LIVE_UPDATES
        | Capability.WAIT_CHANGES
        | Capability.FULL_TEXT_SEARCH
        | Capability.KPIS
        | Capability.IDENTITY
        | Capability.INBOUND
        | Capability.IMPORT
        | Capability.TOKENS
        | Capability.AUDIT
        | Capability.PERSONAL_DATA
        | Capability.ROUTING
        | Capability.CALLS
        | Capability.KNOWLEDGE
    )

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        read_only: bool = False,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.05,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise InvalidInput(
                f"{url} needs an API token: pass --token or set VISTA_TOKEN "
                "(an admin creates one with `vista tokens create`)"
            )
        token = token.strip()  # a trailing newline from a file or `$(...)` is not part of it
        if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
            raise InvalidInput(
                "the API token holds spaces, line breaks or other characters a token never "
                "has: pass it exactly as `vista tokens create` printed it"
            )
        self._urls = servers(url)
        self._at = 0  # the server in use: the first, until it cannot be reached
        self._location = ",".join(self._urls)
        self._read_only = read_only
        self._retries = max(0, retries)
        self._backoff = backoff
        self._me: Agent | None = None
        self._served: Capability | None = None  # the store's, once `GET /me` names them
        headers = {"authorization": f"Bearer {token}", "user-agent": "vista-console/1"}
        if read_only:
            headers["x-vista-read-only"] = "1"
        self._connect_timeout = connect_timeout  # uploads wait as long as the import takes
        import httpx  # here, not at import: httpx's own CLI module loads rich when it can

        def client(base: str) -> httpx.Client:
            try:
                return httpx.Client(
                    base_url=base,
                    headers=headers,
                    verify=_tls_context(),  # shared: used only for https:// servers
                    timeout=httpx.Timeout(timeout, connect=connect_timeout),
                    transport=transport,
                    follow_redirects=False,
                )
            except (ValueError, httpx.InvalidURL) as e:
                raise InvalidInput(f"malformed server address {base!r}: {e}") from e

        self._clients = [client(base) for base in self._urls]
        self._endpoints = by_call()

    @property
    def _url(self) -> str:
        """The server in use."""
        return self._urls[self._at]

    @property
    def _http(self) -> httpx.Client:
        return self._clients[self._at]

    def _fail_over(self, tried: set[int]) -> bool:
        """Move to the next server not yet `tried` in this call (True), if any."""
        tried.add(self._at)
        for step in range(1, len(self._urls)):
            at = (self._at + step) % len(self._urls)
            if at not in tried:
                self._at = at
                return True
        return False

    # -- identity ----------------------------------------------------------------

    @property
    def location(self) -> str:
        """The server addresses as given (the same whichever one is in use)."""
        return self._location

    @property
    def server(self) -> str:
        """The server requests go to now (another one after a fail-over)."""
        return self._url

    @property
    def capabilities(self) -> Capability:
        """What this client can do, narrowed to what the server's store declares (named
        on the `GET /me` answer; a server that names none is taken to serve them all)
        and to what the token's role and a read-only client may do."""
        caps = self.CAPABILITIES
        me = self.whoami()
        if self._served is not None:  # held reads are the server's own, whatever its store
            caps &= self._served | Capability.WAIT_CHANGES
        if self._read_only or not me.role.can_write:
            caps &= ~(Capability.WRITE | Capability.INBOUND | Capability.IMPORT)
        if me.role is not Role.ADMIN:  # the server manages tokens and imports for admins
            caps &= ~(
                Capability.TOKENS | Capability.IMPORT | Capability.AUDIT | Capability.PERSONAL_DATA
            )
        return caps

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def whoami(self) -> Agent:
        if self._me is None:
            self._me = self._request("whoami", (), {})
        return self._me

    def changes(self, since: int = 0, limit: int = 500, *, wait: float = 0.0) -> ChangeBatch:
        """The change feed; with `wait` the server holds the request up to that many
        seconds (max 30) until something changes, so a console sees it at once."""
        kwargs: dict[str, Any] = {"since": since, "limit": limit}
        if wait > 0:
            kwargs["wait"] = wait
        return self._request("changes", (), kwargs, timeout_extra=wait)  # type: ignore[no-any-return]

    def wait_changes(self, since: int, limit: int = 500, *, timeout: float = 1.0) -> ChangeBatch:
        return self.changes(since, limit, wait=timeout)

    # -- the core contract, spelled out for readers and type checkers -----------------

    def agents(self) -> tuple[Agent, ...]:
        return self._call("agents")  # type: ignore[no-any-return]

    def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]:
        return self._call("search_customers", text, limit)  # type: ignore[no-any-return]

    def get_customer(self, customer_id: int) -> Customer:
        return self._call("get_customer", customer_id)  # type: ignore[no-any-return]

    def customer_facts(self, customer_id: int) -> CustomerFacts:
        return self._call("customer_facts", customer_id)  # type: ignore[no-any-return]

    def timeline(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        cursor: str | None = None,
        limit: int = 50,
    ) -> TimelinePage:
        args = {"kinds": kinds, "channels": channels, "cursor": cursor, "limit": limit}
        return self._call("timeline", customer_id, **args)  # type: ignore[no-any-return]

    def customer_view(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        limit: int = 50,
    ) -> CustomerView:
        """Profile, facts and the first timeline page in one request (see the contract)."""
        args = {"kinds": kinds, "channels": channels, "limit": limit}
        return self._call("customer_view", customer_id, **args)  # type: ignore[no-any-return]

    def get_event(self, event_id: int) -> TimelineEvent:
        return self._call("get_event", event_id)  # type: ignore[no-any-return]

    def queue(
        self,
        query: QueueQuery = QueueQuery(),
        *,
        cursor: str | None = None,
        limit: int = 50,
        backwards: bool = False,
    ) -> QueuePage:
        args = {"cursor": cursor, "limit": limit, "backwards": backwards}
        return self._call("queue", query, **args)  # type: ignore[no-any-return]

    def queue_count(self, query: QueueQuery = QueueQuery()) -> int:
        return self._call("queue_count", query)  # type: ignore[no-any-return]

    def get_contact(self, contact_id: int) -> ContactDetail:
        return self._call("get_contact", contact_id)  # type: ignore[no-any-return]

    def templates(self, retired: bool = False) -> tuple[Template, ...]:
        return self._call("templates", retired=retired)  # type: ignore[no-any-return]

    def claim(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        return self._call("claim", contact_id, expected_version=expected_version)  # type: ignore[no-any-return]

    def release(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        return self._call("release", contact_id, expected_version=expected_version)  # type: ignore[no-any-return]

    def assign(
        self, contact_id: int, agent: str, *, expected_version: int | None = None
    ) -> Contact:
        return self._call("assign", contact_id, agent, expected_version=expected_version)  # type: ignore[no-any-return]

    def set_status(
        self, contact_id: int, status: ContactStatus, *, expected_version: int | None = None
    ) -> Contact:
        return self._call("set_status", contact_id, status, expected_version=expected_version)  # type: ignore[no-any-return]

    def set_priority(
        self, contact_id: int, priority: Priority, *, expected_version: int | None = None
    ) -> Contact:
        return self._call("set_priority", contact_id, priority, expected_version=expected_version)  # type: ignore[no-any-return]

    def snooze(
        self, contact_id: int, until: datetime, *, expected_version: int | None = None
    ) -> Contact:
        return self._call("snooze", contact_id, until, expected_version=expected_version)  # type: ignore[no-any-return]

    def reply(
        self,
        contact_id: int,
        body: str,
        *,
        channel: str | None = None,
        idempotency_key: str | None = None,
        template: str | None = None,
    ) -> Message:
        args = {"channel": channel, "idempotency_key": idempotency_key, "template": template}
        return self._call("reply", contact_id, body, **args)  # type: ignore[no-any-return]

    def add_note(
        self, contact_id: int, body: str, *, idempotency_key: str | None = None
    ) -> Message:
        return self._call("add_note", contact_id, body, idempotency_key=idempotency_key)  # type: ignore[no-any-return]

    def retry_message(self, message_id: int) -> Message:
        return self._call("retry_message", message_id)  # type: ignore[no-any-return]

    def add_customer_note(self, customer_id: int, body: str) -> TimelineEvent:
        return self._call("add_customer_note", customer_id, body)  # type: ignore[no-any-return]

    def edit_profile(
        self, customer_id: int, field: str, value: str, *, expected_version: int | None = None
    ) -> Customer:
        return self._call(
            "edit_profile",
            customer_id,
            field,
            value,  # type: ignore[no-any-return]
            expected_version=expected_version,
        )

    # -- administration (admin tokens) ---------------------------------------------
    # `tokens`, `create_token` and `revoke_token` are generated from the route table.

    def import_file(
        self,
        path: str | Path,
        *,
        source: str,
        kind: str = "customers",
        fmt: str | None = None,
        mapping: str | Path | None = None,
        id_column: str | None = None,
        default_region: str = "IT",
        encoding: str | None = None,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_bad: Callable[[int, str], None] | None = None,
    ) -> ImportResult:
        """Send a file to the server's import pipeline (admin tokens); the import report.

        The file is streamed in chunks (`progress` counts the bytes sent); the request
        waits as long as the import takes and is never retried (run it again instead:
        imports are idempotent). `on_bad` is called for the skipped rows the server lists.

        Raises:
            Forbidden: not an admin token. InvalidInput: bad options or a bad file.
            Unavailable: the server cannot be reached.
        """
        if self._read_only:
            raise ReadOnly(f"{self._url} is open read-only: importing changes data")
        me = self.whoami()  # refused here, before sending a file the server would refuse
        if not me.role.can_write:
            raise ReadOnly(f"{me.name}'s token has the {me.role.value} role: read-only")
        if me.role is not Role.ADMIN:
            raise Forbidden(
                f"{me.name}'s token has the {me.role.value} role: importing needs an admin token"
            )
        file_path = Path(path)
        if not file_path.is_file():
            raise InvalidInput(f"no such file: {file_path}")
        fmt = detect_format(file_path, fmt)
        query = [("source", source), ("format", fmt)]
        if kind != "customers":
            query.append(("kind", kind))
        if id_column:
            query.append(("id_column", id_column))
        if default_region != "IT":
            query.append(("default_region", default_region))
        if encoding:
            query.append(("encoding", encoding))
        if strict:
            query.append(("strict", "true"))
        if mapping is not None:
            try:
                query.append(("mapping", Path(mapping).read_text("utf-8")))
            except (OSError, UnicodeDecodeError) as e:
                raise InvalidInput(f"no such mapping file: {mapping}") from e
        media = {"csv": "text/csv", "jsonl": "application/x-ndjson"}.get(fmt, "application/json")
        try:
            file = open(path, "rb")  # noqa: SIM115 - closed below, after the upload
        except OSError as e:
            raise InvalidInput(f"cannot read {path}: {e.strerror}") from e
        with file:
            total = file_path.stat().st_size

            def chunks() -> Iterator[bytes]:
                sent = 0
                while chunk := file.read(_UPLOAD_CHUNK):
                    yield chunk
                    sent += len(chunk)
                    if progress is not None:
                        progress(sent, total)

            status, content = self._upload(API_PREFIX + "/imports", query, media, chunks())
        if status >= 400:
            raise _error_from(status, content, self._url + API_PREFIX + "/imports")
        report: ImportResult = self._decode(ImportResult, content)
        if on_bad is not None:
            for row in report.bad_rows:
                on_bad(row.line, row.reason)
        return report

    def _upload(
        self, path: str, query: list[tuple[str, str]], media: str, chunks: Iterator[bytes]
    ) -> tuple[int, bytes]:
        """One streamed POST, waiting as long as the server works on it."""
        headers = {"content-type": media, "idempotency-key": uuid.uuid4().hex}
        try:
            import httpx

            try:
                response = self._http.post(
                    path,
                    params=tuple(query),
                    content=chunks,
                    headers=headers,
                    timeout=httpx.Timeout(None, connect=self._connect_timeout),
                )
            except httpx.TransportError as e:
                raise _Down(type(e).__name__) from e
            return response.status_code, response.content
        except _Down as e:
            raise Unavailable(f"cannot reach {self._url} ({e}): offline", "Offline") from e

    # -- the generic call -------------------------------------------------------------

    def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call contract method `name` on the server (its endpoint in the route table)."""
        return self._request(name, args, kwargs)

    def _request(
        self,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        timeout_extra: float = 0.0,
    ) -> Any:
        ep: Endpoint = self._endpoints[name]
        if ep.write and self._read_only:
            raise ReadOnly(f"{self._url} is open read-only: {name} changes data")
        extra_names = {p.name for p in ep.extra}
        extras = {k: kwargs.pop(k) for k in list(kwargs) if k in extra_names}
        arguments = dict(_signature(name).bind(self, *args, **kwargs).arguments)
        arguments.pop("self", None)
        arguments.update(extras)
        path = ep.path
        query: list[tuple[str, str]] = []
        body: dict[str, Any] = {}
        for p in ep.params():
            if p.group is not None:
                if p.group not in arguments:
                    continue
                value = getattr(arguments[p.group], p.name)
                if value == p.default:
                    continue
            elif p.name not in arguments:
                continue
            else:
                value = arguments[p.name]
                if not p.required and value == p.default:
                    continue  # the server applies the same default
            if p.where == "path":
                path = path.replace("{" + p.name + "}", quote(wire.query_text(value), safe=""))
            elif p.where == "query":
                query.extend((p.name, v) for v in wire.query_values(value))
            else:
                body[p.name] = value
        raw = self._send(
            ep.method,
            API_PREFIX + path,
            query,
            body if ep.write else None,
            write=ep.write,
            timeout_extra=timeout_extra,
        )
        return self._decode(ep.returns(), raw)

    def _decode(self, tp: Any, raw: bytes) -> Any:
        """An answer's body as a `tp` (InvalidInput when it does not fit the type)."""
        try:
            return wire.decoder(tp)(raw)
        except ValueError as e:  # not JSON at all
            raise Unavailable(f"{self._url} sent a malformed answer") from e

    def _send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        body: dict[str, Any] | None,
        *,
        write: bool,
        timeout_extra: float = 0.0,
    ) -> bytes:
        """The body of a successful answer (errors raised as VistaError)."""
        headers = {"idempotency-key": uuid.uuid4().hex} if write else {}
        content: bytes | None = None
        if body is not None:
            try:
                content = wire.encode_body(body)
            except UnicodeEncodeError as e:  # nothing was sent
                raise not_text(e, ": nothing was sent") from e
            headers["content-type"] = "application/json"
        last: VistaError = Unavailable(f"cannot reach {self._url}")
        tried: set[int] = set()  # servers that failed this call (fail-over goes elsewhere)
        attempt = 0
        while attempt <= self._retries:
            try:
                status, answer = self._exchange(
                    method, path, query, content, headers, timeout_extra
                )
            except _Slow as e:
                last = Unavailable(f"{self._url} did not answer in time", "Offline")
                last.__cause__ = e.__cause__
                # a write may still be running there: only that server can say (its key)
                if not write and self._fail_over(tried):
                    continue
                if not write:  # a slow server will not get faster by asking again at once
                    raise last from e.__cause__
                attempt = self._pause(attempt)
                continue
            except _Down as e:
                last = Unavailable(f"cannot reach {self._url} ({e}): offline", "Offline")
                last.__cause__ = e.__cause__
                # the servers share one store and its idempotency keys: a write whose
                # answer was lost is answered again by the next server, never run twice
                if not self._fail_over(tried):
                    tried.clear()
                    attempt = self._pause(attempt)
                continue
            if status in _RETRY_STATUSES and attempt < self._retries:
                last = _error_from(status, answer, self._url + path)
                attempt = self._pause(attempt)
                continue
            if status >= 400:
                raise _error_from(status, answer, self._url + path)
            return answer
        raise last

    def _pause(self, attempt: int) -> int:
        """Wait before the next attempt (exponential backoff); the attempt's number."""
        if attempt < self._retries:
            time.sleep(self._backoff * (2**attempt))
        return attempt + 1

    def _exchange(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        content: bytes | None,
        headers: dict[str, str],
        timeout_extra: float,
    ) -> tuple[int, bytes]:
        """One try: (status, body). Raises _Slow (sent, no answer in time) or _Down."""
        import httpx

        extensions = {}
        if timeout_extra:
            t = self._http.timeout
            extensions["timeout"] = httpx.Timeout(
                (t.read or 10.0) + timeout_extra, connect=t.connect
            ).as_dict()
        try:
            response = self._http.request(
                method,
                path,
                params=tuple(query),
                content=content,
                headers=headers,
                extensions=extensions,
            )
        except httpx.ReadTimeout as e:
            raise _Slow() from e
        except httpx.TransportError as e:
            raise _Down(type(e).__name__) from e
        except UnicodeEncodeError as e:  # nothing was sent (a query value that is not text)
            raise not_text(e, ": nothing was sent") from e
        named = response.headers.get(wire.CAPABILITIES_HEADER)
        if named is not None and response.status_code == 200:
            self._served = wire.decode_capabilities(named)
        return response.status_code, response.content


def servers(url: str) -> list[str]:
    """The server addresses in a backend URL: one, or several separated by commas
    (servers on one PostgreSQL database, tried in order when one cannot be reached).

    Raises:
        InvalidInput: an empty address, or one that is not http(s)://.
    """
    found = []
    for part in url.split(","):
        base = part.strip().rstrip("/").removesuffix(API_PREFIX)
        if not base.startswith(("http://", "https://")):
            raise InvalidInput(
                f"malformed server address {part.strip()!r} in {url!r}: "
                "list servers as http://host:port,http://host2:port"
            )
        found.append(base)
    return found


class _Slow(Exception):
    """The request went out; the answer did not come in time."""


class _Down(Exception):
    """The server could not be reached (the message names the failure)."""


def _error_from(status: int, content: bytes, url: str) -> VistaError:
    """The VistaError an error answer stands for."""
    err = wire.read_error(content)
    message = err.message or f"HTTP {status} from {url}"
    title = err.title or None
    kind = err.type
    if status == 401:
        return Forbidden(message, title or "Unauthorized")
    if status == 404:
        return NotFound(message, title)
    if status == 409:
        return Conflict(message, title, current=err.current_model())
    if status == 403:
        return ReadOnly(message, title) if kind == "ReadOnly" else Forbidden(message, title)
    if status in (400, 405, 422):
        return InvalidInput(message, title)
    if status >= 500:
        return Unavailable(message, title)
    return VistaError(message, title)


def _make_method(ep: Endpoint) -> Any:
    name = ep.call

    def method(self: HTTPBackend, *args: Any, **kwargs: Any) -> Any:
        return self._request(name, args, kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(Backend, name).__doc__
    method.__signature__ = _signature(name)  # type: ignore[attr-defined]
    return method


for _ep in ENDPOINTS:  # every other routed contract method (KPIs, identity, inbound...)
    if hasattr(Backend, _ep.call) and _ep.call not in vars(HTTPBackend):
        setattr(HTTPBackend, _ep.call, _make_method(_ep))
abc.update_abstractmethods(HTTPBackend)  # type: ignore[arg-type]
del _ep
