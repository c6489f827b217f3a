"""Scoring a pair of source records: deterministic rules on strong identifiers, fuzzy
evidence on name, birth date, address and phone, and guards against classic false merges.

Evidence adds up in points (weights in `MatchConfig`). Guards then cap the
decision: a household (shared address, landline or family e-mail with a
different first name), a common name with nothing else, or a shared
identifier that disagrees with everything else never links automatically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import JaroWinkler

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.normalise import LANDLINE, MOBILE, stored_type


class Decision(StrEnum):
    LINK = "link"
    SUGGEST = "suggest"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the matcher made of a pair: the decision, its points and the reasons."""

    decision: Decision
    points: float
    reasons: tuple[str, ...]
    probability: float | None = None  # the match model's, when it decided
    #: an identifier only one person has agrees, and so does the birth date (model.vouched):
    #: the pair holds even against a customer's other first name or birth date
    vouched: bool = False

    @property
    def score(self) -> float:
        """The match probability; for the hand-set points, the points squashed into 0..1
        (0.5 at the suggestion threshold's midpoint)."""
        if self.probability is not None:
            return self.probability
        return round(1 / (1 + math.exp(-(self.points - 5.5) / 1.5)), 3)

    @property
    def reason(self) -> str:
        return ", ".join(self.reasons)


def _sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return float(JaroWinkler.normalized_similarity(a, b))


def _name_points(a: str, b: str, label: str, cfg: MatchConfig, out: list[str]) -> tuple[float, int]:
    """Points for one name part, and -1 conflict / 0 unknown / 1 agree."""
    if not a or not b:
        return 0.0, 0
    if len(a) == 1 or len(b) == 1:  # an initial
        return (0.5, 1) if a[0] == b[0] else (cfg.name_conflict_points, -1)
    s = _sim(a, b)
    if s >= cfg.name_same:  # full points, but only equal names are called the same
        out.append(f"same {label}" if a == b else f"similar {label}")
        return cfg.name_exact_points, 1
    if s >= cfg.name_close:
        out.append(f"{label} similarity {s:.2f}")
        return cfg.name_close_points, 1
    if s < cfg.name_conflict:
        out.append(f"different {label} ({s:.2f})")
        return cfg.name_conflict_points, -1
    out.append(f"{label} similarity {s:.2f}")
    return 0.0, 0


def _same_street(a: str, b: str) -> bool:
    """Street names alike (typos allowed) and house numbers exactly the same."""
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    na = [w for w in wa if any(c.isdigit() for c in w)]
    nb = [w for w in wb if any(c.isdigit() for c in w)]
    if na != nb:
        return False
    return (
        _sim(" ".join(w for w in wa if w not in na), " ".join(w for w in wb if w not in nb)) >= 0.92
    )


def _mobiles(f: Features) -> bool:
    return any(stored_type(p, k) == MOBILE for p, k in f.phones)


def score(
    a: Features, b: Features, cfg: MatchConfig, common_name: bool = False, household: bool = False
) -> Verdict:
    """Compare two records.

    `common_name`: their shared full name is a common one. `household`: other people
    (other first names) have records at this address, so a name and address are not enough.
    """
    reasons: list[str] = []
    points = 0.0
    strong = 0  # shared identifiers (e-mail, mobile, ids)
    personal = 0  # shared identifiers a household does not share (mobile, ids)
    different_mobiles = False
    shared_household = False  # shared things a household shares
    if a.visitor_id and a.visitor_id == b.visitor_id:
        points += cfg.id_points
        strong += 1
        personal += 1
        reasons.append("same visitor id")
    if a.loyalty_card and a.loyalty_card == b.loyalty_card:
        points += cfg.id_points
        strong += 1
        personal += 1
        reasons.append("same loyalty card")
    if a.emails and b.emails and not set(a.emails).isdisjoint(b.emails):
        points += cfg.email_points
        strong += 1
        shared_household = True  # a family e-mail
        reasons.append("same e-mail")
    if a.phones and b.phones:
        numbers_b = {p for p, _k in b.phones}
        best = 0.0
        label = ""
        for value, kind in a.phones:
            if value in numbers_b:
                if stored_type(value, kind) == MOBILE:
                    if cfg.mobile_points > best:
                        best, label = cfg.mobile_points, "same mobile"
                elif cfg.landline_points > best:
                    best, label = cfg.landline_points, "same landline"
        if best:
            points += best
            reasons.append(label)
            if label == "same mobile":
                strong += 1
                personal += 1
            else:
                shared_household = True
        if label != "same mobile" and cfg.different_mobiles_points and _mobiles(a) and _mobiles(b):
            points += cfg.different_mobiles_points  # each has a mobile, and they differ
            different_mobiles = True
            reasons.append("different mobiles")

    # names, tolerating first/last swapped
    first_pts, first_agree = _name_points(a.fk, b.fk, "first name", cfg, reasons)
    last_pts, last_agree = _name_points(a.lk, b.lk, "last name", cfg, reasons)
    if first_agree < 0 and last_agree < 0 and a.fk and a.lk:
        swapped: list[str] = []
        p1, s1 = _name_points(a.fk, b.lk, "first name", cfg, swapped)
        p2, s2 = _name_points(a.lk, b.fk, "last name", cfg, swapped)
        if s1 > 0 and s2 > 0:
            reasons = [r for r in reasons if "name" not in r] + ["names swapped"] + swapped
            first_pts, first_agree, last_pts, last_agree = p1, s1, p2, s2
    name_points = first_pts + last_pts
    names_agree = first_agree > 0 and last_agree > 0
    if common_name and names_agree and strong == 0:
        name_points /= 2
        reasons.append("common name")
    points += name_points

    dob_agree = 0
    if a.dob and b.dob:
        if a.dob == b.dob:
            points += cfg.dob_points
            dob_agree = 1
            reasons.append("same birth date")
        elif a.dob[:4] == b.dob[:4] and a.dob[5:7] == b.dob[8:10] and a.dob[8:10] == b.dob[5:7]:
            points += 1.0
            reasons.append("birth date with day and month swapped")
        else:
            points += cfg.dob_conflict_points
            dob_agree = -1
            reasons.append("different birth date")

    address_agree = False
    if (
        a.sk
        and b.sk
        and (a.postal == b.postal or a.ck == b.ck)
        and (a.postal or a.ck)
        and _same_street(a.sk, b.sk)
    ):
        points += cfg.address_points
        address_agree = True
        shared_household = True
        reasons.append("same address")
    if not address_agree and a.postal and a.postal == b.postal:
        points += cfg.postal_points
        reasons.append("same postcode")

    decision = Decision.NONE
    name_and_address = (
        cfg.link_name_and_address
        and strong == 0
        and names_agree
        and not (a.source and a.source == b.source)
        and address_agree
        and dob_agree >= 0
        and first_pts >= cfg.name_exact_points
        and not different_mobiles
        and not household
    )
    if points >= cfg.auto_threshold or name_and_address:
        decision = Decision.LINK
    elif points >= cfg.suggest_threshold and (
        strong or shared_household or dob_agree > 0 or address_agree or "same postcode" in reasons
    ):
        decision = Decision.SUGGEST  # a name alone is not worth a person's time

    # guards: cap at a suggestion (or nothing) whatever the points say
    if decision is Decision.LINK:
        if first_agree < 0 and (shared_household or strong):
            decision = Decision.SUGGEST
            reasons.append("guard: household (different first name)")
        elif first_agree == 0 and a.fk and b.fk and shared_household and not personal:
            decision = Decision.SUGGEST
            reasons.append("guard: household (first names only alike)")
        elif dob_agree < 0:
            decision = Decision.SUGGEST
            reasons.append("guard: birth dates disagree")
        elif strong == 0 and not names_agree:
            decision = Decision.SUGGEST
            reasons.append("guard: no identifier and names differ")
        elif strong == 0 and common_name and not address_agree:
            decision = Decision.SUGGEST
            reasons.append("guard: common name")
        elif strong == 0 and dob_agree <= 0 and not name_and_address:
            decision = Decision.SUGGEST
            reasons.append(
                "guard: only name and address" + (" of a household" if household else "")
            )
        elif (
            strong and first_agree == 0 and last_agree <= 0 and dob_agree <= 0 and not address_agree
        ):
            decision = Decision.SUGGEST
            reasons.append("guard: shared identifier, nothing else agrees")
    if strong and first_agree < 0 and last_agree < 0 and decision is not Decision.NONE:
        decision = Decision.NONE  # a shared identifier that disagrees with everything else
        reasons.append("guard: shared identifier, different person")
    return Verdict(decision, round(points, 2), tuple(reasons))


__all__ = ["LANDLINE", "MOBILE", "Decision", "Verdict", "score"]
