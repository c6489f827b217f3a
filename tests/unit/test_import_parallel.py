"""Big imports prepare rows in worker processes and resolve them in big batches: the store
ends up exactly as with the plain path (same customers, links, provenance, suggestions,
journal), bad rows are still reported in file order, and --strict still writes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from backends.base import InvalidInput
from backends.identity import prepare
from backends.identity.mapping import load_mapping
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store
from bench.identity.generate import generate

NOW = 1_800_000_000


def _import_all(data: Path, db: Path, workers: int, batch_size: int) -> list[Any]:
    store = Store(db, create=True)
    reports = []
    for source, name, mapping, id_column in (
        ("crm", "crm.csv", None, None),
        ("webshop", "webshop.jsonl", data / "webshop.toml", None),
        ("helpdesk", "helpdesk.json", None, "ticket_customer_id"),
    ):
        options = ImportOptions(
            source,
            mapping=load_mapping(mapping),
            id_column=id_column,
            workers=workers,
            batch_size=batch_size,
        )
        reports.append(run_import(store, data / name, options, now=NOW).to_json())
    store.close()
    return reports


def _state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        queries = {
            "links": "SELECT source, source_id, customer_id FROM source_records ORDER BY id",
            "customers": "SELECT id, first_name, last_name, emails, phones, addresses, birth_date, "
            "tier, provenance, created_at, version FROM customers ORDER BY id",
            "search": "SELECT rowid, name, emails, phones FROM customer_search ORDER BY rowid",
            "pairs": "SELECT record_a, record_b, kind, score, reason FROM identity_links "
            "ORDER BY id",
            "suggestions": "SELECT record_a, record_b, score, reason FROM identity_suggestions "
            "ORDER BY record_a, record_b",
            "journal": "SELECT action, customer_id, other_id, records FROM identity_journal "
            "ORDER BY id",
            "identities": "SELECT record_id, kind, value FROM identities ORDER BY 1, 2, 3",
        }
        return {k: conn.execute(q).fetchall() for k, q in queries.items()}
    finally:
        conn.close()


def test_parallel_import_resolves_exactly_like_the_plain_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    generate(data, 1500, seed=7)
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 97)  # many chunks in flight, out of step
    plain = _import_all(data, tmp_path / "plain.db", workers=0, batch_size=400)
    parallel = _import_all(data, tmp_path / "parallel.db", workers=2, batch_size=400)
    for a, b in zip(plain, parallel, strict=True):
        a.pop("seconds"), b.pop("seconds")
        assert a == b
    assert plain[1]["customers_created"] < plain[1]["created"]  # the shop linked to the CRM
    expected, got = _state(tmp_path / "plain.db"), _state(tmp_path / "parallel.db")
    for table in expected:
        assert got[table] == expected[table], table


def test_parallel_import_reports_bad_rows_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = ["id,first_name,last_name,email"]
    bad_lines = []
    for i in range(1, 301):
        if i % 37 == 0:
            rows.append(f"C{i},only-two-columns")
            bad_lines.append(i + 1)
        elif i % 53 == 0:
            rows.append(f",Name{i},Surname{i},p{i}@libero.it")
            bad_lines.append(i + 1)
        else:
            rows.append(f"C{i},Name{i},Surname{i},p{i}@libero.it")
    f = tmp_path / "crm.csv"
    f.write_text("\n".join(rows) + "\n", "utf-8")
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 13)
    store = Store(tmp_path / "v.db", create=True)
    seen: list[int] = []
    report = run_import(
        store,
        f,
        ImportOptions("crm", workers=2, batch_size=50),
        on_bad=lambda line, _why: seen.append(line),
    )
    store.close()
    assert seen == bad_lines
    assert [line for line, _ in report.bad] == bad_lines
    assert report.created == 300 - len(bad_lines)


def test_parallel_strict_import_aborts_with_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = ["id,first_name,email"] + [f"C{i},Name{i},p{i}@libero.it" for i in range(1, 200)]
    rows.insert(150, "C999")  # line 151: one column short
    f = tmp_path / "crm.csv"
    f.write_text("\n".join(rows) + "\n", "utf-8")
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 10)
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    with pytest.raises(InvalidInput, match="line 151"):
        run_import(store, f, ImportOptions("crm", strict=True, workers=2, batch_size=20))
    store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM source_records").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
    finally:
        conn.close()
