"""From a source record (mapped to Vista's canonical fields) to normalised features and keys.

Features are what matching and survivorship read; they are stored beside the
untouched source record, so a record is normalised once, not at every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backends.consent import CONSENT_FIELDS, parse_consent
from backends.identity import normalise as n
from backends.identity.events import parse_time

#: Vista's canonical customer fields: columns named like these need no mapping.
CANONICAL_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "mobile",
    "landline",
    "whatsapp",
    "birth_date",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "language",
    "tier",
    "segment",
    "visitor_id",
    "loyalty_card",
    "updated_at",
    # consent per channel (yes/no, true/false, 1/0, opt-in/opt-out) and when it was given
    "consent_email",
    "consent_sms",
    "consent_whatsapp",
    "consent_phone",
    "consent_at",
)
#: Canonical fields that may hold several values (a list, or several mapped columns).
MULTI_FIELDS = frozenset({"email", "phone", "mobile", "landline", "whatsapp"})


@dataclass(slots=True)
class Features:
    """The normalised view of one source record."""

    first: str = ""  # for display
    last: str = ""
    fk: str = ""  # for comparison
    lk: str = ""
    dob: str = ""
    emails: list[str] = field(default_factory=list)  # normalised, for matching
    shown: list[str] = field(default_factory=list)  # the same e-mails as typed (lower case)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (E.164, normalise type)
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
    #: channel -> [granted, when (unix seconds; 0: the record's own time)]; stored last, so
    #: features stored before consents were imported read back without them
    consents: dict[str, list[Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # values dropped as junk/invalid

    def to_json(self) -> list[Any]:
        """Compact JSON form: the fields in declaration order (`problems` left out), where
        a key is its display value in lower case (`fk`, `lk`, `sk`, `ck`) or the e-mails as
        typed are the normalised ones (`shown`) 0 in its place, and the trailing empty
        fields left out (a stored record's features were 215 bytes, now about 150)."""
        data = [getattr(self, name) for name in _STORED]
        for i, base in _LOWERED:
            if data[i] and data[i] == data[base].lower():
                data[i] = 0
        if self.shown and self.shown == self.emails:
            data[_SHOWN] = 0
        while data and not data[-1] and data[-1] != 0:
            data.pop()
        return data

    @classmethod
    def from_json(cls, data: list[Any] | dict[str, Any]) -> Features:
        """The features of `to_json`'s form (or an older store's: every field written out,
        or a mapping of field names)."""
        if isinstance(data, dict):
            f = cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})
        else:
            f = cls(*data)
            if f.fk == 0:
                f.fk = f.first.lower()
            if f.lk == 0:
                f.lk = f.last.lower()
            if f.shown == 0:
                f.shown = list(f.emails)
            if f.sk == 0:
                f.sk = f.street.lower()
            if f.ck == 0:
                f.ck = f.city.lower()
        f.phones = [tuple(p) for p in f.phones]  # type: ignore[misc]
        return f

    @property
    def full_key(self) -> str:
        return f"{self.fk} {self.lk}".strip()

    def address(self) -> dict[str, str]:
        """The postal address as display values (empty dict when there is none)."""
        if not (self.street or self.city or self.postal):
            return {}
        return {
            "street": self.street,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal,
            "country": self.country,
        }

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
        if self.dob:
            keys.append(f"d:{self.dob}")  # names typed apart, swapped or changed
        if self.dob and self.fk:
            keys.append(f"fd:{self.fk[:4]}|{self.dob}")  # a last-name typo or change
        if self.dob and self.postal:
            keys.append(f"dp:{self.dob}|{self.postal}")  # both names typed apart or swapped
        if self.sk and (self.postal or self.ck):
            keys.append(f"a:{self.postal or self.ck}|{self.sk}")  # same address, names typed apart
        return keys


_FIELD_NAMES = frozenset(Features.__dataclass_fields__)
_STORED = tuple(name for name in Features.__dataclass_fields__ if name != "problems")
#: (position of a key in `_STORED`, position of the display value it may be the lower case of)
_LOWERED = tuple(
    (_STORED.index(key), _STORED.index(base))
    for key, base in (("fk", "first"), ("lk", "last"), ("sk", "street"), ("ck", "city"))
)
_SHOWN = _STORED.index("shown")


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


#: Per-process memo of the cheap but frequent normalisations (names, cities, postcodes...
#: repeat across records); cleared when it grows past `_MEMO_LIMIT` entries.
_MEMO: dict[tuple[str, Any], Any] = {}
_MEMO_LIMIT = 100_000


def _memo(kind: str, raw: Any, fn: Any) -> Any:
    """`fn(raw)`, remembered for text and missing values (others, e.g. JSON numbers, are
    computed each time: `1 == True` would share a memo entry)."""
    if raw.__class__ is not str and raw is not None:
        return fn(raw)
    key = (kind, raw)
    try:
        return _MEMO[key]
    except KeyError:
        pass
    if len(_MEMO) >= _MEMO_LIMIT:
        _MEMO.clear()
    value = _MEMO[key] = fn(raw)
    return value


def _person_name(raw: Any) -> tuple[str, str]:
    """(display, key) of one name part."""
    display = n.display_name(n.text(raw))
    return display, n.name_key(display)


def _full_name(raw: Any) -> tuple[str, str, str, str]:
    first, last = n.split_full_name(n.text(raw))
    fd, ld = n.display_name(first), n.display_name(last)
    return fd, ld, n.name_key(fd), n.name_key(ld)


def _city(raw: Any) -> tuple[str, str]:
    display = n.display_name(n.text(raw))
    return display, n.city_key(display)


def _street(raw: Any) -> tuple[str, str]:
    street = n.text(raw)
    return street, (n.street_key(street) if street else "")


def _upper(raw: Any) -> str:
    return n.text(raw).upper()


def _lower(raw: Any) -> str:
    return n.text(raw).lower()


def extract(canonical: dict[str, Any], region: str = "IT") -> Features:
    """Normalise one record's canonical fields (junk values dropped and listed in `problems`)."""
    get = canonical.get
    problems: list[str] = []
    first_raw, last_raw = get("first_name"), get("last_name")
    first, fk = _memo("name", first_raw, _person_name)
    last, lk = _memo("name", last_raw, _person_name)
    if not first and not last and get("name"):  # empty or placeholders: the full name
        first, last, fk, lk = _memo("full", get("name"), _full_name)
    dob = ""
    raw_dob = get("birth_date")
    if raw_dob:
        dob = n.birth_date(raw_dob)
        if not dob:
            problems.append(f"birth_date {raw_dob!r}")
    emails: list[str] = []
    shown: list[str] = []
    for raw in _values(get("email")):
        value = n.email(raw)
        if value and value not in emails:
            emails.append(value)
            shown.append(str(raw).strip().lower())
        elif not value:
            problems.append(f"email {raw!r}")
    country = _memo("upper", get("country"), _upper)
    phone_region = country if len(country) == 2 else region
    phones: list[tuple[str, str]] = []
    whatsapp: list[str] = []
    seen: set[str] = set()
    for key in ("mobile", "phone", "landline", "whatsapp"):
        raw_phone = get(key)
        if raw_phone is None or raw_phone == "":
            continue
        for raw in _values(raw_phone):
            value, _kind = n.phone(raw, phone_region)
            if not value:
                problems.append(f"{key} {raw!r}")
                continue
            if key == "whatsapp":
                whatsapp.append(value)
            if value not in seen:
                seen.add(value)
                # the type read once here (a worker process), never again per pair
                phones.append((value, n.phone_type(value)))
    consents: dict[str, list[Any]] = {}
    if any(get(name) not in (None, "") for name in CONSENT_FIELDS):
        consents = _consents(get, problems)
    street, sk = _memo("street", get("street"), _street)
    city, ck = _memo("city", get("city"), _city)
    return Features(
        first,
        last,
        fk,
        lk,
        dob,
        emails,
        shown,
        phones,
        whatsapp,
        street,
        sk,
        city,
        ck,
        _memo("text", get("region"), n.text),
        _memo("postal", get("postal_code"), n.postal_code),
        country,
        _memo("lower", get("language"), _lower),
        _memo("lower", get("tier"), _lower),
        _memo("lower", get("segment"), _lower),
        n.text(get("visitor_id")),
        _memo("upper", get("loyalty_card"), _upper),
        "",
        consents,
        problems,
    )


def _consents(get: Any, problems: list[str]) -> dict[str, list[Any]]:
    """channel -> [granted, when] of a record's consent fields (unreadable ones in `problems`)."""
    at = 0
    raw_at = get("consent_at")
    if raw_at not in (None, ""):
        at = parse_time(raw_at) or 0
        if not at:
            problems.append(f"consent_at {raw_at!r}")
    out: dict[str, list[Any]] = {}
    for name, channel in CONSENT_FIELDS.items():
        raw = get(name)
        if raw is None or raw == "":
            continue
        granted = parse_consent(raw)
        if granted is None:
            problems.append(f"{name} {raw!r}")
            continue
        out[channel.value] = [granted, at]
    return out
