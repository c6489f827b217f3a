"""The sanitiser at its edges: each kind of escape sequence and control character, the length
cut on both sides, and the Rich `Text` / Textual `Content` wrappers keeping their options."""

from __future__ import annotations

import pytest
from textual.content import Content

from console.safe_text import clean, content, json_text, literal

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b[2J",  # CSI
        "\x1b[38;5;196m",
        "\x1b[?25l",
        "\x1b]0;pwned\x07",  # OSC ended by BEL
        "\x1b]8;;http://evil\x1b\\",  # OSC ended by ST (a hyperlink)
        "\x1bPq#0;2;0;0;0\x1b\\",  # DCS
        "\x1bXsos\x1b\\",  # SOS
        "\x1b^pm\x1b\\",  # PM
        "\x1b_apc\x1b\\",  # APC
        "\x1bM",  # 7-bit C1 (reverse index)
        "\x1b\\",
        "\x9b31m",  # 8-bit CSI
    ],
)
def test_every_kind_of_escape_sequence_is_removed_whole(hostile: str) -> None:
    assert clean(f"Anna{hostile}Neri") == "AnnaNeri"
    assert clean(f"{hostile}Anna") == "Anna"


def test_an_unended_osc_swallows_the_rest_as_a_terminal_would() -> None:
    assert clean("Anna\x1b]0;pwned Neri") == "Anna"
    assert clean("Anna\x1bP1;2 Neri") == "Anna"


@pytest.mark.parametrize(
    "char", [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\x7f"]
)
def test_c0_controls_and_delete_are_removed(char: str) -> None:
    assert clean(f"a{char}b") == "ab"
    assert clean(f"a{char}b", multiline=True) == "ab"


@pytest.mark.parametrize("char", [chr(c) for c in range(0x80, 0xA0) if c != 0x9B])
def test_c1_controls_are_removed(char: str) -> None:
    assert clean(f"a{char}b") == "ab"


@pytest.mark.parametrize("char", list(BIDI))
def test_each_bidi_control_is_removed(char: str) -> None:
    assert clean(f"{char}abc{char}") == "abc"


def test_characters_next_to_the_ranges_are_kept() -> None:
    kept = " ~\xa0éΩ€😀"
    assert clean(f"a{kept}b", multiline=True) == f"a{kept}b"
    assert clean("\u200d\u2060x") == "x"  # zero-width joiners go, as the screen shows them


def test_newlines_and_tabs_only_in_multiline_text() -> None:
    assert clean("a\nb\tc\r\nd") == "a b c d"
    assert clean("a\nb\tc", multiline=True) == "a\nb    c"
    assert clean("  padded  ", multiline=True) == "  padded  "
    assert clean("  padded  ") == "padded"


def test_the_length_cut_on_both_sides_of_the_limit() -> None:
    assert clean("abcde", max_length=5) == "abcde"
    assert clean("abcdef", max_length=5) == "abcd…"
    assert clean("ab", max_length=1) == "…"
    assert clean("ab", max_length=0) == "…"
    # the cut counts what is left after cleaning
    assert clean("\x1b[31mabcde\x1b[0m", max_length=5) == "abcde"


def test_non_text_values() -> None:
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean("") == ""


def test_literal_keeps_its_style_and_options() -> None:
    text = literal("[b]x[/b]\x1b[31m", "bold")
    assert text.plain == "[b]x[/b]" and str(text.style) == "bold"
    assert literal("x").style == ""
    assert literal("a\nb", multiline=True).plain == "a\nb"
    assert literal("a\nb").plain == "a b"
    assert literal("abcdef", max_length=3).plain == "ab…"


def test_content_keeps_its_style_and_options() -> None:
    plain = content("[b]x[/b]\u202e")
    assert isinstance(plain, Content) and plain.plain == "[b]x[/b]" and not plain.spans
    styled = content("[b]x[/b]", "bold")
    assert styled.plain == "[b]x[/b]" and styled.spans
    assert content("a\nb", multiline=True).plain == "a\nb"
    assert content("abcdef", max_length=3).plain == "ab…"


def test_json_text_escapes_bidi_delete_and_c1_only() -> None:
    assert json_text('{"n": "a\u202eb\x7fc\x85d"}') == '{"n": "a\\u202eb\\u007fc\\u0085d"}'
    assert json_text('{"n": "Zoë 😀\\n"}') == '{"n": "Zoë 😀\\n"}'
