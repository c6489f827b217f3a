"""`vista serve` (the HTTP API server) and `vista tokens` (its API tokens)."""

from __future__ import annotations

import ipaddress
import signal
import sys
from typing import Annotated, Any

import typer

from backends import ENV_REPLICA, open_factory
from backends.base import InvalidInput
from backends.models import Role
from console.cli.channels import ChannelsOpt, receipt_recorder, start_background, store_if_local
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, stderr, stdout, table
from console.format import when

tokens_app = typer.Typer(
    help="API tokens of `vista serve`: create, list, revoke (admins).", no_args_is_help=True
)


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


def _exit_quietly(signum: int, frame: object) -> None:
    """SIGINT or SIGTERM outside uvicorn's own handling: leave through the `finally`s, 0."""
    raise SystemExit(0)


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
                help="The store to serve: sqlite:///path/to/file.db or postgresql://host/db "
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
        channels: ChannelsOpt = None,
        read_audit: Annotated[
            bool,
            typer.Option(
                "--read-audit/--no-read-audit",
                help="Record every read of a customer's profile in the audit trail.",
            ),
        ] = True,
        replica: Annotated[
            str | None,
            typer.Option(
                "--replica",
                envvar=ENV_REPLICA,
                help="A streaming replica of the PostgreSQL --backend: supervisors' and "
                "read-only clients' reads go there, every write to the --backend.",
            ),
        ] = None,
    ) -> None:
        """Serve a store as Vista's HTTP API (JSON under /api/v1, bearer tokens).

        With the global --read-only every write answers 403, whatever the token.
        A background dispatcher sends queued replies through the connectors of
        channels.toml.
        """
        import uvicorn

        from console.server.app import create_app
        from console.server.hub import Hub

        url = backend or STATE.url
        sock = listen(host, port)  # before opening the store: a taken port says so at once
        try:
            hub = Hub(
                open_factory(url, read_audit=read_audit, replica=replica), read_only=STATE.read_only
            )
        except BaseException:
            sock.close()
            raise
        active = hub.active_tokens()
        if not _is_loopback(host):
            stderr.print(
                f"warning: listening on {host} without TLS; put a TLS reverse proxy in "
                "front (see the README)",
                markup=False,
                highlight=False,
            )
        if STATE.read_only:
            stderr.print("serving read-only: every write answers 403", markup=False)
        if replica:
            stderr.print(
                f"read-only users read from the replica {hub.replica_location}",
                markup=False,
                highlight=False,
            )
        if not active:
            stderr.print(
                "no API tokens yet: an admin creates them with "
                "`vista --agent ADMIN tokens create --name NAME --role operator` "
                "(a store without an admin: `vista tokens create --name NAME --role admin`)",
                markup=False,
                highlight=False,
            )
        stderr.print(
            f"Vista API for {hub.location} on http://{host}:{port}/api/v1 "
            f"(OpenAPI: /api/v1/openapi.json); Ctrl+C stops",
            markup=False,
            highlight=False,
        )
        config = uvicorn.Config(
            create_app(hub=hub, on_delivery_update=receipt_recorder(hub)),
            host=host,
            port=port,
            log_level=log_level,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            timeout_graceful_shutdown=3,
            server_header=False,
            access_log=access_log,
        )
        halt = (
            None
            if STATE.read_only
            else start_background(
                hub.backend("dispatcher", read_only=False, role=Role.ADMIN),
                store_if_local(url),
                channels,
            )
        )
        # SIGTERM stops the server as SIGINT does: uvicorn finishes the open requests,
        # then passes the signal on to these handlers, and the store is closed (its
        # write-ahead log checkpointed) before `vista` exits 0
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _exit_quietly)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            if halt is not None:
                halt()
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
        made = STATE.backend(write=True).create_token(name, role_value, agent)
        if json_:
            emit_json(made)
            return
        sys.stdout.write(made.token + "\n")
        sys.stdout.flush()
        stderr.print(
            f"token {made.name} for agent {made.agent} ({made.role.value}): shown only "
            "this once, keep it secret",
            markup=False,
            highlight=False,
        )

    @tokens_app.command("list")
    @handles_errors
    def tokens_list(json_: JsonOpt = False) -> None:
        """Every token: name, role, agent, created, revoked (never the secret)."""
        found = STATE.backend().tokens()
        if json_:
            emit_jsonl(found)
            return
        if not found:
            stdout.print("no tokens", markup=False)
            return
        table(
            None,
            ("name", "role", "agent", "created", "revoked"),
            (
                (t.name, t.role.value, t.agent, when(t.created_at), when(t.revoked_at))
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
        info = STATE.backend(write=True).revoke_token(name)
        if json_:
            emit_json(info)
        else:
            stdout.print(f"revoked token {info.name}", markup=False, highlight=False)
