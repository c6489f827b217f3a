"""`vista stats`: the hand-built answers as JSON and as tables; bad options fail cleanly;
`vista wallboard` is documented and opens the store read-only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import console.cli.stats as stats_command
from console.cli import kit as clikit
from console.cli.app import app
from console.cli.kit import STATE
from tests import stats_dataset
from tests.conftest import NOW


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(stats_command, "utcnow", lambda: NOW)  # the CLI's clock
    return f"sqlite:///{stats_dataset.build(tmp_path / 'kpis.db')}"


def run(*args: str) -> tuple[int, str, str]:
    # the KPI dataset's supervisor (a store refuses an agent it does not know)
    result = CliRunner().invoke(app, ["--agent", "anna", *args])
    STATE.read_only = False  # the wallboard sets it; keep tests independent
    return result.exit_code, result.stdout, result.stderr


def test_stats_json_agrees_with_the_hand_built_answers(url: str) -> None:
    code, out, _ = run("--backend", url, "stats", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["since"] == "2026-11-19T10:00:00Z" and data["until"] == "2026-11-20T10:00:00Z"
    assert (data["arrivals"], data["unanswered"], data["abandoned"]) == (7, 4, 1)
    assert data["asa"] == {"count": 5, "avg_seconds": 720.0}
    assert data["first_response"] == {"count": 3, "avg_seconds": 40200.0}
    assert data["handle"] == {"count": 3, "avg_seconds": 62800.0}
    assert data["resolution"] == {"count": 4, "avg_seconds": 47850.0}
    # --within 30 (the CLI default) is also the live "due soon" horizon: 4 and 10
    assert data["sla"] == {
        "met": 2,
        "breached": 3,
        "attainment": 0.4,
        "breached_open": 2,
        "due_soon": 2,
    }
    assert data["satisfaction"]["csat_avg"] == 3.7 and data["satisfaction"]["nps"] == 0.0
    assert data["backlog"]["by_age"] == {"<1h": 2, "1-4h": 1, "4-24h": 1, "1-3d": 1, ">3d": 1}
    assert [a["agent"] for a in data["agents"]] == ["giulia", "marco", "sara"]
    assert [c["id"] for c in data["at_risk"]] == [4, 10]
    assert len(data["trend"]) == 24


def test_stats_window_channel_and_bucket_options(url: str) -> None:
    code, out, _ = run(
        "--backend",
        url,
        "stats",
        "--json",
        "--since",
        "4d",
        "--until",
        "2026-11-20T10:00:00Z",
        "--channel",
        "email",
    )
    assert code == 0
    data = json.loads(out)
    assert data["bucket"] == "day" and data["channel"] == "email"
    assert data["since"] == (NOW - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["arrivals"] == 4  # the email contacts: 1, 6, 9 and 10
    code, out, _ = run(
        "--backend",
        url,
        "stats",
        "--json",
        "--since",
        "2026-11-20T04:00",
        "--bucket",
        "hour",
        "--max-open",
        "2",
        "--within",
        "15",
    )
    data = json.loads(out)
    assert len(data["trend"]) == 6 and data["agents"][0]["overloaded"]
    assert [c["id"] for c in data["at_risk"]] == [4]
    code, out, _ = run("--backend", url, "stats", "--json", "--overdue", "--limit", "3")
    assert [c["id"] for c in json.loads(out)["at_risk"]] == [9, 3, 4]  # most overdue first


def test_stats_tables_for_people(url: str) -> None:
    code, out, _ = run("--backend", url, "stats")
    assert code == 0
    for text in (
        "Avg speed of answer",
        "12m 00s",
        "SLA attainment",
        "40.0%",
        "Backlog by age",
        "giulia",
        "At risk",
        "in 10m 00s",
    ):
        assert text in out
    assert "[bold red]Mallory[/] Redevil" in out  # customer text printed literally
    assert "\x1b[31m" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday-ish"), "cannot read the time"),
        (("--channel", "fax"), "unknown channel"),
        (("--bucket", "week"), "unknown bucket"),
        (("--since", "1h", "--until", "2h"), "window is empty"),
        (("--since", "120d", "--bucket", "hour"), "more than 2000 points"),
    ],
)
def test_bad_options_fail_with_one_line(url: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = run("--backend", url, "stats", *args)
    assert code == 1 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_parse_time_forms() -> None:
    parse = clikit.parse_time
    assert parse("now", NOW) == NOW
    assert parse("90m", NOW) == NOW - timedelta(minutes=90)
    assert parse("2w", NOW) == NOW - timedelta(weeks=2)
    assert parse("2026-11-20", NOW).isoformat() == "2026-11-20T00:00:00+00:00"
    assert parse("2026-11-20T12:00+02:00", NOW).isoformat() == "2026-11-20T10:00:00+00:00"


def test_commands_are_documented() -> None:
    for command in ("stats", "wallboard"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "read-only" in out.lower()


def test_wallboard_opens_the_store_read_only_and_masked(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.screens.wallboard import Wallboard

    seen: dict[str, object] = {}

    def fake_run(self: Wallboard) -> None:
        seen.update(
            read_only=self.backend.read_only,
            unmask=self.unmask,
            refresh=self.refresh_seconds,
            report=self.backend.stats(now=NOW).arrivals,
        )

    monkeypatch.setattr(Wallboard, "run", fake_run)
    code, _, err = run("--backend", url, "--agent", "giulia", "wallboard", "--refresh", "5")
    assert code == 0, err
    # an operator's store, opened for the wall: read-only all the same
    assert seen == {"read_only": True, "unmask": False, "refresh": 5.0, "report": 7}
    code, _, _ = run("--backend", url, "wallboard", "--unmask")
    assert code == 0 and seen["unmask"] is True
