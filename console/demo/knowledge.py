"""The demo's knowledge base (FAQ articles in Italian and English, console/demo/kb/) and its
telephony: a few finished calls in the store, and a ringing call for a running console."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from backends.base import Backend, VistaError
from backends.knowledge import read_articles
from backends.models import Article, Call, CallState

KB_FOLDER = Path(__file__).with_name("kb")
#: A number no demo customer has: the "new caller" of the demo.
NEW_CALLER = "+39 347 000 0420"


def demo_articles() -> tuple[Article, ...]:
    """The demo's FAQ articles."""
    return read_articles(KB_FOLDER)


def seed(backend: Backend) -> None:
    """The demo store's knowledge base."""
    backend.kb_import(demo_articles())


def past_calls(backend: Backend, now: datetime) -> None:
    """Three finished calls by known customers, offered to demo agents (`make run`)."""
    for n, (customer_id, agent) in enumerate(((1, "giulia"), (2, "marco"), (3, "demo")), 1):
        phones = backend.get_customer(customer_id).phones
        if not phones:
            continue
        start = now - timedelta(hours=n * 3)
        call_id = f"demo-call-{n}"
        backend.record_call(call_id, CallState.RINGING, phones[0], agent=agent, at=start)
        backend.record_call(
            call_id, CallState.ANSWERED, phones[0], at=start + timedelta(seconds=12)
        )
        backend.record_call(
            call_id,
            CallState.ENDED,
            phones[0],
            at=start + timedelta(minutes=3 + n, seconds=7),
            recording=f"https://pbx.example/recordings/{call_id}.mp3",
        )


def valued_caller(backend: Backend, look_at: int = 200) -> str:
    """The phone of a customer worth recognising (platinum or gold, else anyone with a phone)
    among the first `look_at`: who rings in the demo."""
    fallback = ""
    for customer_id in range(1, look_at + 1):
        try:
            customer = backend.get_customer(customer_id)
        except VistaError:
            continue
        if customer.phones and customer.tier in ("platinum", "gold"):
            return customer.phones[0]
        fallback = fallback or (customer.phones[0] if customer.phones else "")
    return fallback


def ring(backend: Backend, agent: str, caller: str, call_id: str) -> Call:
    """A call ringing now, offered to `agent` (what `make run` sends a few seconds in)."""
    return backend.record_call(call_id, CallState.RINGING, caller, agent=agent, queue="demo")
