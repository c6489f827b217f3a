"""The OpenAPI document says what the server does: each class of mismatch schemathesis found
(`make schemathesis`) has a test here, both sides of the documented rule."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends import limits
from backends.models import Role
from tests.backends.live_server import LiveServer


@pytest.fixture
def http(live_server: LiveServer, demo_db: Path) -> httpx.Client:
    live_server.serve(demo_db)
    token = live_server.token("st-admin", Role.ADMIN)
    return httpx.Client(base_url=live_server.url, headers={"authorization": f"Bearer {token}"})


def _param(doc: dict[str, Any], path: str, name: str, method: str = "get") -> dict[str, Any]:
    for p in doc["paths"]["/api/v1" + path][method]["parameters"]:
        if p["name"] == name:
            return p["schema"]
    raise AssertionError(f"{name} is not a parameter of {path}")


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    return next((b for b in schema.get("anyOf", []) if b.get("type") != "null"), schema)


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/customers", {"text": "rossi"}),
        ("/customers/1/timeline", {}),
        ("/customers/1/view", {}),
        ("/queue", {}),
        ("/changes", {}),
        ("/identity/suggestions", {}),
        ("/identity/links", {}),
        ("/stats/at-risk", {}),
    ],
)
def test_a_limit_inside_the_documented_bounds_is_served_and_one_past_them_is_not(
    http: httpx.Client, path: str, extra: dict[str, Any]
) -> None:
    documented = path.replace("/customers/1/", "/customers/{customer_id}/")
    bounds = _plain(_param(http.get("/api/v1/openapi.json").json(), documented, "limit"))
    for limit, status in ((bounds["minimum"], 200), (bounds["maximum"], 200)):
        assert http.get("/api/v1" + path, params={**extra, "limit": limit}).status_code == status
    for limit in (bounds["minimum"] - 1, bounds["maximum"] + 1):
        assert http.get("/api/v1" + path, params={**extra, "limit": limit}).status_code == 422


def test_the_at_risk_horizon_is_bounded_as_documented(http: httpx.Client) -> None:
    bounds = _param(http.get("/api/v1/openapi.json").json(), "/stats/at-risk", "within_minutes")
    assert bounds["maximum"] == limits.AT_RISK_MAX_MINUTES
    ok = http.get("/api/v1/stats/at-risk", params={"within_minutes": bounds["maximum"]})
    assert ok.status_code == 200
    past = http.get("/api/v1/stats/at-risk", params={"within_minutes": bounds["maximum"] + 1})
    assert past.status_code == 422


def test_cursors_the_server_hands_out_fit_the_documented_pattern_and_others_do_not(
    http: httpx.Client,
) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    pattern = re.compile(_plain(_param(doc, "/queue", "cursor"))["pattern"])
    page = http.get("/api/v1/queue", params={"limit": 2}).json()
    assert page["next_cursor"] and pattern.search(page["next_cursor"])
    assert http.get("/api/v1/queue", params={"cursor": page["next_cursor"]}).status_code == 200
    assert not pattern.search("")
    assert http.get("/api/v1/queue", params={"cursor": ""}).status_code == 422
    timeline = re.compile(
        _plain(_param(doc, "/customers/{customer_id}/timeline", "cursor"))["pattern"]
    )
    assert not timeline.search(page["next_cursor"])  # four parts; a timeline cursor has two


def test_a_whole_number_written_as_a_float_is_an_integer_as_json_schema_counts_it(
    http: httpx.Client,
) -> None:
    contact = http.get("/api/v1/queue", params={"limit": 1}).json()["contacts"][0]
    path = f"/api/v1/contacts/{contact['id']}/priority"
    fraction = http.put(path, json={"priority": "high", "expected_version": 0.5})
    assert fraction.status_code == 400
    whole = http.put(path, json={"priority": "high", "expected_version": float(contact["version"])})
    assert whole.status_code == 200, whole.text
    assert whole.json()["priority"] == "high"


def test_edit_profile_documents_the_fields_it_accepts(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    body = doc["paths"]["/api/v1/customers/{customer_id}/profile"]["patch"]["requestBody"]
    enum = body["content"]["application/json"]["schema"]["properties"]["field"]["enum"]
    assert enum == list(limits.EDITABLE_FIELDS)
    ok = http.patch("/api/v1/customers/1/profile", json={"field": enum[0], "value": "Anna"})
    assert ok.status_code == 200, ok.text
    bad = http.patch("/api/v1/customers/1/profile", json={"field": "email", "value": "x@y.it"})
    assert bad.status_code == 422


def test_a_token_name_with_a_trailing_newline_is_refused_as_its_pattern_says(
    http: httpx.Client,
) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    schema = doc["paths"]["/api/v1/tokens"]["post"]["requestBody"]["content"]["application/json"]
    pattern = re.compile(schema["schema"]["properties"]["name"]["pattern"])
    assert (
        pattern.search("bot-1") and not pattern.search("bot-1\n") or pattern.pattern.endswith("$")
    )
    ok = http.post("/api/v1/tokens", json={"name": "bot-1", "role": "operator"})
    assert ok.status_code == 200, ok.text
    assert (
        http.post("/api/v1/tokens", json={"name": "bot-2\n", "role": "operator"}).status_code == 422
    )
    assert http.get("/api/v1/tokens").json() and all(
        "\n" not in t["name"] for t in http.get("/api/v1/tokens").json()
    )


def test_notes_must_hold_more_than_white_space_as_documented(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    body = doc["paths"]["/api/v1/customers/{customer_id}/notes"]["post"]["requestBody"]
    pattern = body["content"]["application/json"]["schema"]["properties"]["body"]["pattern"]
    assert re.search(pattern, "x") and not re.search(pattern, " \n")
    assert http.post("/api/v1/customers/1/notes", json={"body": " \n"}).status_code == 422
    assert http.post("/api/v1/customers/1/notes", json={"body": "x"}).status_code == 200


def test_an_empty_list_filter_value_is_documented_and_served(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    assert "" in _param(doc, "/queue/count", "channels")["items"]["enum"]
    assert http.get("/api/v1/queue/count", params={"channels": ""}).status_code == 200
    assert http.get("/api/v1/queue/count", params={"channels": "fax"}).status_code == 400


def test_imports_document_what_they_honour(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/imports"]["post"]
    # an import is not replayed, so it does not offer an Idempotency-Key
    assert "Idempotency-Key" not in {p["name"] for p in op["parameters"]}
    regions = _param(doc, "/imports", "default_region", "post")["enum"]
    assert "IT" in regions and "IX" not in regions
    empty = http.post(
        "/api/v1/imports", params={"source": "crm"}, headers={"content-type": "text/csv"}
    )
    assert empty.status_code == 400
    assert op["requestBody"]["content"]["text/csv"]["schema"]["minLength"] == 1
    typo = http.post(
        "/api/v1/imports",
        params={"source": "crm", "default_region": "IX"},
        content=b"id,name\n",
        headers={"content-type": "text/csv"},
    )
    assert typo.status_code == 400


def test_empty_values_among_others_are_left_out_of_a_list_filter(http: httpx.Client) -> None:
    only_open = http.get("/api/v1/queue/count", params={"statuses": "open"}).json()
    mixed = http.get("/api/v1/queue/count", params=[("statuses", ""), ("statuses", "open")])
    assert mixed.status_code == 200 and mixed.json() == only_open


def test_the_capabilities_header_is_documented_and_sent_as_documented(
    http: httpx.Client,
) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    header = doc["paths"]["/api/v1/me"]["get"]["responses"]["200"]["headers"]
    pattern = header["X-Vista-Capabilities"]["schema"]["pattern"]
    sent = http.get("/api/v1/me").headers["x-vista-capabilities"]
    assert re.fullmatch(pattern, sent) and "WRITE" in sent.split(",")
    # only `GET /me` names them: another read documents and sends no such header
    queue = doc["paths"]["/api/v1/queue"]["get"]["responses"]["200"]
    assert "X-Vista-Capabilities" not in queue.get("headers", {})
    assert "x-vista-capabilities" not in http.get("/api/v1/queue").headers


def test_a_replayed_write_says_so_in_the_documented_header(http: httpx.Client) -> None:
    doc = http.get("/api/v1/openapi.json").json()
    documented = doc["paths"]["/api/v1/customers/{customer_id}/notes"]["post"]["responses"]
    assert "Idempotent-Replay" in documented["200"]["headers"]
    key = {"idempotency-key": "doc-replay-1"}
    first = http.post("/api/v1/customers/1/notes", json={"body": "once"}, headers=key)
    again = http.post("/api/v1/customers/1/notes", json={"body": "once"}, headers=key)
    assert "idempotent-replay" not in first.headers
    assert again.headers["idempotent-replay"] == "true" and again.json() == first.json()
