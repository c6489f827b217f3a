"""Event payloads stay stored JSON text until read: they behave as the dict they hold, and
the wire sends them as JSON even when a source wrote NaN."""

from __future__ import annotations

import json
import pickle

from backends.http import wire
from backends.models import EventKind, TimelineEvent
from backends.payload import Payload
from tests.conftest import NOW

ORDER = '{"number": "VS-1", "items": [{"sku": "A", "qty": 2}], "total": 19.5}'


def test_a_payload_reads_as_the_dict_it_holds() -> None:
    p = Payload(ORDER)
    assert p == json.loads(ORDER) and json.loads(ORDER) == p
    assert p["number"] == "VS-1" and p.get("missing", 7) == 7 and "items" in p
    assert sorted(p) == ["items", "number", "total"] and len(p) == 3
    assert dict(p.items()) == json.loads(ORDER)
    assert pickle.loads(pickle.dumps(p)) == p


def test_numbers_json_has_no_words_for_read_as_null_and_other_values_are_kept() -> None:
    assert Payload('{"total": NaN, "max": -Infinity}') == {"total": None, "max": None}
    assert Payload("[1, 2]") == {"value": [1, 2]}
    assert Payload("null") == {}


def _event(payload: Payload) -> TimelineEvent:
    return TimelineEvent(1, 2, NOW, EventKind.ORDER, "web", "webshop", "order", payload, None)


def test_the_wire_sends_stored_text_and_valid_json_for_nan() -> None:
    body = wire.encode(_event(Payload(ORDER)))
    assert json.loads(body)["payload"] == json.loads(ORDER)
    body = wire.encode(_event(Payload('{"total": NaN, "note": "NaN is a word here"}')))
    data = json.loads(body, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert data["payload"] == {"total": None, "note": "NaN is a word here"}
    # and what the client reads back equals what the store handed out
    back = wire.decoder(TimelineEvent)(wire.encode(_event(Payload(ORDER))))
    assert back == _event(Payload(ORDER))
