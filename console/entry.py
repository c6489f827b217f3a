"""The `vista` console script.

`vista` with only global options opens the console straight away, without
loading the CLI machinery (Typer and what it imports cost a noticeable part
of start-up); anything else goes to the full CLI in `console.cli.app`. Both
open the console through `console.launch`.
"""

from __future__ import annotations

import sys

from console.launch import open_console

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
