"""Plumbing shared by every `vista` command: global state, error handling, the read-only guard."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, ParamSpec, TypeVar

import typer

from backends import open_backend
from backends.base import Backend, ReadOnly, VistaError
from console.output import fail, fail_from

P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON Lines for lists).")]


@dataclass
class CliState:
    """Global options, and the backend opened on first use."""

    url: str | None = None
    agent: str | None = None
    token: str | None = None
    read_only: bool = False
    _backend: Backend | None = field(default=None, repr=False)

    def backend(self, *, write: bool = False) -> Backend:
        if write and self.read_only:
            raise ReadOnly("vista is running --read-only: this command changes data")
        if self._backend is None:
            from console.settings import configured_backend

            url = self.url or configured_backend()
            self._backend = open_backend(
                url, agent=self.agent, read_only=self.read_only, token=self.token,
                create=not url,
            )
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
VersionOpt = Annotated[int | None, typer.Option("--if-version", help="Fail if the contact changed since this version.")]


