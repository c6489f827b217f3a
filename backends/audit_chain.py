"""The audit trail's hash chain, the same in every store: entries, hashes, the walk.

An entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
content. The before and after values of an entry are kept apart (salted, their digest in
the entry), so erasing a person can delete their values while the chain still verifies:
`walk` accepts missing values only for erased customers. A store keeps the rows and the
order (backends/sqlite/audit.py, backends/postgres/audit.py); everything computed from
them is here, so an entry written by one store verifies in the other (`vista migrate`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.models import AuditCheck, AuditEntry, AuditPage, Origin

GENESIS = "0" * 64

#: What a read of a customer's profile is recorded as.
READ_ACTION = "read"

#: The columns of an entry, in the order the hash covers them (then prev_hash, hash).
CONTENT_COLUMNS = (
    "seq",
    "at",
    "agent",
    "role",
    "token",
    "origin",
    "action",
    "object_type",
    "object_id",
    "customer_id",
    "detail",
    "values_hash",
)
COLUMNS = (*CONTENT_COLUMNS, "prev_hash", "hash")
#: The fields of an `AuditEntry` its row holds as they are (the others are converted, or
#: the chain's own).
_AS_STORED = tuple(
    c for c in COLUMNS if c not in ("at", "customer_id", "detail", "values_hash", "prev_hash")
)

#: A customer's fields as the audit trail compares them (bookkeeping columns left out).
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "emails",
    "phones",
    "addresses",
    "birth_date",
    "language",
    "segment",
    "tier",
    "consents",
    "lifetime_value",
    "currency",
    "tags",
    "attributes",
    "churn_risk",
    "unhappy",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the agent and role, the API token's name ('' when none), and the origin."""

    agent: str
    role: str = ""
    token: str = ""
    origin: str = Origin.CONSOLE.value

    def as_(self, agent: str, origin: str | None = None) -> Actor:
        """The same call credited to another actor (an inbound message to its channel): no
        agent's role, the token and origin kept."""
        return replace(self, agent=agent, role="", origin=origin or self.origin)


@dataclass(frozen=True, slots=True)
class Values:
    """An entry's before/after values as stored apart: the salt and the JSON body."""

    salt: str
    body: str


def canonical(value: Any) -> str:
    """The one JSON text of a value that hashes the same everywhere."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def entry_hash(prev: str, row: Mapping[str, Any]) -> str:
    """The hash of an entry: its predecessor's hash and its own canonical content."""
    return digest(prev, canonical([row[c] for c in CONTENT_COLUMNS]))


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [before, after] for every field whose value differs (missing is None)."""
    out: dict[str, list[Any]] = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [old, new]
    return out


def message_changes(
    body: str,
    channel: str,
    contact_id: int,
    recipient: str | None,
    contact_before: Mapping[str, Any],
    contact_after: Mapping[str, Any],
) -> dict[str, list[Any]]:
    """What a reply or note changed: the new message's fields (its recipient for a reply)
    and its contact's fields, as `contact.<field>`."""
    fields: dict[str, Any] = {"body": body, "channel": channel, "contact_id": contact_id}
    if recipient is not None:
        fields["recipient"] = recipient
    changes = diff({}, fields)
    changes.update((f"contact.{k}", v) for k, v in diff(contact_before, contact_after).items())
    return changes


def hash_tail(row: Mapping[str, Any]) -> str:
    """What follows `[<seq>,` in the canonical text `entry_hash` covers: a store that links
    entries inside the database hashes `prev + "\n[" + seq + "," + tail` there (the same
    bytes as `entry_hash`)."""
    return canonical([row[c] for c in CONTENT_COLUMNS[1:]])[1:]


class Appender:
    """A store's `record`: appends one entry to its trail in the caller's open write
    transaction (so a write and its entry commit together, or neither does).

    The store gives either `head` and `insert`, and the entry is linked here: `head` (the
    last entry's seq and hash, None when the trail is empty; where appenders can meet, it
    takes the lock that orders them) and `insert` (the entry's row, as `COLUMNS`, and its
    values to keep apart, None when it changed no field); or `link`, which inserts the
    entry's own columns (all but `seq`) linked to the head inside the database, given
    them, their `hash_tail` and the values."""

    def __init__(
        self,
        head: Callable[[Any], tuple[int, str] | None] | None = None,
        insert: Callable[[Any, dict[str, Any], Values | None], None] | None = None,
        *,
        link: Callable[[Any, dict[str, Any], str, Values | None], None] | None = None,
    ) -> None:
        if (link is None) == (head is None or insert is None):
            raise TypeError("an Appender takes head and insert, or link")
        self._head = head
        self._insert = insert
        self._link = link

    def __call__(
        self,
        db: Any,
        actor: Actor,
        at: int,
        action: str,
        object_type: str,
        object_id: object,
        *,
        customer_id: int | None = None,
        changes: Mapping[str, list[Any]] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        values = None
        values_hash = ""
        if changes:
            values = Values(secrets.token_hex(16), canonical(changes))
            values_hash = digest(values.salt, values.body)
        own: dict[str, Any] = {  # the entry's own columns: all of CONTENT_COLUMNS but seq
            "at": int(at),
            "agent": actor.agent,
            "role": actor.role,
            "token": actor.token,
            "origin": actor.origin,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "customer_id": customer_id,
            "detail": canonical(dict(detail or {})),
            "values_hash": values_hash,
        }
        if self._link is not None:
            self._link(db, own, hash_tail(own), values)
            return
        assert self._head is not None and self._insert is not None
        last = self._head(db)
        seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
        row: dict[str, Any] = {"seq": seq, **own, "prev_hash": prev}
        row["hash"] = entry_hash(prev, row)
        self._insert(db, row, values)


def entry(row: Mapping[str, Any], body: str | None, erased: set[int]) -> AuditEntry:
    """The model of a stored entry (`body`: its kept values, None when none or erased)."""
    changes = {k: (v[0], v[1]) for k, v in json.loads(body).items()} if body else {}
    cid = row["customer_id"]
    return AuditEntry(
        **{name: row[name] for name in _AS_STORED},
        at=datetime.fromtimestamp(row["at"], UTC),
        customer_id=cid,
        changes=changes,
        detail=json.loads(row["detail"]),
        erased=cid is not None and cid in erased,
    )


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Which entries a page of the trail shows, newest first (see `Backend.audit_log`);
    the cursor is the last shown entry's seq."""

    customer_id: int | None = None
    agent: str | None = None
    since: datetime | None = None
    cursor: str | None = None
    limit: int = 50

    def where(self, mark: str) -> tuple[str, list[Any]]:
        """The WHERE clause (over `audit a`, with the store's parameter `mark`) and its
        values.

        Raises:
            InvalidInput: a limit out of 1..1000, or a cursor this trail did not make.
        """
        limit, cursor, since = self.limit, self.cursor, self.since
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit must be between 1 and 1000 (got {limit})")
        if cursor is not None and (not cursor.isdigit() or len(cursor) > 18):
            raise InvalidInput(f"not an audit cursor: {cursor[:40]!r}")
        wanted = (
            ("a.customer_id =", self.customer_id),
            ("a.agent =", self.agent),
            ("a.at >=", int(since.timestamp()) if since is not None else None),
            ("a.seq <", int(cursor) if cursor is not None else None),
        )
        where = [f"{test} {mark}" for test, value in wanted if value is not None]
        return " AND ".join(where) or "1 = 1", [value for _t, value in wanted if value is not None]

    def statement(self, columns: str, mark: str) -> tuple[str, list[Any]]:
        """The SELECT of the page's rows (`columns` of `audit a`, and each entry's kept
        values as `body`), newest first, one more than the limit, and its values."""
        where, params = self.where(mark)
        sql = (
            f"SELECT {columns}, v.body FROM audit a LEFT JOIN audit_values v ON v.seq = a.seq "
            f"WHERE {where} ORDER BY a.seq DESC LIMIT {mark}"
        )
        return sql, [*params, self.limit + 1]


def to_page(
    found: Sequence[Mapping[str, Any]], limit: int, erased: Callable[[Iterable[Any]], set[int]]
) -> AuditPage:
    """A page of up to `limit` entries from `limit + 1` rows read newest first (each with
    its kept values as `body`); `erased` names the erased customers among some ids."""
    more = len(found) > limit
    rows = found[:limit]
    gone = erased(r["customer_id"] for r in rows)
    entries = tuple(entry(r, r["body"], gone) for r in rows)
    return AuditPage(entries, str(entries[-1].seq) if more and entries else None)


def walk(rows: Iterable[Mapping[str, Any]], erased: set[int]) -> AuditCheck:
    """Walk the chain from the first entry (rows in seq order, each with its `salt` and
    `body`, None when its values are not kept): each links to its predecessor, hashes to
    what it says, and its values (when kept) digest to what it records. The first entry
    that does not is named."""
    prev = GENESIS
    checked = 0
    expected_seq = 1
    for row in rows:
        seq = row["seq"]
        problem = ""
        if seq != expected_seq:
            problem = f"entry {expected_seq} is missing (the next is {seq})"
        elif row["prev_hash"] != prev:
            problem = "it does not link to the entry before it"
        elif entry_hash(prev, row) != row["hash"]:
            problem = "its content does not match its hash (changed after it was written)"
        elif row["body"] is not None:
            if digest(row["salt"], row["body"]) != row["values_hash"]:
                problem = "its before/after values were changed"
        elif row["values_hash"] and row["customer_id"] not in erased:
            problem = "its before/after values were removed"
        if problem:
            return AuditCheck(False, checked, seq if seq == expected_seq else expected_seq, problem)
        prev = row["hash"]
        checked += 1
        expected_seq += 1
    return AuditCheck(True, checked)
