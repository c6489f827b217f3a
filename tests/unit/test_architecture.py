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
