"""Golden profiles as rows: what a customer's records say, chosen by survivorship, in the
shape the store writes (the `customers` columns, the search row, the guard profile).

Pure work on plain values, so that an import can run it in worker processes.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from backends import provenance
from backends.identity import jsontext
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.phones import phone_tokens
from backends.identity.survivorship import Member, golden
from backends.text import plain


class GoldenRow(NamedTuple):
    """A customer's golden profile as the store writes it."""

    customer_id: int
    update: tuple[Any, ...]  # the `customers` columns the writer updates, customer id last
    search: tuple[Any, ...]  # the `customer_search` row
    profile: tuple[Any, ...]  # the `identity_profiles` row


#: What computing one customer's golden profile needs: (customer id, its records as
#: (record id, source, source id, at, features or their JSON list), the agent-corrected
#: provenance and values to keep, its order numbers).
GoldenJob = tuple[
    int,
    list[tuple[int, str, str, int, Any]],
    "tuple[dict[str, Any], dict[str, Any]] | None",
    list[str],
]


def golden_jobs(
    members: dict[int, list[Member]],
    previous: dict[int, Any],
    orders: dict[int, list[str]],
    portable: bool = False,
    texts: dict[int, str] | None = None,
) -> list[GoldenJob]:
    """The jobs of `compute_golden` for `members` (`portable`: features as their stored JSON
    text where `texts` has it, else as JSON lists, to send to another process: a string
    pickles many times faster than a list, and a list than the object)."""
    if not portable:
        return [
            (
                cid,
                [(m.record_id, m.source, m.source_id, m.at, m.features) for m in group],
                previous.get(cid),
                orders.get(cid, []),
            )
            for cid, group in sorted(members.items())
            if group
        ]
    known = texts or {}
    return [
        (
            cid,
            [
                (
                    m.record_id,
                    m.source,
                    m.source_id,
                    m.at,
                    known.get(m.record_id) or m.features.to_json(),
                )
                for m in group
            ],
            previous.get(cid),
            orders.get(cid, []),
        )
        for cid, group in sorted(members.items())
        if group
    ]


def compute_golden(cfg: MatchConfig, now: int, jobs: list[GoldenJob]) -> list[GoldenRow]:
    """The golden profile of each job's customer: `customers`, search and profile rows."""
    dumps, loads = jsontext.dumps, json.loads
    out: list[GoldenRow] = []
    for cid, parts, prev, orders in jobs:
        group = [
            Member(
                rid,
                source,
                sid,
                at,
                f
                if f.__class__ is Features
                else Features.from_json(loads(f) if f.__class__ is str else f),
            )
            for rid, source, sid, at, f in parts
        ]
        # ISO dates and name keys ([a-z ] only) need no JSON escaping
        dobs = sorted({m.features.dob for m in group if m.features.dob})
        firsts = sorted({m.features.fk for m in group if len(m.features.fk) > 1})
        dobs_json = '["' + '","'.join(dobs) + '"]' if dobs else "[]"
        firsts_json = '["' + '","'.join(firsts) + '"]' if firsts else "[]"
        values, prov = golden(group, cfg, prev[0] if prev else None, prev[1] if prev else None)
        names = {f"{values['first_name']} {values['last_name']}".strip()}
        names.update(f"{m.features.first} {m.features.last}".strip() for m in group)
        out.append(
            GoldenRow(
                cid,
                (
                    values["first_name"],
                    values["last_name"],
                    dumps(values["emails"]),
                    dumps(values["phones"]),
                    dumps(values["addresses"]),
                    values["birth_date"],
                    values["language"],
                    values["segment"],
                    values["tier"],
                    dumps(values.get("consents") or {}),
                    provenance.dumps(prov),
                    now,
                    min(m.at for m in group),
                    cid,
                ),
                (
                    cid,
                    plain(" ".join(sorted(n for n in names if n))),
                    " ".join(values["emails"]),
                    phone_tokens(values["phones"]),
                    " ".join(orders),
                ),
                (cid, dobs_json, firsts_json),
            )
        )
    return out
