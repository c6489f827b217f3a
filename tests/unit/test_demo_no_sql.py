"""The demo generator is a front end: it makes people in Python and hands the rows to the
store's bulk loader (`backends.sqlite.bulk_load`), which holds every statement."""

from __future__ import annotations

import ast
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "console" / "demo"
SQL_CALLS = {"execute", "executemany", "executescript"}


def _sql_use(source: str) -> list[str]:
    """What in `source` touches SQL itself: a sqlite3 import, a statement run, a private
    name imported from the backends."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "sqlite3":
                found.append(node.module)
            elif node.module.startswith("backends"):
                found += [f"{node.module}.{a.name}" for a in node.names if a.name[0] == "_"]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
    return found


def test_the_demo_generator_runs_no_sql_of_its_own() -> None:
    modules = sorted(DEMO.glob("*.py"))
    assert {p.name for p in modules} >= {"generator.py", "people.py", "producer.py"}
    found = {p.name: _sql_use(p.read_text("utf-8")) for p in modules}
    assert {name: uses for name, uses in found.items() if uses} == {}


def test_the_check_sees_sql() -> None:
    assert _sql_use("import sqlite3") == ["sqlite3"]
    assert _sql_use("from backends.sqlite.store import _statements, Store") == [
        "backends.sqlite.store._statements"
    ]
    assert _sql_use("db.execute('SELECT 1')\ndb.executemany('X', [])") == [
        "line 1: .execute()",
        "line 2: .executemany()",
    ]
    assert _sql_use("from backends.sqlite import bulk_load\nbulk_load.write_extras(db)") == []
