"""An online operator who does nothing for the rules' away_after_minutes counts as away and
gets nothing new; acting again (any write, or the console's heartbeat) brings them back.
The same on SQLite and on PostgreSQL (where a write's sign of life is kept apart from the
agent's row, which routers lock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from backends.base import Backend
from backends.models import Channel, Presence, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW
from tests.postgres_server import PostgresServer


def _idle_then_back(open_as: Callable[[str], Backend], now: list[datetime]) -> None:
    setup = open_as("admin")
    setup.set_routing_rules('away_after_minutes = 10\n[intents]\nzebra_question = ["zebra"]\n')
    setup.edit_agent("giulia", intents=("zebra_question",))
    giulia, admin = open_as("giulia"), open_as("admin")

    def state() -> Presence:
        return next(s.presence for s in admin.agent_states() if s.agent.name == "giulia")

    def ask(n: int) -> str | None:
        got = admin.deliver_inbound(
            Channel.CHAT, f"+39 333 200 {n:04d}", "A zebra question", external_id=f"idle-{n}"
        )
        return got.contact.assignee

    giulia.set_presence(Presence.ONLINE)
    now[0] = NOW + timedelta(minutes=10)
    assert state() is Presence.ONLINE  # the limit itself: still online
    assert ask(1) == "giulia"
    now[0] = NOW + timedelta(minutes=10, seconds=1)
    assert state() is Presence.AWAY
    assert ask(2) is None
    giulia.add_note(giulia.queue(QueueQuery(assignee="giulia"), limit=1).contacts[0].id, "here")
    assert state() is Presence.ONLINE
    assert ask(3) == "giulia"
    cursor = admin.changes(-1).cursor
    giulia.set_presence(Presence.ONLINE)  # a heartbeat: offers what waited while she was away
    logged = [c.action for c in admin.changes(cursor).changes]
    assert logged == ["routed:giulia"]  # and no presence change to log


def test_idle_past_the_limit_is_away_and_acting_again_is_online(demo_db: Path) -> None:
    now = [NOW]
    opened: list[Backend] = []

    def open_as(agent: str) -> Backend:
        opened.append(SQLiteBackend(demo_db, agent=agent, clock=lambda: now[0]))
        return opened[-1]

    try:
        _idle_then_back(open_as, now)
    finally:
        for b in opened:
            b.close()


def test_on_postgresql_too(postgres_server: PostgresServer, demo_db: Path) -> None:
    from backends import copy_store, open_factory

    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    now = [NOW]
    factory = open_factory(url, clock=lambda: now[0])
    try:
        _idle_then_back(factory, now)
    finally:
        factory.close()
