"""Every model a read endpoint returns survives the trip to JSON and back unchanged."""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from backends.base import Backend, VistaError
from backends.http import codec, routes
from backends.models import QueueQuery
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
    return SQLiteBackend(path, agent="giulia", clock=lambda: NOW)


@pytest.mark.parametrize("ep", READS, ids=[ep.call for ep in READS])
def test_read_results_round_trip_through_json(store: SQLiteBackend, ep: routes.Endpoint) -> None:
    params = list(inspect.signature(getattr(Backend, ep.call)).parameters.values())[1:]
    kwargs = {
        p.name: ARGS[p.name]
        for p in params
        if p.default is inspect.Parameter.empty and p.name in ARGS
    }
    try:
        result = getattr(store, ep.call)(**kwargs)
    except VistaError as e:  # a capability this store does not have yet
        pytest.skip(f"{ep.call}: {e}")
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
