"""Loading a new store in bulk: upkeep that nothing reads during the load is switched off,
then rebuilt set-wise at the end, inside the same build, to exactly what row-by-row upkeep
would have left.

Deferred (chosen by measuring; the rest costs less live than rebuilt):

- the secondary indexes of contacts, messages and survey scores, except the one identity
  resolution reads when customers merge (and the contacts' foreign-key check needs then),
  which is rebuilt with the others at the end: each table gets its indexes back in their
  original order, the order the query planner meets them in;
- every trigger of migration 0004: the hourly KPI rollup (seven upserts per contact) and
  the survey scores (a trigger program run for every event; and the events table must be
  trigger-free for `staging.copy_in`). Their tables are then filled by that migration's
  own backfill statements, so the result is the same as if every row had fired them.

Indexes and triggers are recreated from the SQL text they had, so the final schema is
identical to a migrated store's (`sqlite_master` holds the same text).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from backends.sqlite.store import _migration_sql, _statements

#: The migration whose triggers keep the derived tables, and whose INSERT/DELETE
#: statements fill those tables from scratch.
DERIVED_MIGRATION = "0004_stats.sql"
#: Derived tables rebuilt at the end, and the triggers deferred.
DERIVED_TABLES = ("kpi_hourly", "kpi_agent_hourly", "survey_scores")
DEFERRED_TRIGGERS = frozenset(
    {
        "kpi_hourly_insert",
        "kpi_hourly_update",
        "kpi_hourly_delete",
        "survey_scores_insert",
        "survey_scores_update",
        "survey_scores_delete",
        "survey_scores_contact_insert",
        "survey_scores_contact_channel",
    }
)

#: Tables loaded in bulk: their secondary indexes wait for the end of the load...
BULK_TABLES = ("contacts", "messages", "survey_scores")
#: ...except this one: identity resolution reads contacts by customer when customers merge,
#: and deleting a merged customer checks the contacts' foreign key through it.
KEEP_INDEXES = frozenset({"contacts_customer"})

_TARGET = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


def backfill_statements() -> list[str]:
    """The statements of DERIVED_MIGRATION that fill DERIVED_TABLES from events and contacts."""
    out = []
    for statement in _statements(_migration_sql(DERIVED_MIGRATION)):
        match = _TARGET.match(statement)
        if match and match.group(1) in DERIVED_TABLES:
            out.append(statement)
    return out


@dataclass
class DeferredUpkeep:
    """Drops deferred indexes and triggers of a store being loaded; `restore` rebuilds them."""

    db: sqlite3.Connection
    saved: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, sql)
    backfill: list[str] = field(default_factory=list)

    def suspend(self) -> None:
        """Drop what the load does not need (call inside the load's transaction)."""
        self.backfill = backfill_statements()
        marks = ",".join("?" * len(BULK_TABLES))
        rows = self.db.execute(
            f"SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
            f"(type = 'index' AND tbl_name IN ({marks})) OR type = 'trigger') ORDER BY rowid",
            BULK_TABLES,
        ).fetchall()
        self.saved = [(t, n, s) for t, n, s in rows if t == "index" or n in DEFERRED_TRIGGERS]
        for kind, name, _sql in self.saved:
            if name not in KEEP_INDEXES:
                self.db.execute(f'DROP {kind.upper()} "{name}"')

    def restore(self) -> None:
        """Rebuild the derived tables set-wise, then recreate the indexes (in their original
        order, the kept ones too) and the triggers."""
        for statement in self.backfill:
            self.db.execute(statement)
        for name in KEEP_INDEXES:
            self.db.execute(f'DROP INDEX IF EXISTS "{name}"')
        for kind in ("index", "trigger"):
            for k, _name, sql in self.saved:
                if k == kind:
                    self.db.execute(sql)
        self.saved = []
