"""Console settings (theme, key overrides, layout, default backend) and per-contact drafts.

Both live as small JSON files in the user's config directory (platformdirs),
so a theme choice and a half-written reply survive a restart. A broken or
unreadable file never stops the console: it falls back to defaults, says so,
and the next save keeps the broken file aside (`<name>.broken`) rather than
overwrite it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from backends.base import Backend, VistaError


def default_settings_path() -> Path:
    """settings.json in the user's config directory for Vista."""
    return Path(user_config_dir("vista", appauthor=False)) / "settings.json"


def _write_json(path: Path, data: Any) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> tuple[Any, str]:
    """(the JSON in `path` or None, what was wrong with it or "")."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        return None, f"cannot read {path}: {e.strerror}; defaults in use"
    except UnicodeDecodeError as e:
        return None, _broken(path, f"is not UTF-8 text ({e.reason})")
    try:
        return json.loads(text), ""
    except ValueError as e:
        return None, _broken(path, f"is not valid JSON ({e})")


def _broken(path: Path, why: str) -> str:
    return (
        f"{path} {why}; defaults in use, and the next save keeps it as "
        f"{_aside(path).name} rather than overwrite it"
    )


def _aside(path: Path) -> Path:
    return path.with_name(path.name + ".broken")


def _save_over(path: Path, data: Any, broken: str) -> None:
    """Write `data` to `path`; a file that was `broken` when read is first moved aside
    (kept for the user) rather than overwritten."""
    if broken and path.exists():
        os.replace(path, _aside(path))
    _write_json(path, data)


@dataclass
class Settings:
    """What the operator chose: kept across restarts."""

    theme: str = "vista-dark"
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys ("ctrl+s,f5")
    layout: str = "auto"  # auto, narrow, wide
    default_backend: str | None = None
    path: Path | None = field(default=None, repr=False, compare=False)
    problem: str = field(default="", repr=False, compare=False)  # why the file was not read

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings from `path` (default: the config dir); defaults when absent or broken."""
        path = path or default_settings_path()
        data, problem = _read_json(path)
        settings = cls(path=path, problem=problem)
        if isinstance(data, dict):
            if isinstance(data.get("theme"), str):
                settings.theme = data["theme"]
            if isinstance(data.get("keys"), dict):
                settings.keys = {str(k): str(v) for k, v in data["keys"].items()}
            if data.get("layout") in ("auto", "narrow", "wide"):
                settings.layout = data["layout"]
            if isinstance(data.get("default_backend"), str):
                settings.default_backend = data["default_backend"]
        return settings

    def save(self) -> None:
        """Write the settings file (best effort: an unwritable dir is not fatal)."""
        if self.path is None:
            return
        data = asdict(self)
        data.pop("path", None)
        data.pop("problem", None)
        try:
            _save_over(self.path, data, self.problem)
        except OSError:
            return
        self.problem = ""

    @property
    def drafts_path(self) -> Path:
        base = self.path or default_settings_path()
        return base.with_name("drafts.json")


@dataclass
class Draft:
    """A reply being written for one contact."""

    body: str = ""
    channel: str | None = None
    note: bool = False
    template: str | None = None


def draft_scope(backend: Backend) -> str:
    """What drafts are kept under: the store's own id, the same whatever path or URL it is
    opened by and different for every other store (its location, for a backend without)."""
    try:
        return f"store:{backend.store_id()}"
    except VistaError:
        return backend.location


class Drafts:
    """Unsent replies per contact, stored in drafts.json next to the settings.

    Keys are "<scope>#<contact id>", the scope being the store's id (`draft_scope`), so a
    draft never shows up on the contact with the same id in another database.
    """

    def __init__(self, path: Path, scope: str = "") -> None:
        self.path = path
        self.scope = scope
        data, self.problem = _read_json(path)  # why the file was not read ("" if it was)
        self._drafts: dict[str, Draft] = {}
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, dict) and isinstance(value.get("body"), str):
                    channel, template = value.get("channel"), value.get("template")
                    self._drafts[str(key)] = Draft(
                        body=value["body"],
                        channel=channel if isinstance(channel, str) else None,
                        note=bool(value.get("note", False)),
                        template=template if isinstance(template, str) else None,
                    )

    def _key(self, contact_id: int) -> str:
        return f"{self.scope}#{contact_id}"

    def get(self, contact_id: int) -> Draft | None:
        return self._drafts.get(self._key(contact_id))

    def put(self, contact_id: int, draft: Draft) -> None:
        """Keep (or, when empty, forget) the draft of a contact and write the file."""
        key = self._key(contact_id)
        if draft.body.strip():
            if self._drafts.get(key) == draft:
                return  # unchanged: no write
            self._drafts[key] = draft
        elif self._drafts.pop(key, None) is None:
            return  # nothing kept, nothing to forget
        self.save()

    def discard(self, contact_id: int) -> None:
        if self._drafts.pop(self._key(contact_id), None) is not None:
            self.save()

    def save(self) -> None:
        try:
            _save_over(self.path, {k: asdict(v) for k, v in self._drafts.items()}, self.problem)
        except OSError:
            return
        self.problem = ""


def configured_backend() -> str | None:
    """`default_backend` from the user's settings.json: used when neither --backend nor
    $VISTA_BACKEND names one. A settings file that cannot be read is said on stderr (the
    store used may not be the one the user set)."""
    settings = Settings.load()
    if settings.problem:
        sys.stderr.write(f"vista: warning: {settings.problem}\n")
    return settings.default_backend or None
