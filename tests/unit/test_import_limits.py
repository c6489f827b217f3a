"""Imported rows with over-long fields are skipped with their reason (strict: refused)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.unit.test_cli import vista


def _write(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "crm.csv"
    lines = ["id,name,email"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _records(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM source_records").fetchone()[0])


def test_over_long_fields_are_skipped_with_their_reason(demo_db: Path, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ("L1", "N" * 200, "lungo.ok@posta-vista.it"),  # on the bound
            ("L2", "N" * 100_000, "lungo.nome@posta-vista.it"),
            ("L" * 500_000, "Mario Lungo", "lungo.id@posta-vista.it"),
            ("L4", "Mario Lungo", "x" * 400 + "@posta-vista.it"),
        ],
    )
    before = _records(demo_db)
    done = vista(
        "--backend", f"sqlite:///{demo_db}", "import", str(path), "--source", "crm", "--json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["created"] == 1 and report["skipped"] == 3
    reasons = {bad["line"]: bad["reason"] for bad in report["bad_rows"]}
    assert reasons == {
        3: "name is 100,000 characters long; at most 200 are accepted",
        4: "record_id is 500,000 characters long; at most 200 are accepted",
        5: "email is 415 characters long; at most 320 are accepted",
    }
    assert _records(demo_db) == before + 1


def test_a_strict_import_with_an_over_long_field_writes_nothing(
    demo_db: Path, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        [("S1", "Anna Corta", "anna.corta@posta-vista.it"), ("S2", "N" * 201, "n@posta-vista.it")],
    )
    before = _records(demo_db)
    done = vista(
        "--backend", f"sqlite:///{demo_db}", "import", str(path), "--source", "crm", "--strict"
    )
    assert done.returncode == 1 and "name is 201 characters long" in done.stderr
    assert _records(demo_db) == before


def test_over_long_event_ids_are_skipped(demo_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "id,at,kind,email,summary\n"
        f"{'E' * 201},2026-11-01T10:00:00Z,order,mario@posta-vista.it,ordine\n",
        "utf-8",
    )
    done = vista(
        "--backend",
        f"sqlite:///{demo_db}",
        "import",
        str(path),
        "--source",
        "shop",
        "--kind",
        "events",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["bad_rows"] == [
        {"line": 2, "reason": "record_id is 201 characters long; at most 200 are accepted"}
    ]
