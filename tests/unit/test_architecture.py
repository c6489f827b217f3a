"""The shape of the house: backends never load the UI toolkit."""

from __future__ import annotations

import subprocess
import sys


def test_importing_backends_does_not_import_textual_or_rich() -> None:
    code = (
        "import sys, backends, backends.base, backends.models, backends.sqlite.backend, "
        "console.demo, backends.channels\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.walk_packages(backends.__path__, 'backends.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"backends imported {out.stdout.strip()}"


def _loaded_after(imports: str, prefix: str) -> list[str]:
    code = (
        "import sys, pkgutil, importlib, backends\n"
        f"{imports}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.startswith({prefix!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_front_ends_reach_a_store_only_through_the_contract() -> None:
    """The HTTP server and the CLI import no store: one is loaded only when a URL opens it."""
    imports = "import console.server.app, console.server.hub, console.cli.app, console.entry"
    assert _loaded_after(imports, "backends.sqlite") == []


def test_backends_never_import_a_front_end() -> None:
    imports = (
        "for m in pkgutil.walk_packages(backends.__path__, 'backends.'):\n"
        "    importlib.import_module(m.name)"
    )
    assert _loaded_after(imports, "console") == []
