"""Identity's stored JSON texts are compared to tell a changed source record from an unchanged
one, so `dumps` must write exactly what `json.dumps(..., ensure_ascii=False, separators=(",",
":"))` writes, whichever encoder does the work."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backends.sqlite.identity.store import dumps


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        {"first_name": "Giulia", "city": "Città", "n": 3, "vip": True, "note": None},
        ["vip", "newsletter"],
        [["email", "a@b.it"], ["phone", "+393331234567"]],
        {"addresses": [{"street": "Via Roma 1", "city": "Milano"}], "tags": ()},
        {},
        [],
        "plain text",
        'quotes " back\\slash \n\t\x00\x1f\x7f \u2028 \U0001f600 €',
        {"big": 10**30, "neg": -(2**63)},
        {"price": 19.5, "tiny": 1e-05, "huge": 1e16, "max": 1.7976931348623157e308},
        {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")},
        [0.1, -0.0, 5e-324, 123456789012345678.0],
        {1: "int key", 2.5: "float key", None: "none key"},
        {False: "bool key"},
        {"lone": "ciao \udcff"},
    ],
)
def test_dumps_writes_what_json_writes(value: Any) -> None:
    assert dumps(value) == _json(value)


def test_dumps_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        dumps({"when": object()})
