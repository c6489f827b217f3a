"""`vista serve` (the HTTP API server) and `vista tokens` (its API tokens)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from backends import local_path
from backends.base import InvalidInput
from backends.models import Role
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, stderr, stdout, table
from console.format import when

tokens_app = typer.Typer(
    help="API tokens of `vista serve`: create, list, revoke (admins).", no_args_is_help=True
)


def _store_path(backend: str | None) -> Path:
    return local_path(backend or STATE.url)


def _remote() -> Any | None:
    """The HTTP backend when --backend names a server (tokens are then managed through it)."""
    if STATE.url and STATE.url.startswith(("http://", "https://")):
        return STATE.backend()
    return None


def _local_tokens() -> Any:
    from backends.sqlite.store import Store
    from backends.sqlite.tokens import TokenStore

    return TokenStore(Store(_store_path(None)))


def is_remote() -> bool:
    """True when the global --backend names a server (http:// or https://)."""
    return bool(STATE.url and STATE.url.startswith(("http://", "https://")))


def remote_import(
    path: Path,
    *,
    source: str,
    fmt: str | None,
    mapping: Path | None,
    id_column: str | None,
    default_region: str,
    strict: bool,
    kind: str,
    json_: bool,
    encoding: str | None = None,
    max_bad_shown: int = 20,
) -> None:
    """`vista import` against a server: the file goes to `POST /api/v1/imports` (admins only),
    and the server's report is printed as a local import prints its own."""
    from backends.base import Forbidden
    from backends.identity.readers import detect_format

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    file_format = detect_format(path, fmt)
    mapping_text = None
    if mapping is not None:
        try:
            mapping_text = mapping.read_text("utf-8")
        except OSError as e:
            raise InvalidInput(f"no such mapping file: {mapping}") from e
    backend = STATE.backend(write=True)
    me = backend.whoami()
    if me.role is not Role.ADMIN:  # before sending a file the server would refuse
        raise Forbidden(
            f"{me.name}'s token has the {me.role.value} role: importing needs an admin token"
        )
    try:
        report = backend.import_file(  # type: ignore[attr-defined]
            path,
            source=source,
            kind=kind,
            fmt=file_format,
            mapping=mapping_text,
            id_column=id_column,
            default_region=default_region.upper(),
            encoding=encoding,
            strict=strict,
        )
    except KeyboardInterrupt:
        from console.cli.output import fail

        fail(
            "import interrupted: the server may still finish it; run the same command "
            "again to be sure (imports are idempotent)",
            130,
        )
    if json_:
        emit_json(report)
        return
    bad = report.get("bad_rows", [])
    for row in bad[:max_bad_shown]:
        stderr.print(
            f"vista: warning: {path.name} line {row['line']}: {row['reason']} (skipped)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if report.get("skipped", 0) > max_bad_shown:
        stderr.print(
            f"vista: warning: {report['skipped'] - max_bad_shown} more bad row(s) skipped",
            markup=False,
            highlight=False,
        )
    seconds = report.get("seconds") or 0
    rate = report["rows"] / seconds if seconds else 0
    line = (
        f"Imported {report['rows']:,} rows from {path.name} as {report['source']} "
        f"{report['kind']}: {report['created']:,} new, {report['updated']:,} updated, "
        f"{report['unchanged']:,} unchanged, {report['skipped']:,} skipped"
    )
    if report["kind"] == "customers":
        line += (
            f"; {report['customers_created']:,} new customers, {report['auto_merges']:,} merges, "
            f"{report['suggestions']:,} suggestions"
        )
    stdout.print(f"{line} in {seconds:.1f} s ({rate:,.0f} rows/s)", markup=False, highlight=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> Any:
    """A listening socket on host:port, or Unavailable saying why not in an operator's
    words (uvicorn would log a bind error and exit 3 after announcing the address)."""
    import errno
    import socket

    from backends.base import Unavailable

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as e:
        raise Unavailable(f"cannot listen on {host!r}: no such interface or host name") from e
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            why = "is in use (another `vista serve`?): stop that or pick another --port"
        elif e.errno == errno.EACCES:
            why = "is not allowed for this user (ports below 1024 need privileges): pick another --port"
        elif e.errno == errno.EADDRNOTAVAIL:
            why = "is not on an interface of this machine: check --host"
        else:
            why = f"cannot be listened on ({e.strerror})"
        raise Unavailable(f"{host}:{port} {why}") from e
    return sock


def register(app: typer.Typer) -> None:
    """Add `serve` and `tokens` to the `vista` command."""
    app.add_typer(tokens_app, name="tokens")

    @app.command("serve")
    @handles_errors
    def serve(
        backend: Annotated[
            str | None,
            typer.Option(
                "--backend",
                help="The store to serve: sqlite:///path/to/file.db "
                "(default: the global --backend, else vista.db in your data directory).",
            ),
        ] = None,
        host: Annotated[
            str,
            typer.Option(
                help="Interface to listen on; keep loopback and put a "
                "TLS reverse proxy in front for a team."
            ),
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8750,
        log_level: Annotated[
            str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")
        ] = "info",
        access_log: Annotated[
            bool,
            typer.Option(
                help="Log every request line (off by default: query strings hold "
                "search terms and customer names)."
            ),
        ] = False,
    ) -> None:
        """Serve a store as Vista's HTTP API (JSON under /api/v1, bearer tokens).

        With the global --read-only every write answers 403, whatever the token.
        """
        import uvicorn

        from console.server.app import create_app
        from console.server.hub import Hub

        path = _store_path(backend)
        sock = listen(host, port)  # before opening the store: a taken port says so at once
        hub = Hub(path, read_only=STATE.read_only)
        active = [t for t in hub.tokens.list() if t.active]
        if not _is_loopback(host):
            stderr.print(
                f"warning: listening on {host} without TLS; put a TLS reverse proxy in "
                "front (see the README)",
                markup=False,
                highlight=False,
            )
        if STATE.read_only:
            stderr.print("serving read-only: every write answers 403", markup=False)
        if not active:
            stderr.print(
                "no API tokens yet: create one with "
                "`vista tokens create --name NAME --role operator`",
                markup=False,
                highlight=False,
            )
        stderr.print(
            f"Vista API for {path} on http://{host}:{port}/api/v1 "
            f"(OpenAPI: /api/v1/openapi.json); Ctrl+C stops",
            markup=False,
            highlight=False,
        )
        config = uvicorn.Config(
            create_app(hub=hub),
            host=host,
            port=port,
            log_level=log_level,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            timeout_graceful_shutdown=3,
            server_header=False,
            access_log=access_log,
        )
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
            hub.close()

    @tokens_app.command("create")
    @mutating
    @handles_errors
    def tokens_create(
        name: Annotated[str, typer.Option(help="A name for the token (unique among active ones).")],
        role: Annotated[str, typer.Option(help="operator, supervisor (read-only) or admin.")],
        agent: Annotated[
            str | None, typer.Option(help="The agent the token acts as (default: the name).")
        ] = None,
        json_: JsonOpt = False,
    ) -> None:
        """Create a token and print it once, alone on stdout (only its hash is kept)."""
        try:
            role_value = Role(role)
        except ValueError as e:
            raise InvalidInput(f"unknown role {role!r}: operator, supervisor or admin") from e
        remote = _remote()
        if remote is not None:
            answer = remote.tokens_create(name, role_value, agent)
            token, info = answer["token"], {k: v for k, v in answer.items() if k != "token"}
        else:
            token, created = _local_tokens().create(name, role_value, agent)
            info = created.to_json()
        if json_:
            emit_json({"token": token, **info})
            return
        sys.stdout.write(token + "\n")
        sys.stdout.flush()
        stderr.print(
            f"token {info['name']} for agent {info['agent']} ({info['role']}): shown only "
            "this once, keep it secret",
            markup=False,
            highlight=False,
        )

    @tokens_app.command("list")
    @handles_errors
    def tokens_list(json_: JsonOpt = False) -> None:
        """Every token: name, role, agent, created, revoked (never the secret)."""
        remote = _remote()
        found = (
            remote.tokens_list()
            if remote is not None
            else [t.to_json() for t in _local_tokens().list()]
        )
        if json_:
            emit_jsonl(found)
            return
        if not found:
            stdout.print("no tokens", markup=False)
            return
        from backends.http.codec import parse_datetime

        def _when(text: str | None) -> str:
            return when(parse_datetime(text)) if text else ""

        table(
            None,
            ("name", "role", "agent", "created", "revoked"),
            (
                (t["name"], t["role"], t["agent"], _when(t["created_at"]), _when(t["revoked_at"]))
                for t in found
            ),
        )

    @tokens_app.command("revoke")
    @mutating
    @handles_errors
    def tokens_revoke(
        name: Annotated[str, typer.Argument(help="The token's name.")],
        json_: JsonOpt = False,
    ) -> None:
        """Revoke a token: it stops working at once."""
        remote = _remote()
        info = (
            remote.tokens_revoke(name)
            if remote is not None
            else _local_tokens().revoke(name).to_json()
        )
        if json_:
            emit_json(info)
        else:
            stdout.print(f"revoked token {info['name']}", markup=False, highlight=False)
