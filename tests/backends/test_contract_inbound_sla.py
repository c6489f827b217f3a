"""Contract: the first-response SLA a contact gets when a customer writes in, per channel,
and the queue's SLA filters on both sides of their boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backends.base import Backend
from backends.models import Channel, QueueQuery, SlaState
from tests.conftest import NOW

AT = NOW - timedelta(minutes=10)

#: Hours to the first response, per channel (written out, not read from the code).
SLA_HOURS = {
    Channel.CHAT: 1,
    Channel.PHONE: 2,
    Channel.WHATSAPP: 4,
    Channel.SMS: 8,
    Channel.EMAIL: 24,
    Channel.WEB: 24,
}


@pytest.mark.parametrize("channel", list(Channel))
def test_an_inbound_message_opens_a_contact_due_by_its_channels_sla(
    backend: Backend, channel: Channel
) -> None:
    assert set(SLA_HOURS) == set(Channel)
    sender = (
        "sla-probe@probe-shop.it" if channel in (Channel.EMAIL, Channel.WEB) else "+39 347 555 0101"
    )
    result = backend.deliver_inbound(channel, sender, "Buongiorno", at=AT, subject="sla-probe")
    assert result.created_contact
    due = AT + timedelta(hours=SLA_HOURS[channel])
    assert result.contact.sla_due_at == due
    assert result.contact.created_at == AT and result.contact.last_inbound_at == AT
    assert backend.get_contact(result.contact.id).contact.sla_due_at == due
    # a second message joins the contact and leaves its due time alone
    later = backend.deliver_inbound(channel, sender, "Ci siete?", at=AT + timedelta(minutes=5))
    assert later.contact.id == result.contact.id and not later.created_contact
    assert later.contact.sla_due_at == due
    assert later.contact.last_inbound_at == AT + timedelta(minutes=5)


def _due_at(backend: Backend, n: int, due: datetime) -> int:
    """A chat contact (one hour SLA) falling due at `due`."""
    result = backend.deliver_inbound(
        Channel.CHAT,
        f"sla{n}@probe-shop.it",
        "Aiuto",
        at=due - timedelta(hours=1),
        subject=f"sla-edge {n}",
    )
    assert result.contact.sla_due_at == due
    return result.contact.id


def test_queue_sla_filters_at_their_boundaries(backend: Backend) -> None:
    at_risk = timedelta(minutes=15)
    ids = {
        "late": _due_at(backend, 1, NOW - timedelta(seconds=1)),
        "now": _due_at(backend, 2, NOW),
        "edge": _due_at(backend, 3, NOW + at_risk),
        "ok": _due_at(backend, 4, NOW + at_risk + timedelta(seconds=1)),
    }

    def found(sla: SlaState) -> set[str]:
        page = backend.queue(QueueQuery(text="sla-edge", sla=sla), limit=50)
        names = {v: k for k, v in ids.items()}
        return {names[c.id] for c in page.contacts}

    assert found(SlaState.BREACHED) == {"late"}
    assert found(SlaState.AT_RISK) == {"late", "now", "edge"}  # at risk includes breached
    assert found(SlaState.OK) == {"ok"}
    assert found(SlaState.NONE) == set()
    assert backend.queue_count(QueueQuery(text="sla-edge", sla=SlaState.AT_RISK)) == 3
