"""Real `vista serve` processes for the tests: started on a free loopback port, waited for,
and, with `fault`, one that dies by SIGKILL at a chosen point of a write (tests/faults.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from backends.base import Unavailable
from backends.http.client import HTTPBackend
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def start_serve(url: str, *, fault: str = "") -> tuple[str, subprocess.Popen[bytes]]:
    """`vista serve --backend url` on a free port: its address and its process. `fault`:
    the point at which the process kills itself (tests/faults.py names them)."""
    port = free_port()
    if fault:  # the same CLI, through the module that plants the fault
        command = [sys.executable, "-m", "tests.faults"]
        env = {**os.environ, "VISTA_TEST_FAULT": fault, "PYTHONPATH": str(ROOT)}
    else:
        command = [str(Path(sys.executable).with_name("vista"))]
        env = dict(os.environ)
    process = subprocess.Popen(
        [*command, "serve", "--backend", url, "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    return f"http://127.0.0.1:{port}", process


def connected(url: str, token: str) -> HTTPBackend:
    """A client of the server(s) at `url`, once one answers (within 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        backend = HTTPBackend(url, token=token)
        try:
            backend.whoami()
            return backend
        except Unavailable:
            backend.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
