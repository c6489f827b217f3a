"""`vista agents`, `vista presence`, `vista routing` and `vista intents` as a script uses them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_cli import vista


def test_an_unknown_agent_is_an_error_naming_the_known_ones(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    typo = vista("--backend", url, "--agent", "giula", "queue", "list")
    assert typo.returncode == 1 and typo.stdout == ""
    assert "no agent named 'giula'" in typo.stderr and "giulia" in typo.stderr
    assert "vista agents add" in typo.stderr
    listed = vista("--backend", url, "agents", "list", "--json")
    assert "giula" not in {json.loads(line)["name"] for line in listed.stdout.splitlines()}


def test_an_admin_adds_edits_and_disables_an_agent(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    admin = ("--backend", url, "--agent", "admin")
    made = vista(*admin, "agents", "add", "paola", "--display-name", "Paola Riva",
                 "--intents", "refund_status,complaint", "--languages", "it,en",
                 "--channels", "email,chat", "--capacity", "chat=2", "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    agent = json.loads(made.stdout)
    assert (agent["name"], agent["role"], agent["intents"], agent["capacity"]) == (
        "paola",
        "operator",
        ["complaint", "refund_status"],
        [{"channel": "chat", "limit": 2}],
    )
    assert vista("--backend", url, "--agent", "paola", "presence", "online").returncode == 0
    board = vista(*admin, "agents", "board", "--json")
    states = {
        json.loads(line)["agent"]["name"]: json.loads(line) for line in board.stdout.splitlines()
    }
    assert states["paola"]["presence"] == "online" and states["paola"]["capacity"]["chat"] == 2
    moved = vista(*admin, "agents", "edit", "paola", "--intents", "where_is_my_order", "--json")
    assert json.loads(moved.stdout)["intents"] == ["where_is_my_order"]
    by_operator = vista("--backend", url, "--agent", "giulia", "agents", "add", "x")
    assert by_operator.returncode == 1 and "only an admin" in by_operator.stderr
    assert vista(*admin, "agents", "disable", "paola").returncode == 0
    gone = vista("--backend", url, "--agent", "paola", "queue", "list")
    assert gone.returncode == 1 and "disabled" in gone.stderr
    bad = vista(*admin, "agents", "edit", "giulia", "--capacity", "fax=3")
    assert bad.returncode == 1 and "unknown channel" in bad.stderr


def test_routing_rules_are_checked_before_they_are_stored(demo_db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{demo_db}"
    admin = ("--backend", url, "--agent", "admin")
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\ntier = "gold"\npriority = "sky-high"\n', "utf-8")
    refused = vista(*admin, "routing", "rules", "--set", str(rules))
    assert refused.returncode == 1 and "priority must be one of" in refused.stderr
    rules.write_text('away_after_minutes = 3\n[[rules]]\ntier = "gold"\npriority = "urgent"\n')
    assert vista(*admin, "routing", "rules", "--set", str(rules)).returncode == 0
    assert "away_after_minutes = 3" in vista("--backend", url, "routing", "rules").stdout
    assert vista(*admin, "routing", "rules", "--reset").returncode == 0
    assert "platinum" in vista("--backend", url, "routing", "rules").stdout


def test_intents_classify_and_correct(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    said = vista(
        "--backend", url, "intents", "classify", "Where is my order? Not arrived", "--json"
    )
    guess = json.loads(said.stdout)
    assert (guess["intent"], guess["source"], guess["language"]) == (
        "where_is_my_order",
        "rules",
        "en",
    )
    first = json.loads(vista("--backend", url, "queue", "list", "--json").stdout.splitlines()[0])
    fixed = vista("--backend", url, "intents", "set", str(first["id"]), "complaint", "--json")
    assert json.loads(fixed.stdout)["intent_source"] == "agent"
    report = vista("--backend", url, "intents", "report")
    assert "no trained model" in report.stdout
