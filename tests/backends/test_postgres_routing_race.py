"""Routing on one PostgreSQL database from two server processes at once (two factories, two
connection pools): every operator stays within their capacity, and no contact is given twice,
whether work is routed by `route_waiting`, on a message's arrival or claimed by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from backends import copy_store, open_factory
from backends.base import Backend, BackendFactory, Conflict
from backends.models import Channel, ContactStatus, Presence, QueueQuery
from tests.conftest import NOW
from tests.postgres_server import PostgresServer
from tests.race import at_once

ROUTERS = ("r1", "r2", "r3", "r4")
LIMIT = 2  # chats each router may hold
ROUNDS = 6


def _held_chats(admin: Backend) -> dict[str, int]:
    states = {s.agent.name: s for s in admin.agent_states()}
    return {name: states[name].held.get(Channel.CHAT.value, 0) for name in ROUTERS}


def test_two_servers_routing_at_once_respect_capacity_and_give_each_contact_once(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    one: BackendFactory = open_factory(url, clock=lambda: NOW)
    two: BackendFactory = open_factory(url, clock=lambda: NOW)
    try:
        admin = one("admin")
        for state in admin.agent_states():  # only the test's routers take work
            admin.set_presence(Presence.OFFLINE, agent=state.agent.name)
        for name in ROUTERS:  # chat generalists, online with no room yet: nothing routed
            admin.add_agent(name, channels=(Channel.CHAT,), capacity={"chat": 0})
            two(name).set_presence(Presence.ONLINE)
        for name in ROUTERS:
            admin.edit_agent(name, capacity={"chat": LIMIT})
        for n in range(ROUNDS * len(ROUTERS) * LIMIT):  # more chats than room in any round
            admin.deliver_inbound(
                Channel.CHAT, f"+39 333 200 {n:04d}", "Help, please", external_id=f"w{n}"
            )
        since = admin.changes(-1).cursor
        given: list[int] = []
        arrived = iter(range(10_000))

        def route(factory: BackendFactory) -> Callable[[], None]:
            backend = factory("admin")
            return lambda: given.extend(c.id for c in backend.route_waiting(limit=50))

        def arrive(factory: BackendFactory) -> Callable[[], None]:
            backend = factory("admin")

            def job() -> None:  # a new chat is routed on its arrival
                n = next(arrived)
                got = backend.deliver_inbound(
                    Channel.CHAT, f"+39 333 300 {n:04d}", "Hello?", external_id=f"a{n}"
                )
                if got.contact.assignee is not None:
                    given.append(got.contact.id)

            return job

        def claim(factory: BackendFactory, name: str) -> Callable[[], None]:
            backend = factory(name)

            def job() -> None:
                waiting = backend.queue(QueueQuery(unassigned=True, channels=(Channel.CHAT,)))
                for contact in waiting.contacts[:3]:
                    try:
                        backend.claim(contact.id)
                    except Conflict:
                        pass  # at capacity, or routed meanwhile: refused, as it should be

            return job

        for _ in range(ROUNDS):
            jobs = [route(one), route(two), route(one), route(two)]
            jobs += [arrive(one), arrive(two), claim(one, "r1"), claim(two, "r2")]
            at_once(jobs)  # a job's error fails the test here
            held = _held_chats(admin)
            assert all(n <= LIMIT for n in held.values()), held
            assert sum(held.values()) == len(ROUTERS) * LIMIT  # the room was filled
            for name in ROUTERS:  # the next round starts with room again
                mine = admin.queue(QueueQuery(assignee=name, channels=(Channel.CHAT,)))
                for contact in mine.contacts:
                    admin.set_status(contact.id, ContactStatus.RESOLVED)

        assert given
        assert all(n == 1 for n in Counter(given).values()), Counter(given).most_common(3)
        routed = Counter(
            c.entity_id
            for c in admin.changes(since=since, limit=10_000).changes
            if c.action.startswith("routed:")
        )
        assert routed and all(n == 1 for n in routed.values()), routed.most_common(3)
    finally:
        one.close()
        two.close()
