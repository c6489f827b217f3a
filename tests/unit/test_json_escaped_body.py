"""The API's answers carry no raw bidi control, DEL or C1 control (`json_escaped_bytes`):
each is written as a \\u escape, and every other character, its neighbours included, is
left as it is (the body itself comes back when there is nothing to escape)."""

from __future__ import annotations

import json

import pytest

from backends.text import JSON_ESCAPED, json_escaped_bytes

#: Characters whose UTF-8 form starts with the same byte as an escaped one, or that sit
#: next to the escaped ranges: a euro sign and dashes (E2 82 / E2 80), a no-break space
#: (C2 A0), an Arabic semicolon (D8 9B), the word joiner (E2 81 A0) and more.
NEIGHBOURS = "€—–’\u00a0\u00a9\u061b\u061d\u200d\u2029\u202f\u2060\u206a~è"


@pytest.mark.parametrize("char", list(JSON_ESCAPED))
def test_each_escaped_character_is_written_as_an_escape(char: str) -> None:
    body = json.dumps({"summary": f"€ fattura{char}txt — fine"}, ensure_ascii=False).encode()
    escaped = json_escaped_bytes(body)
    assert char.encode() not in escaped
    assert f"\\u{ord(char):04x}".encode() in escaped
    assert json.loads(escaped) == json.loads(body)  # the same data for any JSON parser


def test_a_body_without_them_comes_back_as_it_is() -> None:
    body = json.dumps({"events": [NEIGHBOURS * 3] * 200}, ensure_ascii=False).encode()
    assert json_escaped_bytes(body) is body
    ascii_body = b'{"summary":"Order 1234 shipped"}' * 1000
    assert json_escaped_bytes(ascii_body) is ascii_body


def test_one_escaped_character_among_many_neighbours_is_found() -> None:
    for char in ("\u202e", "\u0085", "\x7f", "\u061c", "\u2069"):
        body = (NEIGHBOURS * 500 + char + NEIGHBOURS).encode()
        escaped = json_escaped_bytes(body)
        assert escaped.count(b"\\u") == 1 and char.encode() not in escaped
