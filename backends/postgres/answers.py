"""Answers to writes by idempotency key, kept in the database so that every server on it
shares them (Backend.recall_answer / keep_answer; the table is schema 0008's)."""

from __future__ import annotations

import itertools

from backends.models import WriteAnswer
from backends.postgres.store import PgStore

#: How long a kept answer is replayed; a retry comes within seconds, a day is generous.
KEEP = "1 day"
#: Old answers are pruned by every this-many kept answers of a process.
PRUNE_EVERY = 500

_kept = itertools.count(1)


class AnswerQueries:
    """Mixin for PostgresBackend: the idempotency answers of the Backend contract."""

    store: PgStore

    def recall_answer(self, owner: str, key: str) -> WriteAnswer | None:
        with self.store.read() as db:
            row = db.execute(
                "SELECT request, status, body FROM write_answers WHERE owner = %s AND key = %s "
                f"AND at > now() - interval '{KEEP}'",
                (owner, key),
            ).fetchone()
        if row is None:
            return None
        return WriteAnswer(row["request"], int(row["status"]), bytes(row["body"]))

    def keep_answer(self, owner: str, key: str, answer: WriteAnswer) -> None:
        with self.store.write() as db:
            db.execute(
                "INSERT INTO write_answers(owner, key, request, status, body) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (owner, key) DO NOTHING",
                (owner, key, answer.request, answer.status, answer.body),
            )
            if next(_kept) % PRUNE_EVERY == 0:
                db.execute(f"DELETE FROM write_answers WHERE at < now() - interval '{KEEP}'")
