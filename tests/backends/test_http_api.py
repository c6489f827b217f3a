"""The HTTP API on the wire: authentication, error bodies, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backends.base import Backend
from backends.http import routes
from backends.models import Role
from tests.backends.live_server import LiveServer


@pytest.fixture
def served(live_server: LiveServer, demo_db: Path) -> LiveServer:
    live_server.serve(demo_db)
    return live_server


def test_every_request_needs_a_valid_token(served: LiveServer) -> None:
    good = served.token("giulia", Role.OPERATOR)
    with httpx.Client(base_url=served.url) as http:
        for path in ("/api/v1/queue", "/api/v1/customers/1", "/api/v1/openapi.json", "/api/v1/me"):
            missing = http.get(path)
            assert missing.status_code == 401, path
            assert missing.headers["www-authenticate"].startswith("Bearer")
            assert (
                http.get(path, headers={"authorization": "Bearer vista_wrong"}).status_code == 401
            )
            assert http.get(path, headers={"authorization": f"Basic {good}"}).status_code == 401
        assert http.post("/api/v1/contacts/1/claim", json={}).status_code == 401
        assert (
            http.get("/api/v1/queue", headers={"authorization": f"Bearer {good}"}).status_code
            == 200
        )


def test_revoked_token_stops_working_at_once(served: LiveServer) -> None:
    token = served.token("giulia", Role.OPERATOR)
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=served.url, headers=auth) as http:
        assert http.get("/api/v1/me").status_code == 200
        name = [t.name for t in served.admin().tokens() if t.agent == "giulia"][-1]
        served.admin().revoke_token(name)
        assert http.get("/api/v1/me").status_code == 401


def test_errors_have_a_status_and_a_typed_body(served: LiveServer) -> None:
    token = served.token("giulia", Role.OPERATOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        missing = http.get("/api/v1/customers/999999")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "NotFound"
        bad_limit = http.get("/api/v1/customers", params={"text": "rossi", "limit": 0})
        assert bad_limit.status_code == 422 and bad_limit.json()["error"]["type"] == "InvalidInput"
        assert http.get("/api/v1/customers/abc").status_code == 400
        assert http.get("/api/v1/queue", params={"bogus": 1}).status_code == 400
        not_json = http.post(
            "/api/v1/contacts/1/notes",
            content=b"{nope",
            headers={"content-type": "application/json"},
        )
        assert not_json.status_code == 400
        assert http.get("/api/v1/nowhere").status_code == 404
        assert http.delete("/api/v1/queue").status_code == 405


def test_stale_version_answers_409_with_the_current_state(served: LiveServer) -> None:
    token = served.token("giulia", Role.OPERATOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        contact = http.get("/api/v1/queue", params={"unassigned": "true", "limit": 1}).json()
        cid, version = contact["contacts"][0]["id"], contact["contacts"][0]["version"]
        ok = http.put(
            f"/api/v1/contacts/{cid}/priority",
            json={"priority": "high", "expected_version": version},
        )
        assert ok.status_code == 200 and ok.json()["version"] == version + 1
        stale = http.put(
            f"/api/v1/contacts/{cid}/priority",
            json={"priority": "low", "expected_version": version},
        )
        assert stale.status_code == 409
        error = stale.json()["error"]
        assert error["current_type"] == "Contact" and error["current"]["priority"] == "high"


def test_openapi_lists_every_contract_method_with_params_and_responses(served: LiveServer) -> None:
    token = served.token("anna", Role.SUPERVISOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        document = http.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = {
        op["operationId"]: (method, path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }
    assert routes.uncovered() == (), "contract methods without an endpoint"
    for name in routes.contract_methods():
        assert name in operations, name
    method, path, op = operations["timeline"]
    assert (method, path) == ("get", "/api/v1/customers/{customer_id}/timeline")
    names = {p["name"]: p for p in op["parameters"]}
    assert names["customer_id"]["in"] == "path" and names["customer_id"]["required"]
    assert {"kinds", "channels", "cursor", "limit"} <= set(names)
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TimelinePage"
    }
    assert {"401", "403", "404", "409", "422"} <= set(op["responses"])
    reply = operations["reply"][2]
    body = reply["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["body"] and "idempotency_key" in body["properties"]
    assert "Idempotency-Key" in [p["name"] for p in reply["parameters"]]
    assert {"Contact", "Customer", "TimelineEvent", "Error"} <= set(
        document["components"]["schemas"]
    )


def test_route_table_writes_match_the_contract_write_methods() -> None:
    from backends.base import WRITE_METHODS

    for ep in routes.ENDPOINTS:
        if hasattr(Backend, ep.call):
            assert ep.write == (ep.call in WRITE_METHODS), ep.call
