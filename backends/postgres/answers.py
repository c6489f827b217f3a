"""Answers to writes by idempotency key in PostgreSQL's SQL (`answers.AnswerSql`; the flow
is backends/answers.py, the table schema 0008's), kept in the database so that every server
on it shares them: a keyed write commits together with its answer."""

from __future__ import annotations

from typing import Any

from backends.answers import KEEP_SECONDS
from backends.models import WriteAnswer

#: The seed of the advisory lock a keyed write holds on its key (inbound uses 3 and 5).
_LOCK_SEED = 11


def recall(db: Any, owner: str, key: str) -> WriteAnswer | None:
    # a server running this key's write holds the lock until it commits with its answer
    # (or rolls back): a retry elsewhere waits, then reads the answer
    db.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
        (f"answer:{owner}\x00{key}", _LOCK_SEED),
    )
    row = db.execute(
        "SELECT request, status, body FROM write_answers WHERE owner = %s AND key = %s "
        "AND at > now() - make_interval(secs => %s)",
        (owner, key, KEEP_SECONDS),
    ).fetchone()
    return None if row is None else WriteAnswer(row[0], int(row[1]), bytes(row[2]))


def keep(db: Any, owner: str, key: str, answer: WriteAnswer) -> None:
    db.execute(
        "INSERT INTO write_answers(owner, key, request, status, body) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (owner, key) DO UPDATE SET "
        "request = EXCLUDED.request, status = EXCLUDED.status, body = EXCLUDED.body, "
        "at = EXCLUDED.at WHERE write_answers.at <= now() - make_interval(secs => %s)",
        (owner, key, answer.request, answer.status, answer.body, KEEP_SECONDS),
    )


def prune(db: Any) -> None:
    db.execute(
        "DELETE FROM write_answers WHERE at < now() - make_interval(secs => %s)", (KEEP_SECONDS,)
    )
