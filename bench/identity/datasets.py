"""The identity benchmark's data sets as each side takes them: the FEBRL files with their
ground truth and the `vista import` mapping of their columns, and every data set flattened
into the one table Splink reads (light cleaning a Splink user would do in SQL: trimmed,
lower case, phone digits, ISO birth dates).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Febrl:
    """One FEBRL set: its files (one to deduplicate, two to link)."""

    name: str
    files: tuple[str, ...]


FEBRL = (
    Febrl("febrl1", ("febrl1.csv",)),
    Febrl("febrl2", ("febrl2.csv",)),
    Febrl("febrl3", ("febrl3.csv",)),
    Febrl("febrl4", ("febrl4a.csv", "febrl4b.csv")),
)

#: FEBRL's columns: first the ones Vista's mapping gives a field, then the others.
FEBRL_MAPPING = """\
id_column = "rec_id"
default_region = "AU"

[fields]
first_name = "given_name"
last_name = "surname"
birth_date = "date_of_birth"
street = ["street_number", "address_1"]
city = "suburb"
postal_code = "postcode"
region = "state"
"""
#: The identifier column, as the one Vista field for a customer number a source shares.
FEBRL_IDENTIFIER = 'loyalty_card = "soc_sec_id"\n'
#: The columns Splink compares on FEBRL: the ones the mapping above gives Vista.
FEBRL_SPLINK = ("given_name", "surname", "date_of_birth", "address_1", "suburb", "postcode")
_PERSON = re.compile(r"^(rec-\d+)")


def febrl_sources(f: Febrl) -> list[tuple[str, str]]:
    """(source name, file) of each file of `f`, as imported."""
    if len(f.files) == 1:
        return [(f.name, f.files[0])]
    return [(f"{f.name}{file[len(f.name)]}", file) for file in f.files]


def febrl_prepare(raw: Path, f: Febrl, out: Path, identifier: bool) -> None:
    """Write `out`/mapping.toml, truth.csv and splink.csv for `f` (files in `raw`)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "mapping.toml").write_text(
        FEBRL_MAPPING + (FEBRL_IDENTIFIER if identifier else ""), "utf-8"
    )
    columns = FEBRL_SPLINK + (("soc_sec_id",) if identifier else ())
    with (
        open(out / "truth.csv", "w", newline="", encoding="utf-8") as t,
        open(out / "splink.csv", "w", newline="", encoding="utf-8") as s,
    ):
        truth, splink = csv.writer(t), csv.writer(s)
        truth.writerow(("source", "source_id", "person"))
        splink.writerow(("unique_id", "source", "source_id", *columns))
        for source, file in febrl_sources(f):
            with open(raw / file, newline="", encoding="utf-8") as src:
                for row in csv.DictReader(src):
                    rec = row["rec_id"]
                    match = _PERSON.match(rec)
                    truth.writerow((source, rec, match.group(1) if match else rec))
                    splink.writerow(
                        (
                            f"{source}:{rec}",
                            source,
                            rec,
                            *(row[c].strip().lower() or None for c in columns),
                        )
                    )


#: The generator's birth-date formats by locale, day, month and year in their order.
_DATES = {
    "it": re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$"),
    "us": re.compile(r"^(?P<m>\d{2})/(?P<d>\d{2})/(?P<y>\d{4})$"),
    "uk": re.compile(r"^(?P<d>\d{2})/(?P<m>\d{2})/(?P<y>\d{4})$"),
    "de": re.compile(r"^(?P<d>\d{2})\.(?P<m>\d{2})\.(?P<y>\d{4})$"),
}
PEOPLE_SPLINK = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "landline",
    "street",
    "city",
    "postal_code",
)


def _iso(text: str, locale: str) -> str | None:
    match = _DATES[locale].match(text.strip())
    if not match:
        return None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
    except ValueError:
        return None


def _phone(text: object) -> str | None:
    digits = re.sub(r"\D", "", str(text or ""))
    return digits[-10:] if len(digits) >= 6 else None


def _text(value: object) -> str | None:
    text = " ".join(str(value or "").split()).lower()
    return text or None


def _people_rows(data: Path, locale: str) -> Iterator[tuple[str, dict[str, object]]]:
    with open(data / "crm.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield (
                "crm",
                {
                    "source_id": row["id"],
                    "first_name": row["first_name"],
                    "last_name": row["last_name"],
                    "birth_date": _iso(row["birth_date"], locale),
                    "email": row["email"],
                    "phone": _phone(row["phone"]),
                    "landline": _phone(row["landline"]),
                    "street": row["street"],
                    "city": row["city"],
                    "postal_code": row["postal_code"],
                },
            )
    with open(data / "webshop.jsonl", encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            ship = j.get("shipping") or {}
            yield (
                "webshop",
                {
                    "source_id": j["account_id"],
                    "first_name": j.get("given_name"),
                    "last_name": j.get("family_name"),
                    "email": j.get("login_email"),
                    "phone": _phone(j.get("mobile_number")),
                    "landline": _phone(j.get("home_phone")),
                    "street": ship.get("line1"),
                    "city": ship.get("city"),
                    "postal_code": ship.get("zip"),
                },
            )
    with open(data / "helpdesk.json", encoding="utf-8") as f:
        for h in json.load(f):
            name = str(h.get("name") or "")
            if "," in name:
                last, _, first = name.partition(",")
            else:
                first, _, last = name.strip().partition(" ")
            yield (
                "helpdesk",
                {
                    "source_id": h["ticket_customer_id"],
                    "first_name": first,
                    "last_name": last,
                    "email": h.get("email"),
                    "phone": _phone(h.get("phone")),
                },
            )


def people_splink(data: Path, locale: str, out: Path) -> None:
    """The generator's three files as the one table Splink reads (`PEOPLE_SPLINK` columns)."""
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("unique_id", "source", "source_id", *PEOPLE_SPLINK))
        for source, row in _people_rows(data, locale):
            sid = str(row["source_id"])
            cells = []
            for column in PEOPLE_SPLINK:
                value = row.get(column)
                cells.append(value if column in ("phone", "landline") else _text(value))
            w.writerow((f"{source}:{sid}", source, sid, *cells))
