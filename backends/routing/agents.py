"""Agents as routing sees them, for every store: a stored agent row as a model, its effective
presence and limits, a routing candidate, the checks of what an admin writes, and the
intent model's training report. Pure: the stores hand in the row's values."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from backends import limits
from backends.base import Conflict, InvalidInput, NotFound
from backends.models import (
    Agent,
    AgentState,
    Channel,
    ChannelCapacity,
    IntentGuess,
    IntentReport,
    IntentScore,
    Presence,
    Role,
)
from backends.routing import assign, intents, language, rules

#: Contacts that count against an operator's capacity: unresolved and not snoozed.
HELD_STATUSES = ("new", "open", "pending")
#: The newest labelled contacts `train_intents` learns from.
MAX_TRAINING = 50_000

NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
SKILL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
LANGUAGE = re.compile(r"[a-z]{2}")
_CHANNELS = tuple(c.value for c in Channel)


def json_object(text: str | None) -> Any:
    """A stored JSON column's value ({} when empty or unreadable)."""
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}


@functools.lru_cache(maxsize=1024)
def _frozen_object(text: str | None) -> tuple[tuple[str, Any], ...]:
    """A stored JSON object as sorted items (skills and capacities repeat across agents, and
    routing reads every online agent's on every decision)."""
    value = json_object(text)
    return tuple(sorted(value.items())) if isinstance(value, dict) else ()


def agent(row: Any) -> Agent:
    """An `agents` row (read by column name) as a model."""
    skills = json_object(row["skills"])
    capacity = json_object(row["capacity"])
    channels = []
    for ch in skills.get("channels", ()):
        try:
            channels.append(Channel(ch))
        except ValueError:
            continue
    return Agent(
        name=row["name"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        intents=tuple(skills.get("intents", ())),
        languages=tuple(skills.get("languages", ())),
        channels=tuple(channels),
        capacity=tuple(
            ChannelCapacity(Channel(k), int(v))
            for k, v in sorted(capacity.items())
            if k in _CHANNELS
        ),
        presence=Presence(row["presence"]),
        disabled=row["disabled_at"] is not None,
    )


def effective_presence(row: Any, now: int, away_after_minutes: int) -> Presence:
    """ONLINE turns AWAY once the agent has done nothing for the rules' idle limit."""
    presence = Presence(row["presence"])
    if presence is Presence.ONLINE:
        active = max(row["last_active_at"] or 0, row["presence_at"] or 0)
        if now - active > away_after_minutes * 60:
            return Presence.AWAY
    return presence


def capacities(rs: rules.RoutingRules, own: Mapping[str, int]) -> dict[str, int]:
    """Every channel's limit for an agent with capacities `own`."""
    return {c.value: rs.capacity_for(c.value, own) for c in Channel}


def _ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def state(
    row: Any, rs: rules.RoutingRules, now: int, load: Mapping[str, Mapping[str, int]]
) -> AgentState:
    """An `agents` row as its state now: effective presence, load and limits."""
    model = agent(row)
    return AgentState(
        agent=model,
        presence=effective_presence(row, now, rs.away_after_minutes),
        held=dict(load.get(model.name, {})),
        capacity=capacities(rs, model.limits),
        last_active_at=_ts(row["last_active_at"]),
        idle_since=_ts(max(row["last_routed_at"] or 0, row["presence_at"] or 0) or None),
    )


def own_limit(rs: rules.RoutingRules, capacity_text: str | None, channel: str) -> int:
    """An agent's limit on `channel`, from their stored capacities."""
    own = json_object(capacity_text)
    return rs.capacity_for(channel, own if isinstance(own, dict) else {})


def at_capacity(name: str, channel: str, count: int, limit: int) -> Conflict | None:
    """The refusal of one more contact for an agent who holds `count` of `limit` (None: room)."""
    if count < limit:
        return None
    return Conflict(
        f"{name} is at capacity on {channel}: holds {count} of {limit} "
        f"{channel} contacts (resolve, snooze or release one first)",
        "At capacity",
    )


@functools.lru_cache(maxsize=1024)
def _skills(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    skills = dict(_frozen_object(text))
    return tuple(  # type: ignore[return-value]
        frozenset(skills.get(k, ())) for k in ("intents", "languages", "channels")
    )


@functools.lru_cache(maxsize=1024)
def _limits(rs: rules.RoutingRules, text: str) -> Mapping[str, int]:
    return capacities(rs, dict(_frozen_object(text)))


def candidate(
    rs: rules.RoutingRules,
    name: str,
    skills_text: str,
    capacity_text: str,
    presence_at: int | None,
    routed_at: int | None,
    seq: int,
) -> assign.Candidate:
    """An online agent's stored skills and limits as routing's candidate."""
    intents, languages, channels = _skills(skills_text)
    return assign.Candidate(
        name=name,
        intents=intents,
        languages=languages,
        channels=channels,
        capacity=_limits(rs, capacity_text),
        idle_since=max(routed_at or 0, presence_at or 0),
        given=seq,
    )


#: What `offer` reads of a contact, of `contacts c` joined to its customer `customers cu`.
OFFER_COLUMNS = "c.channel, c.intent, c.language, c.assignee, c.status, c.customer_id, cu.tier"


def offer(
    row: Any,
    rs: rules.RoutingRules,
    pool: Callable[[], list[assign.Candidate]],
    held_on: Callable[[str], Callable[[str], int]],
) -> tuple[assign.Candidate, str] | None:
    """Who should take a contact (`row`: its channel, intent, language, assignee, status and
    customer's tier), and for which skill; None when it is taken, resolved or snoozed, or
    nobody in `pool()` has the skill and room (`held_on(channel)(name)`: their load)."""
    if row is None or row["assignee"] is not None or row["status"] in ("resolved", "snoozed"):
        return None
    channel = Channel(row["channel"])
    decision = rs.decide(row["intent"], channel, row["tier"], row["language"])
    chosen = assign.choose(
        pool(), decision.skill, row["language"], channel.value, held_on(channel.value)
    )
    return None if chosen is None else (chosen, decision.skill)


def given(pool: list[assign.Candidate], chosen: assign.Candidate, now: int) -> None:
    """`chosen` got a contact: in `pool`, idle from `now` and the last given."""
    pool[pool.index(chosen)] = dataclasses.replace(
        chosen, idle_since=now, given=max(c.given for c in pool) + 1
    )


#: Agents named at most in an "unknown agent" error.
SHOWN_AGENTS = 20


def unknown(name: str, enabled: list[str], more: int = 0) -> NotFound:
    """The refusal of an agent name nobody has, naming the enabled agents (the first
    SHOWN_AGENTS of `enabled`, and how many `more` there are, 0 when unknown)."""
    shown = ", ".join(enabled[:SHOWN_AGENTS])
    if len(enabled) > SHOWN_AGENTS:
        shown += f" and {more} more" if more else " and more"
    return NotFound(
        f"no agent named {name!r}; known agents: {shown or 'none'} "
        "(an admin adds one with `vista agents add NAME`)",
        "Unknown agent",
    )


# -- what an admin writes ------------------------------------------------------------------


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME.fullmatch(name):
        raise InvalidInput(f"agent name {name!r}: use letters, digits, . _ - @ (max 64)")
    return name


def check_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as e:
        raise InvalidInput(f"unknown role {role!r}: operator, supervisor or admin") from e


def check_presence(presence: Presence | str) -> Presence:
    try:
        return Presence(presence)
    except ValueError as e:
        raise InvalidInput(f"unknown presence {presence!r}: online, away or offline") from e


def check_intent(intent: str) -> str:
    intent = intent.strip().lower()
    if not SKILL.fullmatch(intent):
        raise InvalidInput(f"intent {intent!r}: use lower-case letters, digits, _ . -")
    return intent


def words(values: tuple[str, ...] | None, what: str, pattern: re.Pattern[str]) -> list[str]:
    """Intents or languages as stored: lower case, checked, sorted, each once."""
    out = []
    for value in values or ():
        v = str(value).strip().lower()
        if not pattern.fullmatch(v):
            raise InvalidInput(f"{what} {value!r}: use lower-case letters, digits, _ . -")
        out.append(v)
    return sorted(set(out))


def channels(values: tuple[Channel, ...] | None) -> list[str]:
    out = []
    for value in values or ():
        try:
            out.append(Channel(str(value).strip().lower()).value)
        except ValueError as e:
            allowed = ", ".join(c.value for c in Channel)
            raise InvalidInput(f"unknown channel {value!r}; use {allowed}") from e
    return sorted(set(out))


def capacity(values: Mapping[str, int] | None) -> dict[str, int]:
    return {
        str(k).strip().lower(): rules.capacity_value(str(k).strip().lower(), v, "agent capacity")
        for k, v in (values or {}).items()
    }


def skills(
    intents: tuple[str, ...] | None,
    languages: tuple[str, ...] | None,
    channel_list: tuple[Channel, ...] | None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Stored skills: `current` with each of the given kinds replaced (None: kept)."""
    out = dict(current or {})
    if intents is not None or current is None:
        out["intents"] = words(intents, "intent", SKILL)
    if languages is not None or current is None:
        out["languages"] = words(languages, "language", LANGUAGE)
    if channel_list is not None or current is None:
        out["channels"] = channels(channel_list)
    return out


@dataclasses.dataclass(frozen=True)
class NewAgent:
    """An agent as an admin adds them, checked: their values as stored."""

    name: str
    display_name: str
    role: Role
    skills: str  # JSON
    capacity: str  # JSON


def check_new(
    name: str,
    display_name: str,
    role: Role | str,
    intents: tuple[str, ...],
    languages: tuple[str, ...],
    channel_list: tuple[Channel, ...],
    own: Mapping[str, int] | None,
) -> NewAgent:
    """An agent to add, checked.

    Raises:
        InvalidInput: a bad name, role, skill, channel, capacity or an over-long name.
    """
    name = check_name(name)
    checked_role = check_role(role)
    limits.check_fields({"name": display_name})
    return NewAgent(
        name=name,
        display_name=display_name.strip() or name,
        role=checked_role,
        skills=json.dumps(skills(intents, languages, channel_list)),
        capacity=json.dumps(capacity(own)),
    )


# -- the intent model's report --------------------------------------------------------------


def training_text(subject: str, body: str | None) -> str:
    """What a labelled contact teaches: its subject and first inbound message."""
    return f"{subject}\n{body or ''}"


def report_data(report: Any, now: int, seconds: float) -> dict[str, Any]:
    """A trained model's report (backends.routing.model) as stored JSON."""
    return {
        "trained_at": now,
        "samples": report.samples,
        "folds": report.folds,
        "accuracy": round(report.accuracy, 4),
        "intents": [
            {
                "intent": s.intent,
                "samples": s.samples,
                "accuracy": None if s.accuracy is None else round(s.accuracy, 4),
            }
            for s in report.scores
        ],
        "seconds": round(seconds, 2),
    }


def report(data: dict[str, Any]) -> IntentReport:
    """Stored report JSON as a model."""
    return IntentReport(
        trained_at=datetime.fromtimestamp(data["trained_at"], UTC),
        samples=data["samples"],
        folds=data["folds"],
        accuracy=data["accuracy"],
        intents=tuple(IntentScore(**s) for s in data["intents"]),
        seconds=data.get("seconds", 0.0),
    )


def guess(
    text: str, rs: rules.RoutingRules, model: Any, fallback_language: str = ""
) -> IntentGuess:
    """The intent and language of a customer's words, with a store's rules and model."""
    found = intents.classify(text, rs.keywords, model)
    lang = language.detect(text) or fallback_language.strip().lower()[:2]
    return IntentGuess(found.intent, found.source, round(found.confidence, 3), lang)


_models: dict[tuple[Any, ...], Any] = {}
_models_lock = threading.Lock()


def cached_model(key: tuple[Any, ...], blob: Callable[[], bytes]) -> Any:
    """The intent model (a `backends.routing.model.IntentModel`) a store holds under `key`
    (its location and the model's id, time and size), loaded from `blob()` once: arrivals
    do not re-read the archive."""
    with _models_lock:
        found = _models.get(key)
    if found is None:
        from backends.routing import model  # NumPy: loaded when a store has a model

        found = model.IntentModel.from_bytes(bytes(blob()))
        with _models_lock:
            if len(_models) > 16:
                _models.clear()
            _models[key] = found
    return found
