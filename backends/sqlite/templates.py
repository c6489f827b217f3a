"""Managing reply templates in the store: add, edit, approve for WhatsApp, retire.

Checks are here, next to the SQL; the backend checks the user is an admin first.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backends import templating
from backends.base import Conflict, NotFound
from backends.models import Template, to_builtins
from backends.sqlite import rows


def read(db: sqlite3.Connection, name: str) -> Template:
    row = db.execute("SELECT * FROM templates WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no template named {name!r} (see `vista templates list`)")
    return rows.template(row)


def fields(db: sqlite3.Connection, name: str) -> dict[str, Any]:
    """A template's fields as the audit trail compares them ({} when there is none)."""
    try:
        return dict(to_builtins(read(db, name)))
    except NotFound:
        return {}


def add(
    db: sqlite3.Connection,
    name: str,
    body: str,
    channel: str | None,
    language: str,
    html: str | None,
) -> Template:
    values = (
        templating.check_name(name),
        templating.check_body(body),
        templating.check_channel(channel),
        templating.check_language(language),
        html or None,
    )
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
    new_body = templating.check_body(body) if body is not None else old.body
    new_channel = (
        templating.check_channel(channel)
        if channel is not None
        else (old.channel and old.channel.value)
    )
    new_language = templating.check_language(language) if language is not None else old.language
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
    provider = templating.check_approval(old, provider_name)
    db.execute(
        "UPDATE templates SET whatsapp_approved = 1, provider_name = ? WHERE name = ?",
        (provider, name),
    )
    return read(db, name)


def retire(db: sqlite3.Connection, name: str) -> Template:
    read(db, name)
    db.execute("UPDATE templates SET retired = 1 WHERE name = ?", (name,))
    return read(db, name)
