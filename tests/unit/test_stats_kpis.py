"""Supervisor KPIs computed by the store, checked against answers worked out by hand.

The dataset and its timeline are in tests/stats_dataset.py; every figure below is
derived there from the table (minutes before NOW) in a comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import InvalidInput
from backends.models import Channel, KpiBucket, KpiReport
from backends.sqlite.backend import SQLiteBackend
from tests import stats_dataset
from tests.conftest import NOW


@pytest.fixture
def kpi_db(tmp_path: Path) -> Path:
    return stats_dataset.build(tmp_path / "kpis.db")


@pytest.fixture
def backend(kpi_db: Path) -> Iterator[SQLiteBackend]:
    b = SQLiteBackend(kpi_db, agent="anna", read_only=True, clock=lambda: NOW)
    yield b
    b.close()


@pytest.fixture
def report(backend: SQLiteBackend) -> KpiReport:
    return backend.stats()  # the last 24 hours before NOW, per hour


def test_window_defaults_to_the_last_24_hours_per_hour(report: KpiReport) -> None:
    assert report.since == NOW - timedelta(hours=24) and report.until == NOW == report.now
    assert report.bucket is KpiBucket.HOUR and report.channel is None
    assert len(report.trend) == 24
    assert report.trend[0].start == NOW - timedelta(hours=24)
    assert report.trend[-1].start == NOW - timedelta(hours=1)


def test_arrivals_unanswered_and_abandoned(report: KpiReport) -> None:
    # created in the window: 1, 2, 3, 4, 5, 8, 10 (6, 7, 9 are older)
    assert report.arrivals == 7
    # of those, unresolved without a reply: 3, 4, 8, 10
    assert report.unanswered == 4
    # resolved without any reply: 5
    assert report.abandoned == 1
    assert report.abandon_rate == pytest.approx(1 / 7, abs=1e-4)


def test_average_speed_of_answer_is_created_to_assigned(report: KpiReport) -> None:
    # assigned in the window: 1 (10m), 2 (10m), 3 (30m), 8 (5m), 10 (5m) = 60m / 5
    assert report.asa.count == 5
    assert report.asa.avg_seconds == 720.0


def test_first_response_time_counts_replies_made_in_the_window(report: KpiReport) -> None:
    # first replies in the window: 1 (20m), 2 (90m), 6 (1900m: created long before)
    assert report.first_response.count == 3
    assert report.first_response.avg_seconds == (1200 + 5400 + 114000) / 3


def test_handle_and_resolution_time_count_resolutions_in_the_window(report: KpiReport) -> None:
    # resolved in the window: 1, 2, 5, 7; handled (had an assignee clock): 1, 2, 7
    assert report.handle.count == 3
    assert report.handle.avg_seconds == (5400 + 6600 + 176400) / 3  # assigned -> resolved
    assert report.resolution.count == 4
    assert report.resolution.avg_seconds == (6000 + 7200 + 1200 + 177000) / 4  # created -> ...


def test_sla_attainment_counts_outcomes_known_in_the_window(report: KpiReport) -> None:
    # met: 1 (reply -280 <= due -240), 5 (resolved -380 without reply, before due -100)
    # breached: 2 (reply -60 > due -90), 3 (no reply, due -10 passed), 6 (due -1000 passed
    # before its reply at -100); 7 was settled before the window; 4, 8, 10 are not due yet
    assert (report.sla.met, report.sla.breached) == (2, 3)
    assert report.sla.attainment == 0.4
    # live: unanswered unresolved past due: 3 and 9; due within 15 minutes: 4 (+10)
    assert report.sla.breached_open == 2
    assert report.sla.due_soon == 1


def test_satisfaction_from_valid_survey_answers(report: KpiReport) -> None:
    s = report.satisfaction
    # in the window: 5, 2, 4 (the string "5" and NPS 11 are ignored; -2000 is outside)
    assert s.csat_responses == 3
    assert s.csat_avg == 3.7  # 11 / 3
    assert s.csat_percent == 66.7  # 2 of 3 answered 4 or 5
    assert (s.nps_responses, s.promoters, s.passives, s.detractors) == (3, 1, 1, 1)
    assert s.nps == 0.0


def test_backlog_is_live_by_channel_priority_and_age(report: KpiReport) -> None:
    b = report.backlog
    # unresolved now: 3, 4, 6, 8, 9, 10; nobody holds 4 and 9
    assert (b.total, b.unassigned) == (6, 2)
    assert dict(b.by_channel) == {
        "email": 3,
        "chat": 0,
        "phone": 1,
        "whatsapp": 1,
        "sms": 0,
        "web": 1,
    }
    assert list(b.by_priority.items()) == [("urgent", 1), ("high", 1), ("normal", 4), ("low", 0)]
    # ages: 4 (20m), 8 (30m) | 3 (100m) | 10 (500m) | 6 (2000m) | 9 (5000m)
    assert list(b.by_age.items()) == [
        ("<1h", 2),
        ("1-4h", 1),
        ("4-24h", 1),
        ("1-3d", 1),
        (">3d", 1),
    ]


def test_agent_load_and_output(backend: SQLiteBackend) -> None:
    loads = backend.agent_load(max_open=2)
    assert [a.agent for a in loads] == ["giulia", "marco", "sara"]  # the supervisor is left out
    giulia, marco, sara = loads
    # giulia holds 3 (open, unanswered, due -10), 8 (open) and 10 (snoozed)
    assert (giulia.open, giulia.pending, giulia.snoozed, giulia.breached, giulia.at_risk) == (
        3,
        0,
        1,
        1,
        0,
    )
    assert giulia.oldest_open_at == NOW - timedelta(minutes=500)
    assert (giulia.first_responses, giulia.resolved, giulia.aht_seconds) == (1, 1, 5400.0)
    assert giulia.overloaded and giulia.display_name == "Giulia Neri"
    # marco holds 6 (pending, answered: never breached from now on)
    assert (marco.open, marco.pending, marco.breached, marco.first_responses, marco.resolved) == (
        1,
        1,
        0,
        2,
        1,
    )
    assert not marco.overloaded
    assert (sara.open, sara.first_responses, sara.resolved, sara.aht_seconds) == (0, 0, 1, 176400.0)


def test_at_risk_lists_unanswered_contacts_soonest_due_first(backend: SQLiteBackend) -> None:
    soon = backend.at_risk(30)
    assert [(c.id, c.seconds_left) for c in soon] == [(4, 600), (10, 1200)]
    assert soon[0].customer_name.startswith("[bold red]Mallory[/]")  # stored as it came
    assert [c.id for c in backend.at_risk(15)] == [4]
    assert [c.id for c in backend.at_risk(30, include_breached=True)] == [9, 3, 4, 10]
    assert [c.id for c in backend.at_risk(30, channel=Channel.EMAIL)] == [10]
    assert [c.id for c in backend.at_risk(30, include_breached=True, limit=1)] == [9]


def test_trend_points_hold_each_hour(report: KpiReport) -> None:
    last = report.trend[-1]  # 09:00 - 10:00
    assert (last.arrivals, last.first_responses, last.resolved) == (2, 1, 2)  # 4, 8 | 2 | 2, 7
    assert last.frt_seconds == 5400.0
    assert (last.sla_met, last.sla_breached, last.sla_attainment) == (0, 1, 0.0)  # 3 at -10
    assert last.csat_avg == 3.0  # 2 and 4
    assert sum(p.arrivals for p in report.trend) == report.arrivals
    assert sum(p.sla_breached for p in report.trend) == report.sla.breached
    quiet = report.trend[0]  # 10:00 - 11:00 yesterday: nothing happened
    assert quiet.arrivals == 0 and quiet.frt_seconds is None and quiet.sla_attainment is None


def test_channel_filter(backend: SQLiteBackend) -> None:
    r = backend.stats(channel=Channel.EMAIL)
    assert r.arrivals == 2  # 1 and 10
    assert r.first_response.count == 2  # 1 and 6
    assert (r.sla.met, r.sla.breached) == (1, 1)  # 1 met, 6 breached
    assert r.backlog.total == 3 and dict(r.backlog.by_channel) == {"email": 3}
    assert r.satisfaction.csat_responses == 1  # the survey of contact 1


def test_a_wider_window_per_day(backend: SQLiteBackend) -> None:
    r = backend.stats(NOW - timedelta(days=4))
    # UTC days 16th (from 10:00) .. 20th (to 10:00): five points
    assert r.bucket is KpiBucket.DAY and len(r.trend) == 5
    assert r.trend[0].start == datetime(2026, 11, 16, tzinfo=UTC)
    assert r.arrivals == 10  # all: the oldest, 9, was created 5000m (~3.5 days) ago
    assert r.satisfaction.csat_responses == 4  # the -2000 survey comes in


def test_window_end_in_the_past(backend: SQLiteBackend) -> None:
    until = NOW - timedelta(hours=2)
    r = backend.stats(until - timedelta(hours=6), until, bucket=KpiBucket.HOUR)
    # 02:00 - 08:00 is -480m .. -120m: created 1 (-300), 2 (-150), 5 (-400)
    assert r.arrivals == 3 and len(r.trend) == 6
    assert (r.sla.met, r.sla.breached) == (2, 0)  # 1 at -280, 5 at -380


def test_bad_windows_are_refused(backend: SQLiteBackend) -> None:
    with pytest.raises(InvalidInput):
        backend.stats(NOW, NOW - timedelta(hours=1))
    with pytest.raises(InvalidInput):
        backend.stats(NOW - timedelta(days=100), bucket=KpiBucket.HOUR)  # 2,400 points
    with pytest.raises(InvalidInput):
        backend.stats(NOW - timedelta(days=401))
    with pytest.raises(InvalidInput):
        backend.stats(datetime(2026, 11, 19))  # no time zone
    with pytest.raises(InvalidInput):
        backend.at_risk(-1)
    with pytest.raises(InvalidInput):
        backend.at_risk(30, limit=0)


def test_kpis_are_reads_that_work_read_only_and_as_supervisor(kpi_db: Path) -> None:
    b = SQLiteBackend(kpi_db, agent="anna", read_only=False, clock=lambda: NOW)
    try:
        assert b.read_only  # anna is a supervisor
        assert b.stats().arrivals == 7
    finally:
        b.close()


def test_report_json_has_stable_fields(report: KpiReport) -> None:
    data = report.to_json()
    assert data["since"] == "2026-11-19T10:00:00Z" and data["bucket"] == "hour"
    assert set(data) >= {
        "arrivals",
        "asa",
        "first_response",
        "handle",
        "resolution",
        "sla",
        "unanswered",
        "abandoned",
        "abandon_rate",
        "backlog",
        "satisfaction",
        "agents",
        "trend",
    }
    assert data["trend"][0]["start"] == "2026-11-19T10:00:00Z"
    assert datetime.fromisoformat(data["until"]) == NOW.astimezone(UTC)


def test_survey_scores_follow_the_events(kpi_db: Path) -> None:
    """Survey answers written by any program (an import, the demo) reach the KPIs."""
    import sqlite3

    def csat() -> tuple[int, float | None, float | None]:
        with SQLiteBackend(kpi_db, agent="anna", read_only=True, clock=lambda: NOW) as b:
            s = b.stats(channel=Channel.SMS).satisfaction
        return s.csat_responses, s.csat_avg, s.nps

    at = int((NOW - timedelta(minutes=30)).timestamp())
    db = sqlite3.connect(kpi_db)
    with db:  # a survey about contact 11, which does not exist yet
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, payload, contact_id) "
            "VALUES (1, ?, 200, 'survey', '{\"csat\": 1, \"nps\": 2}', 11)",
            (at,),
        )
    assert csat() == (0, None, None)  # no contact: no channel yet
    with db:  # the contact arrives (SMS): its survey now counts for SMS
        db.execute(
            "INSERT INTO contacts(id, customer_id, channel, status, created_at, "
            "updated_at) VALUES (11, 1, 'sms', 'new', ?, ?)",
            (at, at),
        )
    assert csat() == (1, 1.0, -100.0)
    with db:
        db.execute('UPDATE events SET payload = \'{"csat": 4, "nps": 9}\' WHERE id = 200')
    assert csat() == (1, 4.0, 100.0)
    with db:
        db.execute("DELETE FROM events WHERE id = 200")
    assert csat() == (0, None, None)
    db.close()
