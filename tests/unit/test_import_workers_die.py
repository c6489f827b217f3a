"""An import's worker processes end with it: killing `vista import` (SIGKILL, SIGTERM) leaves
no worker waiting on its pipe for ever; a finished import leaves none either."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backends.sqlite.identity.importer import PARALLEL_BYTES

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def _vista() -> list[str]:
    script = Path(sys.executable).with_name("vista")
    if script.exists():  # the installed command, as people run it
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "from console.cli.app import main; main()"]


def _big_csv(path: Path, size: int) -> Path:
    """A customer file of about `size` bytes."""
    with path.open("w", encoding="utf-8") as out:
        out.write("id,first_name,last_name,email,phone,city\n")
        i = 0
        while out.tell() < size:
            i += 1
            out.write(
                f"{i},Anna{i % 977},Rossi{i % 1231},anna.{i}@example.com,"
                f"+39 347 {i % 10_000_000:07d},Milano\n"
            )
    return path


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            out.setdefault(ppid, []).append(int(entry))
    return out


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie has ended: it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_import(tmp_path: Path, size: int) -> tuple[subprocess.Popen[bytes], set[int]]:
    """A real import of a file big enough for worker processes, once they run: (the
    process, its descendants)."""
    data = _big_csv(tmp_path / "big.csv", size)
    store = f"sqlite:///{tmp_path / 'v.db'}"
    subprocess.run([*_vista(), "--backend", store, "db", "init"], check=True, capture_output=True)
    proc = subprocess.Popen(
        [
            *_vista(),
            "--backend",
            f"sqlite:///{tmp_path / 'v.db'}",
            "--agent",
            "admin",
            "import",
            str(data),
            "--source",
            "big",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        workers |= _descendants(proc.pid)
        if len(workers) >= 3:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # the pools start their workers one after the other
    workers |= _descendants(proc.pid)
    return proc, workers


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_an_import_ends_its_workers(tmp_path: Path, sig: signal.Signals) -> None:
    proc, workers = _start_import(tmp_path, 2 * PARALLEL_BYTES)  # still running when killed
    try:
        assert proc.poll() is None, "the import ended before its workers could be seen"
        assert len(workers) >= 3
        proc.send_signal(sig)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(p) for p in workers):
            time.sleep(0.1)
        assert [p for p in workers if _running(p)] == []
    finally:
        proc.kill()
        proc.wait()
        for pid in workers:  # whatever this test started and left behind
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_finished_import_leaves_no_process(tmp_path: Path) -> None:
    proc, workers = _start_import(tmp_path, PARALLEL_BYTES + 50_000)
    assert proc.wait(timeout=120) == 0
    assert len(workers) >= 3
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_running(p) for p in workers):
        time.sleep(0.1)
    assert [p for p in workers if _running(p)] == []
