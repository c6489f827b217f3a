"""Answers to writes by idempotency key in SQLite's SQL (`answers.AnswerSql`; the flow is
backends/answers.py, the table migration 0016's), kept in the store file so that a server
restarted after a crash, and every server on the same file, shares them: a keyed write
commits together with its answer. The transaction holds the file's write lock (BEGIN
IMMEDIATE), so a write under the same key elsewhere waits for that commit."""

from __future__ import annotations

import sqlite3
import time

from backends.answers import KEEP_SECONDS
from backends.models import WriteAnswer


def recall(db: sqlite3.Connection, owner: str, key: str) -> WriteAnswer | None:
    row = db.execute(
        "SELECT request, status, body FROM write_answers WHERE owner = ? AND key = ? AND at > ?",
        (owner, key, int(time.time()) - KEEP_SECONDS),
    ).fetchone()
    return None if row is None else WriteAnswer(row[0], int(row[1]), bytes(row[2]))


def keep(db: sqlite3.Connection, owner: str, key: str, answer: WriteAnswer) -> None:
    now = int(time.time())
    db.execute(
        "INSERT INTO write_answers(owner, key, request, status, body, at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, key) DO UPDATE SET "
        "request = excluded.request, status = excluded.status, body = excluded.body, "
        "at = excluded.at WHERE write_answers.at <= ?",
        (owner, key, answer.request, answer.status, answer.body, now, now - KEEP_SECONDS),
    )


def prune(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM write_answers WHERE at < ?", (int(time.time()) - KEEP_SECONDS,))
