"""Phone numbers to E.164 quickly: `phonenumbers.parse` retraced for a digits-only key.

`phonenumbers.parse` spends most of its time on generic text handling (finding
the number in free text, extensions, RFC 3966, letters, Unicode digits), which
is moot for the key `normalise.phone` hands it: ASCII digits with an optional
leading `+`. This module follows the same decisions (IDD prefix, country code,
national prefix, possible lengths, Italian leading zeros) with the library's
own metadata and helpers, about five times faster; anything else, or a
`phonenumbers` release without those helpers, goes through the library itself.
A test compares the two on many numbers and regions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import phonenumbers

from backends.base import InvalidInput

#: The country codes a default region may name.
REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)

try:  # the library's internal helpers, pinned with phonenumbers in pyproject.toml
    from phonenumbers import phonenumberutil as _pu
    from phonenumbers.phonemetadata import PhoneMetadata as _Metadata

    _MIN_NSN = _pu._MIN_LENGTH_FOR_NSN
    _MAX_NSN = _pu._MAX_LENGTH_FOR_NSN
    _MAX_INPUT = _pu._MAX_INPUT_STRING_LENGTH
    _REGIONS = _pu.SUPPORTED_REGIONS
    _CC_REGIONS = _pu.COUNTRY_CODE_TO_REGION_CODE
    _extract_cc = _pu._extract_country_code
    _strip_prefix = _pu._maybe_strip_national_prefix_carrier_code
    _match_nsn = _pu._match_national_number
    _length = _pu._test_number_length
    _region_of_cc = _pu.region_code_for_country_code
    _type_in = _pu._number_type_helper
    _VR = _pu.ValidationResult
    _NOT_NATIONAL = (_VR.TOO_SHORT, _VR.IS_POSSIBLE_LOCAL_ONLY, _VR.INVALID_LENGTH)
    _POSSIBLE = (_VR.IS_POSSIBLE, _VR.IS_POSSIBLE_LOCAL_ONLY)
    FAST = True
except (ImportError, AttributeError):  # pragma: no cover - a phonenumbers without them
    FAST = False

_KEY = re.compile(r"\+?[0-9]{2,40}")


class _NoNumber(Exception):
    """What `phonenumbers.parse` would raise NumberParseException for."""


def check_region(code: str) -> str:
    """A default region for phones written without +CC: a country code `phonenumbers` knows,
    upper-cased.

    Raises:
        InvalidInput: anything else (a typo such as "IX" would turn every national
            number into junk).
    """
    value = code.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            f"unknown default region {code!r}: use a two-letter country code "
            f"such as IT, DE, FR, GB or US"
        )
    return value


def slow_e164(key: str, region: str) -> str:
    """E.164 of `key` read in `region` by `phonenumbers` itself ("" if impossible)."""
    try:
        number = phonenumbers.parse(key, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164(key: str, region: str) -> str:
    """E.164 of a digits-only `key` (optionally `+`-prefixed) read in `region`; "" if impossible.

    The same answer as `slow_e164`, which handles any other text.
    """
    if not FAST or len(key) > _MAX_INPUT or not _KEY.fullmatch(key):
        return slow_e164(key, region)
    try:
        return _fast(key, region)
    except _NoNumber:
        return ""


@lru_cache(maxsize=512)
def _metadata(region: str) -> Any:  # the library's PhoneMetadata, or None
    return _Metadata.metadata_for_region(region, None)


@lru_cache(maxsize=512)
def _idd(pattern: str) -> re.Pattern[str]:
    """A compiled metadata pattern (IDD prefix, leading digits)."""
    return re.compile(pattern)


def _country_code(number: str, metadata: Any) -> tuple[int, str]:
    """`_maybe_extract_country_code` for a digits-only number (its `_normalize` is the identity)."""
    if number.startswith("+"):
        full, from_default = number[1:], False
    else:
        full, from_default = number, True
        idd = getattr(metadata, "international_prefix", None) if metadata is not None else None
        m = _idd(idd if idd is not None else "NonMatch").match(number)
        if m:
            rest = number[m.end() :]
            # an IDD followed by a 0 is not an IDD (no country code starts with 0)
            if not rest or rest[0] != "0":
                full, from_default = rest, False
    if not from_default:
        if len(full) <= _MIN_NSN:
            raise _NoNumber
        cc, rest = _extract_cc(full)
        if cc != 0:
            return cc, rest
        raise _InvalidCountryCode
    if metadata is not None:
        cc = metadata.country_code  # type: ignore[attr-defined]
        prefix = str(cc)
        if full.startswith(prefix):
            general = metadata.general_desc  # type: ignore[attr-defined]
            _c, national, _s = _strip_prefix(full[len(prefix) :], metadata)
            if (
                not _match_nsn(full, general, False) and _match_nsn(national, general, False)
            ) or _length(full, metadata) == _VR.TOO_LONG:
                return cc, national
    return 0, ""


class _InvalidCountryCode(_NoNumber):
    """A `+` or IDD followed by no known country code."""


def _parse(key: str, region: str | None) -> tuple[int, str]:
    """(country code, national significant number) as `phonenumbers.parse` reads `key`."""
    plus = key.startswith("+")
    if region not in _REGIONS and not plus:
        raise _NoNumber  # no default region to read a national number in
    metadata = _metadata(region) if region is not None else None
    try:
        cc, national = _country_code(key, metadata)
    except _InvalidCountryCode:
        if not plus:
            raise
        cc, national = _country_code(key[1:], metadata)
        if cc == 0:
            raise
    if cc != 0:
        number_region = _region_of_cc(cc)
        if number_region != region:
            metadata = _Metadata.metadata_for_region_or_calling_code(cc, number_region)
    else:
        national = key  # no `+` here: a `+` key has a country code or failed above
        cc = metadata.country_code  # type: ignore[union-attr]
    if len(national) < _MIN_NSN:
        raise _NoNumber
    if metadata is not None:
        _carrier, potential, _stripped = _strip_prefix(national, metadata)
        if _length(potential, metadata) not in _NOT_NATIONAL:
            national = potential
    if len(national) < _MIN_NSN or len(national) > _MAX_NSN:
        raise _NoNumber
    # the library keeps an int and a count of leading zeros: the same digits as `national`
    return cc, national


def _fast(key: str, region: str) -> str:
    cc, national = _parse(key, region)
    if cc not in _CC_REGIONS:
        raise _NoNumber
    own: Any = _Metadata.metadata_for_region_or_calling_code(cc, _region_of_cc(cc))
    if _length(national, own) not in _POSSIBLE:
        raise _NoNumber
    return f"+{cc}{national}"


def number_type(e164_number: str) -> int:
    """`phonenumbers.number_type` of an E.164 number (UNKNOWN if it cannot be read)."""
    if not FAST or not _KEY.fullmatch(e164_number) or not e164_number.startswith("+"):
        try:
            return int(phonenumbers.number_type(phonenumbers.parse(e164_number, None)))
        except phonenumbers.NumberParseException:
            return int(phonenumbers.PhoneNumberType.UNKNOWN)
    try:
        cc, national = _parse(e164_number, None)
    except _NoNumber:
        return int(phonenumbers.PhoneNumberType.UNKNOWN)
    # region_code_for_number, then the type in that region's metadata (computed once)
    regions = _CC_REGIONS.get(cc)
    region = None
    if regions is not None and len(regions) == 1:
        region = regions[0]
    elif regions is not None:
        for code in regions:
            metadata = _Metadata.metadata_for_region(code.upper(), None)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                if _idd(metadata.leading_digits).match(national):
                    region = code
                    break
            else:
                kind = _type_in(national, metadata)
                if kind != phonenumbers.PhoneNumberType.UNKNOWN:
                    return int(kind)
    # the library reads a None region as "by the country code alone"
    metadata = _Metadata.metadata_for_region_or_calling_code(cc, region)  # type: ignore[arg-type]
    if metadata is None:
        return int(phonenumbers.PhoneNumberType.UNKNOWN)
    return int(_type_in(national, metadata))


def phone_tokens(phones: Iterable[str]) -> str:
    """Index text for phones: each as E.164 digits and as the national number.

    `+393471234567` is indexed as `393471234567 3471234567`, so typing
    `347 123`, `+39 347...` or `0039 347...` all find it by digit prefix.
    """
    out: list[str] = []
    for phone in phones:
        digits = re.sub(r"\D", "", phone)
        if not digits:
            continue
        out.append(digits)
        if phone.startswith("+") and len(digits) > 8:
            # national significant number: drop a 1-3 digit country code
            for cc in (2, 1, 3):
                national = digits[cc:]
                if 6 <= len(national) <= 12:
                    out.append(national)
                    break
    return " ".join(dict.fromkeys(out))
