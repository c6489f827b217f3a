"""The identity benchmark's results: store size by table, and the closing table (Vista beside
Splink on each data set) as text and as JSON."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any


def store_usage(db: Path) -> dict[str, int]:
    """Bytes each table of the store `db` takes, its indexes and (for full-text tables) its
    shadow tables included, from SQLite's dbstat; "total" is the file's pages."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
        used: dict[str, int] = defaultdict(int)
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            for base in ("customer_search",):  # FTS5 shadow tables belong to their table
                if table.startswith(base + "_"):
                    table = base
            used[table] += size
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    out = dict(sorted(used.items(), key=lambda kv: -kv[1]))
    out["total"] = pages * page
    return out


def open_suggestions(db: Path) -> int:
    """Suggestions left for a person to review, as `vista identity suggestions` lists them:
    one per pair of customers (several record pairs between two customers are one
    question), none between records that have come to be one customer since."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT min(ra.customer_id, rb.customer_id), "
            "max(ra.customer_id, rb.customer_id) FROM identity_suggestions s "
            "JOIN source_records ra ON ra.id = s.record_a "
            "JOIN source_records rb ON rb.id = s.record_b "
            "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id)"
        ).fetchone()[0]
    finally:
        conn.close()


def open_suggestion_rows(db: Path) -> int:
    """Open suggestion rows as stored (record pairs, some between one customer's records)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT count(*) FROM identity_suggestions WHERE status = 'open'"
        ).fetchone()[0]
    finally:
        conn.close()


def _f(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def table(results: list[dict[str, Any]]) -> str:
    """One line per data set and system: quality, review load, wall time, records per second
    of it, CPU per record (all processes and threads), store bytes per source record."""
    head = (
        f"{'data set':<22} {'records':>9} {'system':<7} {'precision':>9} {'recall':>7} "
        f"{'F1':>6} {'sugg/100':>8} {'seconds':>8} {'rec/s':>8} {'CPU us':>7} {'B/rec':>6} "
        f"{'x input':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        for system in ("vista", "splink"):
            s = r.get(system)
            if not s:
                continue
            lines.append(
                f"{r['data']:<22} {r['records']:>9,} {system:<7} {s['precision']:>9.4f} "
                f"{s['recall']:>7.4f} {s['f1']:>6.4f} {_f(s.get('suggestions_per_100'), '.2f'):>8} "
                f"{s['seconds']:>8.1f} {s['records'] / s['seconds']:>8,.0f} "
                f"{_f(s.get('cpu_us_per_record'), ',.0f'):>7} "
                f"{_f(s.get('store_bytes_per_record'), ',.0f'):>6} "
                f"{_f(s.get('store_vs_input'), '.1f'):>7}"
            )
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "results": results}, indent=2) + "\n", "utf-8")


def markdown(results: list[dict[str, Any]]) -> str:
    """The closing table as the README keeps it: one row per data set, Vista beside Splink."""
    lines = [
        (
            "| data set | records | Vista P / R / F1 | suggestions per 100 | Vista records/s "
            "(CPU µs per record) | store B per record (x input) | Splink P / R / F1 | Splink s "
            "(CPU µs per record) |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        v, s = r["vista"], r.get("splink")
        quality = "{precision:.4f} / {recall:.4f} / {f1:.4f}"
        lines.append(
            f"| {r['data']} | {r['records']:,} | {quality.format(**v)} | "
            f"{_f(v.get('suggestions_per_100'), '.2f')} | {v['records_per_s']:,.0f} "
            f"({_f(v.get('cpu_us_per_record'), ',.0f')}) | {v['store_bytes_per_record']:,.0f} "
            f"({v['store_vs_input']:.1f}x) | "
            + (
                f"{quality.format(**s)} | {s['seconds']:.1f} "
                f"({_f(s.get('cpu_us_per_record'), ',.0f')}) |"
                if s
                else "- | - |"
            )
        )
    return "\n".join(lines)
