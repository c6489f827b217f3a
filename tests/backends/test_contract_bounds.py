"""Input past the contract's bounds is one InvalidInput on every backend, never a crash:
ids past 64 bits, over-long fields, inbound times far from now; and search finds names
as the screen shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends import limits
from backends.base import Backend, Capability, InvalidInput, NotFound
from backends.models import Channel, QueueQuery
from tests.conftest import NOW

HUGE = 99999999999999999999999


@pytest.mark.parametrize("value", [HUGE, 2**63, -(2**63) - 1])
def test_ids_past_64_bits_are_invalid_input(backend: Backend, value: int) -> None:
    for read in (backend.get_contact, backend.get_customer, backend.get_event):
        with pytest.raises(InvalidInput, match="out of range"):
            read(value)
    with pytest.raises(InvalidInput, match="out of range"):
        backend.changes(since=value)


@pytest.mark.needs(Capability.IDENTITY)
@pytest.mark.parametrize("value", [HUGE, 2**63, -(2**63) - 1])
def test_a_merge_with_an_id_past_64_bits_is_invalid_input(backend: Backend, value: int) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        backend.merge_customers(1, value)


def test_ids_at_the_64_bit_bounds_are_only_not_found(backend: Backend) -> None:
    for value in (limits.INT_MAX, limits.INT_MIN):
        with pytest.raises(NotFound):
            backend.get_contact(value)
        with pytest.raises(NotFound):
            backend.get_event(value)
    assert backend.changes(since=limits.INT_MAX).changes == ()


def _email(backend: Backend) -> str:
    return backend.get_customer(3).emails[0]


def test_inbound_time_bounds_both_sides(backend: Backend) -> None:
    email = _email(backend)
    past, future = limits.INBOUND_PAST, limits.INBOUND_FUTURE
    second = timedelta(seconds=1)
    for at in (NOW - past, NOW + future):  # on the bound: accepted
        result = backend.deliver_inbound(Channel.EMAIL, email, "Ciao", at=at)
        assert result.message.at == at
    for at in (NOW - past - second, NOW + future + second, NOW.replace(year=2000)):
        with pytest.raises(InvalidInput, match="in the (past|future)"):
            backend.deliver_inbound(Channel.EMAIL, email, "Ciao", at=at)


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", "name"), ("subject", "subject"), ("external_id", "external_id")],
)
def test_inbound_fields_have_size_limits(backend: Backend, field: str, limit: str) -> None:
    bound = limits.FIELD_LIMITS[limit]
    before = backend.queue_count(QueueQuery())
    with pytest.raises(InvalidInput, match=f"{field} is {bound + 1:,} characters long"):
        backend.deliver_inbound(
            Channel.EMAIL, "new.person@posta-vista.it", "Ciao", **{field: "x" * (bound + 1)}
        )
    assert backend.queue_count(QueueQuery()) == before  # nothing written
    ok = backend.deliver_inbound(
        Channel.EMAIL, "new.person@posta-vista.it", "Ciao", **{field: "x" * bound}
    )
    assert ok.created_customer


def test_inbound_sender_and_text_have_size_limits(backend: Backend) -> None:
    sender = "a" * (limits.FIELD_LIMITS["sender"] - len("@posta-vista.it") + 1) + "@posta-vista.it"
    with pytest.raises(InvalidInput, match="sender is"):
        backend.deliver_inbound(Channel.EMAIL, sender, "Ciao")
    with pytest.raises(InvalidInput, match="text is"):
        backend.deliver_inbound(Channel.EMAIL, _email(backend), "x" * 100_001)
    assert backend.deliver_inbound(Channel.EMAIL, _email(backend), "x" * 100_000).message


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("\x1b[31mRED\x1b[5mBLINK\x1b[0m Rossi", "REDBLINK"),
        ("Zero\u200bWidth Rossi", "ZeroWidth"),
        ("nul\x00byte Rossi", "nulbyte"),
    ],
)
def test_search_and_queue_filter_find_a_name_as_it_is_shown(
    backend: Backend, stored: str, shown: str
) -> None:
    result = backend.deliver_inbound(
        Channel.EMAIL, "hostile.name@posta-vista.it", "Ciao", name=stored, at=NOW
    )
    hits = backend.search_customers(shown)
    assert [h.id for h in hits] == [result.customer_id]
    found = backend.queue(QueueQuery(text=shown), limit=50).contacts
    assert [c.id for c in found] == [result.contact.id]
    assert backend.queue_count(QueueQuery(text=shown + "zzz")) == 0
