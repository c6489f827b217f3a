"""Telephony events from providers, as `Backend.record_call` takes them.

Twilio Voice's status callback (form-encoded, signed like its SMS webhooks with
`X-Twilio-Signature`, see backends.providers.twilio): CallSid, CallStatus, From, To,
and on a recording callback RecordingUrl. CallStatus queued, initiated and ringing
read as ringing; in-progress as answered; completed, busy, failed, no-answer and
canceled as ended. Twilio knows no Vista agent: the callback URL names the agent the
call is offered to in its query (`?agent=giulia`), which the signature covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backends.base import InvalidInput
from backends.models import CallState

_TWILIO_STATES = {
    "queued": CallState.RINGING,
    "initiated": CallState.RINGING,
    "ringing": CallState.RINGING,
    "in-progress": CallState.ANSWERED,
    "answered": CallState.ANSWERED,
    "completed": CallState.ENDED,
    "busy": CallState.ENDED,
    "failed": CallState.ENDED,
    "no-answer": CallState.ENDED,
    "canceled": CallState.ENDED,
}


@dataclass(frozen=True, slots=True)
class CallReport:
    """One telephony event, ready for `Backend.record_call`."""

    call_id: str
    state: CallState
    caller: str
    dialled: str = ""
    queue: str = ""
    agent: str = ""
    recording: str = ""


def parse_twilio_status(params: Iterable[tuple[str, str]], agent: str = "") -> CallReport:
    """A Twilio Voice status (or recording) callback's form as a call event.

    Raises:
        InvalidInput: no CallSid or From, or a CallStatus Twilio does not send.
    """
    form = dict(params)
    call_id = form.get("CallSid", "").strip()
    caller = form.get("From", "").strip() or form.get("Caller", "").strip()
    if not call_id or not caller:
        raise InvalidInput("a Twilio Voice callback needs CallSid and From")
    status = form.get("CallStatus", "").strip().lower()
    if not status and form.get("RecordingUrl"):
        status = "completed"  # a recording callback comes once the call is over
    state = _TWILIO_STATES.get(status)
    if state is None:
        raise InvalidInput(f"unknown Twilio CallStatus {status!r}")
    return CallReport(
        call_id=call_id,
        state=state,
        caller=caller,
        dialled=form.get("To", "").strip() or form.get("Called", "").strip(),
        queue=form.get("QueueSid", "").strip(),
        agent=agent.strip(),
        recording=form.get("RecordingUrl", "").strip(),
    )
