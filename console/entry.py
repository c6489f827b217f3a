"""The `vista` console script.

`vista` with only global options opens the console straight away, without
loading the CLI machinery (Typer and what it imports cost a noticeable part
of start-up); anything else goes to the full CLI in `console.cli.app`.
"""

from __future__ import annotations

import os
import sys

_VALUE_OPTIONS = {"--backend": "url", "--agent": "agent", "--token": "token"}


def console_options(argv: list[str]) -> dict[str, object] | None:
    """The global options when `argv` asks for the console only; None otherwise."""
    found: dict[str, object] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--read-only":
            found["read_only"] = True
            i += 1
            continue
        name, eq, value = arg.partition("=")
        if name not in _VALUE_OPTIONS:
            return None  # a command, --help, a typo: the full CLI answers
        if not eq:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
            i += 1
        found[_VALUE_OPTIONS[name]] = value
        i += 1
    return found


def open_console(url: str | None, agent: str | None, token: str | None, read_only: bool) -> None:
    """Open the backend and run the console on it (errors: one line, exit 1)."""
    from backends import ENV_AGENT, ENV_BACKEND, ENV_TOKEN, open_backend
    from backends.base import VistaError

    if not url and not os.environ.get(ENV_BACKEND):
        from console.settings import configured_backend

        url = configured_backend()
    url = url or os.environ.get(ENV_BACKEND)
    try:
        backend = open_backend(
            url,
            agent=agent or os.environ.get(ENV_AGENT),
            token=token or os.environ.get(ENV_TOKEN),
            read_only=read_only,
            create=not url,
        )
    except VistaError as e:
        sys.stderr.write(f"vista: error: {e.message}\n")
        raise SystemExit(e.exit_code) from None
    from backends.models import QueueQuery
    from console.widgets.queue.first_page import FirstPage
    from console.widgets.queue.window import PAGE

    # the queue's first page is fetched while Textual loads and builds the console
    first_page = FirstPage(backend, QueueQuery(), PAGE)
    from console.app import VistaApp

    try:
        VistaApp(backend, first_page=first_page).run()
    finally:
        backend.close()


def main() -> None:
    options = console_options(sys.argv[1:])
    if options is None:
        from console.cli.app import main as cli_main

        cli_main()
        return
    open_console(
        options.get("url"),  # type: ignore[arg-type]
        options.get("agent"),  # type: ignore[arg-type]
        options.get("token"),  # type: ignore[arg-type]
        bool(options.get("read_only", False)),
    )
