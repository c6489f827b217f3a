"""Synthetic multi-source customer records with ground truth, for the identity benchmark.

People live in one to three source systems (CRM as CSV, web shop as JSON
Lines with its own column names and a mapping file, help desk as a JSON
array with a single `name` field). The mess: typos, case and accents,
phones in many formats, e-mails changed in one system, moved addresses,
missing fields, junk placeholders, duplicate web-shop accounts, households
sharing an address, a landline and sometimes a family e-mail (and, in 3% of
them, a namesake: a child with a parent's full name), and common names
(Zipf-distributed, so many different "Mario Rossi").

Streamed to disk (bounded memory); the truth file maps each record to its person.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from pathlib import Path

from bench.identity.locales import DE, UK, US, Locale, italian

FIRST_M = [
    "Marco",
    "Luca",
    "Giuseppe",
    "Giovanni",
    "Andrea",
    "Francesco",
    "Alessandro",
    "Matteo",
    "Lorenzo",
    "Davide",
    "Stefano",
    "Paolo",
    "Roberto",
    "Simone",
    "Federico",
    "Riccardo",
    "Antonio",
    "Mario",
    "Nicola",
    "Fabio",
    "Daniele",
    "Alberto",
    "Massimo",
    "Enrico",
    "Pietro",
    "Claudio",
    "Emanuele",
    "Gabriele",
    "Tommaso",
    "Filippo",
    "Salvatore",
    "Vincenzo",
    "Michele",
    "Leonardo",
    "Giorgio",
    "Carlo",
    "Franco",
    "Sergio",
    "Angelo",
    "Bruno",
    "Dario",
    "Edoardo",
    "Jacopo",
    "Mattia",
    "Niccolò",
    "Raffaele",
    "Ugo",
    "Vittorio",
    "Walter",
    "Luigi",
]
FIRST_F = [
    "Giulia",
    "Francesca",
    "Chiara",
    "Sara",
    "Martina",
    "Valentina",
    "Federica",
    "Alessia",
    "Elena",
    "Laura",
    "Anna",
    "Maria",
    "Silvia",
    "Elisa",
    "Paola",
    "Giorgia",
    "Roberta",
    "Alice",
    "Sofia",
    "Beatrice",
    "Camilla",
    "Ilaria",
    "Marta",
    "Serena",
    "Monica",
    "Cristina",
    "Barbara",
    "Claudia",
    "Simona",
    "Daniela",
    "Veronica",
    "Erica",
    "Noemi",
    "Aurora",
    "Bianca",
    "Carlotta",
    "Caterina",
    "Debora",
    "Emma",
    "Greta",
    "Irene",
    "Lucia",
    "Nicoletta",
    "Ornella",
    "Rita",
    "Rosa",
    "Teresa",
    "Viola",
    "Zoe",
    "Ludovica",
]
LAST = [
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De",
    "Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Barbieri",
    "Fontana",
    "Santoro",
    "Mariani",
    "Rinaldi",
    "Caruso",
    "Ferrara",
    "Galli",
    "Martini",
    "Leone",
    "Longo",
    "Gentile",
    "Martinelli",
    "Vitale",
    "Lombardo",
    "Serra",
    "Coppola",
    "De",
    "Santis",
    "D'Angelo",
    "Marchetti",
    "Parisi",
    "Villa",
    "Conte",
    "Ferraro",
    "Ferri",
    "Fabbri",
    "Bianco",
    "Marini",
    "Grasso",
    "Valentini",
    "Messina",
    "Sala",
    "De",
    "Angelis",
    "Gatti",
    "Pellegrini",
    "Palumbo",
    "Sanna",
    "Farina",
    "Rizzi",
    "Monti",
    "Cattaneo",
    "Morelli",
    "Amato",
    "Silvestri",
    "Mazza",
    "Testa",
    "Grassi",
    "Pellegrino",
    "Carbone",
    "Giuliani",
    "Benedetti",
    "Barone",
    "Rossetti",
    "Caputo",
    "Montanari",
    "Guerra",
    "Palmieri",
    "Bernardi",
    "Martino",
    "Fiore",
    "De",
    "Rosa",
    "Ferretti",
    "Bellini",
    "Basile",
    "Riva",
    "Donati",
    "Piras",
    "Vitali",
    "Battaglia",
    "Sartori",
    "Neri",
    "Costantini",
    "Milani",
    "Pagano",
    "Ruggiero",
    "Sorrentino",
    "D'Amico",
    "Orlando",
    "Damico",
    "Negri",
    "Zanetti",
    "Ferrero",
    "Cirillo",
    "Bassi",
    "Rota",
    "Bertolini",
    "Guidi",
    "Fumagalli",
    "Salvi",
    "Pace",
    "Olivieri",
    "Colonna",
    "Marras",
    "Lorenzi",
    "Bonetti",
    "Carli",
    "Tedesco",
    "Zanella",
    "Cocco",
    "Melis",
    "Porcu",
    "Deiana",
    "Mura",
    "Cossu",
    "Pinna",
    "Usai",
    "Floris",
    "Sechi",
    "Murgia",
    "Zucca",
    "Atzeni",
    "Loi",
    "Contu",
    "Pisano",
    "Gallo",
    "Bonomi",
    "Brambilla",
    "Crippa",
    "Galbiati",
    "Sironi",
    "Mauri",
    "Pozzi",
    "Corti",
    "Vismara",
]
STREETS = [
    "Via Roma",
    "Via Garibaldi",
    "Via Mazzini",
    "Via Dante",
    "Corso Italia",
    "Via Verdi",
    "Piazza Duomo",
    "Via Cavour",
    "Viale Europa",
    "Via Manzoni",
    "Via Marconi",
    "Corso Vittorio Emanuele",
    "Via XX Settembre",
    "Via Kennedy",
    "Via Leopardi",
    "Via Matteotti",
    "Piazza Garibaldi",
    "Viale Trieste",
    "Via Milano",
    "Via Torino",
    "Via Venezia",
    "Via Firenze",
    "Via Bologna",
    "Via Napoli",
    "Via Pascoli",
]
CITIES = (
    ("Milano", "201"),
    ("Roma", "001"),
    ("Torino", "101"),
    ("Napoli", "801"),
    ("Bologna", "401"),
    ("Firenze", "501"),
    ("Genova", "161"),
    ("Palermo", "901"),
    ("Bari", "701"),
    ("Verona", "371"),
    ("Padova", "351"),
    ("Brescia", "251"),
    ("Bergamo", "241"),
    ("Cagliari", "091"),
    ("Trieste", "341"),
    ("Parma", "431"),
)
DOMAINS = (
    "gmail.com",
    "libero.it",
    "hotmail.it",
    "yahoo.it",
    "outlook.com",
    "tiscali.it",
    "alice.it",
    "virgilio.it",
    "fastwebnet.it",
    "icloud.com",
)
MOBILE = (
    "320",
    "324",
    "328",
    "329",
    "333",
    "334",
    "335",
    "338",
    "339",
    "340",
    "342",
    "345",
    "347",
    "348",
    "349",
    "351",
    "366",
    "380",
    "388",
    "392",
    "393",
)
LANDLINE_PREFIX = {
    "Milano": "02",
    "Roma": "06",
    "Torino": "011",
    "Napoli": "081",
    "Bologna": "051",
    "Firenze": "055",
    "Genova": "010",
    "Palermo": "091",
    "Bari": "080",
    "Verona": "045",
    "Padova": "049",
    "Brescia": "030",
    "Bergamo": "035",
    "Cagliari": "070",
    "Trieste": "040",
    "Parma": "0521",
}
JUNK_EMAILS = (
    "test@test.com",
    "noemail@noemail.com",
    "n/a",
    "none@none.com",
    "no-reply@example.com",
)
JUNK_PHONES = ("0000000000", "n/a", "1234567890", "-")

WEBSHOP_MAPPING = """\
id_column = "account_id"
default_region = "{region}"

[fields]
first_name = "given_name"
last_name = "family_name"
email = "login_email"
phone = ["mobile_number", "home_phone"]
street = "shipping.line1"
city = "shipping.city"
postal_code = "shipping.zip"
visitor_id = "visitor"
"""


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _zipf(rng: random.Random, items: tuple[str, ...] | list[str], s: float = 1.0) -> str:
    # inverse-CDF over precomputed weights (cached per list)
    key = (id(items), s)
    cum = _CUM.get(key)
    if cum is None:
        total, cum = 0.0, []
        for i in range(len(items)):
            total += 1 / (i + 1) ** s
            cum.append(total)
        _CUM[key] = cum
    x = rng.random() * cum[-1]
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return items[lo]


_CUM: dict[tuple[int, float], list[float]] = {}


IT = italian(FIRST_M, FIRST_F, LAST, STREETS, CITIES, DOMAINS, MOBILE, LANDLINE_PREFIX)
#: The generator's countries by code (`--locale`).
LOCALES: dict[str, Locale] = {loc.code: loc for loc in (IT, US, UK, DE)}


class People:
    """People (and households) with their true attributes."""

    def __init__(self, seed: int, locale: Locale = IT) -> None:
        self.rng = random.Random(seed)
        self.pid = 0
        self.emails: set[str] = set()
        self.loc = locale
        self.city = {c.name: c for c in locale.cities}

    def _address(self) -> dict[str, str]:
        rng = self.rng
        city = rng.choice(self.loc.cities)
        name, number = rng.choice(self.loc.streets), rng.randint(1, 200)
        return {
            "street": f"{number} {name}" if self.loc.number_first else f"{name} {number}",
            "city": city.name,
            "postal_code": city.postcode(rng),
        }

    def household(self) -> list[dict[str, object]]:
        rng = self.rng
        size = 1 if rng.random() < 0.8 else rng.choice((2, 2, 3, 4))
        address = self._address()
        loc = self.loc
        last = _zipf(rng, loc.last, 0.9)
        landline = None
        if rng.random() < (0.2 if size == 1 else 0.45):
            landline = loc.landline(rng, self.city[address["city"]])
        family_email = None
        if size > 1 and rng.random() < 0.25:
            family_email = f"{loc.family}.{_ascii(last).replace(' ', '').replace(chr(39), '')}{rng.randint(1, 999)}@{rng.choice(loc.domains)}"
        people = []
        for k in range(size):
            self.pid += 1
            female = rng.random() < 0.5
            first = _zipf(rng, loc.first_f if female else loc.first_m, 0.8)
            if people and rng.random() < 0.03:  # a namesake: named after a parent
                first, female = str(people[0]["first"]), people[0]["female"] is True
            else:  # siblings are otherwise not given the same name
                while any(first == q["first"] for q in people):
                    first = _zipf(rng, loc.first_f if female else loc.first_m, 0.8)
            p_last = last if (k == 0 or rng.random() < 0.85) else _zipf(rng, loc.last, 0.9)
            dob = None
            if rng.random() < 0.85:
                year = rng.randint(1945, 2006) if k < 2 else rng.randint(1995, 2012)
                dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            local = _ascii(f"{first}.{p_last}").replace(" ", "").replace("'", "")
            if rng.random() < 0.6:
                local += str(rng.randint(1, 999))
            email = (
                family_email
                if (family_email and rng.random() < 0.7)
                else f"{local}@{rng.choice(loc.domains)}"
            )
            while email != family_email and email in self.emails:  # a mailbox has one owner
                email = f"{local}{rng.randint(1, 9999)}@{rng.choice(loc.domains)}"
            self.emails.add(email)
            mobile = loc.mobile(rng) if rng.random() < 0.9 else None
            people.append(
                {
                    "pid": self.pid,
                    "female": female,
                    "first": first,
                    "last": p_last,
                    "dob": dob,
                    "email": email,
                    "mobile": mobile,
                    "landline": landline,
                    **address,
                }
            )
        return people


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i < len(word) - 1 else word
    if op == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def _phone(rng: random.Random, loc: Locale, national: str) -> str:
    return loc.phone(national, rng.randrange(6))


def _landline(rng: random.Random, loc: Locale, national: str) -> str:
    """A household landline as a source holds it: Italian sources keep the digits as
    dialled; the others write it as people do."""
    return national if loc is IT else loc.phone(national, rng.randrange(6))


def _short_street(loc: Locale, street: str) -> str:
    for full, short in loc.short_street:
        street = street.replace(full, short)
    return street


def _name_variant(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.05:
        return _typo(rng, name)
    if r < 0.10:
        return name.upper()
    if r < 0.14:
        return name.lower()
    if r < 0.16:
        return _ascii(name).title()
    return name


def _maybe(rng: random.Random, value: object, keep: float) -> object:
    return value if rng.random() < keep else None


def generate(out: Path, records: int, seed: int = 2026, locale: str = "it") -> dict[str, int]:
    """Write crm.csv, webshop.jsonl (+ webshop.toml), helpdesk.json and truth.csv under `out`,
    people of the country `locale` (a key of `LOCALES`)."""
    out.mkdir(parents=True, exist_ok=True)
    loc = LOCALES[locale]
    rng = random.Random(seed + 1)
    people = People(seed, loc)
    counts = {"crm": 0, "webshop": 0, "helpdesk": 0, "people": 0}
    (out / "webshop.toml").write_text(WEBSHOP_MAPPING.format(region=loc.region), "utf-8")
    crm_cols = [
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "landline",
        "birth_date",
        "street",
        "city",
        "postal_code",
        "country",
        "tier",
    ]
    with (
        open(out / "crm.csv", "w", newline="", encoding="utf-8") as crm_f,
        open(out / "webshop.jsonl", "w", encoding="utf-8") as shop_f,
        open(out / "helpdesk.json", "w", encoding="utf-8") as desk_f,
        open(out / "truth.csv", "w", newline="", encoding="utf-8") as truth_f,
    ):
        crm = csv.writer(crm_f)
        crm.writerow(crm_cols)
        truth = csv.writer(truth_f)
        truth.writerow(("source", "source_id", "person"))
        desk_f.write("[\n")
        first_desk = True
        made = 0
        while made < records:
            for p in people.household():
                counts["people"] += 1
                national = p["mobile"]
                in_crm = rng.random() < 0.8
                in_shop = rng.random() < 0.7 or not in_crm
                in_desk = rng.random() < 0.45
                junk = rng.random() < 0.03
                if in_crm:
                    counts["crm"] += 1
                    sid = f"C{rng.randint(0, 10**9):09d}-{counts['crm']}"
                    email = p["email"] if not junk else rng.choice(JUNK_EMAILS)
                    row = [
                        sid,
                        _name_variant(rng, str(p["first"])),
                        _name_variant(rng, str(p["last"])),
                        _maybe(rng, email, 0.85),
                        _phone(rng, loc, str(national))
                        if national and rng.random() < 0.9
                        else (rng.choice(JUNK_PHONES) if junk else ""),
                        _landline(rng, loc, str(p["landline"])) if p["landline"] else "",
                        loc.date(str(dob)) if (dob := _maybe(rng, p["dob"], 0.9)) else "",
                        p["street"],
                        p["city"],
                        p["postal_code"],
                        loc.region,
                        rng.choice(("bronze", "silver", "gold")),
                    ]
                    crm.writerow(["" if v is None else v for v in row])
                    truth.writerow(("crm", sid, p["pid"]))
                    made += 1
                if in_shop:
                    accounts = 2 if rng.random() < 0.03 else 1
                    for a in range(accounts):
                        counts["webshop"] += 1
                        sid = f"W{counts['webshop']:08d}"
                        moved = rng.random() < 0.12
                        address = (
                            people._address()
                            if moved
                            else {
                                "street": _short_street(loc, str(p["street"]))
                                if rng.random() < 0.2
                                else p["street"],
                                "city": p["city"],
                                "postal_code": p["postal_code"],
                            }
                        )
                        email = p["email"]
                        if a == 0 and rng.random() < 0.12:  # another personal address
                            email = f"{_ascii(str(p['last']))[:6]}.{rng.randint(1000, 99999)}@{rng.choice(loc.domains)}"
                            while email in people.emails:
                                email = f"{_ascii(str(p['last']))[:6]}.{rng.randint(1000, 99999)}@{rng.choice(loc.domains)}"
                            people.emails.add(email)
                        if a == 1 or rng.random() < 0.05:
                            email = str(email).upper() if rng.random() < 0.5 else f"  {email} "
                        row_j: dict[str, object] = {
                            "account_id": sid,
                            "given_name": _name_variant(rng, str(p["first"])),
                            "family_name": _name_variant(rng, str(p["last"])),
                            "login_email": email,
                            "visitor": f"v{rng.randint(0, 16**8):08x}",
                        }
                        if a == 0:
                            if national and rng.random() < 0.65:
                                row_j["mobile_number"] = _phone(rng, loc, str(national))
                            if p["landline"] and rng.random() < 0.5:
                                row_j["home_phone"] = _landline(rng, loc, str(p["landline"]))
                            if rng.random() < 0.9:
                                row_j["shipping"] = {
                                    "line1": address["street"],
                                    "city": address["city"],
                                    "zip": address["postal_code"],
                                }
                        shop_f.write(json.dumps(row_j, ensure_ascii=False) + "\n")
                        truth.writerow(("webshop", sid, p["pid"]))
                        made += 1
                if in_desk:
                    counts["helpdesk"] += 1
                    sid = f"H{counts['helpdesk']:08d}"
                    email = p["email"]
                    if rng.random() < 0.12:  # changed e-mail, only here
                        email = f"{_ascii(str(p['first']))}.{rng.randint(1000, 99999)}@{rng.choice(loc.domains)}"
                        while email in people.emails:
                            email = f"{_ascii(str(p['first']))}.{rng.randint(1000, 99999)}@{rng.choice(loc.domains)}"
                        people.emails.add(email)
                    first = _name_variant(rng, str(p["first"]))
                    last = _name_variant(rng, str(p["last"]))
                    row_h: dict[str, object] = {
                        "ticket_customer_id": sid,
                        "name": f"{first} {last}" if rng.random() < 0.9 else f"{last}, {first}",
                        "email": email,
                    }
                    if national and rng.random() < 0.7:
                        row_h["phone"] = _phone(rng, loc, str(national))
                    desk_f.write(
                        ("" if first_desk else ",\n") + json.dumps(row_h, ensure_ascii=False)
                    )
                    first_desk = False
                    truth.writerow(("helpdesk", sid, p["pid"]))
                    made += 1
        desk_f.write("\n]\n")
    counts["records"] = made
    return counts


if __name__ == "__main__":  # pragma: no cover
    import sys

    records = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    print(generate(Path(sys.argv[1]), records, locale=sys.argv[3] if len(sys.argv) > 3 else "it"))
