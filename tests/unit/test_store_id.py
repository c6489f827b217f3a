"""Drafts follow the store, not the path typed: the store's own id (a UUID kept in the
database) is the same however the file is named, and different for another store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.store import SCHEMA_VERSION
from console.settings import Draft, Drafts, draft_scope


def test_a_draft_follows_the_store_whatever_path_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    first = SQLiteBackend(tmp_path / "a" / "vista.db", create=True)
    other = SQLiteBackend(tmp_path / "other.db", create=True)
    monkeypatch.chdir(tmp_path)
    same = SQLiteBackend("a/../a/vista.db")
    try:
        assert draft_scope(first) == draft_scope(same) != draft_scope(other)
        Drafts(tmp_path / "drafts.json", scope=draft_scope(first)).put(180, Draft(body="ciao"))
        assert Drafts(tmp_path / "drafts.json", scope=draft_scope(same)).get(180) == Draft(
            body="ciao"
        )
        assert Drafts(tmp_path / "drafts.json", scope=draft_scope(other)).get(180) is None
    finally:
        for b in (first, other, same):
            b.close()


def test_an_upgraded_store_gets_an_id_once(tmp_path: Path) -> None:
    path = tmp_path / "vista.db"
    SQLiteBackend(path, create=True).close()
    with sqlite3.connect(path) as db:  # as a store from before the id
        db.execute("DROP TABLE store_meta")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.close()
    with SQLiteBackend(path) as upgraded:
        made = upgraded.store_id()
    with SQLiteBackend(path) as again:
        assert again.store_id() == made and len(made) == 36
