"""The HTTP API under hostile or mistaken requests: one clear 4xx answer, nothing lost."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backends import limits
from backends.models import Role
from tests.backends.live_server import LiveServer


@pytest.fixture
def http(live_server: LiveServer, demo_db: Path) -> httpx.Client:
    live_server.serve(demo_db)
    token = live_server.token("giulia", Role.OPERATOR)
    return httpx.Client(base_url=live_server.url, headers={"authorization": f"Bearer {token}"})


def _unassigned(http: httpx.Client, n: int = 2) -> list[int]:
    page = http.get("/api/v1/queue", params={"unassigned": "true", "limit": n}).json()
    return [c["id"] for c in page["contacts"]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contacts/99999999999999999999999",
        "/api/v1/customers/99999999999999999999999",
        "/api/v1/events/9223372036854775808",
        "/api/v1/events/-9223372036854775809",
        "/api/v1/changes?since=99999999999999999999",
        "/api/v1/customers/1/timeline?limit=99999999999999999999",
    ],
)
def test_integers_past_64_bits_answer_422(http: httpx.Client, path: str) -> None:
    answer = http.get(path)
    assert answer.status_code == 422, answer.text
    assert "out of range" in answer.json()["error"]["message"]


def test_ids_on_the_64_bit_bound_answer_404(http: httpx.Client) -> None:
    assert http.get(f"/api/v1/events/{limits.INT_MAX}").status_code == 404
    assert http.get(f"/api/v1/events/{limits.INT_MIN}").status_code == 404


def test_merge_with_an_id_past_64_bits_answers_422(http: httpx.Client) -> None:
    answer = http.post("/api/v1/customers/1/merge", json={"other": 2**70})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("other 1180591620717411303424 is out")


def test_openapi_documents_the_integer_bounds(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    param = doc["paths"]["/api/v1/contacts/{contact_id}"]["get"]["parameters"][0]
    assert param["schema"] == {
        "type": "integer",
        "format": "int64",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    inbound = doc["paths"]["/api/v1/inbound"]["post"]["requestBody"]["content"]
    props = inbound["application/json"]["schema"]["properties"]
    assert "200 characters" in props["name"]["description"]
    assert "30 days" in props["at"]["description"]


def test_a_reused_idempotency_key_on_another_write_answers_422(http: httpx.Client) -> None:
    first, second = _unassigned(http)
    key = {"idempotency-key": "same-key"}
    claimed = http.post(f"/api/v1/contacts/{first}/claim", json={}, headers=key)
    assert claimed.status_code == 200
    before = http.get(f"/api/v1/contacts/{second}").json()["contact"]
    other = http.put(f"/api/v1/contacts/{second}/priority", json={"priority": "low"}, headers=key)
    assert other.status_code == 422 and "another request" in other.json()["error"]["message"]
    assert "idempotent-replay" not in other.headers
    assert http.get(f"/api/v1/contacts/{second}").json()["contact"] == before
    # the same write again is still a replay of the first answer
    again = http.post(f"/api/v1/contacts/{first}/claim", json={}, headers=key)
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    assert again.json() == claimed.json()


def test_the_same_key_with_another_body_answers_422(http: httpx.Client) -> None:
    (cid,) = _unassigned(http, 1)
    key = {"idempotency-key": "note-key"}
    first = http.post(f"/api/v1/contacts/{cid}/notes", json={"body": "uno"}, headers=key)
    assert first.status_code == 200
    second = http.post(f"/api/v1/contacts/{cid}/notes", json={"body": "due"}, headers=key)
    assert second.status_code == 422
    # key order and spacing do not make another request
    again = http.post(
        f"/api/v1/contacts/{cid}/notes",
        content=b'{ "body" : "uno" }',
        headers={**key, "content-type": "application/json"},
    )
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"


def test_idempotency_keys_are_not_cut_and_long_ones_are_refused(http: httpx.Client) -> None:
    first, second = _unassigned(http)
    a = http.post(
        f"/api/v1/contacts/{first}/claim", json={}, headers={"idempotency-key": "A" * 200}
    )
    assert a.status_code == 200
    b = http.post(
        f"/api/v1/contacts/{first}/claim", json={}, headers={"idempotency-key": "B" * 200}
    )
    assert b.status_code == 200 and "idempotent-replay" not in b.headers
    too_long = http.post(
        f"/api/v1/contacts/{second}/claim", json={}, headers={"idempotency-key": "A" * 201}
    )
    assert too_long.status_code == 400
    assert "Idempotency-Key is 201 characters long" in too_long.json()["error"]["message"]
    assert http.get(f"/api/v1/contacts/{second}").json()["contact"]["assignee"] is None


def test_deeply_nested_json_answers_400(http: httpx.Client) -> None:
    answer = http.post(
        "/api/v1/contacts/29/notes",
        content=b'{"body": ' + b"[" * 200_000,
        headers={"content-type": "application/json"},
    )
    # the typed body decoder refuses the array where text belongs before descending into it
    assert answer.status_code == 400
    assert "body" in answer.json()["error"]["message"]
    bare = http.post(
        "/api/v1/contacts/29/notes",
        content=b"[" * 200_000,
        headers={"content-type": "application/json"},
    )
    assert bare.status_code == 400 and "object" in bare.json()["error"]["message"]
    shallow = http.post("/api/v1/contacts/29/notes", content=b"[" * 50 + b"]" * 50)
    assert shallow.status_code == 400 and "JSON object" in shallow.json()["error"]["message"]


def test_inbound_at_far_in_the_past_answers_422(http: httpx.Client) -> None:
    answer = http.post(
        "/api/v1/inbound",
        json={
            "channel": "email",
            "sender": "mario.rossi@posta-vista.it",
            "text": "Ciao",
            "at": "0001-01-01T00:00:00Z",
        },
    )
    assert answer.status_code == 422
    assert "30 days in the past" in answer.json()["error"]["message"]


def test_inbound_over_long_fields_answer_422(http: httpx.Client) -> None:
    body = {"channel": "email", "sender": "mario.rossi@posta-vista.it", "text": "Ciao"}
    for field, size in (("name", 100_000), ("external_id", 500_000)):
        answer = http.post("/api/v1/inbound", json={**body, field: "x" * size})
        assert answer.status_code == 422
        assert f"{field} is {size:,} characters long" in answer.json()["error"]["message"]
    answer = http.post("/api/v1/inbound", json={**body, "sender": "x" * 100_000 + "@a.it"})
    assert answer.status_code == 422


def test_405_says_which_methods_are_allowed(http: httpx.Client) -> None:
    answer = http.delete("/api/v1/queue")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    tokens = http.put("/api/v1/tokens")
    assert tokens.status_code == 405 and tokens.headers["allow"] == "GET, HEAD, POST"


def test_json_answers_escape_bidi_and_c1_characters(http: httpx.Client) -> None:
    (cid,) = _unassigned(http, 1)
    note = "fattura\u202etxt.exe \u0085fine"
    posted = http.post(f"/api/v1/contacts/{cid}/notes", json={"body": note})
    assert posted.status_code == 200
    raw = http.get(f"/api/v1/contacts/{cid}").content
    assert "\u202e".encode() not in raw and "\u0085".encode() not in raw
    assert b"fattura\\u202etxt.exe \\u0085fine" in raw
    assert note in [m["body"] for m in http.get(f"/api/v1/contacts/{cid}").json()["messages"]]
    missing = http.get("/api/v1/nothing\u202eing")
    assert missing.status_code == 404 and "\u202e".encode() not in missing.content


def test_a_bad_mapping_does_not_show_the_servers_files(
    live_server: LiveServer, demo_db: Path
) -> None:
    live_server.serve(demo_db)
    token = live_server.token("root", Role.ADMIN)
    with httpx.Client(base_url=live_server.url, headers={"authorization": f"Bearer {token}"}) as h:
        for mapping, said in (
            ("[fields\nname = ", "cannot read mapping:"),
            ('[fields]\nshoe_size = "x"', "mapping: unknown Vista field 'shoe_size'"),
        ):
            answer = h.post(
                "/api/v1/imports",
                params={"source": "crm", "mapping": mapping},
                content=b"id,name\n1,Anna\n",
                headers={"content-type": "text/csv"},
            )
            message = answer.json()["error"]["message"]
            assert answer.status_code == 422 and message.startswith(said), message
            assert ".vista-mapping-" not in message and str(demo_db.parent) not in message
