"""The routing rules file (TOML): what a new contact needs, and the operators' default capacity.

See defaults.toml for the format and the defaults of a new store. `parse` checks a file
completely, so a bad rule is refused when it is stored, never when a message arrives.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from backends.base import InvalidInput
from backends.models import Channel, Priority

#: Seconds to the first-response SLA of a new contact on each channel, when no rule says.
DEFAULT_SLA_SECONDS: Mapping[Channel, int] = MappingProxyType(
    {
        Channel.CHAT: 3600,
        Channel.WHATSAPP: 4 * 3600,
        Channel.PHONE: 2 * 3600,
        Channel.SMS: 8 * 3600,
        Channel.EMAIL: 24 * 3600,
        Channel.WEB: 24 * 3600,
    }
)
#: Capacity per channel when neither the agent nor the rules file names one.
FALLBACK_CAPACITY = 25
_CONDITIONS = ("intent", "channel", "tier", "language")
_OUTCOMES = ("skill", "priority", "sla_minutes")


@dataclass(frozen=True, slots=True)
class Rule:
    """One `[[rules]]` entry: conditions (empty: any value) and outcomes (None: not set)."""

    intent: frozenset[str] = frozenset()
    channel: frozenset[str] = frozenset()
    tier: frozenset[str] = frozenset()
    language: frozenset[str] = frozenset()
    skill: str | None = None
    priority: Priority | None = None
    sla_minutes: int | None = None

    def matches(self, intent: str, channel: str, tier: str, language: str) -> bool:
        return (
            (not self.intent or intent in self.intent)
            and (not self.channel or channel in self.channel)
            and (not self.tier or tier in self.tier)
            and (not self.language or language in self.language)
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What a new contact needs: the skill an operator must have, its priority and SLA."""

    skill: str
    priority: Priority
    sla_seconds: int


@dataclass(frozen=True, slots=True, eq=False)
class RoutingRules:
    """A parsed rules file (hashed by identity: `cached` gives one object per text)."""

    rules: tuple[Rule, ...]
    capacity: Mapping[str, int]
    away_after_minutes: int
    keywords: Mapping[str, tuple[str, ...]]  # intent -> lower-case words and phrases
    text: str  # the TOML it was read from

    def decide(self, intent: str, channel: Channel, tier: str, language: str) -> Decision:
        """The outcome for a contact: each of skill, priority and SLA from the first matching
        rule that sets it; the intent, normal and the channel's default otherwise."""
        skill: str | None = None
        priority: Priority | None = None
        sla: int | None = None
        tier = tier.strip().lower()
        for rule in self.rules:
            if not rule.matches(intent, channel.value, tier, language):
                continue
            skill = rule.skill if skill is None else skill
            priority = rule.priority if priority is None else priority
            sla = rule.sla_minutes if sla is None else sla
        return Decision(
            skill=intent if skill is None else skill,
            priority=Priority.NORMAL if priority is None else priority,
            sla_seconds=DEFAULT_SLA_SECONDS[channel] if sla is None else sla * 60,
        )

    def capacity_for(self, channel: str, own: Mapping[str, int]) -> int:
        """How many contacts on `channel` an agent with capacities `own` may hold."""
        if channel in own:
            return own[channel]
        return self.capacity.get(channel, FALLBACK_CAPACITY)


def _strings(value: Any, where: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise InvalidInput(f"routing rules: {where} must be a string or a list of strings")
    return frozenset(v.strip().lower() for v in items)


def capacity_value(channel: str, value: Any, where: str) -> int:
    """A capacity (0..1000) of a known channel, or InvalidInput."""
    if channel not in {c.value for c in Channel}:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"{where}: unknown channel {channel!r}; use {allowed}")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise InvalidInput(f"{where}: capacity of {channel} must be a whole number 0..1000")
    return value


def _rule(entry: Any, number: int) -> Rule:
    where = f"routing rules: rule {number}"
    if not isinstance(entry, dict):
        raise InvalidInput(f"{where} is not a table")
    unknown = set(entry) - set(_CONDITIONS) - set(_OUTCOMES)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {min(unknown)!r}; use {', '.join(_CONDITIONS + _OUTCOMES)}"
        )
    conditions = {k: _strings(entry[k], f"{where}: {k}") for k in _CONDITIONS if k in entry}
    for channel in conditions.get("channel", ()):
        capacity_value(channel, 0, where)
    priority = None
    if "priority" in entry:
        try:
            priority = Priority(str(entry["priority"]).strip().lower())
        except ValueError as e:
            allowed = ", ".join(p.value for p in Priority)
            raise InvalidInput(f"{where}: priority must be one of {allowed}") from e
    sla = entry.get("sla_minutes")
    if sla is not None and (isinstance(sla, bool) or not isinstance(sla, int) or sla < 1):
        raise InvalidInput(f"{where}: sla_minutes must be a whole number of minutes, 1 or more")
    skill = entry.get("skill")
    if skill is not None and (not isinstance(skill, str) or not skill.strip()):
        raise InvalidInput(f"{where}: skill must be a name")
    return Rule(
        **conditions,
        skill=skill.strip().lower() if skill else None,
        priority=priority,
        sla_minutes=sla,
    )


def parse(text: str) -> RoutingRules:
    """Read a rules file's text.

    Raises:
        InvalidInput: not TOML, or a key or value the format does not allow (named).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"routing rules are not valid TOML: {e}") from e
    unknown = set(data) - {"away_after_minutes", "capacity", "rules", "intents"}
    if unknown:
        raise InvalidInput(
            f"routing rules: unknown key {min(unknown)!r}; "
            "use away_after_minutes, capacity, rules, intents"
        )
    away = data.get("away_after_minutes", 10)
    if isinstance(away, bool) or not isinstance(away, int) or not 1 <= away <= 24 * 60:
        raise InvalidInput("routing rules: away_after_minutes must be 1..1440")
    capacity = data.get("capacity", {})
    if not isinstance(capacity, dict):
        raise InvalidInput("routing rules: [capacity] must be a table of channel = number")
    caps = {k: capacity_value(k, v, "routing rules: [capacity]") for k, v in capacity.items()}
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise InvalidInput("routing rules: rules must be [[rules]] tables")
    intents = data.get("intents", {})
    if not isinstance(intents, dict):
        raise InvalidInput("routing rules: [intents] must be a table of intent = [words]")
    keywords = {
        name.strip().lower(): tuple(sorted(_strings(words, f"routing rules: intents.{name}")))
        for name, words in intents.items()
    }
    return RoutingRules(
        rules=tuple(_rule(entry, n) for n, entry in enumerate(entries, start=1)),
        capacity=MappingProxyType(caps),
        away_after_minutes=away,
        keywords=MappingProxyType(keywords),
        text=text,
    )


def default_text() -> str:
    """The rules of a new store (backends/routing/defaults.toml)."""
    return resources.files("backends.routing").joinpath("defaults.toml").read_text("utf-8")


@functools.lru_cache(maxsize=8)
def cached(text: str) -> RoutingRules:
    """`parse`, remembered: the store reads its rules text on every arrival."""
    return parse(text)
