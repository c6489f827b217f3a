"""Identity review as the contract shows it: suggestions, journal entries, explanations,
provenance and the match model, built from the plain dicts a store's queries return.

Pure: both stores read their rows and hand them here, so the models come out the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.identity.config import MatchConfig
from backends.models import (
    CustomerExplanation,
    FieldProvenance,
    IdentityJournalEntry,
    IdentityLink,
    IdentityModel,
    IdentityModelLevel,
    IdentitySuggestion,
    RecordChange,
    RecordRef,
)


def ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def check_limit(limit: int, high: int) -> int:
    if not 1 <= limit <= high:
        raise InvalidInput(f"limit must be between 1 and {high} (got {limit})")
    return limit


def cursor(after: str) -> tuple[float, int] | None:
    """(score, id) a suggestions page starts after; None for the first page.

    Raises:
        InvalidInput: not a cursor a suggestion gave.
    """
    if not after:
        return None
    score, _sep, ident = after.partition(":")
    try:
        return float(score), int(ident)
    except ValueError:
        raise InvalidInput(f"not a suggestions cursor: {after!r}") from None


def model_info(model: Any, cfg: MatchConfig) -> IdentityModel:
    return IdentityModel(
        model.version,
        ts(model.trained_at or None),
        model.records,
        model.pairs,
        model.prior,
        cfg.link_probability,
        cfg.suggest_probability,
        tuple(
            IdentityModelLevel(name, lv.name, lv.m, lv.u, round(lv.weight, 3))
            for name, levels in model.levels.items()
            for lv in levels
        ),
        dict(model.guards),
    )


def journal_entry(d: dict[str, Any]) -> IdentityJournalEntry:
    return IdentityJournalEntry(
        d["id"],
        datetime.fromtimestamp(d["at"], UTC),
        d["actor"],
        d["action"],
        d["customer_id"],
        d["other_id"],
        tuple(d["records"]),
        d["reason"],
    )


def suggestion(r: Any) -> IdentitySuggestion:
    return IdentitySuggestion(
        r["id"],
        r["ca"],
        r["cb"],
        r["na"],
        r["nb"],
        r["ka"],
        r["kb"],
        r["score"],
        r["reason"],
        datetime.fromtimestamp(r["created_at"], UTC),
        f"{r['score']!r}:{r['id']}",
    )


def explanation(customer_id: int, d: dict[str, Any]) -> CustomerExplanation:
    return CustomerExplanation(
        customer_id,
        tuple(
            RecordRef(
                r["id"],
                r["source"],
                r["source_id"],
                datetime.fromtimestamp(r["received_at"], UTC),
                datetime.fromtimestamp(r["updated_at"], UTC),
            )
            for r in d["records"]
        ),
        tuple(
            IdentityLink(
                x["record_a"],
                x["record_b"],
                x["kind"],
                x["score"],
                x["reason"],
                x["actor"],
                datetime.fromtimestamp(x["at"], UTC),
            )
            for x in d["links"]
        ),
        tuple(journal_entry(j) for j in d["journal"]),
        tuple(
            RecordChange(
                c["record"], datetime.fromtimestamp(c["at"], UTC), c["import_id"], c["changed"]
            )
            for c in d["changes"]
        ),
    )


def provenance(row: dict[str, Any]) -> tuple[FieldProvenance, ...]:
    """Where each profile field of a customer's row came from (its `provenance` JSON)."""
    prov = json.loads(row["provenance"] or "{}")
    out: list[FieldProvenance] = []
    for name, info in prov.items():
        if not isinstance(info, dict):
            continue
        value = row.get(name)
        if name in ("emails", "phones", "addresses") and isinstance(value, str):
            value = json.loads(value)
        out.append(
            FieldProvenance(
                name,
                value,
                info.get("source", ""),
                info.get("source_id", ""),
                ts(info.get("at")),
                tuple(info.get("losers", [])),
                info.get("values", {}),
            )
        )
    return tuple(out)


def link_row(row: Any) -> dict[str, Any]:
    """An identity link as `explanation` reads it (records named SOURCE:SOURCE_ID)."""
    return {
        "record_a": row["ka"],
        "record_b": row["kb"],
        "kind": row["kind"],
        "score": row["score"],
        "reason": row["reason"],
        "actor": row["actor"],
        "at": row["created_at"],
    }


def split_undoes(
    journal: list[tuple[int, list[int], dict[str, Any]]], moving: list[int]
) -> tuple[int, dict[str, Any]]:
    """(customer id, snapshot) to restore when the records `moving` are exactly those an
    earlier merge brought in (`journal`: (absorbed customer, records, snapshot), newest
    first, of merges whose absorbed customer is gone); (0, {}) otherwise."""
    for other, records, snapshot in journal:
        if sorted(records) == moving:
            return other, snapshot
    return 0, {}


def apart_pairs(moving: list[int], remaining: list[int]) -> list[tuple[int, int]]:
    """The record pairs a split keeps apart (a sample of each side, enough for the guard)."""
    return [(min(a, b), max(a, b)) for a in moving[:20] for b in remaining[:20]]


def absorbed(keep: dict[str, Any], gone: dict[str, Any]) -> tuple[Any, ...]:
    """What a merge adds to the kept customer's row from the absorbed one's: (lifetime
    value to add, tags, attributes, consents (JSON; the kept customer's win), churn risk,
    unhappy, created at (each the larger, the earlier))."""
    from backends.identity.jsontext import dumps

    tags = list(dict.fromkeys(json.loads(keep["tags"]) + json.loads(gone["tags"])))
    attributes = {**json.loads(gone["attributes"]), **json.loads(keep["attributes"])}
    consents = {**json.loads(gone["consents"]), **json.loads(keep["consents"])}
    return (
        gone["lifetime_value"],
        dumps(tags),
        dumps(attributes),
        dumps(consents),
        gone["churn_risk"],
        gone["unhappy"],
        gone["created_at"],
    )


def journal_row(
    now: int,
    actor: str,
    action: str,
    customer_id: int,
    other_id: int,
    records: list[int],
    reason: str,
    snapshot: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """An `identity_journal` row (at, actor, action, customer, other, records, reason,
    snapshot): what undoing a merge needs."""
    from backends.identity.jsontext import dumps

    return (
        now,
        actor,
        action,
        customer_id,
        other_id,
        dumps(sorted(records)),
        reason,
        dumps(snapshot or {}),
    )


#: An audit entry to record: (action, object type, object id, keyword arguments).
AuditNote = tuple[str, str, int, dict[str, Any]]


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    from backends.audit_chain import diff

    return diff(before, after)


def train_notes(model: IdentityModel) -> list[AuditNote]:
    """The audit entry of a training: the model's version, was and is."""
    return [
        (
            "train",
            "identity-model",
            model.version,
            {
                "changes": {"version": [model.version - 1, model.version]},
                "detail": {"records": model.records, "pairs": model.pairs, "prior": model.prior},
            },
        )
    ]


def merge_notes(
    keep: int,
    other: int,
    before: dict[str, Any],
    gone: dict[str, Any],
    after: dict[str, Any],
    entry: dict[str, Any],
) -> list[AuditNote]:
    """The audit entries of a merge: the kept customer's profile before and `after`, and
    the absorbed one's (`gone`) going."""
    return [
        (
            "merge",
            "customer",
            keep,
            {
                "customer_id": keep,
                "changes": _diff(before, after),
                "detail": {"absorbed": other, "records": entry["records"], "journal": entry["id"]},
            },
        ),
        (
            "merged-into",
            "customer",
            other,
            {
                "customer_id": other,
                "changes": _diff(gone, {}),
                "detail": {"into": keep, "journal": entry["id"]},
            },
        ),
    ]


def split_notes(
    customer_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    new_profile: dict[str, Any],
    entry: dict[str, Any],
) -> list[AuditNote]:
    """The audit entries of a split: the customer's profile before and `after`, and the
    new (or restored) customer's."""
    new = entry["other_id"]
    return [
        (
            "split",
            "customer",
            customer_id,
            {
                "customer_id": customer_id,
                "changes": _diff(before, after),
                "detail": {
                    "new_customer": new,
                    "records": entry["records"],
                    "journal": entry["id"],
                },
            },
        ),
        (
            "split-from",
            "customer",
            new,
            {
                "customer_id": new,
                "changes": _diff({}, new_profile),
                "detail": {"from": customer_id, "journal": entry["id"]},
            },
        ),
    ]


def reject_notes(suggestion_id: int) -> list[AuditNote]:
    return [
        (
            "reject-suggestion",
            "suggestion",
            suggestion_id,
            {"changes": {"status": ["open", "rejected"]}},
        )
    ]
