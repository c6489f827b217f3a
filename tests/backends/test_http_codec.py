"""Every model a read endpoint returns survives the trip to JSON and back unchanged, and the
fast wire encoding (msgspec) writes the same JSON as the portable one."""

from __future__ import annotations

import inspect
import json
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backends.base import Backend, InvalidInput, VistaError
from backends.http import bodies, codec, routes
from backends.models import EventKind, QueueQuery, Role, TimelineEvent, TimelinePage
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW

#: Arguments for the required parameters of read methods.
ARGS: dict[str, Any] = {"customer_id": 1, "event_id": 1, "contact_id": 1, "text": "rossi"}

READS = [ep for ep in routes.ENDPOINTS if not ep.write and hasattr(Backend, ep.call)]


@pytest.fixture(scope="module")
def store(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> SQLiteBackend:
    import shutil

    path = tmp_path_factory.mktemp("codec") / "vista.db"
    shutil.copy(demo_template, path)
    # giulia with an admin's role, so that the admins' reads (tokens) round-trip too
    backend = SQLiteBackend(path, agent="giulia", role=Role.ADMIN, clock=lambda: NOW)
    backend.create_token("desk-1", Role.OPERATOR, "giulia")
    return backend


def _read(store: SQLiteBackend, ep: routes.Endpoint) -> Any:
    """What read endpoint `ep`'s operation returns from the store (its required arguments from
    ARGS); skipped when this store lacks the capability."""
    params = list(inspect.signature(getattr(Backend, ep.call)).parameters.values())[1:]
    kwargs = {
        p.name: ARGS[p.name]
        for p in params
        if p.default is inspect.Parameter.empty and p.name in ARGS
    }
    try:
        return getattr(store, ep.call)(**kwargs)
    except VistaError as e:  # a capability this store does not have yet
        pytest.skip(f"{ep.call}: {e}")


@pytest.mark.parametrize("ep", READS, ids=[ep.call for ep in READS])
def test_read_results_round_trip_through_json(store: SQLiteBackend, ep: routes.Endpoint) -> None:
    result = _read(store, ep)
    wire = json.loads(json.dumps(codec.to_json(result), default=codec.json_default))
    assert codec.from_json(ep.returns(), wire) == result
    if hasattr(result, "to_json"):
        assert codec.to_json(result) == result.to_json()  # the fast encoder agrees with the models


def test_query_strings_round_trip() -> None:
    from backends.models import Channel, ContactStatus, Priority, SlaState

    query = QueueQuery(
        statuses=(ContactStatus.NEW,),
        channels=(),
        priorities=(Priority.HIGH, Priority.URGENT),
        sla=SlaState.AT_RISK,
        text="a&b=c",
        unassigned=True,
    )
    for name, tp in typing.get_type_hints(QueueQuery).items():
        value = getattr(query, name)
        values = codec.query_values(tp, value)
        if values:
            assert codec.from_query(tp, values) == value, name
    assert codec.from_query(tuple[Channel, ...], [""]) == ()
    assert codec.from_query(bool, ["false"]) is False
    when = codec.from_query(type(NOW), ["2026-11-20T11:00:00+01:00"])
    assert when == NOW


# -- the wire encoding: msgspec where it writes the same JSON, the portable path otherwise ------


def _portable(value: Any) -> bytes:
    return codec.portable_encode(codec.to_json(value))


@pytest.mark.parametrize("ep", READS, ids=[ep.call for ep in READS])
def test_fast_wire_encoding_writes_what_the_portable_path_writes(
    store: SQLiteBackend, ep: routes.Endpoint
) -> None:
    result = _read(store, ep)
    fast = bodies.encode(result)
    assert json.loads(fast) == json.loads(_portable(result))  # same values, same time texts
    assert bodies.decoder(ep.returns())(fast) == result  # and back into the same models


_PLUS_2 = timezone(timedelta(hours=2))


def _event(payload: dict[str, Any], at: datetime) -> TimelineEvent:
    return TimelineEvent(1, 2, at, EventKind.NOTE, None, "crm", "summary", payload, None)


def test_store_values_are_written_as_the_portable_path_writes_them() -> None:
    page = TimelinePage(
        tuple(_event({"n": i, "price": 1.5, "items": [{"a": None}]}, NOW) for i in range(3)),
        "cursor",
    )
    assert bodies.encode(page) == _portable(page)


@pytest.mark.parametrize(
    ("payload", "at"),
    [
        ({"seen": NOW.astimezone(_PLUS_2)}, NOW),  # a time inside a free-form payload
        ({}, NOW.astimezone(_PLUS_2)),  # not UTC: written with its offset
    ],
    ids=["payload-time", "offset"],
)
def test_other_times_keep_their_instant(payload: dict[str, Any], at: datetime) -> None:
    body = bodies.encode(_event(payload, at))
    back = bodies.decoder(TimelineEvent)(body)
    assert back.at == at  # the same instant, whatever offset it was written with
    if payload:
        assert codec.parse_datetime(back.payload["seen"]) == NOW


def test_non_finite_numbers_are_written_as_null_so_the_body_stays_json() -> None:
    body = bodies.encode(_event({"total": float("nan"), "items": [{"p": float("inf")}]}, NOW))
    data = json.loads(body, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert data["payload"] == {"total": None, "items": [{"p": None}]}


def test_a_stored_payload_with_nan_reads_as_null(store: SQLiteBackend) -> None:
    with store.store.write() as db:
        db.execute(
            "UPDATE events SET payload = ? WHERE id = (SELECT min(id) FROM events)",
            ('{"total": NaN, "note": "x"}',),
        )
        eid = db.execute("SELECT min(id) FROM events").fetchone()[0]
    assert store.get_event(eid).payload == {"total": None, "note": "x"}


def test_a_body_that_is_not_json_or_does_not_fit_is_refused() -> None:
    decode = bodies.decoder(TimelinePage)
    with pytest.raises(ValueError):
        decode(b"{nope")
    with pytest.raises(InvalidInput):
        decode(b'{"events": [{"id": "one"}], "next_cursor": null}')
    # what json.loads accepts (NaN), the decoder accepts too
    assert bodies.decoder(Any)(b'{"x": NaN}')["x"] != 0
