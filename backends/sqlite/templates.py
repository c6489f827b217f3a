"""Managing reply templates in the store: add, edit, approve for WhatsApp, retire.

Checks are here, next to the SQL; the backend checks the user is an admin first.
"""

from __future__ import annotations

import re
import sqlite3

from backends.base import Conflict, InvalidInput, NotFound
from backends.models import Channel, Template
from backends.sqlite import rows

#: A template's name: a letter or digit, then letters, digits, . _ - (64 at most).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: A language: ISO 639-1, optionally with a region (it, en, pt-BR).
LANGUAGE = re.compile(r"[a-z]{2}(?:[-_][A-Za-z]{2})?")
#: A WhatsApp template's name at the provider: lower-case letters, digits and underscores.
PROVIDER_NAME = re.compile(r"[a-z0-9_]{1,512}")
MAX_BODY = 4096


def _channel(value: str | None) -> str | None:
    if value is None or value.strip().lower() in ("", "any"):
        return None
    try:
        return Channel(value.strip().lower()).value
    except ValueError as e:
        known = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"unknown channel {value!r}; channels: {known} (or any)") from e


def _language(value: str) -> str:
    v = value.strip()
    if v and not LANGUAGE.fullmatch(v):
        raise InvalidInput(f"language {value!r} is not a language code like it, en or pt-BR")
    return v


def _body(value: str) -> str:
    if not value.strip():
        raise InvalidInput("the template's text is empty")
    if len(value) > MAX_BODY:
        raise InvalidInput(f"a template's text has at most {MAX_BODY} characters")
    return value


def read(db: sqlite3.Connection, name: str) -> Template:
    row = db.execute("SELECT * FROM templates WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no template named {name!r} (see `vista templates list`)")
    return rows.template(row)


def add(
    db: sqlite3.Connection,
    name: str,
    body: str,
    channel: str | None,
    language: str,
    html: str | None,
) -> Template:
    if not NAME.fullmatch(name):
        raise InvalidInput(
            f"template name {name!r}: a letter or digit, then letters, digits, . _ - (64 at most)"
        )
    values = (name, _body(body), _channel(channel), _language(language), html or None)
    if db.execute("SELECT 1 FROM templates WHERE name = ?", (name,)).fetchone():
        raise Conflict(f"a template named {name!r} exists already (edit it, or pick a new name)")
    db.execute(
        "INSERT INTO templates(name, body, channel, language, html) VALUES (?,?,?,?,?)", values
    )
    return read(db, name)


def edit(
    db: sqlite3.Connection,
    name: str,
    body: str | None,
    channel: str | None,
    language: str | None,
    html: str | None,
) -> Template:
    old = read(db, name)
    new_body = _body(body) if body is not None else old.body
    new_channel = _channel(channel) if channel is not None else (old.channel and old.channel.value)
    new_language = _language(language) if language is not None else old.language
    new_html = (html or None) if html is not None else old.html
    # the provider approved these words on this channel: other words need a new approval
    keep = new_body == old.body and new_channel == (old.channel and old.channel.value)
    db.execute(
        "UPDATE templates SET body = ?, channel = ?, language = ?, html = ?, "
        "whatsapp_approved = ?, provider_name = ? WHERE name = ?",
        (
            new_body,
            new_channel,
            new_language,
            new_html,
            int(old.whatsapp_approved and keep),
            old.provider_name if keep else "",
            name,
        ),
    )
    return read(db, name)


def approve(db: sqlite3.Connection, name: str, provider_name: str) -> Template:
    old = read(db, name)
    provider = provider_name.strip()
    if not PROVIDER_NAME.fullmatch(provider):
        raise InvalidInput(
            f"provider name {provider_name!r}: the name the WhatsApp provider approved, "
            "in lower-case letters, digits and underscores"
        )
    if old.retired:
        raise InvalidInput(f"template {name!r} is retired")
    if old.channel not in (None, Channel.WHATSAPP):
        raise InvalidInput(
            f"template {name!r} is for {old.channel.value}: only WhatsApp templates are approved"
        )
    db.execute(
        "UPDATE templates SET whatsapp_approved = 1, provider_name = ? WHERE name = ?",
        (provider, name),
    )
    return read(db, name)


def retire(db: sqlite3.Connection, name: str) -> Template:
    read(db, name)
    db.execute("UPDATE templates SET retired = 1 WHERE name = ?", (name,))
    return read(db, name)
