"""Rows to models where every store keeps the same columns, and the stores' shared time and
cursor encodings (unix seconds; cursors of dot-separated integers). Pure: no driver."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.consent import consent_log
from backends.models import Address, Customer, Identity, IdentityKind, SourceRecord


def to_ts(value: datetime) -> int:
    if value.tzinfo is None:
        raise InvalidInput(f"time {value.isoformat()} has no time zone")
    return int(value.timestamp())


def from_ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def encode_cursor(*parts: int) -> str:
    return ".".join(str(p) for p in parts)


def customer(row: Mapping[str, Any], identities: list[Any], records: list[Any]) -> Customer:
    """A `customers` row, its identities and its source records as the model (both stores
    keep the same columns: lists and maps as JSON text, times as unix seconds)."""
    return Customer(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        emails=tuple(json.loads(row["emails"])),
        phones=tuple(json.loads(row["phones"])),
        addresses=tuple(Address(**a) for a in json.loads(row["addresses"])),
        birth_date=row["birth_date"],
        language=row["language"],
        segment=row["segment"],
        tier=row["tier"],
        consents=json.loads(row["consents"]),
        lifetime_value=row["lifetime_value"],
        currency=row["currency"],
        tags=tuple(json.loads(row["tags"])),
        attributes=json.loads(row["attributes"]),
        churn_risk=bool(row["churn_risk"]),
        unhappy=bool(row["unhappy"]),
        consent_log=consent_log(row["consents"], row["provenance"]),
        churn_score=row["churn_score"],
        churn_reasons=tuple(json.loads(row["churn_reasons"])),
        next_action=row["next_action"],
        identities=tuple(
            Identity(IdentityKind(i["kind"]), i["value"], i["source"], i["raw"]) for i in identities
        ),
        sources=tuple(
            SourceRecord(
                source=r["source"],
                source_id=r["source_id"],
                fields=json.loads(r["fields"]),
                received_at=ts(r["received_at"]),
                updated_at=ts(r["updated_at"]),
                customer_id=r["customer_id"],
            )
            for r in records
        ),
        created_at=ts(row["created_at"]),
        updated_at=ts(row["updated_at"]),
        version=row["version"],
    )
