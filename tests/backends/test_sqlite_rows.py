"""Rows become models by column position (the queue builds 50 per request): every field
must still come from the column of its name."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from backends.sqlite import rows
from backends.sqlite.backend import SQLiteBackend


def test_every_contact_field_comes_from_its_own_column(demo_db: Path) -> None:
    with sqlite3.connect(demo_db) as conn:  # the demo has no snoozed contact: make one
        conn.execute(
            "UPDATE contacts SET status = 'snoozed', snoozed_until = 1800000000 "
            "WHERE id = (SELECT min(id) FROM contacts WHERE status = 'open')"
        )
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    conn = sqlite3.connect(demo_db)
    conn.row_factory = sqlite3.Row
    found = conn.execute(f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM}").fetchall()
    assert len(found) > 100
    seen_set: set[str] = set()
    for row in found:
        model = backend.get_contact(row["id"]).contact
        for f in msgspec.structs.fields(model):
            value = getattr(model, f.name)
            stored = row[f.name]
            if f.name == "priority":
                assert value.rank == stored
            elif isinstance(value, datetime):
                assert value == datetime.fromtimestamp(stored, UTC), f.name
            elif f.name == "customer_name":
                assert value == (stored or f"customer {row['customer_id']}")
            else:
                assert value == stored, f.name
            if value is not None:
                seen_set.add(f.name)
    # every optional field has a value somewhere, so none went unchecked
    assert seen_set == {f.name for f in msgspec.structs.fields(model)}
