"""Matching rules, thresholds and survivorship policies: configuration with good defaults.

A TOML file (`[identity]` table, keys as below) may override any of them:

    [identity]
    auto_threshold = 7.0
    source_priority = ["crm", "webshop", "helpdesk"]
    [identity.policies]
    first_name = "source_priority"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from backends.base import InvalidInput

MATCHERS = ("model", "points")
POLICIES = ("most_recent", "source_priority", "most_frequent", "first_non_empty", "all")

DEFAULT_POLICIES: dict[str, str] = {
    "first_name": "most_frequent",
    "last_name": "most_frequent",
    "birth_date": "source_priority",
    "emails": "all",
    "phones": "all",
    "addresses": "most_recent",
    "language": "most_recent",
    "tier": "source_priority",
    "segment": "most_recent",
}


@dataclass(frozen=True)
class MatchConfig:
    """Evidence weights (points), decision thresholds and guards."""

    #: "model": the Fellegi-Sunter match model (weights learnt from the data) decides;
    #: "points": the hand-set points and guards below
    matcher: str = "model"
    link_probability: float = 0.99  # model: match probability at or above: linked
    suggest_probability: float = 0.5  # model: at or above (and below link): a suggestion
    #: model: a FIXED_LINE_OR_MOBILE number held by more records than this is a shared line
    shared_phone_limit: int = 3
    #: a customer with this many records takes no more automatic links: they become
    #: suggestions for review (a cluster that keeps growing is chaining people together)
    review_size: int = 30
    #: an import trains the model (between batches) when the store holds this many records
    #: and the model was trained on half of them or fewer (`vista identity train`: any time)
    train_min_records: int = 1000
    auto_threshold: float = 7.0  # points at or above: linked automatically
    suggest_threshold: float = 4.0  # points at or above (and below auto): a suggestion
    email_points: float = 4.0
    mobile_points: float = 4.0
    landline_points: float = 2.0  # households share landlines
    id_points: float = 5.0  # visitor id, loyalty card
    name_exact_points: float = 2.0  # per name part, similarity >= name_same
    name_close_points: float = 1.0  # per name part, similarity >= name_close (a typo)
    name_conflict_points: float = -4.0  # per name part, similarity < name_conflict
    name_same: float = 0.97
    name_close: float = 0.88
    name_conflict: float = 0.75
    different_mobiles_points: float = -2.0  # both have a mobile, none shared
    dob_points: float = 3.0
    dob_conflict_points: float = -5.0
    address_points: float = 2.0
    postal_points: float = 0.5
    #: same name (typos allowed) at the same address, no birth date against: link
    #: (off: only a suggestion, for data where namesakes share homes)
    link_name_and_address: bool = True
    #: a value held by more records than this is junk (a shop's phone, a shared placeholder)
    junk_limit: int = 12
    #: a full name held by more records than this is a common name: it needs more evidence
    common_name_limit: int = 6
    #: blocks (name/birth date/postcode keys) bigger than this are not searched
    block_limit: int = 60
    source_priority: tuple[str, ...] = ("crm", "webshop", "helpdesk")
    policies: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    def priority(self, source: str) -> int:
        """Rank of a source in `source_priority` (lower wins; unknown sources last)."""
        try:
            return self.source_priority.index(source)
        except ValueError:
            return len(self.source_priority)


def load_config(path: str | Path | None) -> MatchConfig:
    """The defaults, overridden by the `[identity]` table of a TOML file when given.

    Raises:
        InvalidInput: unreadable file, unknown key or policy.
    """
    config = MatchConfig()
    if path is None:
        return config
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"cannot read identity configuration {path}: {e}") from e
    return apply_config(config, data.get("identity", {}))


def apply_config(config: MatchConfig, table: dict[str, Any]) -> MatchConfig:
    """`config` with the keys of an `[identity]` table applied."""
    known = {f.name for f in fields(MatchConfig)}
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise InvalidInput(f"unknown identity setting {key!r}")
        if key == "policies":
            policies = dict(config.policies)
            for name, policy in value.items():
                if policy not in POLICIES:
                    raise InvalidInput(
                        f"unknown policy {policy!r} for {name}; use {', '.join(POLICIES)}"
                    )
                policies[name] = policy
            value = policies
        elif key == "source_priority":
            value = tuple(str(v) for v in value)
        elif key == "matcher" and value not in MATCHERS:
            raise InvalidInput(f"unknown matcher {value!r}; use {', '.join(MATCHERS)}")
        changes[key] = value
    return replace(config, **changes)


def settings_rows(current: dict[str, Any], table: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, JSON value) rows that keep an `[identity]` table's settings in a store whose
    kept settings are `current` (a later table changes only the keys, and policies, it
    names).

    Raises:
        InvalidInput: an unknown key or policy (nothing is kept then).
    """
    import json

    apply_config(MatchConfig(), table)
    rows: list[tuple[str, str]] = []
    for key, value in table.items():
        if key == "policies":
            value = {**current.get("policies", {}), **value}
        elif key == "source_priority":
            value = [str(v) for v in value]
        rows.append((key, json.dumps(value, ensure_ascii=False)))
    return rows
