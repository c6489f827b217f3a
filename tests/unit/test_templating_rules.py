"""The template rules every send path shares (backends/templating.py): pure functions."""

from __future__ import annotations

from backends import templating


def test_the_rules_module_is_pure_and_fills_only_what_it_knows() -> None:
    values = {"first_name": "Mario"}
    assert templating.fill("Ciao {first_name} {word}", values) == "Ciao Mario {word}"
    assert templating.unresolved("Ciao {first_name} {last_name} {word}", values) == [
        "first_name",
        "last_name",
    ]
    assert templating.fill_html("<p>{first_name}</p>", {"first_name": "<b>"}) == (
        "<p>&lt;b&gt;</p>"
    )
    assert templating.matches("Ciao Mario, a presto", "Ciao {first_name}, a presto")
    assert not templating.matches("Ciao Mario, a dopo", "Ciao {first_name}, a presto")
    assert not templating.matches("Ciao Mario\nspam, a presto", "Ciao {first_name}, a presto")
    assert templating.unresolved(
        "{loyalty.points} {word}", {}, templating.known_variables(["Hai {loyalty.points}"])
    ) == ["loyalty.points"]
    # a customer literally named "{first_name}": the braces came from filling
    assert templating.unresolved("Ciao {first_name}", {"first_name": "{first_name}"}) == []
