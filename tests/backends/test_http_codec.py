"""Every model a read endpoint returns survives the trip to JSON and back unchanged; the wire
(`backends.http.wire`, msgspec) writes the same bytes as `json.dumps` of the models' plain
form, which the CLI's `--json` prints; bad bodies are refused with a clear error."""

from __future__ import annotations

import inspect
import json
import re
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backends.base import Backend, Conflict, InvalidInput, VistaError
from backends.http import routes, wire
from backends.models import (
    Agent,
    EventKind,
    QueueQuery,
    Role,
    TimelineEvent,
    TimelinePage,
    to_builtins,
)
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
    assert wire.decoder(ep.returns())(wire.encode(result)) == result
    plain = json.loads(json.dumps(to_builtins(result)))
    assert wire.decoder(ep.returns())(json.dumps(plain).encode()) == result
    if hasattr(result, "to_json"):
        assert to_builtins(result) == result.to_json()


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
        values = wire.query_values(value)
        if values:
            assert wire.from_query(tp, values) == value, name
    assert wire.from_query(tuple[Channel, ...], [""]) == ()
    assert wire.from_query(bool, ["false"]) is False
    when = wire.from_query(type(NOW), ["2026-11-20T11:00:00+01:00"])
    assert when == NOW
    assert wire.query_values(NOW.astimezone(_PLUS_2)) == ["2026-11-20T10:00:00Z"]
    for bad, tp in (("soon", type(NOW)), ("2026-11-20T10:00:00", type(NOW)), ("x", int)):
        with pytest.raises(InvalidInput):
            wire.from_query(tp, [bad])


# -- the wire encoding: the same bytes as `json.dumps` of the plain form, for what the store
# hands out ------------------------------------------------------------------------------------


def _portable(value: Any) -> bytes:
    plain = to_builtins(value)
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("ep", READS, ids=[ep.call for ep in READS])
def test_the_wire_writes_what_the_portable_path_writes(
    store: SQLiteBackend, ep: routes.Endpoint
) -> None:
    result = _read(store, ep)
    fast = wire.encode(result)
    assert fast == _portable(result)  # byte for byte: same values, same time texts
    assert wire.decoder(ep.returns())(fast) == result  # and back into the same models


_PLUS_2 = timezone(timedelta(hours=2))


def _event(payload: dict[str, Any], at: datetime) -> TimelineEvent:
    return TimelineEvent(1, 2, at, EventKind.NOTE, "", "crm", "summary", payload, None)


def test_store_values_are_written_as_the_portable_path_writes_them() -> None:
    page = TimelinePage(
        tuple(_event({"n": i, "price": 1.5, "items": [{"a": None}]}, NOW) for i in range(3)),
        "cursor",
    )
    assert wire.encode(page) == _portable(page)


@pytest.mark.parametrize(
    ("payload", "at"),
    [
        ({"seen": NOW.astimezone(_PLUS_2)}, NOW),  # a time inside a free-form payload
        ({}, NOW.astimezone(_PLUS_2)),  # not UTC: written with its offset
    ],
    ids=["payload-time", "offset"],
)
def test_other_times_keep_their_instant(payload: dict[str, Any], at: datetime) -> None:
    body = wire.encode(_event(payload, at))
    back = wire.decoder(TimelineEvent)(body)
    assert back.at == at  # the same instant, whatever offset it was written with
    if payload:
        assert wire.parse_datetime(back.payload["seen"]) == NOW
    assert _event(payload, at).to_json()["at"] == "2026-11-20T10:00:00Z"  # --json: UTC


def test_non_finite_numbers_are_written_as_null_so_the_body_stays_json() -> None:
    body = wire.encode(_event({"total": float("nan"), "items": [{"p": float("inf")}]}, NOW))
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
    decode = wire.decoder(TimelinePage)
    with pytest.raises(ValueError):
        decode(b"{nope")
    with pytest.raises(InvalidInput):
        decode(b'{"events": [{"id": "one"}], "next_cursor": null}')
    # what json.loads accepts (NaN, a number beyond a double), the decoders accept too
    assert wire.decoder(Any)(b'{"x": NaN}')["x"] != 0
    event = b'{"id":1,"customer_id":2,"at":"2026-11-20T10:00:00Z","kind":"note","channel":"",'
    event += b'"source":"crm","summary":"s","payload":{"n":1e400},"contact_id":null}'
    assert wire.decoder(TimelineEvent)(event).payload == {"n": float("inf")}


# -- request bodies ---------------------------------------------------------------------


def _body(call: str, raw: bytes) -> dict[str, Any]:
    return wire.body_decoder(routes.by_call()[call])(raw)


def test_a_request_body_decodes_into_the_operations_arguments() -> None:
    body = wire.encode_body({"until": NOW.astimezone(_PLUS_2), "expected_version": 3})
    assert body == b'{"until":"2026-11-20T10:00:00Z","expected_version":3}'  # UTC, to the second
    assert _body("snooze", body) == {"until": NOW, "expected_version": 3}
    assert _body("claim", b"") == {} and _body("claim", b" {} ") == {}  # defaults: left out
    assert _body("split_customer", b'{"records": ["crm:1", "shop:2"]}') == {
        "records": ("crm:1", "shop:2")
    }
    # JSON that Python's json reads but msgspec does not (an escaped lone surrogate) reaches
    # the operation, which says what is wrong with the text
    assert _body("add_customer_note", b'{"body": "ciao \\udcff"}') == {"body": "ciao \udcff"}


@pytest.mark.parametrize(
    ("call", "raw", "says"),
    [
        ("snooze", b"{nope", "not JSON"),
        ("snooze", b"[1]", "must be a JSON object"),
        ("snooze", b"{}", "missing field 'until'"),
        ("snooze", b'{"until": "2026-11-20T10:00:00"}', "timezone"),
        ("snooze", b'{"until": 5}', "until"),
        ("claim", b'{"expected_version": "3"}', "expected_version"),
        ("claim", b'{"expected_version": true}', "expected_version"),
        ("claim", b'{"expected_vresion": 3}', "unknown parameter(s)"),
        ("set_status", b'{"status": "asleep"}', "status"),
    ],
)
def test_a_bad_request_body_is_refused_with_a_clear_error(call: str, raw: bytes, says: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(says)) as refused:
        _body(call, raw)
    assert "\n" not in str(refused.value)


def test_an_error_body_round_trips_with_the_conflicts_winner() -> None:
    winner = Agent("ada", "Ada", Role.OPERATOR)
    body = wire.error_body(Conflict("taken by ada", current=winner))
    assert json.loads(body)["error"] == {
        "type": "Conflict",
        "title": "Conflict",
        "message": "taken by ada",
        "current": {
            "name": "ada",
            "display_name": "Ada",
            "role": "operator",
            "intents": [],
            "languages": [],
            "channels": [],
            "capacity": [],
            "presence": "offline",
            "disabled": False,
        },
        "current_type": "Agent",
    }
    read = wire.read_error(body)
    assert (read.type, read.message, read.current_model()) == ("Conflict", "taken by ada", winner)
    assert wire.read_error(b"<html>bad gateway</html>") == wire.ErrorAnswer()
    assert wire.read_error(wire.error_body(Conflict("lost"))).current_model() is None
