"""Imports running at once into one PostgreSQL database (processes of their own)
resolve as one after the other would: a person in both files is one customer, a record
both files hold is one record. Batches lock the keys they touch (advisory locks, sorted),
so the outcome is the sequential import's."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from backends.identity.pipeline import ImportOptions, ImportReport
from backends.postgres.identity.importer import run_import
from backends.postgres.store import PgStore
from tests.postgres_server import PostgresServer

BATCH = 15  # small batches: the imports interleave many times
PEOPLE = 600
FIRST = ("Giulia", "Marco", "Sara", "Luca", "Chiara", "Paolo", "Elena", "Andrea", "Marta")
LAST = ("Rossi", "Bianchi", "Colombo", "Ferrari", "Esposito", "Ricci", "Greco", "Bruno")


def _person(i: int) -> tuple[str, str, str, str, str]:
    """(first, last, e-mail, mobile digits, birth date) of person `i`: distinct people."""
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    return (
        first,
        last,
        f"{first}.{last}.{i}@posta-prova.it".lower(),
        f"3{(4_000_000 + i * 7919) % 10**9:09d}",
        f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, ImportOptions]]:
    """A CRM export (people 0-449), a web shop's (people 0-599: other ids, the e-mail in
    capitals, the phone with +39 and spaces) and the CRM's first 225 rows again: in the
    same order, so that the imports meet the same people at the same moment."""
    out = tmp_path_factory.mktemp("people")
    crm = ["id,first_name,last_name,email,phone,birth_date\n"]
    for i in range(450):
        first, last, email, phone, dob = _person(i)
        crm.append(f"C-{i},{first},{last},{email},{phone},{dob}\n")
    (out / "crm.csv").write_text("".join(crm), "utf-8")
    (out / "crm_head.csv").write_text("".join(crm[:226]), "utf-8")
    shop = []
    for i in range(PEOPLE):
        first, last, email, phone, _dob = _person(i)
        spaced = f"+39 {phone[:3]} {phone[3:6]} {phone[6:]}"
        shop.append(
            json.dumps(
                {
                    "id": f"W-{i}",
                    "first_name": first.upper(),
                    "last_name": last,
                    "email": email.upper(),
                    "phone": spaced,
                }
            )
            + "\n"
        )
    (out / "shop.jsonl").write_text("".join(shop), "utf-8")
    return [
        (out / "crm.csv", ImportOptions("crm", batch_size=BATCH, workers=0)),
        (out / "shop.jsonl", ImportOptions("webshop", batch_size=BATCH, workers=0)),
        (out / "crm_head.csv", ImportOptions("crm", batch_size=BATCH, workers=0)),
    ]


def _customers(url: str) -> list[list[tuple[str, str]]]:
    """The records of each customer, as (source, source id), sorted."""
    store = PgStore(url)
    try:
        with store.read() as db:
            found: dict[int, list[tuple[str, str]]] = {}
            for source, sid, cid in db.execute(
                "SELECT source, source_id, customer_id FROM source_records"
            ):
                found.setdefault(cid, []).append((source, sid))
            orphans = db.execute(
                "SELECT count(*) FROM source_records r WHERE NOT EXISTS "
                "(SELECT 1 FROM customers c WHERE c.id = r.customer_id)"
            ).fetchone()[0]
    finally:
        store.close()
    assert orphans == 0, "every record belongs to a customer that exists"
    return sorted(sorted(v) for v in found.values())


def _import(url: str, path: Path, options: ImportOptions) -> ImportReport:
    store = PgStore(url, max_connections=2)
    try:
        return run_import(store, path, options, now=1_000)
    finally:
        store.close()


def _racer(url: str, path: Path, options: ImportOptions, start: Any, results: Any) -> None:
    """One import in a process of its own, started when all are ready."""
    store = PgStore(url, max_connections=2)
    try:
        start.wait(60)
        results.put(run_import(store, path, options, now=1_000))
    except Exception as e:  # noqa: BLE001 - the test reports it
        results.put(f"{type(e).__name__}: {e}")
    finally:
        store.close()


def test_imports_at_once_give_the_sequential_outcome(
    postgres_server: PostgresServer, files: list[tuple[Path, ImportOptions]]
) -> None:
    one_by_one = postgres_server.create(postgres_server.new_name("vista_seq"))
    for path, options in files:
        _import(one_by_one, path, options)
    expected = _customers(one_by_one)
    together = postgres_server.create(postgres_server.new_name("vista_par"))
    PgStore(together).close()  # migrated once, before the race
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(len(files)), spawn.Queue()
    workers = [spawn.Process(target=_racer, args=(together, *f, start, results)) for f in files]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    errors = [o for o in outcomes if isinstance(o, str)]
    assert not errors, errors
    reports = [o for o in outcomes if isinstance(o, ImportReport)]
    got = _customers(together)
    records = sum(len(c) for c in got)
    assert records == sum(len(c) for c in expected)  # the head's records are not doubled
    assert sum(r.created for r in reports) == records
    assert len(expected) == PEOPLE and records == 1050  # one customer a person
    assert len(got) == len(expected)  # nobody became two customers (or one too few)
    assert got == expected
