"""Normalising what source systems type: e-mails, phones, names, dates, addresses, and junk.

Every function is pure and cheap; the expensive one (phone parsing with
`phonenumbers`) is cached by its digits, since the same number comes in many
spellings. A value that normalises to junk returns "" and never links anything.
"""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any

from phonenumbers import PhoneNumberType

from backends.identity import phones

# -- junk -------------------------------------------------------------------

#: Local parts that mean "no e-mail" (whole local part, before any +tag).
JUNK_EMAIL_LOCALS = frozenset(
    {
        "test",
        "tests",
        "noemail",
        "no-email",
        "no.email",
        "no_email",
        "nomail",
        "none",
        "null",
        "nobody",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "na",
        "n.a",
        "n/a",
        "x",
        "xx",
        "xxx",
        "asdf",
        "abc",
        "fake",
        "unknown",
        "sconosciuto",
        "nessuna",
        "nessuno",
        "email",
        "mail",
        "dummy",
        "example",
        "info",
        "customer",
        "cliente",
    }
)
#: Local parts starting with these are placeholders too (`noemail123`, `donotreply-shop`).
_JUNK_EMAIL_PREFIXES = (
    "noemail",
    "nomail",
    "no-email",
    "no.email",
    "no_email",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
)
JUNK_EMAIL_DOMAINS = frozenset(
    {
        "test.com",
        "example.com",
        "example.org",
        "example.net",
        "test.it",
        "email.com",
        "mailinator.com",
        "none.com",
        "nomail.com",
        "noemail.com",
        "invalid",
        "localhost",
    }
)
#: Text placeholders for "no value" in any field.
JUNK_TEXT = frozenset(
    {
        "",
        "n/a",
        "na",
        "n.a.",
        "none",
        "null",
        "nil",
        "-",
        "--",
        "?",
        "unknown",
        "sconosciuto",
        "test",
        "xxx",
        "x",
        "nessuno",
        "not available",
        "no",
        "undefined",
        ".",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
_DIGITS = re.compile(r"\D")


def is_junk_text(value: str) -> bool:
    """A placeholder such as `n/a`, `none` or `-` (case-insensitive)."""
    return value.strip().lower() in JUNK_TEXT


# -- e-mail -------------------------------------------------------------------

#: Providers that ignore dots in the local part (and accept +tags): only these.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email(raw: object) -> str:
    """Lower-case, trimmed e-mail; Gmail dots and +tags folded; "" for junk or malformed.

    Dots and +tags are folded only for `DOTLESS_DOMAINS` (Gmail's stated rule);
    other providers treat `a.b@` and `ab@` as different mailboxes.
    """
    if raw is None:
        return ""
    text = str(raw).strip().lower().strip("<>").replace(" ", "")
    text = text.removeprefix("mailto:")
    if not _EMAIL.match(text):
        return ""
    local, _, domain = text.rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in DOTLESS_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
    bare = local.split("+", 1)[0]
    if not bare or bare in JUNK_EMAIL_LOCALS or domain in JUNK_EMAIL_DOMAINS:
        return ""
    if bare.startswith(_JUNK_EMAIL_PREFIXES):
        return ""
    return f"{local}@{domain}"


# -- phones ---------------------------------------------------------------------

MOBILE = "m"
LANDLINE = "l"  # fixed line: households share these
OTHER = "o"
#: FIXED_LINE_OR_MOBILE: the numbering plan does not tell (NANP and others); personal
#: unless many records share the number.
PERSONAL_OR_FIXED = "p"
#: The phone types a record's features keep beside each number (computed once, where the
#: record is prepared). Features stored before kept "f" (a landline, or a number the plan
#: cannot tell) or nothing: their type is read from the numbering plan again.
PHONE_TYPES = frozenset({MOBILE, LANDLINE, PERSONAL_OR_FIXED, OTHER})


def phone(raw: object, region: str = "IT") -> tuple[str, str]:
    """(E.164, "") for a phone in any common format; ("", "") for junk or impossible numbers.

    `region` is the default country for numbers written without a country
    code. The type (mobile, landline...) is left to `phone_type`, which is slower and
    only needed for a record's features.
    """
    if raw is None:
        return "", ""
    text = str(raw).strip()
    if not text:
        return "", ""
    digits = _DIGITS.sub("", text)
    if len(digits) < 6 or len(set(digits)) <= 2:  # 0000000000, 1111111, 1212121212
        return "", ""
    if text.startswith("+"):
        key = "+" + digits
    elif digits.startswith("00"):
        key = "+" + digits[2:]
    else:
        key = digits
    return _parse_phone(key, region.upper())


@lru_cache(maxsize=100_000)
def _parse_phone(key: str, region: str) -> tuple[str, str]:
    value = phones.e164(key, region)
    return (value, "") if value else ("", "")


@lru_cache(maxsize=100_000)
def phone_kind(e164: str) -> str:
    """MOBILE, LANDLINE or OTHER for an E.164 number (computed only when a phone is shared).

    FIXED_LINE_OR_MOBILE (e.g. US numbers) counts as a landline: it may be shared.
    """
    kind = phones.number_type(e164)
    if kind == PhoneNumberType.MOBILE:
        return MOBILE
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return LANDLINE
    return OTHER


def stored_type(e164: str, kind: str) -> str:
    """The phone type of a stored (number, kind) pair: the kind kept beside it, or for a
    record stored without one (or with an older store's "f"), `phone_type`."""
    return kind if kind in PHONE_TYPES else phone_type(e164)


@lru_cache(maxsize=100_000)
def phone_type(e164: str) -> str:
    """MOBILE, LANDLINE, PERSONAL_OR_FIXED or OTHER, as the number's country's numbering plan
    tells them apart (the match model reads PERSONAL_OR_FIXED by how many records share it)."""
    kind = phones.number_type(e164)
    if kind == PhoneNumberType.MOBILE:
        return MOBILE
    if kind == PhoneNumberType.FIXED_LINE:
        return LANDLINE
    if kind == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        return PERSONAL_OR_FIXED
    return OTHER


# -- names ------------------------------------------------------------------------

_NON_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sig",
        "sigra",
        "signor",
        "signora",
        "dott",
        "dottssa",
        "prof",
        "ing",
        "avv",
        "jr",
        "sr",
    }
)


@lru_cache(maxsize=50_000)
def name_key(raw: str) -> str:
    """A name for comparison: lower case, accents and punctuation gone, titles dropped."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = _NON_LETTER.sub(" ", text.replace("'", "").replace("’", ""))
    words = [w for w in text.split() if w not in _TITLES]
    key = " ".join(words)
    # "n/a" is junk before its punctuation goes ("n a" is not)
    return "" if key in JUNK_TEXT or is_junk_text(raw) else key


def display_name(raw: str) -> str:
    """A name for people: spaces collapsed; ALL CAPS or all lower turned into Title Case."""
    text = _SPACES.sub(" ", raw).strip()
    if text in JUNK_TEXT or text.lower() in JUNK_TEXT:
        return ""
    if text.isupper() or text.islower():
        text = " ".join(_title_word(w) for w in text.split(" "))
    return text


def _title_word(word: str) -> str:
    parts = re.split(r"([-'’])", word.lower())
    return "".join(p[:1].upper() + p[1:] for p in parts)


def split_full_name(raw: str) -> tuple[str, str]:
    """'Mario Rossi' -> ('Mario', 'Rossi'); 'Rossi, Mario' -> ('Mario', 'Rossi')."""
    text = _SPACES.sub(" ", raw).strip()
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.partition(" ")
    return first, last


# -- dates ----------------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("d", "m", "y")),  # European first
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
)


def birth_date(raw: object, today: date | None = None) -> str:
    """ISO date from `1980-03-07`, `07/03/1980`, `7.3.1980`, `19800307`; "" if none or implausible.

    Day-first is assumed for `dd/mm/yyyy` unless the first number cannot be a
    day-month (then `mm/dd/yyyy`). Dates before 1900 or in the future are junk.
    """
    if raw is None:
        return ""
    iso = _date_iso(str(raw).strip())
    # ISO dates with 4-digit years compare as strings
    if iso and iso > (today.isoformat() if today is not None else _today()):
        return ""
    return iso


_TODAY: list[Any] = [0.0, ""]


def _today() -> str:
    """Today's ISO date, looked up at most once a second (it is asked once per record)."""
    now = time.monotonic()
    if now - _TODAY[0] > 1.0:
        _TODAY[0], _TODAY[1] = now, date.today().isoformat()
    return str(_TODAY[1])


@lru_cache(maxsize=65_536)
def _date_iso(text: str) -> str:
    """The ISO form of a date in one of the common formats ("" if none or before 1900)."""
    for pattern, order in _DATE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        parts = dict(zip(order, (int(g) for g in m.groups()), strict=True))
        y, mo, d = parts["y"], parts["m"], parts["d"]
        if mo > 12 and d <= 12:
            mo, d = d, mo
        try:
            value = date(y, mo, d)
        except ValueError:
            return ""
        if value.year < 1900 or value == date(1900, 1, 1):
            return ""
        return value.isoformat()
    return ""


# -- addresses ------------------------------------------------------------------------

_ABBREVIATIONS = {
    "v": "via",
    "vle": "viale",
    "v.le": "viale",
    "p.za": "piazza",
    "pza": "piazza",
    "p.zza": "piazza",
    "pzza": "piazza",
    "p": "piazza",
    "c.so": "corso",
    "cso": "corso",
    "st": "street",
    "str": "strada",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "ln": "lane",
    "dr": "drive",
    "sq": "square",
    "pl": "place",
    "lgo": "largo",
    "vc": "vicolo",
    "n": "",
    "no": "",
    "nr": "",
    "num": "",
}


@lru_cache(maxsize=50_000)
def street_key(raw: str) -> str:
    """A street for comparison: lower case, no accents or punctuation, abbreviations expanded."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    words = []
    for word in re.split(r"[\s,]+", text):
        word = word.strip()
        if not word:
            continue
        bare = word.rstrip(".")
        if word in _ABBREVIATIONS or bare in _ABBREVIATIONS:
            word = _ABBREVIATIONS.get(word, _ABBREVIATIONS.get(bare, bare))
        word = re.sub(r"[^a-z0-9]", "", word)
        if word:
            words.append(word)
    key = " ".join(words)
    return "" if key in JUNK_TEXT else key


def postal_code(raw: object) -> str:
    """Upper case, no spaces; "" for junk like 00000."""
    text = re.sub(r"\s+", "", str(raw or "")).upper()
    if not text or is_junk_text(text) or len(set(text)) == 1:
        return ""
    return text


def city_key(raw: object) -> str:
    return name_key(str(raw or ""))


def text(raw: object) -> str:
    """Trimmed text with spaces collapsed; "" for placeholders."""
    value = " ".join(str(raw or "").split())  # = collapse whitespace, strip
    return "" if value.lower() in JUNK_TEXT else value
