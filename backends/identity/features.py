"""From a source record (mapped to Vista's canonical fields) to normalised features and keys.

Features are what matching and survivorship read; they are stored beside the
untouched source record, so a record is normalised once, not at every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backends.identity import normalise as n

#: Vista's canonical customer fields: columns named like these need no mapping.
CANONICAL_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "name", "email", "phone", "mobile", "landline", "whatsapp",
    "birth_date", "street", "city", "region", "postal_code", "country", "language", "tier",
    "segment", "visitor_id", "loyalty_card", "updated_at",
)
#: Canonical fields that may hold several values (a list, or several mapped columns).
MULTI_FIELDS = frozenset({"email", "phone", "mobile", "landline", "whatsapp"})


@dataclass
class Features:
    """The normalised view of one source record."""

    first: str = ""  # for display
    last: str = ""
    fk: str = ""  # for comparison
    lk: str = ""
    dob: str = ""
    emails: list[str] = field(default_factory=list)  # normalised, for matching
    shown: list[str] = field(default_factory=list)  # the same e-mails as typed (lower case)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (E.164, kind)
    whatsapp: list[str] = field(default_factory=list)
    street: str = ""
    sk: str = ""  # street key
    city: str = ""
    ck: str = ""  # city key
    region: str = ""
    postal: str = ""
    country: str = ""
    language: str = ""
    tier: str = ""
    segment: str = ""
    visitor_id: str = ""
    loyalty_card: str = ""
    source: str = ""  # the source system (set when stored)
    problems: list[str] = field(default_factory=list)  # values dropped as junk/invalid

    def to_json(self) -> list[Any]:
        """Compact JSON form: the fields in declaration order (`problems` left out)."""
        return [getattr(self, name) for name in _STORED]

    @classmethod
    def from_json(cls, data: list[Any] | dict[str, Any]) -> Features:
        if isinstance(data, dict):
            f = cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})
        else:
            f = cls(*data)
        f.phones = [tuple(p) for p in f.phones]  # type: ignore[misc]
        return f

    @property
    def full_key(self) -> str:
        return f"{self.fk} {self.lk}".strip()

    def address(self) -> dict[str, str]:
        """The postal address as display values (empty dict when there is none)."""
        if not (self.street or self.city or self.postal):
            return {}
        return {"street": self.street, "city": self.city, "region": self.region,
                "postal_code": self.postal, "country": self.country}

    def block_keys(self) -> list[str]:
        """Keys for blocking the fuzzy comparison: records sharing one are compared."""
        keys: list[str] = []
        fi = self.fk[:1]
        if self.lk and fi:
            keys.append(f"n:{self.lk}|{self.fk}")
            if self.dob:
                keys.append(f"nd:{self.lk[:4]}|{fi}|{self.dob}")
            if self.postal:
                keys.append(f"np:{self.lk[:4]}|{fi}|{self.postal}")
        if self.dob and self.fk:
            keys.append(f"fd:{self.fk[:4]}|{self.dob}")  # a last-name typo or change
        if self.sk and (self.postal or self.ck):
            keys.append(f"a:{self.postal or self.ck}|{self.sk}")  # same address, names typed apart
        return keys


_FIELD_NAMES = frozenset(Features.__dataclass_fields__)
_STORED = tuple(name for name in Features.__dataclass_fields__ if name != "problems")


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(v) for v in raw if v not in (None, "")]
    text = str(raw).strip()
    if not text:
        return []
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    return [text]


def extract(canonical: dict[str, Any], region: str = "IT") -> Features:
    """Normalise one record's canonical fields (junk values dropped and listed in `problems`)."""
    f = Features()
    first = n.text(canonical.get("first_name"))
    last = n.text(canonical.get("last_name"))
    if not first and not last and canonical.get("name"):
        first, last = n.split_full_name(n.text(canonical.get("name")))
    f.first, f.last = n.display_name(first), n.display_name(last)
    f.fk, f.lk = n.name_key(f.first), n.name_key(f.last)
    if canonical.get("birth_date"):
        f.dob = n.birth_date(canonical["birth_date"])
        if not f.dob:
            f.problems.append(f"birth_date {canonical['birth_date']!r}")
    for raw in _values(canonical.get("email")):
        value = n.email(raw)
        if value and value not in f.emails:
            f.emails.append(value)
            f.shown.append(str(raw).strip().lower())
        elif not value:
            f.problems.append(f"email {raw!r}")
    country = n.text(canonical.get("country")).upper()
    phone_region = country if len(country) == 2 else region
    seen: set[str] = set()
    for key in ("mobile", "phone", "landline", "whatsapp"):
        for raw in _values(canonical.get(key)):
            value, kind = n.phone(raw, phone_region)
            if not value:
                f.problems.append(f"{key} {raw!r}")
                continue
            if key == "whatsapp":
                f.whatsapp.append(value)
            if value not in seen:
                seen.add(value)
                f.phones.append((value, kind))
    f.street = n.text(canonical.get("street"))
    f.sk = n.street_key(f.street) if f.street else ""
    f.city = n.display_name(n.text(canonical.get("city")))
    f.ck = n.city_key(f.city)
    f.region = n.text(canonical.get("region"))
    f.postal = n.postal_code(canonical.get("postal_code"))
    f.country = country
    f.language = n.text(canonical.get("language")).lower()
    f.tier = n.text(canonical.get("tier")).lower()
    f.segment = n.text(canonical.get("segment")).lower()
    f.visitor_id = n.text(canonical.get("visitor_id"))
    f.loyalty_card = n.text(canonical.get("loyalty_card")).upper()
    return f
