"""Every console action in one registry: key, binding id, description, palette title,
and whether it changes data.

Mutating actions are declared here once (`mutating=True`); `MUTATING` is what
read-only mode blocks centrally (check_action, the command palette, and the
composer which is not composed at all).
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding

from backends.base import Capability
from backends.models import Agent, Contact, EventKind, Role, TimelineEvent


class ActionSpec(NamedTuple):
    """One action: `action` is the method name (without `action_`) on its owner.

    (A NamedTuple: immutable like a frozen dataclass, and much cheaper to define at start-up.)
    """

    action: str
    key: str
    description: str
    owner: str  # "app", "workspace", "composer", "identity"
    area: str = ""  # command palette title is "area: verb"
    verb: str = ""
    mutating: bool = False
    show: bool = True  # shown in the footer
    palette: bool = True
    name: str = ""  # binding id suffix when `action` has parameters

    @property
    def id(self) -> str:
        """The binding id users remap keys by (settings.json "keys")."""
        return f"{self.owner}.{self.name or self.action}"

    @property
    def title(self) -> str:
        return f"{self.area}: {self.verb or self.description.lower()}"

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.description, show=self.show, id=self.id)


ACTIONS: tuple[ActionSpec, ...] = (
    # -- app-wide
    ActionSpec("help", "question_mark", "Help", "app", "help", "show key bindings"),
    ActionSpec("search", "slash", "Search", "app", "customer", "search"),
    ActionSpec("cycle_theme", "T", "Theme", "app", "view", "next theme", show=False),
    ActionSpec("supervisor", "S", "KPIs", "app", "view", "supervisor KPIs"),
    ActionSpec(
        "identity_review", "I", "Identities", "app", "identity", "review suggestions", show=False
    ),
    ActionSpec(
        "presence",
        "A",
        "Presence",
        "app",
        "presence",
        "cycle online, away, offline",
        mutating=True,
        show=False,
    ),
    # -- contact (queue item) actions
    ActionSpec("claim", "c", "Claim", "workspace", "contact", "claim", mutating=True),
    ActionSpec("release", "x", "Release", "workspace", "contact", "release", mutating=True),
    ActionSpec("transfer", "t", "Transfer", "workspace", "contact", "transfer", mutating=True),
    ActionSpec(
        "set_priority", "p", "Priority", "workspace", "contact", "set priority", mutating=True
    ),
    ActionSpec("snooze", "z", "Snooze", "workspace", "contact", "snooze", mutating=True),
    ActionSpec("resolve", "r", "Resolve", "workspace", "contact", "resolve", mutating=True),
    ActionSpec("reopen", "u", "Reopen", "workspace", "contact", "reopen", mutating=True),
    ActionSpec("next_contact", "n", "Next", "workspace", "queue", "next contact"),
    ActionSpec("compose", "i", "Reply", "workspace", "contact", "write reply"),
    ActionSpec(
        "set_intent",
        "g",
        "Intent",
        "workspace",
        "contact",
        "correct intent",
        mutating=True,
        show=False,
    ),
    ActionSpec(
        "template", "ctrl+t", "Template", "workspace", "reply", "insert template", show=False
    ),
    # -- queue views
    ActionSpec(
        "tab('mine')", "1", "Mine", "workspace", "queue", "show mine", show=False, name="tab_mine"
    ),
    ActionSpec(
        "tab('unassigned')",
        "2",
        "Unassigned",
        "workspace",
        "queue",
        "show unassigned",
        show=False,
        name="tab_unassigned",
    ),
    ActionSpec(
        "tab('all')", "3", "All", "workspace", "queue", "show all", show=False, name="tab_all"
    ),
    ActionSpec(
        "tab('at_risk')",
        "4",
        "SLA risk",
        "workspace",
        "queue",
        "show SLA at risk",
        show=False,
        name="tab_at_risk",
    ),
    ActionSpec(
        "cycle_channel", "v", "Channel", "workspace", "queue", "filter by channel", show=False
    ),
    ActionSpec("filter", "f", "Filter", "workspace", "queue", "filter text", show=False),
    ActionSpec("focus_queue", "q", "Queue", "workspace", "queue", "focus", show=False),
    # -- timeline
    ActionSpec("focus_timeline", "l", "Timeline", "workspace", "timeline", "focus", show=False),
    ActionSpec("cycle_kind", "e", "Kinds", "workspace", "timeline", "filter by kind", show=False),
    ActionSpec(
        "cycle_timeline_channel",
        "E",
        "Channels",
        "workspace",
        "timeline",
        "filter by channel",
        show=False,
    ),
    ActionSpec(
        "jump('order', 1)",
        "o",
        "Next order",
        "workspace",
        "timeline",
        "next order",
        show=False,
        name="next_order",
    ),
    ActionSpec(
        "jump('order', -1)",
        "O",
        "Prev order",
        "workspace",
        "timeline",
        "previous order",
        show=False,
        name="previous_order",
    ),
    ActionSpec(
        "jump('ticket', 1)",
        "k",
        "Next ticket",
        "workspace",
        "timeline",
        "next ticket",
        show=False,
        name="next_ticket",
    ),
    ActionSpec(
        "jump('ticket', -1)",
        "K",
        "Prev ticket",
        "workspace",
        "timeline",
        "previous ticket",
        show=False,
        name="previous_ticket",
    ),
    ActionSpec(
        "jump('conversation', 1)",
        "m",
        "Next conv.",
        "workspace",
        "timeline",
        "next conversation",
        show=False,
        name="next_conversation",
    ),
    ActionSpec(
        "jump('conversation', -1)",
        "M",
        "Prev conv.",
        "workspace",
        "timeline",
        "previous conversation",
        show=False,
        name="previous_conversation",
    ),
    ActionSpec("open_event", "d", "Detail", "workspace", "timeline", "open event detail"),
    ActionSpec(
        "retry_reply",
        "R",
        "Retry send",
        "workspace",
        "timeline",
        "send failed reply again",
        mutating=True,
    ),
    ActionSpec(
        "toggle_layout", "w", "Layout", "workspace", "view", "toggle wide layout", show=False
    ),
    ActionSpec(
        "provenance", "P", "Provenance", "workspace", "customer", "show provenance", show=False
    ),
    # -- composer (focused text area)
    ActionSpec("send", "ctrl+s", "Send", "composer", "reply", "send", mutating=True),
    ActionSpec(
        "send_resolve",
        "ctrl+r",
        "Send+resolve",
        "composer",
        "reply",
        "send and resolve",
        mutating=True,
    ),
    ActionSpec(
        "send_next", "ctrl+n", "Send+next", "composer", "reply", "send and next", mutating=True
    ),
    ActionSpec("pick_template", "ctrl+t", "Template", "composer", "reply", "insert template"),
    ActionSpec("toggle_note", "ctrl+o", "Note/reply", "composer", "reply", "toggle private note"),
    ActionSpec("cycle_reply_channel", "ctrl+g", "Channel", "composer", "reply", "change channel"),
    ActionSpec("leave", "escape", "Leave", "composer", "reply", "leave composer", palette=False),
    # -- event detail screen
    ActionSpec(
        "retry_reply",
        "R",
        "Retry send",
        "event",
        "event",
        "send failed reply again",
        mutating=True,
        palette=False,
    ),
    # -- identity review screen (suggested duplicates)
    ActionSpec("merge", "m", "Merge", "identity", "identity", "merge B into A", mutating=True),
    ActionSpec("reject", "x", "Reject", "identity", "identity", "reject suggestion", mutating=True),
    ActionSpec("open_a", "enter", "Open A", "identity", "identity", "open customer A"),
    ActionSpec("open_b", "b", "Open B", "identity", "identity", "open customer B"),
    ActionSpec("refresh", "r", "Refresh", "identity", "identity", "refresh suggestions"),
    ActionSpec("back", "escape", "Back", "identity", "identity", "back", palette=False),
)

#: Action names that change data: blocked centrally in read-only mode.
MUTATING: frozenset[str] = frozenset(a.action for a in ACTIONS if a.mutating)

#: Actions that offer an optional feature, and the capability a backend declares for it:
#: the console offers them only on a backend that has it (check_action, the palette).
NEEDS: dict[str, Capability] = {
    "supervisor": Capability.KPIS,
    "identity_review": Capability.IDENTITY,
    "provenance": Capability.IDENTITY,
    "presence": Capability.ROUTING,
    "set_intent": Capability.ROUTING,
}


def base_name(action: str) -> str:
    """The method name of an action string: "tab('mine')" -> "tab"."""
    return action.split("(", 1)[0]


def bindings(owner: str) -> list[Binding]:
    """The bindings of one owner ("app", "workspace", "composer")."""
    return [a.binding() for a in ACTIONS if a.owner == owner]


def specs(owner: str | None = None) -> tuple[ActionSpec, ...]:
    return tuple(a for a in ACTIONS if owner is None or a.owner == owner)


def is_mutating(action: str) -> bool:
    return base_name(action) in MUTATING


def offered(action: str, capabilities: Capability) -> bool:
    """Whether a backend with `capabilities` can do what `action` offers."""
    needed = NEEDS.get(base_name(action))
    return needed is None or needed in capabilities


def format_key(key: str) -> str:
    """A binding's key as people read it: `?`, `/`, `esc`; alternatives comma-separated."""
    names = {"question_mark": "?", "slash": "/", "escape": "esc"}
    return ", ".join(names.get(k, k) for k in key.split(","))


def bound_to(owner: str, key: str, keymap: dict[str, str]) -> ActionSpec | None:
    """The action of `owner` that `key` runs (with the user's key overrides), if any."""
    for spec in ACTIONS:
        if spec.owner == owner and key in keymap.get(spec.id, spec.key).split(","):
            return spec
    return None


def failed_reply(event: TimelineEvent | None) -> int | None:
    """The message id of `event` when it is a reply whose delivery failed (one an operator
    may send again); None for anything else."""
    if event is None or event.kind is not EventKind.REPLY:
        return None
    payload = event.payload or {}
    message_id = payload.get("message_id")
    if payload.get("delivery") != "failed" or not isinstance(message_id, int):
        return None
    return message_id


def held_by_other(contact: Contact | None, me: str, agent: Agent | None) -> str | None:
    """Who holds `contact` when it is another operator's and so not mine to reply on (an
    admin may reply on any); None when I may reply (free, mine, or I am an admin)."""
    if contact is None or contact.assignee in (None, me):
        return None
    if agent is not None and agent.role is Role.ADMIN:
        return None
    return contact.assignee
