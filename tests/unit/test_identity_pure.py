"""Identity is pure: every module of `backends.identity` loads without SQLite or HTTP, so
worker processes and other stores can use it; the storage side imports it, never the reverse."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("sqlite3", "_sqlite3", "backends.sqlite", "backends.http")


def _loaded_after(code: str) -> list[str]:
    probe = (
        "import sys, pkgutil, importlib\n"
        f"{code}\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_every_identity_module_loads_without_sqlite_or_http() -> None:
    loaded = _loaded_after(
        "import backends.identity as pkg\n"
        "for m in pkgutil.walk_packages(pkg.__path__, 'backends.identity.'):\n"
        "    importlib.import_module(m.name)"
    )
    assert loaded == []


def test_the_check_sees_sqlite_when_the_store_is_loaded() -> None:
    loaded = _loaded_after("import backends.sqlite.identity.writer")
    assert "sqlite3" in loaded
    assert "backends.sqlite.identity.writer" in loaded


def test_the_store_computes_with_identitys_own_functions() -> None:
    from backends.identity import batch, golden, jsontext, keys
    from backends.sqlite.identity import resolver, store, writer

    assert writer.batch is batch  # the store's writer runs identity's flow
    assert batch.compute_golden is golden.compute_golden
    assert writer.identity_values is keys.identity_values
    assert resolver.probe_keys is keys.probe_keys
    assert store.dumps is jsontext.dumps
