"""Managing reply templates in PostgreSQL: list, add, edit, approve for WhatsApp, retire.

The checks are the SQLite store's (backends/templating.py); the backend checks the user is
an admin first. Each function runs inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

import psycopg

from backends import templating
from backends.base import Conflict, NotFound
from backends.models import Template, to_builtins
from backends.postgres import rows

Conn = psycopg.Connection[Any]


def read(db: Conn, name: str, *, lock: bool = False) -> Template:
    row = db.execute(
        "SELECT * FROM templates WHERE name = %s" + (" FOR UPDATE" if lock else ""), (name,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no template named {name!r} (see `vista templates list`)")
    return rows.template(row)


def fields(db: Conn, name: str) -> dict[str, Any]:
    """A template's fields as the audit trail compares them ({} when there is none), locked
    for the change that follows."""
    try:
        return dict(to_builtins(read(db, name, lock=True)))
    except NotFound:
        return {}


def listed(db: Conn, retired: bool) -> tuple[Template, ...]:
    """Every template by name; the retired ones only with `retired`."""
    found = db.execute(
        "SELECT * FROM templates WHERE %s OR retired = 0 ORDER BY name", (retired,)
    ).fetchall()
    return tuple(rows.template(r) for r in found)


def add(
    db: Conn,
    name: str,
    body: str,
    *,
    channel: str | None = None,
    language: str = "",
    html: str | None = None,
) -> Template:
    values = (
        templating.check_name(name),
        templating.check_body(body),
        templating.check_channel(channel),
        templating.check_language(language),
        html or None,
    )
    done = db.execute(
        "INSERT INTO templates(name, body, channel, language, html) VALUES (%s,%s,%s,%s,%s) "
        "ON CONFLICT (name) DO NOTHING",
        values,
    ).rowcount
    if not done:
        raise Conflict(f"a template named {name!r} exists already (edit it, or pick a new name)")
    return read(db, name)


def edit(
    db: Conn,
    name: str,
    *,
    body: str | None = None,
    channel: str | None = None,
    language: str | None = None,
    html: str | None = None,
) -> Template:
    old = read(db, name, lock=True)
    old_channel = old.channel.value if old.channel else None
    new_body = templating.check_body(body) if body is not None else old.body
    new_channel = templating.check_channel(channel) if channel is not None else old_channel
    new_language = templating.check_language(language) if language is not None else old.language
    new_html = (html or None) if html is not None else old.html
    # the provider approved these words on this channel: other words need a new approval
    keep = new_body == old.body and new_channel == old_channel
    db.execute(
        "UPDATE templates SET body = %s, channel = %s, language = %s, html = %s, "
        "whatsapp_approved = %s, provider_name = %s WHERE name = %s",
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


def approve(db: Conn, name: str, provider_name: str) -> Template:
    provider = templating.check_approval(read(db, name, lock=True), provider_name)
    db.execute(
        "UPDATE templates SET whatsapp_approved = 1, provider_name = %s WHERE name = %s",
        (provider, name),
    )
    return read(db, name)


def retire(db: Conn, name: str) -> Template:
    read(db, name, lock=True)
    db.execute("UPDATE templates SET retired = 1 WHERE name = %s", (name,))
    return read(db, name)
