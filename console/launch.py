"""Opening the console: the backend the options name, then the Textual app on it.

Shared by the bare `vista` (console.entry) and the CLI's callback (console.cli.app);
imports stay inside the function, so that loading this module costs nothing.
"""

from __future__ import annotations

import os
import sys


def open_console(url: str | None, agent: str | None, token: str | None, read_only: bool) -> None:
    """Open the backend and run the console on it (errors: one line, exit 1)."""
    from backends import ENV_AGENT, ENV_BACKEND, ENV_TOKEN, open_backend
    from backends.base import VistaError

    if not url and not os.environ.get(ENV_BACKEND):
        from console.settings import configured_backend

        url = configured_backend()
    url = url or os.environ.get(ENV_BACKEND)
    try:
        backend = open_backend(
            url,
            agent=agent or os.environ.get(ENV_AGENT),
            token=token or os.environ.get(ENV_TOKEN),
            read_only=read_only,
            create=not url,
        )
        backend.whoami()  # an unknown --agent (or login) stops here, naming the known ones
    except VistaError as e:
        sys.stderr.write(f"vista: error: {e.message}\n")
        raise SystemExit(e.exit_code) from None
    from backends.models import QueueQuery
    from console.widgets.queue.first_page import FirstPage
    from console.widgets.queue.window import PAGE

    # the queue's first page is fetched while Textual loads and builds the console
    first_page = FirstPage(backend, QueueQuery(), PAGE)
    from console.app import VistaApp

    try:
        VistaApp(backend, first_page=first_page).run()
    finally:
        backend.close()
