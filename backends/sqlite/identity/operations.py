"""The SQLite statements of human control over identity (`control.IdentityRows`): merge,
split, reject, explain and the journal, whose flow is `backends.identity.control`'s; and
the suggestions and link export pages.

Every statement runs in the caller's transaction with bound parameters only; a link's
reason is stored packed (backends/link_reasons.py).
"""

from __future__ import annotations

import json
from typing import Any

from backends import link_reasons
from backends.sqlite.identity import store as st
from backends.sqlite.identity.writer import SQLiteBatchRows


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


class SQLiteIdentityRows(SQLiteBatchRows):
    """`control.IdentityRows` over a SQLite connection (its writes need no locks: a write
    transaction holds the whole store)."""

    def lock(self, *customer_ids: int) -> None:
        return None

    def reason_text(self, stored: str) -> str:
        return link_reasons.unpack(stored)

    def join(self, moved: list[int], kept: list[int], why: str, actor: str, now: int) -> None:
        both = moved + kept
        marks = _marks(both)
        self.db.execute(
            f"DELETE FROM identity_links WHERE kind = 'apart' AND record_a IN ({marks}) "
            f"AND record_b IN ({marks})",
            (*both, *both),
        )
        self.db.execute(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (?,?,'manual',1.0,?,?,?)",
            (min(kept), min(moved), link_reasons.pack(why), actor, now),
        )
        self.db.execute(
            f"UPDATE identity_suggestions SET status = 'merged' WHERE status = 'open' AND "
            f"record_a IN ({marks}) AND record_b IN ({marks})",
            (*both, *both),
        )

    def new_customer_id(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM customers").fetchone()[0])

    def restore_customer(self, customer_id: int, snapshot: dict[str, Any], now: int) -> None:
        cols = {k: v for k, v in snapshot.items() if not k.startswith("_") and k != "id"}
        cols.setdefault("created_at", now)
        cols["updated_at"] = now
        names = ", ".join(cols)
        self.db.execute(
            f"INSERT INTO customers(id, {names}) VALUES (?, {_marks(list(cols))})",
            (customer_id, *cols.values()),
        )

    def move_records(self, record_ids: list[int], customer_id: int) -> None:
        self.db.execute(
            f"UPDATE source_records SET customer_id = ? WHERE id IN ({_marks(record_ids)})",
            (customer_id, *record_ids),
        )

    def record_events(self, customer_id: int, record_ids: list[int]) -> set[int]:
        return {
            r[0]
            for r in self.db.execute(
                f"SELECT id FROM events WHERE customer_id = ? AND record_id IN "
                f"({_marks(record_ids)})",
                (customer_id, *record_ids),
            )
        }

    def event_contacts(self, event_ids: list[int]) -> set[int]:
        out: set[int] = set()
        for part in st.chunks(event_ids):
            out |= {
                r[0]
                for r in self.db.execute(
                    f"SELECT DISTINCT contact_id FROM events WHERE id IN ({_marks(part)}) "
                    f"AND contact_id IS NOT NULL",
                    part,
                )
            }
        return out

    def move_events(self, event_ids: list[int], old: int, new: int) -> None:
        for part in st.chunks(event_ids):
            pm = _marks(part)
            self.db.execute(
                f"UPDATE events SET customer_id = ? WHERE customer_id = ? AND id IN ({pm})",
                (new, old, *part),
            )
            self.db.execute(
                f"UPDATE orders SET customer_id = ? WHERE customer_id = ? AND event_id IN ({pm})",
                (new, old, *part),
            )

    def move_contacts(self, contact_ids: list[int], old: int, new: int) -> None:
        for part in st.chunks(contact_ids):
            self.db.execute(
                f"UPDATE contacts SET customer_id = ? WHERE customer_id = ? AND id IN "
                f"({_marks(part)})",
                (new, old, *part),
            )

    def lower_value(self, customer_id: int, amount: float) -> None:
        self.db.execute(
            "UPDATE customers SET lifetime_value = max(0, lifetime_value - ?) WHERE id = ?",
            (amount, customer_id),
        )

    def keep_apart(self, pairs: list[tuple[int, int]], reason: str, actor: str, now: int) -> None:
        packed = link_reasons.pack(reason)
        self.db.executemany(
            "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
            "VALUES (?,?,'apart',?,?,?)",
            [(a, b, packed, actor, now) for a, b in pairs],
        )

    def unlink(self, moving: list[int], remaining: list[int]) -> None:
        marks, rm = _marks(moving), _marks(remaining)
        self.db.execute(
            f"DELETE FROM identity_links WHERE kind IN ('auto', 'manual') AND "
            f"((record_a IN ({marks}) AND record_b IN ({rm})) OR "
            f"(record_b IN ({marks}) AND record_a IN ({rm})))",
            (*moving, *remaining, *moving, *remaining),
        )

    def suggestion_records(self, suggestion_id: int) -> tuple[int, int] | None:
        row = self.db.execute(
            "SELECT record_a, record_b FROM identity_suggestions WHERE id = ?", (suggestion_id,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def keep_sides_apart(
        self, side_a: list[int], side_b: list[int], reason: str, actor: str, now: int
    ) -> None:
        self.keep_apart([(a, b) for a in side_a for b in side_b], reason, actor, now)

    def reject(self, suggestion_id: int, side_a: list[int], side_b: list[int]) -> None:
        self.db.execute(
            "UPDATE identity_suggestions SET status = 'rejected' WHERE id = ?", (suggestion_id,)
        )
        for part_a in st.chunks(side_a):
            for part_b in st.chunks(side_b):
                ma, mb = _marks(part_a), _marks(part_b)
                self.db.execute(
                    f"UPDATE identity_suggestions SET status = 'rejected' WHERE status = 'open' "
                    f"AND ((record_a IN ({ma}) AND record_b IN ({mb})) OR "
                    f"(record_a IN ({mb}) AND record_b IN ({ma})))",
                    (*part_a, *part_b, *part_b, *part_a),
                )

    def links_of(self, record_ids: list[int]) -> list[Any]:
        out: list[Any] = []
        for part in st.chunks(record_ids):
            marks = _marks(part)
            out += self.db.execute(
                f"SELECT l.*, ra.source || ':' || ra.source_id AS ka, rb.source || ':' || "
                f"rb.source_id AS kb FROM identity_links l JOIN source_records ra ON "
                f"ra.id = l.record_a JOIN source_records rb ON rb.id = l.record_b "
                f"WHERE l.record_a IN ({marks}) OR l.record_b IN ({marks}) ORDER BY l.id",
                (*part, *part),
            ).fetchall()
        return out

    def record_changes(self, record_ids: list[int]) -> list[tuple[int, int, int, dict[str, Any]]]:
        out: list[tuple[int, int, int, dict[str, Any]]] = []
        for part in st.chunks(record_ids):
            out += [
                (rid, import_id, at, json.loads(changed))
                for rid, import_id, at, changed in self.db.execute(
                    f"SELECT record_id, import_id, at, changed FROM record_changes "
                    f"WHERE record_id IN ({_marks(part)}) ORDER BY at DESC LIMIT 50",
                    part,
                )
            ]
        return out

    def record_names(self, record_ids: list[int]) -> list[str]:
        out: list[str] = []
        for part in st.chunks(sorted(record_ids)):
            out += [
                f"{r[0]}:{r[1]}"
                for r in self.db.execute(
                    f"SELECT source, source_id FROM source_records WHERE id IN ({_marks(part)}) "
                    f"ORDER BY source, source_id",
                    part,
                )
            ]
        return out


#: What `backends.identity_ops` builds for a transaction.
rows = SQLiteIdentityRows
