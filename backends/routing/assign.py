"""Who gets a contact: an available operator with the skill and spare capacity on its channel,
the one idle longest first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
    idle_since: int  # unix seconds: the last time work was given to them (or they came online)
    given: int = 0  # order in which work was last given (breaks ties within one second)

    @property
    def rank(self) -> tuple[int, int, str]:
        """Sort key: idle longest first (earliest time, then earliest given), then name."""
        return (self.idle_since, self.given, self.name)

    def skilled(self, skill: str, language: str, channel: str) -> bool:
        """Has the skill, speaks the language (an unknown one: anybody) and works the channel."""
        return (
            (not self.intents or skill in self.intents)
            and (not self.languages or not language or language in self.languages)
            and (not self.channels or channel in self.channels)
            and self.capacity.get(channel, 0) > 0
        )


def choose(
    candidates: Iterable[Candidate],
    skill: str,
    language: str,
    channel: str,
    held: Callable[[str], int],
) -> Candidate | None:
    """The operator to offer a contact to: among the skilled ones, in rank order (idle
    longest first), the first whose `held(name)` contacts on `channel` leave room; None
    when nobody can take it. `held` is asked only until one has room (usually once)."""
    for c in sorted(
        (c for c in candidates if c.skilled(skill, language, channel)), key=lambda c: c.rank
    ):
        if held(c.name) < c.capacity.get(channel, 0):
            return c
    return None
