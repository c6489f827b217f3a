"""CLI output: rich tables for people, JSON / JSON Lines for scripts, one-line errors.

Every cell that holds source or customer text goes through `safe_text`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backends.base import VistaError
from console.safe_text import json_text, literal


def _width() -> int | None:
    """Rich assumes 80 columns when piped; tables for files and pagers get room."""
    if sys.stdout.isatty():
        return None
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    return max(columns, 160)


stdout = Console(highlight=False, soft_wrap=False, width=_width())
stderr = Console(stderr=True, highlight=False)


def emit_json(value: Any) -> None:
    """One JSON document on stdout (models via their `to_json`)."""
    sys.stdout.write(json_text(json.dumps(_plain(value), ensure_ascii=False, indent=2)) + "\n")


def emit_jsonl(values: Iterable[Any]) -> None:
    """JSON Lines: one compact object per line, flushed as it goes."""
    for value in values:
        sys.stdout.write(json_text(json.dumps(_plain(value), ensure_ascii=False)) + "\n")
    sys.stdout.flush()


def _plain(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A rich table; every cell is literal text, never markup."""
    t = Table(title=title, title_justify="left", header_style="bold", expand=False)
    for column in columns:
        t.add_column(column, overflow="fold")
    for row in rows:
        t.add_row(*(cell if isinstance(cell, Text) else literal(cell) for cell in row))
    stdout.print(t)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and exit: 1 for not found / invalid input, 2 for usage."""
    stderr.print(Text(f"vista: error: {message}"), soft_wrap=True)
    raise typer.Exit(code)


def fail_from(error: VistaError) -> NoReturn:
    fail(error.message, error.exit_code)
