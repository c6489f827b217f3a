"""`vista import`, `vista identity` and `vista export links` from the command line: exit codes,
one clear line on stderr, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def vista(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_explain_export_and_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert vista("db", "init", "--db", str(tmp_path / "v.db")).returncode == 0
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "id,first_name,last_name,email,phone\nC1,Mario,Rossi,m@libero.it,3471234567\n"
        "C2,Anna,Verdi,a@libero.it,\nC3,broken\n",
        "utf-8",
    )
    shop = tmp_path / "shop.jsonl"
    shop.write_text(
        json.dumps(
            {"id": "W1", "first_name": "Mario", "last_name": "Rossi", "email": "M@Libero.it"}
        )
        + "\n",
        "utf-8",
    )
    out = vista("--backend", url, "import", str(crm), "--source", "crm")
    assert out.returncode == 0, out.stderr
    assert "line 4: expected 5 columns, found 2 (skipped)" in out.stderr
    assert "2 new" in out.stdout
    out = vista("--backend", url, "import", str(shop), "--source", "webshop", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["customers_created"] == 0

    links = vista("--backend", url, "export", "links", "--format", "csv")
    assert links.stdout.splitlines() == [
        "source,source_id,customer_id",
        "crm,C1,1",
        "crm,C2,2",
        "webshop,W1,1",
    ]
    explained = json.loads(vista("--backend", url, "identity", "explain", "1", "--json").stdout)
    assert [r["source_id"] for r in explained["records"]] == ["C1", "W1"]
    assert "same e-mail" in explained["links"][0]["reason"]

    bad = vista("--backend", url, "import", str(crm), "--source", "crm", "--strict")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "vista: error: line 4: expected 5 columns, found 2 (--strict: nothing imported)"
    ]
    missing = vista("--backend", url, "import", str(tmp_path / "nope.csv"), "--source", "crm")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    merge = vista("--backend", url, "identity", "merge", "1", "9")
    assert merge.returncode == 1 and "no customer with id 9" in merge.stderr
    ro = vista("--backend", url, "--read-only", "identity", "merge", "1", "2")
    assert ro.returncode == 1 and "read-only" in ro.stderr


def test_events_import_attaches_by_any_identifier(tmp_path: Path) -> None:
    from backends.sqlite.backend import SQLiteBackend
    from backends.sqlite.identity.importer import ImportOptions, run_import
    from backends.sqlite.store import Store

    crm = tmp_path / "crm.jsonl"
    crm.write_text(
        json.dumps(
            {
                "id": "C1",
                "first_name": "Mario",
                "email": "m@libero.it",
                "phone": "3471234567",
                "visitor_id": "v-1",
            }
        )
        + "\n",
        "utf-8",
    )
    events = tmp_path / "ev.jsonl"
    rows = [
        {"id": "e1", "kind": "web_session", "at": 1700000000, "visitor_id": "v-1"},
        {"id": "e2", "kind": "chat", "at": "2026-01-01T10:00:00Z", "phone": "+39 347 123 4567"},
        {
            "id": "e3",
            "kind": "note",
            "at": 1700000000,
            "customer_id": "C1",
            "customer_source": "crm",
        },
        {"id": "e4", "kind": "sms", "at": 1700000000, "email": "stranger@libero.it"},
        {"id": "e5", "kind": "party", "at": 1700000000, "email": "m@libero.it"},
    ]
    events.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    store = Store(tmp_path / "v.db", create=True)
    run_import(store, crm, ImportOptions("crm"))
    report = run_import(store, events, ImportOptions("app", kind="events"))
    again = run_import(store, events, ImportOptions("app", kind="events"))
    store.close()
    assert report.created == 3 and [line for line, _ in report.bad] == [5, 4]
    assert "unknown event kind" in report.bad[0][1]
    assert again.updated == 3 and again.created == 0
    with SQLiteBackend(tmp_path / "v.db") as b:
        assert len(b.timeline(1).events) == 3


def test_supervisors_and_read_only_cannot_import(demo_db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{demo_db}"
    rows = tmp_path / "crm.csv"
    rows.write_text("id,first_name,last_name,email\nZ1,Ada,Lovelace,ada@example.org\n", "utf-8")
    for who in (["--agent", "anna"], ["--agent", "giulia", "--read-only"]):
        out = vista("--backend", url, *who, "import", str(rows), "--source", "crm9")
        assert out.returncode == 1 and "read-only" in out.stderr
    assert vista("--backend", url, "customers", "search", "lovelace").returncode == 1
    ok = vista("--backend", url, "--agent", "giulia", "import", str(rows), "--source", "crm9")
    assert ok.returncode == 0, ok.stderr
    assert vista("--backend", url, "customers", "search", "lovelace").returncode == 0
