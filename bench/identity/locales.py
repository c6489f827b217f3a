"""Countries the identity benchmark's generator writes people of: names, streets, cities with
their postcodes and area codes, e-mail domains, mobile and landline numbers as people write
them, and the birth-date format of each country's CRM export.

Italy ("it", the default) reproduces the original generator's values and random draws
exactly, so its figures stay comparable; "us" (NANP numbers, where mobiles and landlines
look alike), "uk" and "de" are the others.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from console.demo.vocab import phone_format


@dataclass(frozen=True)
class City:
    name: str
    postcode: Callable[[random.Random], str]
    area: str  # landline prefix as dialled nationally (IT, UK, DE) or NANP area code (US)


@dataclass(frozen=True)
class Locale:
    code: str
    region: str  # ISO country: the CRM's country column and the web shop's default_region
    first_m: tuple[str, ...]
    first_f: tuple[str, ...]
    last: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]
    domains: tuple[str, ...]
    family: str  # a family mailbox's first word
    short_street: tuple[tuple[str, str], ...]  # (written out, abbreviated)
    number_first: bool  # "12 Oak Street" rather than "Via Roma 12"
    mobile: Callable[[random.Random], str]  # a national mobile number
    landline: Callable[[random.Random, City], str]  # a household's national landline
    phone: Callable[[str, int], str]  # a national number written in style 0-5
    date: Callable[[str], str]  # an ISO birth date as the CRM writes it


# The Italian tables live in generate.py (the original generator); it builds its Locale.


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


# United States -----------------------------------------------------------------------------

US_FIRST_M = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul",
    "Andrew", "Joshua", "Kevin", "Brian", "George", "Edward", "Ryan", "Jacob", "Jose",
    "Luis", "Carlos", "Juan", "Miguel", "Giovanni", "Hans", "Pierre", "Ivan", "Liam",
    "Noah", "Ethan", "Mason", "Logan", "Tyler",
)  # fmt: skip
US_FIRST_F = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
    "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Emily",
    "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca",
    "Laura", "Maria", "Ana", "Sofia", "Isabella", "Olivia", "Emma", "Ava", "Mia", "Chloe",
    "Katarzyna", "Anna", "Ingrid", "Francesca", "Hannah",
)  # fmt: skip
US_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Kowalski", "Schmidt", "Rossi", "O'Brien", "Murphy", "Müller", "Dubois", "Novak",
    "Jensen", "Van der Berg",
)  # fmt: skip
US_STREETS = (
    "Main Street", "Oak Street", "Maple Avenue", "Cedar Road", "Pine Street", "Elm Street",
    "Washington Avenue", "Lake Road", "Hill Street", "Park Avenue", "Sunset Boulevard",
    "Lincoln Avenue", "Church Street", "Jefferson Street", "Madison Avenue", "Highland Road",
    "River Road", "Spring Street", "Broadway", "Franklin Street",
)  # fmt: skip


def _zip(base: int) -> Callable[[random.Random], str]:
    return lambda rng: f"{base + rng.randrange(100):05d}"


US_CITIES = (
    City("New York", _zip(10001), "212"),
    City("Los Angeles", _zip(90001), "213"),
    City("Chicago", _zip(60601), "312"),
    City("Houston", _zip(77001), "713"),
    City("Phoenix", _zip(85001), "602"),
    City("Philadelphia", _zip(19101), "215"),
    City("San Antonio", _zip(78201), "210"),
    City("San Diego", _zip(92101), "619"),
    City("Dallas", _zip(75201), "214"),
    City("Seattle", _zip(98101), "206"),
    City("Boston", _zip(2101), "617"),
    City("Denver", _zip(80201), "303"),
    City("Atlanta", _zip(30301), "404"),
    City("Miami", _zip(33101), "305"),
    City("Austin", _zip(78701), "512"),
    City("Portland", _zip(97201), "503"),
)
US_AREAS = tuple(c.area for c in US_CITIES) + ("646", "917", "310", "773", "832", "469")


def _us_mobile(rng: random.Random) -> str:
    return f"{rng.choice(US_AREAS)}{rng.randint(201, 989)}{_digits(rng, 4)}"


def _us_phone(n: str, style: int) -> str:
    """A NANP number (10 digits) written one of six ways."""
    a, b, c = n[:3], n[3:6], n[6:]
    return (
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
        n,
        f"1-{a}-{b}-{c}",
    )[style]


def _us_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{m}/{d}/{y}"


US = Locale(
    "us",
    "US",
    US_FIRST_M,
    US_FIRST_F,
    US_LAST,
    US_STREETS,
    US_CITIES,
    (
        "gmail.com",
        "yahoo.com",
        "outlook.com",
        "aol.com",
        "icloud.com",
        "hotmail.com",
        "comcast.net",
        "verizon.net",
    ),
    "family",
    ((" Street", " St"), (" Avenue", " Ave"), (" Road", " Rd"), (" Boulevard", " Blvd")),
    True,
    _us_mobile,
    lambda rng, city: f"{city.area}{rng.randint(201, 989)}{_digits(rng, 4)}",
    _us_phone,
    _us_date,
)

# United Kingdom ----------------------------------------------------------------------------

UK_FIRST_M = (
    "Oliver", "George", "Harry", "Jack", "Jacob", "Charlie", "Thomas", "Oscar", "William",
    "James", "Henry", "Leo", "Alfie", "Joshua", "Freddie", "Archie", "Ethan", "Isaac",
    "Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Arthur", "Lucas", "Mohammed",
    "Logan", "Theo", "Harrison", "David", "Paul", "Andrew", "Mark", "Richard", "Peter",
    "Stephen", "Michael", "Ian", "Gareth",
)  # fmt: skip
UK_FIRST_F = (
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy", "Ella", "Lily",
    "Evie", "Sophia", "Grace", "Freya", "Charlotte", "Sophie", "Chloe", "Ruby", "Jessica",
    "Daisy", "Alice", "Florence", "Matilda", "Rosie", "Phoebe", "Elizabeth", "Sarah", "Emma",
    "Claire", "Helen", "Rachel", "Nicola", "Joanne", "Kerry", "Siobhan", "Fiona", "Rhiannon",
    "Bethan", "Aisha", "Priya",
)  # fmt: skip
UK_LAST = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
    "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "O'Connor",
    "MacDonald", "Khan", "Singh",
)  # fmt: skip
UK_STREETS = (
    "High Street", "Station Road", "Main Street", "Park Road", "Church Road", "Church Street",
    "London Road", "Victoria Road", "Green Lane", "Manor Road", "Church Lane", "Park Avenue",
    "The Avenue", "Queens Road", "New Road", "Grange Road", "Kings Road", "Mill Lane",
    "Springfield Road", "York Road",
)  # fmt: skip
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _uk_postcode(outward: str) -> Callable[[random.Random], str]:
    return lambda rng: (
        f"{outward}{rng.randint(1, 20)} {rng.randint(1, 9)}"
        f"{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
    )


UK_CITIES = (
    City("London", _uk_postcode("SW"), "020"),
    City("Birmingham", _uk_postcode("B"), "0121"),
    City("Manchester", _uk_postcode("M"), "0161"),
    City("Leeds", _uk_postcode("LS"), "0113"),
    City("Glasgow", _uk_postcode("G"), "0141"),
    City("Liverpool", _uk_postcode("L"), "0151"),
    City("Bristol", _uk_postcode("BS"), "0117"),
    City("Edinburgh", _uk_postcode("EH"), "0131"),
    City("Sheffield", _uk_postcode("S"), "0114"),
    City("Cardiff", _uk_postcode("CF"), "029"),
    City("Nottingham", _uk_postcode("NG"), "0115"),
    City("Leicester", _uk_postcode("LE"), "0116"),
)


def _uk_mobile(rng: random.Random) -> str:
    return f"07{rng.choice(('4', '5', '7', '8', '9'))}{_digits(rng, 8)}"


def _uk_landline(rng: random.Random, city: City) -> str:
    """0 + 10 digits; local numbers start 2 (or 7, 8 in London), in ranges Ofcom allocates."""
    lead = "78" if city.area == "020" else "2"
    return city.area + rng.choice(lead) + _digits(rng, 10 - len(city.area))


def _uk_phone(n: str, style: int) -> str:
    """A UK number (national, 0 + 10 digits) written one of six ways."""
    if n.startswith("07"):
        head, tail = n[:5], n[5:]
    elif n.startswith(("020", "029")):
        head, tail = n[:3], f"{n[3:7]} {n[7:]}"
    else:
        head, tail = n[:4], n[4:]
    return (
        f"{head} {tail}",
        n,
        f"+44 {head[1:]} {tail}",
        f"+44{n[1:]}",
        f"0044 {head[1:]} {tail}",
        f"({head}) {tail}",
    )[style]


def _uk_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


UK = Locale(
    "uk",
    "GB",
    UK_FIRST_M,
    UK_FIRST_F,
    UK_LAST,
    UK_STREETS,
    UK_CITIES,
    (
        "gmail.com",
        "hotmail.co.uk",
        "yahoo.co.uk",
        "btinternet.com",
        "outlook.com",
        "sky.com",
        "live.co.uk",
        "icloud.com",
    ),
    "family",
    ((" Road", " Rd"), (" Street", " St"), (" Lane", " Ln"), (" Avenue", " Ave")),
    True,
    _uk_mobile,
    lambda rng, city: _uk_landline(rng, city),
    _uk_phone,
    _uk_date,
)

# Germany -----------------------------------------------------------------------------------

DE_FIRST_M = (
    "Lukas", "Leon", "Finn", "Jonas", "Paul", "Felix", "Maximilian", "Elias", "Noah", "Ben",
    "Thomas", "Michael", "Andreas", "Stefan", "Christian", "Markus", "Frank", "Jürgen",
    "Peter", "Wolfgang", "Klaus", "Uwe", "Matthias", "Sebastian", "Tobias", "Florian",
    "Alexander", "Daniel", "Jan", "Tim", "Niklas", "Moritz", "Julian", "Philipp", "Dieter",
    "Günter", "Horst", "Mehmet", "Ali", "Dominik",
)  # fmt: skip
DE_FIRST_F = (
    "Anna", "Lena", "Leonie", "Marie", "Sophie", "Lea", "Laura", "Hannah", "Julia", "Sarah",
    "Sabine", "Petra", "Monika", "Ursula", "Claudia", "Andrea", "Susanne", "Birgit",
    "Katharina", "Stefanie", "Nicole", "Christina", "Jessica", "Melanie", "Sandra", "Anja",
    "Karin", "Heike", "Gabriele", "Renate", "Emma", "Mia", "Emilia", "Lina", "Clara",
    "Jana", "Franziska", "Jülide", "Ayşe", "Greta",
)  # fmt: skip
DE_LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
    "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
    "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid",
    "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel",
    "Yılmaz", "Kaya", "Nowak", "von Berg",
)  # fmt: skip
DE_STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße",
    "Bergstraße", "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße",
    "Schillerstraße", "Goethestraße", "Jahnstraße", "Wiesenweg", "Am Markt", "Mühlenweg",
    "Rosenstraße", "Friedhofstraße", "Amselweg",
)  # fmt: skip


def _plz(base: int) -> Callable[[random.Random], str]:
    return lambda rng: f"{base + rng.randrange(1000):05d}"


DE_CITIES = (
    City("Berlin", _plz(10000), "030"),
    City("Hamburg", _plz(20000), "040"),
    City("München", _plz(80000), "089"),
    City("Köln", _plz(50000), "0221"),
    City("Frankfurt am Main", _plz(60000), "069"),
    City("Stuttgart", _plz(70000), "0711"),
    City("Düsseldorf", _plz(40000), "0211"),
    City("Leipzig", _plz(4000), "0341"),
    City("Dortmund", _plz(44000), "0231"),
    City("Essen", _plz(45000), "0201"),
    City("Bremen", _plz(28000), "0421"),
    City("Dresden", _plz(1000), "0351"),
)


#: German mobile prefixes and the digits that follow each.
DE_MOBILE = (("0151", 8), ("0152", 8), ("0176", 8), ("0160", 7), ("0170", 7), ("0171", 7))


def _de_mobile(rng: random.Random) -> str:
    prefix, digits = rng.choice(DE_MOBILE)
    return prefix + _digits(rng, digits)


def _de_phone(n: str, style: int) -> str:
    """A German number (national, with the leading 0) written one of six ways."""
    cut = 4 if n.startswith("01") or len(n) > 10 else 3
    if not n.startswith("01") and n[:4] in {c.area for c in DE_CITIES}:
        cut = 4
    head, tail = n[:cut], n[cut:]
    return (
        f"{head} {tail}",
        f"{head}/{tail}",
        f"+49 {head[1:]} {tail}",
        f"+49 (0){head[1:]} {tail}",
        n,
        f"0049 {head[1:]}-{tail}",
    )[style]


def _de_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}.{m}.{y}"


DE = Locale(
    "de",
    "DE",
    DE_FIRST_M,
    DE_FIRST_F,
    DE_LAST,
    DE_STREETS,
    DE_CITIES,
    (
        "gmail.com",
        "web.de",
        "gmx.de",
        "t-online.de",
        "gmx.net",
        "outlook.de",
        "yahoo.de",
        "freenet.de",
    ),
    "familie",
    (("straße", "str."), ("Straße", "Str.")),
    False,
    _de_mobile,
    lambda rng, city: city.area + str(rng.randint(100_000, 9_999_999)),
    _de_phone,
    _de_date,
)


def italian(
    first_m: list[str],
    first_f: list[str],
    last: list[str],
    streets: list[str],
    cities: tuple[tuple[str, str], ...],
    domains: tuple[str, ...],
    mobile: tuple[str, ...],
    landline: dict[str, str],
) -> Locale:
    """The Italian locale from the original generator's tables (draws in its order)."""
    return Locale(
        "it",
        "IT",
        tuple(first_m),
        tuple(first_f),
        tuple(last),
        tuple(streets),
        tuple(
            City(name, lambda rng, cap=cap: f"{cap}{rng.randint(0, 99):02d}", landline[name])
            for name, cap in cities
        ),
        domains,
        "famiglia",
        (("Via ", "V. "),),
        False,
        lambda rng: rng.choice(mobile) + f"{rng.randint(0, 9_999_999):07d}",
        lambda rng, city: city.area + f"{rng.randint(1_000_000, 9_999_999)}",
        phone_format,
        lambda iso: iso,
    )
