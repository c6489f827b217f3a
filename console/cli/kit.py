"""Plumbing shared by every `vista` command: global state, error handling, the read-only guard."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from backends import open_backend
from backends.base import Backend, InvalidInput, ReadOnly, VistaError
from backends.models import Channel
from console.cli.output import fail, fail_from
from console.safe_text import clean

P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Machine-readable output (JSON Lines for lists).")
]


@dataclass
class CliState:
    """Global options, and the backend opened on first use."""

    url: str | None = None
    agent: str | None = None
    token: str | None = None
    read_only: bool = False
    _backend: Backend | None = field(default=None, repr=False)

    def backend(self, *, write: bool = False, create: bool = False) -> Backend:
        """The backend of the global options, opened once. `create`: make a missing local
        store file (the default store is always made)."""
        if write and self.read_only:
            raise ReadOnly("vista is running --read-only: this command changes data")
        if self._backend is None:
            from console.settings import configured_backend

            url = self.url or configured_backend()
            self._backend = open_backend(
                url,
                agent=self.agent,
                read_only=self.read_only,
                token=self.token,
                create=create or not url,
                origin="cli",
            )
            # an agent the store does not know (a typo, or a login that is not an agent)
            # is refused before any command runs, naming the known ones
            self._backend.whoami()
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


STATE = CliState()


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn Vista errors into one line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except VistaError as e:
            fail_from(e)
        finally:
            STATE.close()

    return wrapper


def mutating(fn: Callable[P, R]) -> Callable[P, R]:
    """Declare a command as changing data: refused up front when --read-only."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if STATE.read_only:
            fail("vista is running --read-only: this command changes data")
        return fn(*args, **kwargs)

    wrapper.__vista_mutating__ = True  # type: ignore[attr-defined]
    return wrapper


IdArg = Annotated[int, typer.Argument(metavar="ID", help="Contact id.")]
VersionOpt = Annotated[
    int | None, typer.Option("--if-version", help="Fail if the contact changed since this version.")
]


# -- option values shared by several commands ---------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

TimeOpt = Annotated[
    str | None,
    typer.Option(
        metavar="T",
        help="A time: ISO date or date-time (UTC unless it says otherwise), "
        "'now', or an age such as 90m, 24h, 7d, 2w (that long ago).",
    ),
]


def parse_time(text: str, now: datetime) -> datetime:
    """`2026-11-20`, `2026-11-20T10:00`, `...+01:00`, `now`, `24h` / `7d` (ago) -> aware UTC."""
    value = text.strip().lower()
    if value == "now":
        return now
    m = _RELATIVE.match(value)
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as e:
        raise InvalidInput(
            f"cannot read the time {clean(text)!r}: use 2026-11-20, 2026-11-20T10:00, now, "
            "or an age like 24h or 7d"
        ) from e
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def enum_values(values: list[str] | None, kind: type[Any], what: str) -> tuple[Any, ...]:
    """Option values as members of the enum `kind` (case and spaces ignored); InvalidInput
    names the one that is not and the valid ones."""
    out = []
    for value in values or ():
        try:
            out.append(kind(value.strip().lower()))
        except ValueError as e:
            allowed = ", ".join(m.value for m in kind)
            raise InvalidInput(f"unknown {what} {clean(value)!r}; use one of: {allowed}") from e
    return tuple(out)


def channel_option(value: str | None) -> Channel | None:
    """A --channel value as a Channel (None stays None); InvalidInput names the valid ones."""
    return None if value is None else enum_values([value], Channel, "channel")[0]
