"""[identity] settings of a mapping file are kept in the database: later imports without the
mapping, and merges and splits, follow them too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends.base import InvalidInput
from backends.identity.mapping import load_mapping
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store


def _jsonl(path: Path, *rows: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def _mapping(path: Path, identity: str) -> Path:
    path.write_text("[identity]\n" + identity, "utf-8")
    return path


def _customers(db: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT source_id, customer_id FROM source_records ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


MARIO = {
    "first_name": "Mario",
    "last_name": "Rossi",
    "email": "mario@libero.it",
    "phone": "347 1234567",
}


@pytest.mark.parametrize(
    "setting",
    [
        'matcher = "points"\nauto_threshold = 100.0\nsuggest_threshold = 4.0\n',
        "link_probability = 1.0\nsuggest_probability = 0.5\n",
    ],
    ids=["points", "model"],
)
def test_thresholds_from_a_mapping_apply_to_later_imports_without_it(
    tmp_path: Path, setting: str
) -> None:
    db = tmp_path / "v.db"
    strict = _mapping(tmp_path / "crm.toml", setting)
    store = Store(db, create=True)
    run_import(
        store,
        _jsonl(tmp_path / "a.jsonl", {"id": "C1", **MARIO}),
        ImportOptions("crm", mapping=load_mapping(strict)),
        now=1000,
    )
    # the same person from another source, imported with no mapping at all
    report = run_import(
        store,
        _jsonl(tmp_path / "b.jsonl", {"id": "W1", **MARIO}),
        ImportOptions("webshop"),
        now=2000,
    )
    store.close()
    assert report.auto_merges == 0 and report.suggestions == 1
    (_c1, first), (_w1, second) = _customers(db)
    assert first != second  # not linked: the stored threshold holds

    # without stored settings the same two records link
    other = tmp_path / "w.db"
    store = Store(other, create=True)
    run_import(store, tmp_path / "a.jsonl", ImportOptions("crm"), now=1000)
    run_import(store, tmp_path / "b.jsonl", ImportOptions("webshop"), now=2000)
    store.close()
    (_c1, first), (_w1, second) = _customers(other)
    assert first == second


def test_stored_policies_apply_to_merges_and_later_mappings_add_to_them(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    store = Store(db, create=True)
    prefer_shop = _mapping(
        tmp_path / "shop.toml",
        'source_priority = ["webshop", "crm"]\n'
        '[identity.policies]\nfirst_name = "source_priority"\n',
    )
    run_import(
        store,
        _jsonl(
            tmp_path / "a.jsonl",
            {"id": "C1", "first_name": "Mario", "last_name": "Rossi", "email": "m@libero.it"},
        ),
        ImportOptions("crm"),
        now=1000,
    )
    run_import(
        store,
        _jsonl(
            tmp_path / "b.jsonl",
            {"id": "W1", "first_name": "Marietto", "last_name": "Bianchi", "email": "b@libero.it"},
        ),
        ImportOptions("webshop", mapping=load_mapping(prefer_shop)),
        now=2000,
    )
    # a later mapping changes one more policy; the earlier ones stay
    run_import(
        store,
        _jsonl(tmp_path / "c.jsonl", {"id": "H1", "first_name": "Anna", "email": "anna@libero.it"}),
        ImportOptions(
            "helpdesk",
            mapping=load_mapping(
                _mapping(
                    tmp_path / "desk.toml", '[identity.policies]\nlast_name = "first_non_empty"\n'
                )
            ),
        ),
        now=3000,
    )
    store.close()
    customers = dict(_customers(db))
    with SQLiteBackend(db) as b:
        b.merge_customers(customers["C1"], customers["W1"])
        merged = b.get_customer(customers["C1"])
    assert merged.first_name == "Marietto"  # the web shop wins first names, as stored
    assert merged.last_name == "Rossi"  # the oldest: the later mapping's policy


def test_bad_identity_settings_are_refused_and_not_kept(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    store = Store(db, create=True)
    bad = _mapping(tmp_path / "bad.toml", "auto_treshold = 3.0\n")
    with pytest.raises(InvalidInput, match="auto_treshold"):
        run_import(
            store,
            _jsonl(tmp_path / "a.jsonl", {"id": "C1", **MARIO}),
            ImportOptions("crm", mapping=load_mapping(bad)),
            now=1000,
        )
    store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM identity_settings").fetchone()[0] == 0
    finally:
        conn.close()
