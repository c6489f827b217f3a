"""Who gets a contact: an available operator with the skill and spare capacity on its channel,
the one idle longest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """An operator who is online (and not idle past the away limit), as routing sees them.

    Empty `intents`, `languages` or `channels` mean any: a generalist."""

    name: str
    intents: frozenset[str]
    languages: frozenset[str]
    channels: frozenset[str]
    capacity: Mapping[str, int]  # per channel, the agent's own or the rules' default
    held: Mapping[str, int]  # contacts held now per channel (unresolved, not snoozed)
    idle_since: int  # unix seconds: the last time work was given to them (or they came online)
    given: int = 0  # order in which work was last given (breaks ties within one second)

    @property
    def rank(self) -> tuple[int, int, str]:
        """Sort key: idle longest first (earliest time, then earliest given), then name."""
        return (self.idle_since, self.given, self.name)

    def spare(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.held.get(channel, 0)

    def can_take(self, skill: str, language: str, channel: str) -> bool:
        return (
            (not self.intents or skill in self.intents)
            and (not self.languages or not language or language in self.languages)
            and (not self.channels or channel in self.channels)
            and self.spare(channel) > 0
        )


def choose(
    candidates: Iterable[Candidate], skill: str, language: str, channel: str
) -> Candidate | None:
    """The operator to offer a contact to: among those who can take it, the one idle longest
    (ties by who was given work first, then name); None when nobody can."""
    best: Candidate | None = None
    for c in candidates:
        if c.can_take(skill, language, channel) and (best is None or c.rank < best.rank):
            best = c
    return best
