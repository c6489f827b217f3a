"""The one place that turns times, durations and money (and a failed call) into text for
people: the console, the CLI and the wallboard print the same value the same way. No
Textual here.

Times are shown in UTC, everywhere, and say so where a time of day stands alone (`UTC`
after a clock, a column or a window title): the queue's SLA due times, snooze times typed
by the operator and the KPI windows are all UTC, and two operators in different time
zones reading the same contact (or a CLI table pasted into a ticket) must read the same
time. An aware datetime is converted to UTC; a naive one is taken as UTC already.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from backends.base import VistaError
from console.safe_text import clean

#: What stands for "nothing measured" / "no value".
DASH = "–"
#: The time zone every time is shown in (see the module docstring).
TIMEZONE = "UTC"

_WHEN = "%Y-%m-%d %H:%M"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(value: datetime | float | str | None) -> str:
    """A point in time as `2026-12-01 09:30` (UTC): a datetime, or epoch seconds (as
    stored in event payloads). Empty for None; any other value is shown as cleaned text
    (a payload may carry a time the source already formatted)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _utc(value).strftime(_WHEN)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime(_WHEN)
    return clean(value)


def clock(value: datetime) -> str:
    """A time of day with seconds, `14:05:09` (UTC): when a live figure was last updated."""
    return _utc(value).strftime("%H:%M:%S")


def duration(seconds: float | None) -> str:
    """A length of time in its two largest units: `45s`, `12m 05s`, `3h 20m`, `2d 04h`; a
    leading `-` when negative (overdue); a dash when nothing was measured."""
    if seconds is None:
        return DASH
    s = round(seconds)
    sign, s = ("-", -s) if s < 0 else ("", s)
    if s < 60:
        out = f"{s}s"
    elif s < 3600:
        out = f"{s // 60}m {s % 60:02d}s"
    elif s < 86400:
        out = f"{s // 3600}h {s % 3600 // 60:02d}m"
    else:
        out = f"{s // 86400}d {s % 86400 // 3600:02d}h"
    return sign + out


def left(seconds: float) -> str:
    """Time left to a due time: `in 12m 05s`, or `-3h 20m` once overdue."""
    return duration(seconds) if seconds < 0 else f"in {duration(seconds)}"


def money(value: object, currency: object = "EUR") -> str:
    """An amount with two decimals and thousands separators, then its currency code:
    `1,234.50 EUR`. A value that is not a number is shown as cleaned text."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return clean(value)
    if not amount.is_finite():
        return clean(value)
    return f"{amount:,.2f} {clean(currency)}"


def error_text(error: Exception, where: str) -> str:
    """A failed backend call in one line: `Claim: Conflict: held by anna`."""
    if isinstance(error, VistaError):
        return f"{where}: {error.title}: {error}"
    return f"{where}: unexpected {type(error).__name__}: {error}"


#: The theme style of each delivery state of a reply (queued, sent, delivered, read, failed).
DELIVERY_STYLE = {
    "queued": "$text-muted",
    "sent": "$text-muted",
    "delivered": "$success",
    "read": "$success",
    "failed": "bold $error",
}
