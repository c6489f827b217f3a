"""Command palette provider: the registry's actions that make sense now, titled `area: verb`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.actions import parse as parse_action
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from console import actions


class VistaCommands(Provider):
    """Offers an action only when its owner's `check_action` allows it now."""

    def _available(self) -> Iterator[tuple[actions.ActionSpec, DOMNode]]:
        screen = self.screen
        owners: dict[str, DOMNode] = {"app": self.app, "workspace": screen}
        composers = screen.query("Composer")
        if composers:
            owners["composer"] = composers.first()
        own = getattr(screen, "ACTION_OWNER", "")  # a screen with actions of its own
        if own:
            owners[own] = screen
        titles: set[str] = set()
        for spec in actions.ACTIONS:
            node = owners.get(spec.owner)
            if node is None or not spec.palette:
                continue
            if spec.owner == "workspace" and screen.__class__.__name__ != "WorkspaceScreen":
                continue
            _namespace, action, params = parse_action(spec.action)
            if node.check_action(action, params) is True and spec.title not in titles:
                titles.add(spec.title)
                yield spec, node

    async def discover(self) -> Hits:
        for spec, node in self._available():
            yield DiscoveryHit(
                spec.title, partial(self.app.run_action, spec.action, node), help=spec.description
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec, node in self._available():
            score = matcher.match(spec.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(spec.title),
                    partial(self.app.run_action, spec.action, node),
                    text=spec.title,
                    help=spec.description,
                )
