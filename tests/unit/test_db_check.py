"""`vista db check` on sound and damaged files: a verdict in one line, never a traceback."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.unit.test_cli import vista

PAGE = 4096


def _in_use(db: Path, table: str) -> list[int]:
    """The pages (1-based) that hold `table`'s b-tree: damage there is damage `check` must see
    (a page picked by its place in the file may be a free page, where noise harms nothing)."""
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno", (table,)
        ).fetchall()
    conn.close()
    return [page for (page,) in found]


def _damage(db: Path, where: tuple[float, ...], noise: bytes) -> None:
    """Overwrite bytes of the customers table's pages at `where` (fractions of its pages)."""
    pages = _in_use(db, "customers")
    with db.open("r+b") as f:
        for at in where:
            f.seek((pages[int(len(pages) * at)] - 1) * PAGE)  # its header and cell pointers
            f.write(noise)


def test_a_sound_file_is_ok(demo_db: Path) -> None:
    done = vista("db", "check", "--db", str(demo_db))
    assert done.returncode == 0 and done.stdout.strip() == f"{demo_db}: ok"


@pytest.mark.parametrize(
    ("where", "noise"),
    [((0.05, 0.1, 0.2, 0.3), b"\xff" * 200), ((0.5,), os.urandom(5 * PAGE))],
    ids=["damaged-cells", "pages-of-noise"],
)
def test_a_damaged_file_is_one_line_and_exit_1(demo_db: Path, where: float, noise: bytes) -> None:
    _damage(demo_db, where, noise)
    done = vista("db", "check", "--db", str(demo_db))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vista: error: {demo_db}: ")
    assert "problem(s)" in lines[0]
    listed = vista("db", "check", "--db", str(demo_db), "--json")
    assert listed.returncode == 1 and '"ok": false' in listed.stdout
