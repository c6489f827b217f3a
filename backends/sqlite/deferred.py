"""The SQLite backend's heavier parts, loaded on first use rather than with the backend.

The import pipeline (identity resolution, worker processes, CSV), store inspection
(sqlite-utils) and inbound messages (phone-number parsing) cost about 110 ms of imports
that opening the console does not need: a console that never imports a file never pays
for it. This module is the one place the SQLite backend defers an import.
"""

from __future__ import annotations

from types import ModuleType


def admin() -> ModuleType:
    """backends.sqlite.admin: a store file's schema, size, row counts and checks."""
    from backends.sqlite import admin as module

    return module


def inbound() -> ModuleType:
    """backends.sqlite.inbound: a customer's message arriving on a channel."""
    from backends.sqlite import inbound as module

    return module


def intent_model() -> ModuleType:
    """backends.routing.model: the trained intent model (NumPy; scikit-learn to train)."""
    from backends.routing import model as module

    return module


def calls() -> ModuleType:
    """backends.sqlite.calls: telephony events (phone-number parsing)."""
    from backends.sqlite import calls as module

    return module


def lookup() -> ModuleType:
    """backends.sqlite.lookup: screen pop (phone-number parsing)."""
    from backends.sqlite import lookup as module

    return module
