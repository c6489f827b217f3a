"""console.format: the one way times, durations and money read, in the console and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console import format as fmt


def test_when_shows_utc_whatever_zone_the_value_is_in() -> None:
    rome = timezone(timedelta(hours=1))
    assert fmt.when(datetime(2026, 12, 1, 10, 30, tzinfo=rome)) == "2026-12-01 09:30"
    assert fmt.when(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == "2026-12-01 09:30"
    assert fmt.when(datetime(2026, 12, 1, 9, 30)) == "2026-12-01 09:30"  # naive is UTC
    assert fmt.TIMEZONE == "UTC"


def test_when_reads_epoch_seconds_and_leaves_other_text_cleaned() -> None:
    assert fmt.when(0) == "1970-01-01 00:00"
    assert fmt.when(1_764_581_400.0) == "2025-12-01 09:30"
    assert fmt.when(None) == ""
    assert fmt.when("yesterday\x1b[31m") == "yesterday"


def test_when_does_not_depend_on_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert fmt.when(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == "2026-12-01 09:30"
        assert fmt.clock(datetime(2026, 12, 1, 9, 30, 5, tzinfo=UTC)) == "09:30:05"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0s"),
        (59, "59s"),
        (59.6, "1m 00s"),
        (60, "1m 00s"),
        (725, "12m 05s"),
        (3599, "59m 59s"),
        (3600, "1h 00m"),
        (12_000, "3h 20m"),
        (86_399, "23h 59m"),
        (86_400, "1d 00h"),
        (187_200, "2d 04h"),
        (-45, "-45s"),
        (-12_000, "-3h 20m"),
    ],
)
def test_duration_two_largest_units(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_left_says_in_until_due_then_goes_negative() -> None:
    assert fmt.left(725) == "in 12m 05s"
    assert fmt.left(0) == "in 0s"
    assert fmt.left(-1) == "-1s"


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1234.5, "EUR", "1,234.50 EUR"),
        ("19.9", "EUR", "19.90 EUR"),
        (0, "USD", "0.00 USD"),
        (-5, "EUR", "-5.00 EUR"),
        ("n/a", "EUR", "n/a"),
        (None, "EUR", ""),
        ("nan", "EUR", "nan"),
        (10, "EUR\x1b[31m", "10.00 EUR"),
    ],
)
def test_money(value: object, currency: object, text: str) -> None:
    assert fmt.money(value, currency) == text
