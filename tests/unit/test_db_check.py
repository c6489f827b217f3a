"""`vista db check` on sound and damaged files: a verdict in one line, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.test_cli import vista

PAGE = 4096


def _damage(db: Path, where: tuple[float, ...], noise: bytes) -> None:
    """Overwrite bytes of the pages `where` (fractions of the file) with `noise`."""
    pages = db.stat().st_size // PAGE
    with db.open("r+b") as f:
        for at in where:
            f.seek(int(pages * at) * PAGE + 100)
            f.write(noise)


def test_a_sound_file_is_ok(demo_db: Path) -> None:
    done = vista("db", "check", "--db", str(demo_db))
    assert done.returncode == 0 and done.stdout.strip() == f"{demo_db}: ok"


@pytest.mark.parametrize(
    ("where", "noise"),
    # (pages of noise go past the middle of the file, where the search index's optimise
    # leaves free pages: noise on a free page damages nothing)
    [((0.05, 0.1, 0.2, 0.3), b"\xff" * 200), ((0.6,), os.urandom(5 * PAGE))],
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
