"""The bounds of what the contract accepts: integers, text fields, inbound times.

Every backend checks input against these before it touches a store, and the
HTTP API documents them in its OpenAPI document, so a value out of range is
one clear InvalidInput (422 on the API, exit 1 in the CLI) wherever it comes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from backends.base import InvalidInput

#: Ids, versions, offsets and feed positions are signed 64-bit integers (SQLite's INTEGER).
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

#: The most characters each text field of an inbound message or an imported row may hold.
FIELD_LIMITS: dict[str, int] = {
    "name": 200,  # a full name; first and last names have the same bound
    "first_name": 200,
    "last_name": 200,
    "sender": 320,  # an e-mail address is at most 254 characters; a phone far fewer
    "email": 320,
    "phone": 64,
    "external_id": 200,  # the channel's message id
    "record_id": 200,  # an imported record's id in its source system
    "subject": 1000,
    "text": 100_000,  # a message body
    "mobile": 64,
    "landline": 64,
    "whatsapp": 64,
    "summary": 1000,  # an imported event's one-line summary
    "call_id": 200,  # a telephony's call id (Twilio CallSid, Asterisk channel id)
    "dialled": 64,
    "queue": 200,
    "agent": 64,
    "extension": 64,
    "recording": 2000,  # a link
    "slug": 200,  # a knowledge-base article's file name
    "title": 500,
    "link": 2000,
    "language": 16,
    "tag": 100,
}
#: Any other field of an imported row (a street, a city, an order number...).
OTHER_FIELD_LIMIT = 1000

#: The profile fields an agent may correct (`Backend.edit_profile`).
EDITABLE_FIELDS = ("first_name", "last_name", "language", "segment", "tier", "birth_date")
#: A token's (and its agent's) name: a letter or digit, then up to 63 of these.
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
#: The most rows one page of each paged read returns; other pages hold up to 500.
PAGE_LIMITS: dict[str, int] = {"changes": 10_000, "record_links": 10_000}
DEFAULT_PAGE_LIMIT = 500
#: The longest at-risk horizon (`Backend.at_risk`): a week.
AT_RISK_MAX_MINUTES = 7 * 24 * 60

#: An inbound message's `at` may lie this far in the past (older history is imported) ...
INBOUND_PAST = timedelta(days=30)
#: ... or this far in the future (clocks of the sending systems drift).
INBOUND_FUTURE = timedelta(days=1)


def check_int(value: int, what: str) -> int:
    """`value` when it fits a signed 64-bit integer.

    Raises:
        InvalidInput: it does not (naming `what` and the bounds).
    """
    if not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(f"{what} {value} is out of range: use a whole number up to {INT_MAX}")
    return value


def field_problem(field: str, value: object) -> str | None:
    """Why `value` is too long for `field` (a `FIELD_LIMITS` key), or None."""
    limit = FIELD_LIMITS[field]
    if isinstance(value, str) and len(value) > limit:
        return f"{field} is {len(value):,} characters long; at most {limit:,} are accepted"
    return None


def import_problem(record_id: str, fields: Mapping[str, Any]) -> str | None:
    """Why an imported row is refused for size (its id, or a field the mapping reads), or
    None. The payload of an event is not a field: the file's row size bounds it."""
    problem = field_problem("record_id", record_id)
    if problem is not None:
        return problem
    for field, value in fields.items():
        if field == "payload" or not isinstance(value, str):
            continue
        limit = FIELD_LIMITS.get(field, OTHER_FIELD_LIMIT)
        if len(value) > limit:
            return f"{field} is {len(value):,} characters long; at most {limit:,} are accepted"
    return None


def check_fields(values: Mapping[str, object]) -> None:
    """Every named field within its `FIELD_LIMITS` bound.

    Raises:
        InvalidInput: the first field over its bound.
    """
    for field, value in values.items():
        problem = field_problem(field, value)
        if problem is not None:
            raise InvalidInput(problem)


def check_inbound_time(at: datetime, now: datetime) -> datetime:
    """`at` when it lies within `INBOUND_PAST` before and `INBOUND_FUTURE` after `now`.

    Raises:
        InvalidInput: it does not.
    """
    if at < now - INBOUND_PAST:
        raise InvalidInput(
            f"time {at.isoformat()} is more than {INBOUND_PAST.days} days in the past: "
            "import older history instead of delivering it"
        )
    if at > now + INBOUND_FUTURE:
        raise InvalidInput(
            f"time {at.isoformat()} is more than {INBOUND_FUTURE.days} day in the future"
        )
    return at
