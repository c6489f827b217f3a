"""The console's start-up boundary: everything the first paint (header, queue, key bar) does
not show is imported here, when it is first used, so the queue is on screen sooner.

This is the one place with imports inside functions: the dialogs (help, search, KPIs,
identity review, event, provenance, pickers), the command palette's provider, and the
workspace's centre and side panes, mounted right after the queue's first page. The rest
of the console imports this module at its top and calls these functions. A dialog is
created with a fixed id (its name here), so a caller can tell whether it is open already.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from backends.base import Backend
from backends.models import ContactDetail, Template, TimelineEvent

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.screen import Screen

    from console.screens.event import EventScreen
    from console.screens.help import HelpScreen
    from console.screens.identity import IdentityReviewScreen
    from console.screens.pickers import Picker, TypedPicker
    from console.screens.provenance import ProvenanceScreen
    from console.screens.search import SearchScreen
    from console.screens.supervisor import SupervisorScreen
    from console.settings import Drafts
    from console.widgets.customer.contact_bar import ContactBar
    from console.widgets.customer.pane import CustomerView
    from console.widgets.side.composer import Composer
    from console.widgets.side.event_detail import EventDetail

T = TypeVar("T")
S = TypeVar("S", bound="Screen[Any]")


def _named(screen: S, name: str) -> S:
    screen.id = name
    return screen


# -- dialogs -----------------------------------------------------------------------


def palette_provider() -> type[Provider]:
    """The command palette's provider, imported when the palette first opens."""
    from console.screens.palette import VistaCommands

    return VistaCommands


def help_screen() -> HelpScreen:
    from console.screens.help import HelpScreen

    return _named(HelpScreen(), "help")


def search_screen() -> SearchScreen:
    from console.screens.search import SearchScreen

    return _named(SearchScreen(), "search")


def supervisor_screen(backend: Backend, now: Callable[[], datetime]) -> SupervisorScreen:
    from console.screens.supervisor import SupervisorScreen

    return _named(SupervisorScreen(backend, now=now), "supervisor")


def identity_screen() -> IdentityReviewScreen:
    from console.screens.identity import IdentityReviewScreen

    return _named(IdentityReviewScreen(), "identity")


def event_screen(event: TimelineEvent) -> EventScreen:
    from console.screens.event import EventScreen

    return _named(EventScreen(event), "event")


def provenance_screen(customer_id: int, name: str) -> ProvenanceScreen:
    from console.screens.provenance import ProvenanceScreen

    return _named(ProvenanceScreen(customer_id, name), "provenance")


def picker(title: str, choices: Sequence[tuple[str, T]]) -> Picker[T]:
    from console.screens.pickers import Picker

    return Picker(title, choices)


def typed_picker(
    title: str, choices: Sequence[tuple[str, T]], parse: Callable[[str], T | None]
) -> TypedPicker[T]:
    from console.screens.pickers import TypedPicker

    return TypedPicker(title, choices, parse)


def template_picker(templates: Sequence[Template]) -> Picker[Template]:
    from console.screens.pickers import template_picker

    return template_picker(templates)


def event_detail(backend: Backend, event: TimelineEvent) -> ContactDetail | None:
    """The conversation behind a timeline event (None for other kinds)."""
    from console.screens.event import load_detail

    return load_detail(backend, event)


# -- the workspace's panes after the queue ------------------------------------------------


@dataclass(frozen=True)
class LatePanes:
    """The centre column (contact bar, customer view) and the side column (inline event
    detail, composer: none in read-only mode)."""

    contact_bar: ContactBar
    customer: CustomerView
    detail: EventDetail
    composer: Composer | None


def late_panes(me: str, now: Callable[[], datetime], drafts: Drafts | None) -> LatePanes:
    """Build (not mount) the panes; `drafts` None: read-only, no composer."""
    from console.widgets.customer.contact_bar import ContactBar
    from console.widgets.customer.pane import CustomerView
    from console.widgets.side.composer import Composer
    from console.widgets.side.event_detail import EventDetail

    return LatePanes(
        contact_bar=ContactBar(me, now, id="contact-bar"),
        customer=CustomerView(id="customer"),
        detail=EventDetail(id="inline-detail"),
        composer=Composer(drafts, id="composer") if drafts is not None else None,
    )


def known_intents() -> tuple[str, ...]:
    """The intents of the default routing rules' keyword list (for the intent picker)."""
    from backends.routing import rules

    return tuple(rules.cached(rules.default_text()).keywords)
