"""`vista customers consent`, `vista templates add|edit|list|approve|retire` and the tier
check, as a script runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def vista(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_consent_is_shown_and_set_with_its_source(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    shown = vista("--backend", url, "customers", "consent", "4")
    assert shown.returncode == 0, shown.stderr
    assert "phone" in shown.stdout and "not given" in shown.stdout
    done = vista(
        "--backend",
        url,
        "--agent",
        "giulia",
        "customers",
        "consent",
        "4",
        "--set",
        "phone",
        "on",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    log = {c["channel"]: c for c in json.loads(done.stdout)["consents"]}
    assert (log["phone"]["granted"], log["phone"]["source"]) == (True, "agent:giulia")
    bad = vista("--backend", url, "customers", "consent", "4", "--set", "fax", "on")
    assert bad.returncode == 1 and "email, sms, whatsapp, phone" in bad.stderr
    usage = vista("--backend", url, "customers", "consent", "4", "--set", "sms", "maybe")
    assert usage.returncode == 2 and "on or off" in usage.stderr
    read_only = vista(
        "--backend", url, "--read-only", "customers", "consent", "4", "--set", "sms", "on"
    )
    assert read_only.returncode == 1 and "read-only" in read_only.stderr


def test_templates_managed_from_the_command_line(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    admin = ("--backend", url, "--agent", "admin")
    added = vista(
        *admin,
        "templates",
        "add",
        "spedito_it",
        "Ciao {first_name}, è partito.",
        "--channel",
        "whatsapp",
        "--language",
        "it",
    )
    assert added.returncode == 0, added.stderr
    listed = vista(*admin, "templates", "list")
    assert "spedito_it" in listed.stdout and "needs approval" in listed.stdout
    usable = vista(*admin, "templates", "--usable", "--channel", "whatsapp", "--json")
    assert "spedito_it" not in usable.stdout
    approved = vista(*admin, "templates", "approve", "spedito_it", "--provider-name", "shipped_it")
    assert approved.returncode == 0 and "approved as shipped_it" in approved.stdout
    usable = vista(*admin, "templates", "--usable", "--channel", "whatsapp", "--json")
    assert "spedito_it" in usable.stdout
    edited = vista(*admin, "templates", "edit", "spedito_it", "--body", "Ciao, è partito.")
    assert edited.returncode == 0 and "approve it again" in edited.stdout
    assert vista(*admin, "templates", "retire", "spedito_it").returncode == 0
    assert "spedito_it" not in vista(*admin, "templates").stdout
    assert "spedito_it" in vista(*admin, "templates", "list", "--retired").stdout
    operator = vista("--backend", url, "--agent", "giulia", "templates", "add", "x", "Ciao")
    assert operator.returncode == 1 and "only an admin" in operator.stderr


def test_a_tier_outside_the_list_is_refused_naming_the_allowed_ones(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    refused = vista("--backend", url, "customers", "edit", "4", "tier", "diamond")
    assert refused.returncode == 1
    assert "allowed: bronze, silver, gold, platinum" in refused.stderr
    shown = json.loads(vista("--backend", url, "customers", "show", "4", "--json").stdout)
    assert shown["customer"]["tier"] != "diamond"
