"""`vista changes` (the change feed, once or followed), `vista agents` and `vista templates`:
what an integration or a script reads besides customers and contacts."""

from __future__ import annotations

import inspect
import time
from typing import Annotated, Any

import typer

from backends.base import Unavailable
from console.cli.kit import STATE, JsonOpt, handles_errors
from console.cli.output import emit_json, emit_jsonl, stderr, stdout
from console.format import when
from console.safe_text import clean

#: How long one long-poll of a remote change feed waits for something to happen.
FOLLOW_WAIT = 25.0
#: A local store has no long-poll: how often `--follow` looks again.
FOLLOW_POLL = 1.0


def _print_changes(changes: Any, json_: bool) -> None:
    if json_:
        emit_jsonl(changes)
        return
    for c in changes:
        stdout.print(
            f"{c.seq:>8}  {when(c.at)}  {c.entity.value} {c.entity_id} "
            f"{clean(c.action)} by {clean(c.actor)}",
            markup=False,
            highlight=False,
        )


def _read(backend: Any, since: int, limit: int, remote: bool) -> Any:
    if remote:
        return backend.changes(since, limit, wait=FOLLOW_WAIT)
    return backend.changes(since, limit)


def follow(
    backend: Any, since: int | None, limit: int, json_: bool, polls: int | None = None
) -> None:
    """Print changes as they happen until interrupted (`polls`: stop after that many reads)."""
    remote = "wait" in inspect.signature(backend.changes).parameters  # a server's long-poll
    cursor = backend.changes(-1).cursor if since is None else since
    down = False
    while polls is None or polls > 0:
        if polls is not None:
            polls -= 1
        try:
            batch = _read(backend, cursor, limit, remote)
        except Unavailable as e:  # a server restarting: say so once, keep the place
            if not down:
                stderr.print(f"vista: {clean(e.message)}; retrying", markup=False)
                down = True
            time.sleep(2.0)
            continue
        if down:
            stderr.print("vista: reconnected", markup=False)
            down = False
        _print_changes(batch.changes, json_)
        cursor = batch.cursor
        if not batch.changes and not remote:
            time.sleep(FOLLOW_POLL)


def register(app: typer.Typer) -> None:
    """Add `changes` and `agents` to the `vista` command."""

    @app.command("changes")
    @handles_errors
    def changes(
        since: Annotated[
            int | None,
            typer.Option(
                help="Changes after this cursor (a `seq`, or the cursor printed last time); "
                "default: from the start, or from now with --follow.",
                min=0,
            ),
        ] = None,
        limit: Annotated[
            int, typer.Option(help="At most this many per read.", min=1, max=10_000)
        ] = 500,
        follow_: Annotated[
            bool,
            typer.Option("--follow", help="Keep printing changes as they happen (Ctrl-C stops)."),
        ] = False,
        json_: JsonOpt = False,
    ) -> None:
        """The change feed: contacts, customers and messages created or changed, in order.
        With --json one document `{changes, cursor}`; with --follow --json one change per
        line (JSON Lines), whose `seq` is a valid --since."""
        backend = STATE.backend()
        if follow_:
            try:
                follow(backend, since, limit, json_)
            except KeyboardInterrupt:
                pass
            return
        batch = backend.changes(since or 0, limit)
        if json_:
            emit_json(batch)
            return
        _print_changes(batch.changes, False)
        more = " (there may be more: run again with it)" if len(batch.changes) == limit else ""
        stderr.print(f"cursor {batch.cursor}{more}", markup=False, highlight=False)
