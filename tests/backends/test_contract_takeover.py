"""A contact another operator holds: an operator may take it over for themselves (the feed
says so) but not hand it to a third agent nor resolve it; an admin may do both."""

from __future__ import annotations

import pytest

from backends.base import Backend, Forbidden
from backends.models import ContactStatus, QueueQuery
from tests.backends.conftest import BackendFactory


def _held_by_marco(make_backend: BackendFactory) -> tuple[int, Backend]:
    marco = make_backend("marco")
    cid = marco.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    marco.claim(cid)
    return cid, marco


def test_an_operator_cannot_reassign_or_resolve_anothers_contact(
    make_backend: BackendFactory,
) -> None:
    cid, marco = _held_by_marco(make_backend)
    giulia = make_backend("giulia")
    version = giulia.get_contact(cid).contact.version
    with pytest.raises(Forbidden, match="held by marco: only an admin can reassign it"):
        giulia.assign(cid, "sara")
    with pytest.raises(Forbidden, match="held by marco: only an admin can resolve it"):
        giulia.set_status(cid, ContactStatus.RESOLVED)
    after = giulia.get_contact(cid).contact
    assert after.assignee == "marco" and after.version == version
    giulia.set_status(cid, ContactStatus.PENDING)  # other statuses stay a team's business
    # the holder may, on either side of the rule
    assert marco.assign(cid, "sara").assignee == "sara"
    unheld = marco.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    assert giulia.assign(unheld, "sara").assignee == "sara"
    mine = marco.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    marco.claim(mine)
    assert marco.set_status(mine, ContactStatus.RESOLVED).status is ContactStatus.RESOLVED


def test_an_operator_takes_over_for_themselves_and_the_feed_says_so(
    make_backend: BackendFactory,
) -> None:
    cid, _ = _held_by_marco(make_backend)
    giulia = make_backend("giulia")
    start = giulia.changes(-1).cursor
    taken = giulia.assign(cid, "giulia")
    assert taken.assignee == "giulia"
    assert [(c.entity_id, c.action, c.actor) for c in giulia.changes(start).changes] == [
        (cid, "takeover", "giulia")
    ]
    assert giulia.set_status(cid, ContactStatus.RESOLVED).status is ContactStatus.RESOLVED


def test_an_admin_reassigns_and_resolves_anyones_contact(make_backend: BackendFactory) -> None:
    cid, _ = _held_by_marco(make_backend)
    admin = make_backend("admin")
    start = admin.changes(-1).cursor
    assert admin.assign(cid, "sara").assignee == "sara"
    assert admin.set_status(cid, ContactStatus.RESOLVED).status is ContactStatus.RESOLVED
    assert [c.action for c in admin.changes(start).changes] == ["assigned", "status:resolved"]
