"""`vista`, with a fault planted for a test: `python -m tests.faults serve ...` runs the CLI
after arranging for the process to die by SIGKILL (no cleanup, its connections reset, as
when a machine fails) at the point `VISTA_TEST_FAULT` names. Only this test module reads
the variable: a server started as `vista` never honours it.

Points (each on a write sent with an Idempotency-Key):
- `after-operation`: the write's operation has run and returned its answer, nothing else
  done yet.
- `after-keyed-write`: the keyed write is over (its answer kept where the store keeps
  answers), the answer not yet sent to the client.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from console.server import app as server_app

FAULT = "VISTA_TEST_FAULT"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def plant(point: str) -> None:
    """Make this process die at `point` (see the module's docstring)."""
    name = {"after-operation": "_execute", "after-keyed-write": "_write_kept"}[point]
    original = getattr(server_app, name)

    def dying(hub: Any, ep: Any, *args: Any) -> Any:
        answer = original(hub, ep, *args)
        if ep.write:
            die()
        return answer

    setattr(server_app, name, dying)


if __name__ == "__main__":
    plant(os.environ[FAULT])
    from console.entry import main

    sys.argv[0] = "vista"
    main()
