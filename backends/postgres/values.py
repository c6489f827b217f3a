"""Keeping computed values current in PostgreSQL: gather each customer's orders, refunds,
returns, complaints, survey answers and contacts, compute (backends/values.py) and write
lifetime value and churn risk, in the transaction of whatever changed them (an event import,
a merge). Payloads are read in Python: a source system's payload need not be JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from backends import values as v

_CONVERSATIONS = ["ticket", "chat", "email", "call", "whatsapp", "sms"]


def _payload(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _complaint(kind: str, summary: str, payload: dict[str, Any]) -> bool:
    said = payload.get("intent") or payload.get("category") or payload.get("type") or ""
    return str(said).lower() == "complaint" or (kind == "ticket" and "complain" in summary.lower())


def gather(db: Any, ids: list[int], cfg: v.ValuesConfig, now: int) -> dict[int, v.Activity]:
    """Each customer's activity, a few set-based queries."""
    orders: dict[int, list[v.Order]] = defaultdict(list)
    deductions: dict[int, list[v.Deduction]] = defaultdict(list)
    complaints: dict[int, int] = defaultdict(int)
    counts: dict[int, tuple[int, int, int]] = {}
    csat: dict[int, tuple[int, int]] = {}  # customer -> (at, value), newest wins
    nps: dict[int, tuple[int, int]] = {}
    complaint_since = now - cfg.complaint_days * v.DAY
    contact_since = now - cfg.contact_days * v.DAY
    for cid, at, total, status, number in db.execute(
        "SELECT customer_id, at, total, status, number FROM orders WHERE customer_id = ANY(%s)",
        (ids,),
    ):
        orders[cid].append(v.Order(at, float(total or 0), status or "", number))
    for cid, at, kind, summary, text in db.execute(
        "SELECT customer_id, at, kind, summary, payload FROM events WHERE customer_id = ANY(%s) "
        "AND (kind IN ('refund', 'return', 'survey') OR (kind = ANY(%s) AND at >= %s)) "
        "ORDER BY customer_id, at, id",
        (ids, _CONVERSATIONS, complaint_since),
    ):
        payload = _payload(text)
        if kind in ("refund", "return"):
            amount = payload.get("amount", payload.get("total", 0))
            try:
                value = abs(float(amount or 0))
            except (TypeError, ValueError):
                value = 0.0
            order = payload.get("order", payload.get("number", ""))
            deductions[cid].append(v.Deduction(kind, value, str(order)))
        elif kind == "survey":
            c, n = (
                v.survey_score(payload.get("csat"), 1, 5),
                v.survey_score(payload.get("nps"), 0, 10),
            )
            if c is not None and (cid not in csat or at >= csat[cid][0]):
                csat[cid] = (at, c)
            if n is not None and (cid not in nps or at >= nps[cid][0]):
                nps[cid] = (at, n)
        elif _complaint(kind, summary or "", payload):
            complaints[cid] += 1
    for cid, recent, opened, contacts in db.execute(
        "SELECT customer_id, count(*) FILTER (WHERE intent = 'complaint' AND created_at >= %s), "
        "count(*) FILTER (WHERE intent = 'complaint' AND status <> 'resolved'), "
        "count(*) FILTER (WHERE created_at >= %s) FROM contacts WHERE customer_id = ANY(%s) "
        "GROUP BY customer_id",
        (complaint_since, contact_since, ids),
    ):
        counts[cid] = (recent, opened, contacts)
    for cid, at, value in db.execute(
        "SELECT customer_id, coalesce(resolved_at, updated_at), csat FROM contacts "
        "WHERE customer_id = ANY(%s) AND csat IS NOT NULL",
        (ids,),
    ):
        if cid not in csat or at > csat[cid][0]:
            csat[cid] = (at, int(value))
    out: dict[int, v.Activity] = {}
    for cid in ids:
        recent, opened, contacts = counts.get(cid, (0, 0, 0))
        out[cid] = v.Activity(
            orders=tuple(orders.get(cid, ())),
            deductions=tuple(deductions.get(cid, ())),
            complaints_recent=max(complaints.get(cid, 0), recent),
            complaints_open=opened,
            csat_last=csat[cid][1] if cid in csat else None,
            nps_last=nps[cid][1] if cid in nps else None,
            contacts_recent=contacts,
        )
    return out


def refresh(db: Any, ids: Iterable[int], now: int, cfg: v.ValuesConfig | None = None) -> int:
    """Recompute and store lifetime value and churn risk of customers `ids`; how many."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    cfg = cfg or v.load(v.locate(None))
    rows = v.stored_rows(gather(db, wanted, cfg, now), wanted, now, cfg)
    with db.cursor() as cur:
        cur.executemany(
            "UPDATE customers SET lifetime_value = %s, currency = %s, churn_score = %s, "
            "churn_risk = %s, churn_reasons = %s, next_action = %s WHERE id = %s",
            rows,
        )
    return len(rows)
