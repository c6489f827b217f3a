"""Cluster guards: what a customer's records say about birth date and first name, so a
record joins a customer only if it agrees with all of it, and the namesakes test for
two people of one name at one address."""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.model import SWAP_SIMILARITY, date_level


class Profile:
    """What a customer's records say about birth date and names (for cluster guards)."""

    __slots__ = ("dobs", "firsts", "lasts")

    def __init__(self) -> None:
        self.dobs: set[str] = set()
        self.firsts: set[str] = set()
        self.lasts: set[str] = set()

    def swapped(self, f: Features) -> bool:
        """Whether `f` holds this customer's names the other way round (first name in the
        surname field and the surname in the first-name field, typos allowed): a slip of
        typing, one person."""
        if len(f.fk) < 2 or len(f.lk) < 2:
            return False
        return any(_sim(f.fk, x) >= SWAP_SIMILARITY for x in self.lasts) and any(
            _sim(f.lk, x) >= SWAP_SIMILARITY for x in self.firsts
        )

    def add(self, f: Features) -> None:
        if f.dob:
            self.dobs.add(f.dob)
        first, last = (f.lk, f.fk) if self.swapped(f) else (f.fk, f.lk)
        if len(first) > 1:
            self.firsts.add(first)
        if last:
            self.lasts.add(last)

    def update(self, other: Profile) -> None:
        self.dobs |= other.dobs
        self.firsts |= other.firsts
        self.lasts |= other.lasts

    def clash(self, f: Features, cfg: MatchConfig) -> str:
        """Why record `f` cannot join this customer ("" if it can)."""
        if f.dob and any(not same_date(f.dob, d) for d in self.dobs):
            return "a different birth date"
        first = f.lk if self.swapped(f) else f.fk
        if len(first) > 1 and any(_sim(first, x) < cfg.name_conflict for x in self.firsts):
            return "a different first name"
        return ""

    def conflicts(self, other: Profile, cfg: MatchConfig) -> bool:
        """Whether two customers disagree on birth date or first name."""
        if any(not same_date(a, b) for a in self.dobs for b in other.dobs):
            return True
        return any(_sim(a, b) < cfg.name_conflict for a in self.firsts for b in other.firsts)


EMPTY = Profile()


def namesakes(f: Features, neighbours: list[Features], evidence: float = 1.0) -> bool:
    """Whether two people with `f`'s name seem to live at its address: two records of that
    name there have birth dates more than a slip of typing apart (a parent and a child named
    after them), or one source holds two records of it. `evidence`: the model's learnt
    namesakes evidence (log2 of how much likelier one name at one home with both birth dates
    is two people than one); at or below 0 (a file of duplicates) neither is a sign."""
    same = [n for n in neighbours if n.fk == f.fk and n.lk[:3] == f.lk[:3]] + [f]
    if len(same) < 2 or evidence <= 0:
        return False
    dobs = list({n.dob for n in same if n.dob})
    if any(not near_date(a, b) for i, a in enumerate(dobs) for b in dobs[i + 1 :]):
        return True
    sources = [n.source for n in same if n.source]
    return len(sources) != len(set(sources))


def near_date(a: str, b: str) -> bool:
    """The same birth date, or one a slip of typing apart (one digit, day and month swapped)."""
    return date_level(a, b) in (0, 1)


def same_date(a: str, b: str) -> bool:
    return a == b or (a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7])


def _sim(a: str, b: str) -> float:
    return 1.0 if a == b else float(JaroWinkler.normalized_similarity(a, b))
