"""Keeping computed values current: gather each customer's orders, refunds, returns,
complaints, survey answers and contacts, compute (backends/values.py) and write lifetime
value and churn risk. Called in the transaction of whatever changed them (an event import,
an inbound message, the demo build)."""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from backends import values as v
from backends.base import InvalidInput

log = logging.getLogger("vista.values")

#: Customers per set-based query (bound parameters per statement stay few).
CHUNK = 500


def chunks(items: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    """`items` in runs of at most `size`."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


#: A conversation whose payload or summary says so is a complaint.
_COMPLAINT = (
    "(lower(coalesce(json_extract(payload, '$.intent'), json_extract(payload, '$.category'), "
    "json_extract(payload, '$.type'), '')) = 'complaint' "
    "OR (kind = 'ticket' AND lower(summary) LIKE '%complain%'))"
)
_CONVERSATIONS = "('ticket','chat','email','call','whatsapp','sms')"

_CONFIGS: dict[Path | None, tuple[float, v.ValuesConfig]] = {}


def config_for(store_path: Path | None) -> v.ValuesConfig:
    """The values configuration of a store (read again when the file changes)."""
    path = v.locate(store_path)
    stamp = path.stat().st_mtime if path is not None and path.exists() else 0.0
    known = _CONFIGS.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    cfg = v.load(path)
    _CONFIGS[path] = (stamp, cfg)
    return cfg


def config_of(db: sqlite3.Connection, *, lenient: bool = False) -> v.ValuesConfig:
    """The values configuration of the store `db` is connected to. `lenient`: a broken
    values.toml is logged and the defaults used (a customer's message must still arrive);
    otherwise it raises InvalidInput naming the problem."""
    row = db.execute("PRAGMA database_list").fetchone()
    try:
        return config_for(Path(row[2]) if row is not None and row[2] else None)
    except InvalidInput as e:
        if not lenient:
            raise
        log.warning("values.toml: %s; computing with the defaults", e)
        return v.ValuesConfig()


def refresh_all(db: sqlite3.Connection, now: int) -> int:
    """Recompute every customer's values (a bulk build, once its events are in). A store
    built at a schema before computed values (0011) has nowhere to keep them: nothing."""
    if not any(row[1] == "churn_score" for row in db.execute("PRAGMA table_info(customers)")):
        return 0
    cfg = config_of(db)
    ids = [r[0] for r in db.execute("SELECT id FROM customers ORDER BY id")]
    return sum(refresh(db, part, cfg, now) for part in chunks(ids, 5000))


def gather(
    db: sqlite3.Connection, ids: list[int], cfg: v.ValuesConfig, now: int
) -> dict[int, v.Activity]:
    """Each customer's activity, a few set-based queries per chunk of customers."""
    orders: dict[int, list[v.Order]] = defaultdict(list)
    deductions: dict[int, list[v.Deduction]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    csat: dict[int, tuple[int, int]] = {}  # customer -> (at, value), newest wins
    nps: dict[int, tuple[int, int]] = {}
    complaint_since = now - cfg.complaint_days * v.DAY
    contact_since = now - cfg.contact_days * v.DAY
    for part in chunks(sorted(set(ids))):
        marks = ",".join("?" * len(part))
        for cid, at, total, status, number in db.execute(
            f"SELECT customer_id, at, total, status, number FROM orders "
            f"WHERE customer_id IN ({marks})",
            part,
        ):
            orders[cid].append(v.Order(at, float(total or 0), status or "", number))
        for cid, kind, amount, order in db.execute(
            f"SELECT customer_id, kind, coalesce(json_extract(payload, '$.amount'), "
            f"json_extract(payload, '$.total'), 0), coalesce(json_extract(payload, '$.order'), "
            f"json_extract(payload, '$.number'), '') FROM events "
            f"WHERE customer_id IN ({marks}) AND kind IN ('refund', 'return')",
            part,
        ):
            try:
                value = abs(float(amount or 0))
            except (TypeError, ValueError):
                value = 0.0
            deductions[cid].append(v.Deduction(kind, value, str(order)))
        for cid, n in db.execute(
            f"SELECT customer_id, count(*) FROM events WHERE customer_id IN ({marks}) "
            f"AND kind IN {_CONVERSATIONS} AND at >= ? AND {_COMPLAINT} GROUP BY customer_id",
            (*part, complaint_since),
        ):
            counts[cid]["events"] = n
        for cid, recent, opened, contacts in db.execute(
            f"SELECT customer_id, sum(intent = 'complaint' AND created_at >= ?), "
            f"sum(intent = 'complaint' AND status <> 'resolved'), sum(created_at >= ?) "
            f"FROM contacts WHERE customer_id IN ({marks}) GROUP BY customer_id",
            (complaint_since, contact_since, *part),
        ):
            counts[cid].update(recent=recent or 0, open=opened or 0, contacts=contacts or 0)
        for cid, at, value in db.execute(
            f"SELECT customer_id, coalesce(resolved_at, updated_at), csat FROM contacts "
            f"WHERE customer_id IN ({marks}) AND csat IS NOT NULL",
            part,
        ):
            if cid not in csat or at > csat[cid][0]:
                csat[cid] = (at, int(value))
        for cid, at, c, n in db.execute(
            f"SELECT customer_id, at, json_extract(payload, '$.csat'), "
            f"json_extract(payload, '$.nps') FROM events WHERE customer_id IN ({marks}) "
            f"AND kind = 'survey'",
            part,
        ):
            score, promoter = v.survey_score(c, 1, 5), v.survey_score(n, 0, 10)
            if score is not None and (cid not in csat or at >= csat[cid][0]):
                csat[cid] = (at, score)
            if promoter is not None and (cid not in nps or at >= nps[cid][0]):
                nps[cid] = (at, promoter)
    out: dict[int, v.Activity] = {}
    for cid in ids:
        c = counts.get(cid, {})
        out[cid] = v.Activity(
            orders=tuple(orders.get(cid, ())),
            deductions=tuple(deductions.get(cid, ())),
            complaints_recent=max(c.get("events", 0), c.get("recent", 0)),
            complaints_open=c.get("open", 0),
            csat_last=csat[cid][1] if cid in csat else None,
            nps_last=nps[cid][1] if cid in nps else None,
            contacts_recent=c.get("contacts", 0),
        )
    return out


def refresh(db: sqlite3.Connection, ids: Iterable[int], cfg: v.ValuesConfig, now: int) -> int:
    """Recompute and store lifetime value and churn risk of customers `ids`; how many."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    rows = v.stored_rows(gather(db, wanted, cfg, now), wanted, now, cfg)
    db.executemany(
        "UPDATE customers SET lifetime_value = ?, currency = ?, churn_score = ?, churn_risk = ?, "
        "churn_reasons = ?, next_action = ? WHERE id = ?",
        rows,
    )
    return len(rows)
