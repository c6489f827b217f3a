"""The sanitiser: hostile customer text comes out inert and readable."""

from __future__ import annotations

from rich.console import Console

from console.safe_text import clean, literal


def test_ansi_escapes_and_controls_are_removed() -> None:
    hostile = "Mario\x1b[2J\x1b[31mRossi\x1b]0;pwned\x07\x07\x08\x00!"
    assert clean(hostile) == "MarioRossi!"


def test_bidi_overrides_are_removed() -> None:
    # U+202E would show "txt.exe" as "exe.txt"
    assert clean("invoice\u202etxt.exe\u2066x\u2069") == "invoicetxt.exex"


def test_markup_stays_literal() -> None:
    text = literal("[bold red]Mario[/] [@click=app.quit]x[/]")
    assert text.plain == "[bold red]Mario[/] [@click=app.quit]x[/]"
    console = Console(record=True, width=80, color_system=None)
    console.print(text)
    assert "[bold red]Mario[/]" in console.export_text()


def test_whitespace_and_length() -> None:
    assert clean("  a\n\tb  ") == "a b"
    assert clean("a\n\tb", multiline=True) == "a\n    b"
    assert clean("x" * 10_000, max_length=10) == "x" * 9 + "…"
    assert clean(None) == ""
    assert clean("Zoë 😀 Müller") == "Zoë 😀 Müller"


def test_json_output_escapes_bidi_and_c1_controls_but_keeps_the_data(capsys) -> None:
    import json

    from console.cli.output import emit_json, emit_jsonl

    name = "Mario\u202e ssoR\x9b31m Ünïcode 👍"
    emit_jsonl([{"name": name}])
    emit_json({"name": name})
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\x9b" not in out
    assert "\\u202e" in out and "Ünïcode 👍" in out
    first, rest = out.split("\n", 1)
    assert json.loads(first)["name"] == name and json.loads(rest)["name"] == name
