"""Admins import files through the server: the same report as `vista import --json`, the
records searchable at once; supervisors and operators are refused and change nothing."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from backends.base import Forbidden, InvalidInput, ReadOnly
from backends.http.client import HTTPBackend
from backends.models import Role
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store
from tests.backends.live_server import LiveServer

CRM = (
    "id,first_name,last_name,email,phone\n"
    "IMP1,Ottavia,Zanardelli,ottavia.zanardelli@example.org,3471239876\n"
    "IMP2,Ugo,Pellizzari,ugo.pellizzari@example.org,\n"
    "IMP3,broken\n"
)


@pytest.fixture
def served(live_server: LiveServer, demo_db: Path) -> LiveServer:
    live_server.serve(demo_db)
    return live_server


def _fingerprint(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return hashlib.sha256("".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def test_an_admin_import_answers_the_cli_report_and_shows_up_in_search(
    served: LiveServer, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM, "utf-8")
    local_copy = tmp_path / "local.db"
    shutil.copy(served.db, local_copy)
    store = Store(local_copy)
    expected = run_import(store, crm, ImportOptions(source="crm"), actor="root").to_json()
    store.close()

    admin = HTTPBackend(served.url, token=served.token("root", Role.ADMIN))
    report = admin.import_file(crm, source="crm", fmt="csv").to_json()
    assert {k: v for k, v in report.items() if k != "seconds"} == {
        k: v for k, v in expected.items() if k != "seconds"
    }
    assert (report["created"], report["skipped"]) == (2, 1)
    assert report["bad_rows"] == [{"line": 4, "reason": "expected 5 columns, found 2"}]
    operator = served.backend_for("giulia")
    hits = operator.search_customers("Zanardelli")
    assert [h.name for h in hits] == ["Ottavia Zanardelli"]
    again = admin.import_file(crm, source="crm", fmt="csv")  # re-importing updates in place
    assert (again.created, again.unchanged) == (0, 2)
    for b in (admin, operator):
        b.close()


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.OPERATOR])
def test_supervisors_and_operators_cannot_import(
    served: LiveServer, tmp_path: Path, role: Role
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM, "utf-8")
    backend = HTTPBackend(served.url, token=served.token("giulia", role))
    other = served.token("anna", role)
    before = _fingerprint(served.db)
    with pytest.raises(Forbidden) as refused:
        backend.import_file(crm, source="crm", fmt="csv")
    assert isinstance(refused.value, ReadOnly) == (role is Role.SUPERVISOR)
    with httpx.Client(base_url=served.url) as http:
        answer = http.post(
            "/api/v1/imports",
            params={"source": "crm"},
            content=CRM.encode(),
            headers={"authorization": f"Bearer {other}", "content-type": "text/csv"},
        )
    assert answer.status_code == 403
    assert _fingerprint(served.db) == before
    assert backend.search_customers("Zanardelli") == ()
    backend.close()


def test_bad_import_requests_are_refused_and_strict_imports_are_all_or_nothing(
    served: LiveServer, tmp_path: Path
) -> None:
    token = served.token("root", Role.ADMIN)
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:

        def post(params: dict[str, str], body: bytes, media: str = "text/csv") -> httpx.Response:
            return http.post(
                "/api/v1/imports", params=params, content=body, headers={"content-type": media}
            )

        assert post({"source": "no spaces"}, CRM.encode()).status_code == 400
        assert post({"source": "crm", "kind": "orders"}, CRM.encode()).status_code == 400
        assert post({"source": "crm"}, CRM.encode(), "text/plain").status_code == 400
        assert post({"source": "crm"}, b"").status_code == 400
        before = _fingerprint(served.db)
        strict = post({"source": "crm", "strict": "true"}, CRM.encode())
        assert strict.status_code == 422
        assert "line 4" in strict.json()["error"]["message"]
        assert _fingerprint(served.db) == before
        jsonl = b'{"id": "J1", "first_name": "Ilaria", "last_name": "Quintavalle"}\n'
        ok = post({"source": "shop"}, jsonl, "application/x-ndjson")
        assert ok.status_code == 200 and ok.json()["created"] == 1
    admin = HTTPBackend(served.url, token=token)
    with pytest.raises(InvalidInput):
        admin.import_file(tmp_path / "missing.csv", source="crm", fmt="csv")
    admin.close()


def test_a_file_in_another_encoding_imports_through_the_server(
    served: LiveServer, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_bytes("id,first_name,last_name\nE1,Niccolò,Forlì\nE2,Zoë,Müller\n".encode("cp1252"))
    admin = HTTPBackend(served.url, token=served.token("root", Role.ADMIN))
    try:
        as_utf8 = admin.import_file(crm, source="legacy", fmt="csv")
        assert as_utf8.created == 0 and [b.line for b in as_utf8.bad_rows] == [2, 3]
        assert "--encoding" in as_utf8.bad_rows[0].reason
        report = admin.import_file(crm, source="legacy", fmt="csv", encoding="cp1252")
        assert report.created == 2 and report.bad_rows == ()
        hits = admin.search_customers("Müller")
        assert any(h.name == "Zoë Müller" for h in hits)
        before = _fingerprint(served.db)
        for bad in ({"encoding": "klingon"}, {"default_region": "ZZ"}):
            with pytest.raises(InvalidInput, match="unknown"):
                admin.import_file(crm, source="legacy2", fmt="csv", **bad)
        assert _fingerprint(served.db) == before
    finally:
        admin.close()
