"""Telephony events for every store: what a call event may say, how a stored call moves
(never back: ringing, answered, ended), and what it writes on the timeline. Pure: the
stores read and write the calls table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backends import limits, records
from backends.base import InvalidInput
from backends.identity import normalise
from backends.models import Call, CallState

#: The order of a call's states: an event never moves a call back.
RANK = {CallState.RINGING: 0, CallState.ANSWERED: 1, CallState.ENDED: 2}
#: The change-feed action of each state, on the call's contact.
ACTIONS = {
    CallState.RINGING: "ringing",
    CallState.ANSWERED: "call-answered",
    CallState.ENDED: "call-ended",
}


@dataclass(frozen=True)
class CallEvent:
    """A checked call event: its values as stored."""

    call_id: str
    state: CallState
    number: str  # the caller, E.164
    raw_caller: str
    dialled: str  # E.164 when it reads as a number, else as given
    queue: str
    agent: str
    extension: str
    recording: str
    now: int
    when: int  # the event's time (`at`, else now)


def check_event(
    call_id: str,
    state: CallState | str,
    caller: str,
    *,
    dialled: str,
    queue: str,
    agent: str,
    extension: str,
    recording: str,
    at: datetime | None,
    now_at: datetime,
    region: str,
) -> CallEvent:
    """A call event as stored.

    Raises:
        InvalidInput: an unknown state, no call id, a caller that is not a phone number, a
            recording that is not an http(s) URL, a field over its bound, a bad time.
    """
    try:
        state = CallState(state)
    except ValueError as e:
        raise InvalidInput(f"unknown call state {state!r}: ringing, answered or ended") from e
    call_id, agent = call_id.strip(), agent.strip()
    limits.check_fields(
        {
            "call_id": call_id,
            "phone": caller,
            "dialled": dialled,
            "queue": queue,
            "agent": agent,
            "extension": extension,
            "recording": recording,
        }
    )
    if not call_id:
        raise InvalidInput("the call has no call id")
    number, _ = normalise.phone(caller, region)
    if not number:
        raise InvalidInput(f"caller {caller.strip()!r} is not a phone number")
    if recording and not recording.startswith(("https://", "http://")):
        raise InvalidInput("the recording link must be an http(s) URL")
    if at is not None:
        limits.check_inbound_time(at, now_at)
    now = records.to_ts(now_at)
    return CallEvent(
        call_id=call_id,
        state=state,
        number=number,
        raw_caller=caller.strip(),
        dialled=normalise.phone(dialled, region)[0] or dialled.strip(),
        queue=queue.strip(),
        agent=agent,
        extension=extension.strip(),
        recording=recording.strip(),
        now=now,
        when=records.to_ts(at) if at is not None else now,
    )


def subject(number: str, new_caller: bool) -> str:
    """The subject of the phone contact a call opens."""
    return f"New caller {number}" if new_caller else f"Call from {number}"


#: The columns of a new call's row, in `new_call`'s order (its state is `ringing`).
CALL_COLUMNS = (
    "call_id, contact_id, customer_id, caller, dialled, queue, agent, extension, recording, "
    "new_caller, started_at, updated_at"
)


def new_call(
    event: CallEvent, contact_id: int, customer_id: int, new_caller: bool
) -> tuple[object, ...]:
    """A new call's values, for CALL_COLUMNS."""
    return (
        event.call_id,
        contact_id,
        customer_id,
        event.number,
        event.dialled,
        event.queue,
        event.agent,
        event.extension,
        event.recording,
        int(new_caller),
        event.when,
        event.now,
    )


def ringing_entry(event: CallEvent) -> tuple[str, dict[str, object]]:
    """The timeline's summary and payload of a new call."""
    summary = f"Call from {event.number}" + (f" to {event.dialled}" if event.dialled else "")
    payload: dict[str, object] = {
        "call_id": event.call_id,
        "from": event.number,
        "to": event.dialled,
        "queue": event.queue,
    }
    return summary, payload


def advance(row: Any, event: CallEvent) -> tuple[dict[str, object], bool]:
    """The columns a stored call (`row`, read by name) changes for `event`, and whether its
    state moves (forward only); an ended call is offered to nobody else."""
    current = CallState(row["state"])
    sets: dict[str, object] = {}
    if event.agent and event.agent != row["agent"] and current is not CallState.ENDED:
        sets["agent"] = event.agent
    if event.extension and event.extension != row["extension"]:
        sets["extension"] = event.extension
    if event.recording and event.recording != row["recording"]:
        sets["recording"] = event.recording
    moved = RANK[event.state] > RANK[current]
    if moved:
        sets["state"] = event.state.value
        if event.state is CallState.ANSWERED:
            sets["answered_at"] = event.when
        if event.state is CallState.ENDED:
            sets["ended_at"] = event.when
    if sets:
        sets["updated_at"] = event.now
    return sets, moved


def ended_entry(call: Call) -> tuple[str, dict[str, object]]:
    """The timeline's summary and payload of an ended call."""
    handle = call.handle_seconds
    summary = "Call ended" + (f" after {handle} s" if handle is not None else ", unanswered")
    payload: dict[str, object] = {"call_id": call.call_id, "handle_seconds": handle}
    if call.recording:
        payload["recording"] = call.recording
    return summary, payload


def call(row: Any) -> Call:
    """A `calls` row (read by column name) as a model."""
    answered, ended = records.from_ts(row["answered_at"]), records.from_ts(row["ended_at"])
    handle = None
    if row["answered_at"] is not None and row["ended_at"] is not None:
        handle = max(0, row["ended_at"] - row["answered_at"])
    return Call(
        call_id=row["call_id"],
        contact_id=row["contact_id"],
        customer_id=row["customer_id"],
        state=CallState(row["state"]),
        caller=row["caller"],
        started_at=records.ts(row["started_at"]),
        dialled=row["dialled"],
        queue=row["queue"],
        agent=row["agent"],
        extension=row["extension"],
        recording=row["recording"],
        new_caller=bool(row["new_caller"]),
        answered_at=answered,
        ended_at=ended,
        handle_seconds=handle,
    )


def check_name(name: str, email: str) -> tuple[str, str, str]:
    """A new caller's (first name, last name, normalised e-mail or '').

    Raises:
        InvalidInput: no name, an unusable e-mail, a field over its bound.
    """
    name, email = name.strip(), email.strip()
    limits.check_fields({"name": name, "email": email})
    if not name:
        raise InvalidInput("a new caller needs a name")
    address = ""
    if email:
        address = normalise.email(email)
        if not address:
            raise InvalidInput(f"{email!r} is not a usable e-mail address")
    first, _, last = name.partition(" ")
    return first, last.strip(), address
