"""Writes sent with an idempotency key, applied at most once per key by every server on a
store (`Backend.answer_once`): the flow both stores share. Each store gives its SQL in its
answers module (backends/sqlite/answers.py, backends/postgres/answers.py); no SQL here.

The write and its answer are kept in one transaction: a server that dies at any moment
leaves both or neither, so the client's retry on another server is answered from the store
(both) or runs the write for the first time (neither), never a second time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from backends.models import WriteAnswer

#: How long a kept answer is replayed; a retry comes within seconds, a day is generous.
KEEP_SECONDS = 86_400
#: Answers older than KEEP_SECONDS are pruned by every this-many answers a process keeps.
PRUNE_EVERY = 500

_kept = itertools.count(1)


class AnswerSql(Protocol):
    """A store's SQL for the answers (its answers module), on a connection in a write
    transaction."""

    def recall(self, db: Any, owner: str, key: str) -> WriteAnswer | None:
        """The answer kept for `owner`'s `key` (younger than KEEP_SECONDS), or None; a
        write under the same key in another transaction is waited for (its commit or
        rollback), so two servers never run one write both."""
        ...

    def keep(self, db: Any, owner: str, key: str, answer: WriteAnswer) -> None:
        """Keep `answer`; a key already kept (younger than KEEP_SECONDS) keeps its first."""
        ...

    def prune(self, db: Any) -> None:
        """Forget answers older than KEEP_SECONDS."""
        ...


class TransactionStore(Protocol):
    """A store whose writes of one thread can be one transaction (`one_transaction`)."""

    def one_transaction(self) -> AbstractContextManager[None]: ...

    def write(self) -> AbstractContextManager[Any]: ...


class _Refused(Exception):
    """Undoes a write that answered an error (anything it wrote goes with the rollback)."""

    def __init__(self, answer: WriteAnswer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def answer_once(
    store: TransactionStore,
    sql: AnswerSql,
    owner: str,
    key: str,
    write: Callable[[], WriteAnswer],
    *,
    atomic: bool = True,
) -> tuple[WriteAnswer, bool]:
    """The answer kept for `owner`'s `key` and True (`write` not run), else `write`'s answer
    and False; see `Backend.answer_once` for what is kept when."""
    if not atomic:
        with store.one_transaction(), store.write() as db:
            kept = sql.recall(db, owner, key)
        if kept is not None:
            return kept, True
        answer = write()
    else:
        try:
            with store.one_transaction():
                with store.write() as db:
                    kept = sql.recall(db, owner, key)
                if kept is not None:
                    return kept, True
                answer = write()
                if answer.status >= 400:
                    raise _Refused(answer)
                _keep(store, sql, owner, key, answer)
                return answer, False
        except _Refused as refused:
            answer = refused.answer
    if answer.status < 500:  # a refusal (nothing written), or a write that committed itself
        with store.one_transaction():
            _keep(store, sql, owner, key, answer)
    return answer, False


def _keep(
    store: TransactionStore, sql: AnswerSql, owner: str, key: str, answer: WriteAnswer
) -> None:
    with store.write() as db:
        sql.keep(db, owner, key, answer)
        if next(_kept) % PRUNE_EVERY == 0:
            sql.prune(db)


class AnswerOps:
    """Mixin of the stores' backends: `Backend.answer_once` over their `store` and the SQL
    of their answers module (`_answers`)."""

    store: Any
    _answers: AnswerSql

    def answer_once(
        self,
        owner: str,
        key: str,
        write: Callable[[], WriteAnswer],
        *,
        atomic: bool = True,
    ) -> tuple[WriteAnswer, bool]:
        return answer_once(self.store, self._answers, owner, key, write, atomic=atomic)
