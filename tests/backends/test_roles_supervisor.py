"""Roles are enforced by the server: a supervisor token changes nothing through any endpoint
the OpenAPI document lists; operators act only as themselves; admins alone manage tokens."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.models import Role
from tests.backends.live_server import LiveServer

#: Valid values for the parameters of every endpoint, so that a refused write is
#: refused for the role and not for a malformed request.
SAMPLES: dict[str, Any] = {
    "customer_id": 1,
    "event_id": 1,
    "text": "rossi",
    "limit": 5,
    "body": "hello",
    "agent": "marco",
    "status": "resolved",
    "priority": "urgent",
    "until": "2026-11-20T12:00:00Z",
    "field": "first_name",
    "value": "Hacked",
    "channel": "email",
    "sender": "new@example.com",
    "external_id": "sup-1",
    "name": "giulia-ops",
    "role": "admin",
    "since": 0,
}


def _sample(name: str, schema: dict[str, Any]) -> Any:
    if name in SAMPLES:
        return SAMPLES[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    return {"integer": 1, "number": 1.0, "boolean": True, "array": []}.get(str(kind), "x")


def _fingerprint(db: Path) -> str:
    """Every row of every table (tokens included), hashed; the audit trail apart (it
    records the supervisor's reads: the test checks those apart)."""
    conn = sqlite3.connect(db)
    try:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            if line.startswith('INSERT INTO "audit'):
                continue
            digest.update(line.encode())
        return digest.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def served(live_server: LiveServer, demo_db: Path) -> LiveServer:
    live_server.serve(demo_db)
    return live_server


def _unassigned_contact(http: httpx.Client) -> int:
    page = http.get("/api/v1/queue", params={"unassigned": "true", "limit": 1}).json()
    return int(page["contacts"][0]["id"])


def _walk(http: httpx.Client, contact_id: int) -> list[tuple[str, str, int]]:
    """Call every operation of the OpenAPI document once; (method, path, status) of each."""
    document = http.get("/api/v1/openapi.json").json()
    seen: list[tuple[str, str, int]] = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            url = path
            query: list[tuple[str, Any]] = []
            for param in op.get("parameters", []):
                value = (
                    contact_id
                    if param["name"] == "contact_id"
                    else _sample(param["name"], param.get("schema", {}))
                )
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", str(value))
                elif param["in"] == "query" and param.get("required"):
                    query.append((param["name"], value))
            body, content = None, None
            headers = {"idempotency-key": f"walk-{method}-{path}"}
            media = op.get("requestBody", {}).get("content", {})
            schema = media.get("application/json", {}).get("schema", {})
            if "properties" in schema:  # a JSON object of named fields
                body = {
                    n: _sample(n, s)
                    for n, s in schema["properties"].items()
                    if n in schema.get("required", []) or n in SAMPLES
                }
            elif media:  # a file (imports): a small, valid CSV
                content = b"source_id,first_name,last_name,email\nw1,Walk,Er,walk@example.com\n"
                headers["content-type"] = "text/csv"
            answer = http.request(
                method.upper(),
                url,
                params=query,
                json=body,
                content=content,
                headers=headers,
            )
            seen.append((method.upper(), path, answer.status_code))
    return seen


@pytest.mark.parametrize("agent", ["anna", "giulia"], ids=["supervisor-agent", "operator-agent"])
def test_supervisor_token_changes_nothing_through_any_endpoint(
    served: LiveServer, agent: str
) -> None:
    # the token's role rules, not the agent's row: giulia is an operator in the store
    token = served.token(agent, Role.SUPERVISOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        contact_id = _unassigned_contact(http)
        before_feed = http.get("/api/v1/changes", params={"since": -1}).json()["cursor"]
        before = _fingerprint(served.db)
        with sqlite3.connect(served.db) as conn:
            audit_before = conn.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0]
        seen = _walk(http, contact_id)
        after_feed = http.get("/api/v1/changes", params={"since": -1}).json()["cursor"]
    assert _fingerprint(served.db) == before, "a supervisor request changed the store"
    assert after_feed == before_feed
    # the only entries the walk added to the audit trail are this token's profile reads
    with sqlite3.connect(served.db) as conn:
        added = conn.execute(
            "SELECT DISTINCT action, token FROM audit WHERE seq > ?", (audit_before,)
        ).fetchall()
    assert added and {a for a, _ in added} == {"read"}, added
    grant = served.admin().verify_token(token)
    assert grant is not None and {t for _, t in added} == {grant.name}, added
    writes = [(m, p, s) for m, p, s in seen if m != "GET"]
    reads = [(m, p, s) for m, p, s in seen if m == "GET"]
    assert len(writes) >= 13 and len(reads) >= 15, seen
    assert all(s == 403 for _, _, s in writes), writes
    # reads work for a supervisor, except token administration, the audit trail and
    # personal data (admins only)
    admin_only = {
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/customers/{customer_id}/export",
        "/api/v1/customers/{customer_id}/legal-hold",
    }
    assert {(p, s) for m, p, s in reads if s != 200} == {(p, 403) for p in admin_only}, reads


def test_supervisor_is_refused_even_with_a_read_write_looking_request(served: LiveServer) -> None:
    token = served.token("anna", Role.SUPERVISOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        cid = _unassigned_contact(http)
        answer = http.post(
            f"/api/v1/contacts/{cid}/claim",
            json={},
            headers={"x-vista-read-only": "0", "x-vista-role": "admin"},
        )
        assert answer.status_code == 403
        assert answer.json()["error"]["type"] == "ReadOnly"
        assert http.get(f"/api/v1/contacts/{cid}").json()["contact"]["assignee"] is None


def test_operator_acts_only_as_themselves(served: LiveServer) -> None:
    token = served.token("giulia", Role.OPERATOR)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        cid = _unassigned_contact(http)
        forged = http.post(f"/api/v1/contacts/{cid}/claim", json={"agent": "marco"})
        assert forged.status_code == 400 and "agent" in forged.json()["error"]["message"]
        claimed = http.post(f"/api/v1/contacts/{cid}/claim", json={})
        assert claimed.status_code == 200 and claimed.json()["assignee"] == "giulia"
        note = http.post(f"/api/v1/contacts/{cid}/notes", json={"body": "mine"})
        assert note.json()["author"] == "giulia"
        me = http.get("/api/v1/me").json()
        assert (me["name"], me["role"]) == ("giulia", "operator")


def test_only_admins_manage_tokens(served: LiveServer) -> None:
    operator = served.token("giulia", Role.OPERATOR)
    admin = served.token("root", Role.ADMIN)
    with httpx.Client(base_url=served.url) as http:
        auth = {"authorization": f"Bearer {operator}"}
        assert http.get("/api/v1/tokens", headers=auth).status_code == 403
        assert (
            http.post(
                "/api/v1/tokens", headers=auth, json={"name": "evil", "role": "admin"}
            ).status_code
            == 403
        )
        auth = {"authorization": f"Bearer {admin}"}
        created = http.post(
            "/api/v1/tokens",
            headers=auth,
            json={"name": "desk-7", "role": "operator", "agent": "sara"},
        ).json()
        assert created["token"].startswith("vista_") and created["agent"] == "sara"
        listed = http.get("/api/v1/tokens", headers=auth).json()
        assert "desk-7" in [t["name"] for t in listed]
        assert all("token" not in t and "hash" not in t for t in listed)
        new = {"authorization": f"Bearer {created['token']}"}
        assert http.get("/api/v1/me", headers=new).json()["name"] == "sara"
        assert http.delete("/api/v1/tokens/desk-7", headers=auth).status_code == 200
        assert http.get("/api/v1/me", headers=new).status_code == 401


def test_read_only_client_header_narrows_an_operator(served: LiveServer) -> None:
    token = served.token("giulia", Role.OPERATOR)
    headers = {"authorization": f"Bearer {token}", "x-vista-read-only": "1"}
    with httpx.Client(base_url=served.url, headers=headers) as http:
        cid = _unassigned_contact(http)
        assert http.post(f"/api/v1/contacts/{cid}/claim", json={}).status_code == 403


def test_tokens_are_stored_hashed(served: LiveServer, tmp_path: Path) -> None:
    token = served.token("giulia", Role.OPERATOR)
    copy = tmp_path / "copy.db"
    shutil.copy(served.db, copy)
    raw = copy.read_bytes() + (
        Path(str(served.db) + "-wal").read_bytes()
        if Path(str(served.db) + "-wal").exists()
        else b""
    )
    assert token.encode() not in raw
    assert hashlib.sha256(token.encode()).hexdigest().encode() in raw


def test_role_check_alone_refuses_every_write_for_a_supervisor() -> None:
    """The first of two locks (the second: the supervisor's store is opened read-only)."""
    from datetime import UTC, datetime

    from backends.base import ReadOnly
    from backends.http.routes import ENDPOINTS
    from backends.sqlite.tokens import TokenInfo
    from console.server.app import _authorise

    grant = TokenInfo("boss", Role.SUPERVISOR, "giulia", datetime(2026, 1, 1, tzinfo=UTC))
    writes = [ep for ep in ENDPOINTS if ep.write]
    assert len(writes) >= 13
    for ep in writes:
        with pytest.raises(ReadOnly):
            _authorise(ep, grant, read_only_client=False)
    for ep in ENDPOINTS:
        if not ep.write and Role.SUPERVISOR in ep.roles:
            _authorise(ep, grant, read_only_client=False)  # reads stay open


def test_the_token_role_rules_not_the_agent_row(served: LiveServer) -> None:
    """An admin token may release anybody's contact; an operator token of the same agent not."""
    giulia = served.token("giulia", Role.OPERATOR)
    as_operator = served.token("luca", Role.OPERATOR)
    as_admin = served.token("luca", Role.ADMIN)  # luca is an operator in the store
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {giulia}"}) as http:
        cid = _unassigned_contact(http)
        assert http.post(f"/api/v1/contacts/{cid}/claim", json={}).json()["assignee"] == "giulia"
    with httpx.Client(base_url=served.url) as http:
        refused = http.post(
            f"/api/v1/contacts/{cid}/release",
            json={},
            headers={"authorization": f"Bearer {as_operator}"},
        )
        assert refused.status_code == 409 and "held by giulia" in refused.json()["error"]["message"]
        released = http.post(
            f"/api/v1/contacts/{cid}/release",
            json={},
            headers={"authorization": f"Bearer {as_admin}"},
        )
        assert released.status_code == 200 and released.json()["assignee"] is None
        me = http.get("/api/v1/me", headers={"authorization": f"Bearer {as_admin}"}).json()
        assert me["role"] == "admin"


def test_a_read_only_server_refuses_every_write(served: LiveServer) -> None:
    token = served.token("giulia", Role.ADMIN)
    served.hub.read_only = True
    try:
        with httpx.Client(
            base_url=served.url, headers={"authorization": f"Bearer {token}"}
        ) as http:
            cid = _unassigned_contact(http)
            assert http.post(f"/api/v1/contacts/{cid}/claim", json={}).status_code == 403
            assert http.get(f"/api/v1/contacts/{cid}").status_code == 200
    finally:
        served.hub.read_only = False
