"""Shared fixtures: a small demo database built once per test session, copied fresh per test."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends import ENV_AGENT
from console.demo import generate

# A store refuses an agent it does not know; the demo's operator is "demo" (as `make run`
# opens it), so a `vista` run by a test without --agent acts as demo, not as the login.
os.environ.setdefault(ENV_AGENT, "demo")

#: The frozen "now" of every test database and of the backends' clocks.
NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
DEMO_CUSTOMERS = 300


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database generated once per session (seed 7, frozen now). Never write to it."""
    path = tmp_path_factory.mktemp("demo") / "template.db"
    generate(path, DEMO_CUSTOMERS, seed=7, now=NOW)
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database for one test."""
    path = tmp_path / "vista.db"
    shutil.copy(demo_template, path)
    return path
