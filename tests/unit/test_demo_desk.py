"""The demo `vista demo` makes has a desk: operators with skills, some online, so a new
contact is routed at once; a demo frozen for tests has everyone offline and without skills."""

from __future__ import annotations

from pathlib import Path

from backends.models import Channel, Presence
from backends.sqlite.backend import SQLiteBackend
from console.demo import generate


def _desk(path: Path) -> dict[str, tuple[Presence, tuple[str, ...]]]:
    with SQLiteBackend(path, agent="admin") as admin:
        return {s.agent.name: (s.presence, s.agent.intents) for s in admin.agent_states()}


def test_a_live_demo_has_operators_online_with_skills_and_routes_a_new_contact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "live.db"
    generate(path, 60, seed=7, desk_online=True)
    desk = _desk(path)
    assert desk["giulia"][0] is Presence.ONLINE and "where_is_my_order" in desk["giulia"][1]
    assert desk["sara"][0] is Presence.AWAY and desk["luca"][0] is Presence.OFFLINE
    with SQLiteBackend(path, agent="admin") as admin:
        arrived = admin.deliver_inbound(
            Channel.EMAIL, "nuovo.cliente@libero.it", "Hello, where is my order? Not arrived."
        )
        contact = admin.get_contact(arrived.contact.id).contact
    assert contact.assignee in {"demo", "giulia", "elena"}  # online, with the skill


def test_a_frozen_demo_has_everyone_offline_and_new_contacts_wait(tmp_path: Path) -> None:
    path = tmp_path / "frozen.db"
    generate(path, 60, seed=7)
    assert {presence for presence, _ in _desk(path).values()} == {Presence.OFFLINE}
    with SQLiteBackend(path, agent="admin") as admin:
        arrived = admin.deliver_inbound(
            Channel.EMAIL, "nuovo.cliente@libero.it", "Hello, where is my order? Not arrived."
        )
        assert admin.get_contact(arrived.contact.id).contact.assignee is None
