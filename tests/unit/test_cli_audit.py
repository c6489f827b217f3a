"""`vista audit`, `vista audit verify` and `vista customers export|erase|hold`, run as a
script would: JSON fields, exit codes, admins only, a tamper named by verify."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.unit.test_cli import vista


def _admin(db: Path, *args: str) -> tuple[int, str, str]:
    out = vista("--backend", f"sqlite:///{db}", "--agent", "admin", *args)
    return out.returncode, out.stdout, out.stderr


def test_audit_lists_cli_writes_newest_first_and_verify_passes(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    assert (
        vista("--backend", url, "--agent", "giulia", "customers", "note", "3", "hi").returncode == 0
    )
    code, out, err = _admin(demo_db, "customers", "edit", "3", "tier", "gold")
    assert code == 0, err
    code, out, err = _admin(demo_db, "audit", "--customer", "3", "--json")
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    assert [e["action"] for e in entries] == ["edit", "customer-note"]
    assert entries[0]["agent"] == "admin" and entries[0]["origin"] == "cli"
    assert entries[0]["changes"]["tier"][1] == "gold"
    assert entries[1]["agent"] == "giulia" and entries[1]["changes"]["body"] == [None, "hi"]
    code, out, err = _admin(demo_db, "audit", "--agent", "giulia", "--limit", "1")
    assert code == 0 and "customer-note" in out, err
    code, out, err = _admin(demo_db, "audit", "verify")
    assert code == 0 and "audit trail intact: 2 entries verified" in out, err


def test_audit_verify_exits_1_naming_the_tampered_entry(demo_db: Path) -> None:
    for text in ("a", "b", "c"):
        vista("--backend", f"sqlite:///{demo_db}", "customers", "note", "3", text)
    conn = sqlite3.connect(demo_db)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET at = at + 1 WHERE seq = 2")
    conn.commit()
    conn.close()
    code, _out, err = _admin(demo_db, "audit", "verify")
    assert code == 1 and "audit trail broken at entry 2" in err


def test_audit_is_refused_to_an_operator(demo_db: Path) -> None:
    out = vista("--backend", f"sqlite:///{demo_db}", "--agent", "giulia", "audit")
    assert out.returncode == 1 and "only an admin" in out.stderr


def test_export_erase_and_hold_from_the_cli(demo_db: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "person.json"
    code, out, err = _admin(demo_db, "customers", "export", "9", "--out", str(bundle))
    assert code == 0 and f"written to {bundle}" in out, err
    assert oct(os.stat(bundle).st_mode & 0o777) == "0o600"
    data = json.loads(bundle.read_text("utf-8"))
    assert data["customer_id"] == 9 and data["summary"] and data["data"]["profile"]["id"] == 9
    code, _, err = _admin(demo_db, "customers", "export", "9", "--out", str(bundle))
    assert code == 1 and "exists" in err  # never over another file
    assert _admin(demo_db, "customers", "hold", "9", "on")[0] == 0
    code, out, err = _admin(demo_db, "customers", "erase", "9", "--yes")
    assert code == 1 and "legal hold" in err
    code, out, _ = _admin(demo_db, "customers", "hold", "9", "--json")
    assert json.loads(out)["held"] is True
    assert _admin(demo_db, "customers", "hold", "9", "off")[0] == 0
    code, out, err = _admin(demo_db, "customers", "erase", "9")  # no --yes, no terminal
    assert code == 2 and "--yes" in err
    code, out, err = _admin(demo_db, "customers", "erase", "9", "--yes", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["customer_id"] == 9 and report["wal_cleared"] is True
    shown = json.loads(_admin(demo_db, "customers", "show", "9", "--json")[1])
    assert shown["customer"]["first_name"] == "[erased]" and shown["customer"]["emails"] == []
    code, out, err = _admin(demo_db, "customers", "hold", "9", "maybe")
    assert code == 1 and "on or off" in err
