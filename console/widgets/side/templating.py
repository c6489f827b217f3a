"""Filling canned reply templates in the composer: the rules live in `backends.templating`,
which every send path (console, CLI, API) shares."""

from __future__ import annotations

from backends.templating import VARIABLE, fill, placeholders, variables

__all__ = ["VARIABLE", "fill", "unresolved", "variables"]


def unresolved(body: str) -> list[str]:
    """Every `{name}` still in the text, known or not (the composer points them out after
    inserting a template; only unfilled known variables stop a send)."""
    return placeholders(body)
