"""Out-of-range input on the command line: one line on stderr and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_cli import vista

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ("contacts", "show", HUGE),
        ("customers", "show", HUGE),
        ("customers", "event", "9223372036854775808"),
        ("customers", "event", "--", "-9223372036854775809"),
        ("changes", "--since", "99999999999999999999"),
        ("identity", "merge", "1", str(2**70)),
    ],
    ids=["contact", "customer", "event", "negative-event", "changes", "merge"],
)
def test_ids_past_64_bits_are_one_line_and_exit_1(demo_db: Path, args: tuple[str, ...]) -> None:
    done = vista("--backend", f"sqlite:///{demo_db}", *args)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vista: error: ")
    assert "is out of range" in lines[0]


def test_inbound_at_far_in_the_past_is_refused(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    args = ("contacts", "inbound", "email", "mario.rossi@posta-vista.it", "Ciao", "--at")
    done = vista("--backend", url, *args, "0001-01-01T00:00:00Z")
    assert done.returncode == 1
    assert "more than 30 days in the past" in done.stderr.strip().splitlines()[0]
    assert vista("--backend", url, *args, "now").returncode == 0
