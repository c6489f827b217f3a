"""A Fellegi–Sunter match model: each comparison of two records falls into one level, and
each level weighs log2(m / u) bits, where m is how often a true match shows that level
and u how often two different people do.

The weights add up with a prior (the chance that two records picked at random are one
person) into a match probability. u comes from random record pairs, m from expectation
maximisation on blocked candidate pairs (`training`); a new store starts from the
defaults below. Exact name matches weigh by how rare the name is (term frequency).
Guards are evidence too: in a household context (first names or birth dates disagree
while an address, landline or e-mail is shared) what a household shares is no evidence
of one person; where two people of one name live at one address, a record with only
their name and address is one of them as often as the data shows such pairs to be one
person (the learnt namesakes evidence), at best one in two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from backends.identity.features import Features
from backends.identity.normalise import MOBILE, PERSONAL_OR_FIXED, stored_type

MISSING = -1  # a level index: one side lacks the value, so the comparison is neutral
#: Level indexes the guards read: first name swapped with the surname, one name found in
#: the other's other field (the other name differs), first names different; surnames
#: different; birth dates different.
FIRST_SWAPPED, FIRST_CROSSED, FIRST_DIFFERENT = 4, 5, 6
LAST_DIFFERENT = 3

#: Each comparison and its levels, strongest first; the last level is "they differ".
#: Defaults (m, u) for a new store: rounded from what estimation finds on typical data.
DEFAULTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "first_name": (
        ("exact", 0.86, 0.012),
        ("jaro-winkler >= 0.92", 0.06, 0.004),
        ("jaro-winkler >= 0.80", 0.03, 0.03),
        ("initial", 0.02, 0.04),
        ("swapped with surname", 0.005, 0.00005),
        ("one name in the other's other field", 0.01, 0.002),
        ("different", 0.025, 0.912),
    ),
    "last_name": (
        ("exact", 0.88, 0.004),
        ("jaro-winkler >= 0.92", 0.06, 0.002),
        ("jaro-winkler >= 0.80", 0.025, 0.02),
        ("different", 0.035, 0.974),
    ),
    "birth_date": (
        ("exact", 0.9, 0.0001),
        ("one digit or day/month swapped", 0.06, 0.002),
        ("different", 0.04, 0.9979),
    ),
    "email": (
        ("exact", 0.7, 0.0000001),
        ("exact, a family's", 0.05, 0.0008),
        ("same local part", 0.05, 0.00001),
        ("different", 0.2, 0.9991899),
    ),
    "phone": (
        ("exact, personal", 0.65, 0.0000001),
        ("exact, shared kind", 0.1, 0.0008),
        ("different", 0.25, 0.9991999),
    ),
    "street": (
        ("exact", 0.75, 0.0001),
        ("alike, same house number", 0.1, 0.00005),
        ("different", 0.15, 0.99985),
    ),
    "postcode": (
        ("exact", 0.85, 0.003),
        ("different", 0.15, 0.997),
    ),
    "city": (
        ("exact", 0.85, 0.02),
        ("jaro-winkler >= 0.90", 0.05, 0.002),
        ("different", 0.1, 0.978),
    ),
    "visitor_id": (  # a visitor id is a browser's: one person may have several
        ("exact", 0.5, 0.000001),
        ("different", 0.5, 0.999999),
    ),
    "loyalty_card": (
        ("exact", 0.8, 0.000001),
        ("different", 0.2, 0.999999),
    ),
}
COMPARISONS: tuple[str, ...] = tuple(DEFAULTS)
#: How each level reads in a reason.
LABELS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "same first name",
        "similar first name",
        "first name alike",
        "first-name initial",
        "names swapped",
        "one name swapped, the other different",
        "different first name",
    ),
    "last_name": ("same last name", "similar last name", "last name alike", "different last name"),
    "birth_date": (
        "same birth date",
        "birth date one digit or day/month apart",
        "different birth date",
    ),
    "email": (
        "same e-mail",
        "same family e-mail",
        "same e-mail user, other domain",
        "different e-mails",
    ),
    "phone": ("same personal phone", "same landline", "different phones"),
    "street": ("same address", "same address (typed apart)", "different street"),
    "postcode": ("same postcode", "different postcode"),
    "city": ("same city", "similar city", "different city"),
    "visitor_id": ("same visitor id", "different visitor ids"),
    "loyalty_card": ("same loyalty card", "different loyalty cards"),
}
#: Comparisons that say "one household" (street, postcode, city) as a landline does:
#: the two are one piece of evidence, counted once (the larger).
ADDRESS = ("street", "postcode", "city")
#: Comparisons whose exact level weighs by the frequency of the value (term frequency).
TF_FIELDS = ("first_name", "last_name")
#: What a household shares: no evidence of one person in a household context.
HOUSEHOLD_SHARED = frozenset({"last_name", "street", "postcode", "city", "email"})

#: Default prior: the chance that two records picked at random are one person.
DEFAULT_PRIOR = 1e-5
#: Fixed evidence (bits) of the guards, shown beside the learnt weights.
GUARDS: dict[str, float] = {
    # first name or birth date differ where a household shares things; learnt: 0 where the
    # data's pairs at one address are almost never two people
    "household": -4.0,
    # only the first name differs, the birth date agrees, a home is shared: twins, unless
    # the data shows first names typed wrong or replaced that often (learnt)
    "twins": -6.0,
    # learnt: log2 of how much likelier two records of one name at one address, both with
    # a birth date, are two people (dates apart) than one; above 0, two such records of one
    # source make a namesake (a parent and a child) of any third
    "namesakes": 1.0,
}
MIN_PROB = 1e-6  # m and u are kept within [MIN_PROB, 1 - MIN_PROB]


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        """log2 Bayes factor of this level."""
        return math.log2(self.m / self.u)


@dataclass
class Model:
    """The parameters of the match model (m, u per level, a prior, term frequencies)."""

    levels: dict[str, tuple[Level, ...]]
    prior: float = DEFAULT_PRIOR
    version: int = 0  # 0: the defaults, never trained on this store
    trained_at: int = 0
    records: int = 0  # records in the store when it was trained
    pairs: int = 0  # candidate pairs EM ran on
    #: per TF field: value -> share of records holding it
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    guards: dict[str, float] = field(default_factory=lambda: dict(GUARDS))
    _weights: dict[str, tuple[float, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._weights = {c: tuple(lv.weight for lv in lvls) for c, lvls in self.levels.items()}

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def weight(self, comparison: str, level: int, value: str = "") -> float:
        """The weight of one level; an exact name weighs by the frequency of `value`."""
        if level == MISSING:
            return 0.0
        if level == 0 and value and comparison in self.tf:
            share = self.tf[comparison].get(value)
            if share is not None:
                m = self.levels[comparison][0].m
                return math.log2(m / max(share, MIN_PROB))
        return self._weights[comparison][level]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_at": self.trained_at,
            "records": self.records,
            "pairs": self.pairs,
            "prior": self.prior,
            "guards": self.guards,
            "levels": {
                c: [[lv.name, lv.m, lv.u] for lv in lvls] for c, lvls in self.levels.items()
            },
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], tf: dict[str, dict[str, float]] | None = None
    ) -> Model:
        levels = dict(default_levels())
        for name, rows in data.get("levels", {}).items():
            if name in levels and len(rows) == len(levels[name]):
                levels[name] = tuple(Level(str(r[0]), float(r[1]), float(r[2])) for r in rows)
        return cls(
            levels,
            float(data.get("prior", DEFAULT_PRIOR)),
            int(data.get("version", 0)),
            int(data.get("trained_at", 0)),
            int(data.get("records", 0)),
            int(data.get("pairs", 0)),
            tf or {},
            {**GUARDS, **data.get("guards", {})},
        )


def default_levels() -> dict[str, tuple[Level, ...]]:
    return {c: tuple(Level(*row) for row in rows) for c, rows in DEFAULTS.items()}


def default_model() -> Model:
    return Model(default_levels())


# -- comparing two records ------------------------------------------------------------


def sim(a: str, b: str) -> float:
    return 1.0 if a == b else float(JaroWinkler.normalized_similarity(a, b))


def _name_level(a: str, b: str, first: bool) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    if len(a) == 1 or len(b) == 1:
        if first:
            return 3 if a[0] == b[0] else FIRST_DIFFERENT
        return MISSING if a[0] == b[0] else LAST_DIFFERENT
    s = float(JaroWinkler.normalized_similarity(a, b))
    if s >= 0.92:
        return 1
    if s >= 0.80:
        return 2
    return FIRST_DIFFERENT if first else LAST_DIFFERENT


def date_level(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    # a digit typed wrong, dropped or two neighbours swapped (1967, 1976), or day and month
    if (a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]) or OSA.distance(a, b) <= 1:
        return 1
    return 2


@lru_cache(maxsize=200_000)
def _street_parts(street: str) -> tuple[tuple[str, ...], str]:
    """(house numbers: the words with a digit, the street's name: the other words) of a
    street key, split once per street rather than once per pair compared."""
    words = street.split()
    numbers = tuple(w for w in words if not w.isalpha() and any(c.isdigit() for c in w))
    return numbers, " ".join(w for w in words if w not in numbers)


def same_street(a: str, b: str) -> bool:
    """Street names alike (typos allowed) and house numbers exactly the same."""
    if a == b:
        return True
    na, rest_a = _street_parts(a)
    nb, rest_b = _street_parts(b)
    if na != nb:
        return False
    return sim(rest_a, rest_b) >= 0.92


def other_town(a: Features, b: Features) -> bool:
    """Whether the two addresses are in different places: postcodes and towns both known
    and both apart (a town typed with a slip is the same town)."""
    return (
        bool(a.postal and b.postal and a.ck and b.ck)
        and a.postal != b.postal
        and _city_level(a.ck, b.ck) == 2
    )


def _street_level(a: Features, b: Features) -> int:
    if not a.sk or not b.sk:
        return MISSING
    if a.sk == b.sk:
        return 0
    return 1 if same_street(a.sk, b.sk) else 2


def made_of_names(local: str, f: Features) -> bool:
    """Whether an e-mail's user name is spelt from the person's own names alone (no digits):
    `mario.rossi`, `rossimario`, `mrossi`. Two records of one name share such a user name
    at two providers whether or not they are one person (a parent and a child named alike
    pick the same obvious one): it says nothing the names have not said."""
    if any(c.isdigit() for c in local) or not (f.fk or f.lk):
        return False
    rest = "".join(c for c in local if c.isalpha())
    for name in sorted((f.fk.replace(" ", ""), f.lk.replace(" ", "")), key=len, reverse=True):
        if len(name) > 1:
            rest = rest.replace(name, "", 1)
    return len(rest) <= 1  # an initial may be left


def _email_level(a: Features, b: Features, family: frozenset[str] | set[str]) -> int:
    if not a.emails or not b.emails:
        return MISSING
    shared = set(a.emails).intersection(b.emails)
    if shared:
        return 1 if shared <= family else 0
    users = {e.split("@", 1)[0] for e in a.emails}.intersection(
        e.split("@", 1)[0] for e in b.emails
    )
    if users:
        # a user name spelt from both records' names is no evidence beyond the names
        if all(made_of_names(u, a) and made_of_names(u, b) for u in users):
            return MISSING
        return 2
    return 3


def personal(value: str, kind: str, busy: frozenset[str] | set[str]) -> bool:
    """Whether a phone (`kind`: the type its features keep) is a personal one: a mobile, or
    a number the numbering plan does not tell apart (FIXED_LINE_OR_MOBILE) that few
    records hold."""
    kind = stored_type(value, kind)
    if kind == MOBILE:
        return True
    return kind == PERSONAL_OR_FIXED and value not in busy


def _phone_level(a: Features, b: Features, busy: frozenset[str] | set[str]) -> int:
    if not a.phones or not b.phones:
        return MISSING
    numbers = {p for p, _k in b.phones}
    shared = [(p, k) for p, k in a.phones if p in numbers]
    if any(personal(p, k, busy) for p, k in shared):
        return 0
    both = any(personal(p, k, busy) for p, k in a.phones) and any(
        personal(p, k, busy) for p, k in b.phones
    )
    if both:
        return 2  # each has a personal phone, and none is shared
    # a shared line; or nothing shared, but a landline against a mobile says nothing
    return 1 if shared else MISSING


def _exact(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    return 0 if a == b else 1


def _city_level(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    return 1 if float(JaroWinkler.normalized_similarity(a, b)) >= 0.9 else 2


#: Jaro-Winkler similarity at or above which a first name reads as the other's surname (and
#: the surname as its first name) in a swap typed with slips.
SWAP_SIMILARITY = 0.8


def swapped(a: Features, b: Features) -> bool:
    """Whether `b` holds `a`'s first name and surname the other way round (typos allowed)."""
    if len(a.fk) < 2 or len(a.lk) < 2 or len(b.fk) < 2 or len(b.lk) < 2:
        return False
    return sim(a.fk, b.lk) >= SWAP_SIMILARITY and sim(a.lk, b.fk) >= SWAP_SIMILARITY


#: Jaro-Winkler similarity at or above which one record's first name reads as the other's
#: surname (or the reverse) when the other name differs: swapped, and one of them replaced.
CROSS_SIMILARITY = 0.92


def crossed(a: Features, b: Features) -> bool:
    """Whether one of `a`'s names is `b`'s other name (typos allowed): a swap in which the
    other name was replaced or lost."""
    if len(a.fk) < 2 or len(a.lk) < 2 or len(b.fk) < 2 or len(b.lk) < 2:
        return False
    return sim(a.fk, b.lk) >= CROSS_SIMILARITY or sim(a.lk, b.fk) >= CROSS_SIMILARITY


def gamma(
    a: Features,
    b: Features,
    busy: frozenset[str] | set[str] = frozenset(),
    family: frozenset[str] | set[str] = frozenset(),
) -> list[int]:
    """The level of each comparison (in `COMPARISONS` order; MISSING where a side lacks it).

    `busy`: phones held by many records (a shared line even where the plan says personal);
    `family`: e-mails held by records of several first names (a household's).
    """
    first = _name_level(a.fk, b.fk, True)
    last = _name_level(a.lk, b.lk, False)
    if first == FIRST_DIFFERENT and last == LAST_DIFFERENT:
        if swapped(a, b):
            first, last = FIRST_SWAPPED, MISSING  # first and last name swapped
        elif crossed(a, b):
            first, last = FIRST_CROSSED, MISSING  # one name swapped, the other replaced
    return [
        first,
        last,
        date_level(a.dob, b.dob),
        _email_level(a, b, family),
        _phone_level(a, b, busy),
        _street_level(a, b),
        _exact(a.postal, b.postal),
        _city_level(a.ck, b.ck),
        _exact(a.visitor_id, b.visitor_id),
        _exact(a.loyalty_card, b.loyalty_card),
    ]


@dataclass(frozen=True, slots=True)
class Match:
    """What the model made of a pair: the weight in bits, the probability, the reasons."""

    weight: float
    probability: float
    reasons: tuple[str, ...]
    #: an identifier only one person has (an e-mail not a family's, a loyalty card) agrees,
    #: and so does the birth date
    vouched: bool = False
    #: something beyond the names and the town agrees (`beyond_name`)
    beyond: bool = True

    @property
    def reason(self) -> str:
        return ", ".join(self.reasons)


def family_emails(groups: Iterable[tuple[str, Iterable[Features]]]) -> set[str]:
    """The identifiers (of `(value, its holders)` groups: e-mails, phones) that records of
    two people hold: first names that are no typo of each other, or birth dates more than
    a slip apart. A household's, which say "one household" rather than "one person"."""
    out: set[str] = set()
    for value, holders in groups:
        group = list(holders)
        names = list({f.fk for f in group if len(f.fk) > 1})
        if any(
            _name_level(x, y, True) == FIRST_DIFFERENT
            for i, x in enumerate(names)
            for y in names[i + 1 :]
        ):
            out.add(value)  # two first names that are no typo of each other
            continue
        dates = list({f.dob for f in group if f.dob})
        if any(date_level(x, y) == 2 for i, x in enumerate(dates) for y in dates[i + 1 :]):
            out.add(value)  # two birth dates: a parent and a child
    return out


def household_context(g: list[int], namesakes_rare: bool = False) -> bool:
    """First names, birth dates (or surnames, with no birth date agreeing) disagree while a
    household's things (address, landline, e-mail) are shared.

    `namesakes_rare`: the data shows one name at one home with two birth dates rarely (the
    learnt namesakes evidence is against): there another birth date under the same names
    is a typing slip, not a parent and a child."""
    first, last, dob, email, phone, street = g[0], g[1], g[2], g[3], g[4], g[5]
    shares = street in (0, 1) or phone == 1 or email in (0, 1)
    if dob == 2 and namesakes_rare and first in (0, 1) and last in (0, 1):
        return False
    # a surname changes (marriage) for one person: with a birth date agreeing it is no
    # household, without one it is like another first name; another first name with the
    # same birth date is twins or a first name typed wrong (`twins`)
    return shares and (
        dob == 2 or (dob != 0 and (first == FIRST_DIFFERENT or last == LAST_DIFFERENT))
    )


def twins(g: list[int]) -> bool:
    """Only the first name differs where the birth date agrees and a home is shared: twins,
    or one person whose first name was typed wrong or replaced."""
    shares = g[5] in (0, 1) or g[4] == 1 or g[3] in (0, 1)
    return shares and g[0] == FIRST_DIFFERENT and g[2] == 0


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0**weight
    return odds / (1 + odds)


def compare(
    model: Model,
    a: Features,
    b: Features,
    busy: frozenset[str] | set[str] = frozenset(),
    namesakes: bool = False,
    family: frozenset[str] | set[str] = frozenset(),
) -> Match:
    """Score a pair: the prior plus each level's weight plus the guards' evidence.

    `namesakes`: two people of `a`'s name seem to live at its address; unless something
    only one person has agrees (birth date, e-mail, personal phone, ids), the pair is at
    best one of the two.
    """
    g = gamma(a, b, busy, family)
    if g[5] in (0, 1) and other_town(a, b):
        # a street of the same name in another town is another address (its level stays
        # for estimation: u counts such coincidences as random pairs show them)
        g[5] = 2
    total = model.prior_weight
    reasons: list[str] = []
    # where training found no households in the data (guard weight 0), a shared home with
    # another first name or birth date is typing, not a family
    household = model.guards["household"] < 0 and household_context(
        g, model.guards.get("namesakes", 1.0) < 0
    )
    weights: dict[str, float] = {}
    for name, level in zip(COMPARISONS, g, strict=True):
        if level == MISSING:
            continue
        value = (a.fk if name == "first_name" else a.lk) if name in TF_FIELDS else ""
        w = model.weight(name, level, value)
        if household and w > 0 and (name in HOUSEHOLD_SHARED or (name == "phone" and level == 1)):
            w = 0.0  # a household shares it: no evidence of one person here
        weights[name] = w
    # street, postcode and city are one address: its strongest agreement counts (or, when
    # none agrees, its strongest disagreement: a move is one event)
    parts = [c for c in ADDRESS if c in weights]
    if len(parts) > 1:
        agree = [c for c in parts if weights[c] > 0]
        keep = max(agree or parts, key=lambda c: abs(weights[c]))
        for c in parts:
            if c != keep:
                weights[c] = 0.0
    # a landline, a family e-mail and an address all say "one household": counted once
    home = {c: weights[c] for c in ADDRESS if weights.get(c, 0.0) > 0}
    if g[4] == 1 and weights.get("phone", 0.0) > 0:
        home["phone"] = weights["phone"]
    if g[3] == 1 and weights.get("email", 0.0) > 0:
        home["email"] = weights["email"]
    if len(home) > 1:
        best = max(home, key=lambda c: home[c])
        for c in home:
            if c != best:
                weights[c] = 0.0
    for name, level in zip(COMPARISONS, g, strict=True):
        if level != MISSING:
            total += weights[name]
            reasons.append(f"{LABELS[name][level]} ({weights[name]:+.1f})")
    if household:
        w = model.guards["household"]
        total += w
        reasons.append(f"guard: household ({w:+.1f})")
    elif twins(g):
        w = model.guards["twins"]
        total += w
        reasons.append(f"guard: twins ({w:+.1f})")
    personal_agrees = g[2] == 0 or g[3] == 0 or g[4] == 0 or g[8] == 0 or g[9] == 0
    if namesakes and not personal_agrees and g[0] in (0, 1) and g[1] in (0, 1):
        # two people of this name live here: the pair is one person as often as the data
        # shows two records of one name at one home to be (the learnt namesakes evidence:
        # log2 of how much likelier two people are than one), never more than one in two
        # (untrained: one in two, a suggestion for a person)
        learnt = model.guards.get("namesakes", 1.0) if model.version else 0.0
        cap = -max(learnt, 0.0)
        if total > cap:
            total = cap
            reasons.append(f"guard: namesakes at this address ({cap:+.1f})")
    return Match(round(total, 2), probability(total), tuple(reasons), vouched(g), beyond_name(g))


def beyond_name(g: list[int]) -> bool:
    """Whether anything beyond the names and the town agrees: a birth date (or a slip of
    it), an e-mail (or its user part), a phone, a street, a postcode or an id. Two records
    of one name and town alone are not worth a person's time: many people share both."""
    dob, email, phone, street, postcode, visitor, card = g[2], g[3], g[4], g[5], g[6], g[8], g[9]
    return (
        dob in (0, 1)
        or email in (0, 1, 2)
        or phone in (0, 1)
        or street in (0, 1)
        or postcode == 0
        or visitor == 0
        or card == 0
    )


def vouched(g: list[int]) -> bool:
    """Whether an identifier only one person has agrees (an e-mail that is no family's, a
    loyalty card; not a phone or a visitor id, which a household may share unseen), and so
    does the birth date (a parent and a child of one name may share a mailbox: the name is
    not enough)."""
    return (g[3] == 0 or g[9] == 0) and g[2] == 0


def levels_of(model: Model) -> Iterable[tuple[str, Level, float]]:
    """(comparison, level, weight) of every level, for showing the model."""
    for name, lvls in model.levels.items():
        for lv in lvls:
            yield name, lv, lv.weight
