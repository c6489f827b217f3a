"""`vista kb`: the knowledge base: import Markdown articles, list, show, search, usage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backends.knowledge import read_articles
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, stdout, table
from console.format import when
from console.safe_text import clean

kb_app = typer.Typer(help="The knowledge base: Markdown articles per language.")

LangOpt = Annotated[str, typer.Option("--lang", help="Only articles in this language (it, en...).")]


@kb_app.command("import")
@handles_errors
@mutating
def kb_import(
    folder: Annotated[Path, typer.Argument(help="A folder of *.md articles (recursively).")],
    json_: JsonOpt = False,
) -> None:
    """Import every Markdown article of a folder (front matter: title, language, intents,
    tags, link). An article with the slug and language of a stored one replaces it; a
    malformed file stops the import before anything is stored."""
    articles = read_articles(folder)
    result = STATE.backend(write=True).kb_import(articles)
    if json_:
        emit_json(result)
        return
    stdout.print(
        f"{len(articles)} articles: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged",
        markup=False,
        highlight=False,
    )


@kb_app.command("list")
@handles_errors
def kb_list(lang: LangOpt = "", json_: JsonOpt = False) -> None:
    """Every article, by slug and language."""
    found = STATE.backend().kb_articles(lang)
    if json_:
        emit_json(found)
        return
    table(
        "Knowledge base",
        ("id", "slug", "lang", "title", "intents", "link"),
        [
            (
                a.id,
                clean(a.slug),
                clean(a.language),
                clean(a.title),
                clean(", ".join(a.intents)),
                clean(a.link),
            )
            for a in found
        ],
    )


@kb_app.command("show")
@handles_errors
def kb_show(
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id.")],
    json_: JsonOpt = False,
) -> None:
    """One article with its whole text (shown as plain text)."""
    a = STATE.backend().kb_article(article_id)
    if json_:
        emit_json(a)
        return
    rows = [
        ("slug", clean(a.slug)),
        ("language", clean(a.language)),
        ("title", clean(a.title)),
        ("intents", clean(", ".join(a.intents))),
        ("tags", clean(", ".join(a.tags))),
        ("link", clean(a.link)),
        ("updated", when(a.updated_at) if a.updated_at else ""),
        ("text", clean(a.body, multiline=True, max_length=20_000)),
    ]
    table(f"Article {a.id}", ("field", "value"), rows)


@kb_app.command("search")
@handles_errors
def kb_search(
    text: Annotated[str, typer.Argument(help="A question or a customer's words.")],
    lang: LangOpt = "",
    intent: Annotated[str, typer.Option(help="The contact's intent: its articles first.")] = "",
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=50)] = 10,
    json_: JsonOpt = False,
) -> None:
    """Articles matching any word of the text (full text), best first."""
    found = STATE.backend().kb_search(text, lang, intent, limit)
    if json_:
        emit_json(found)
        return
    table(
        f"Articles for {clean(text, max_length=60)!r}",
        ("id", "lang", "title", "snippet", "link"),
        [
            (
                h.id,
                clean(h.language),
                clean(h.title),
                clean(h.snippet, max_length=120),
                clean(h.link),
            )
            for h in found
        ],
    )


@kb_app.command("usage")
@handles_errors
def kb_usage(json_: JsonOpt = False) -> None:
    """Knowledge-base KPIs over the last 7 days: articles inserted into replies (answer or
    link), contacts they were used on, of those resolved, and the most used articles."""
    usage = STATE.backend().kb_usage()
    if json_:
        emit_json(usage)
        return
    rows = [
        ("articles inserted", usage.uses),
        ("as answer", usage.answers),
        ("as link", usage.links),
        ("contacts", usage.contacts),
        ("resolved with an article", usage.resolved_with_article),
    ]
    rows += [(f"top: {clean(h.title)}", int(h.score)) for h in usage.top]
    table(f"Knowledge base {when(usage.since)} .. {when(usage.until)}", ("kpi", "value"), rows)


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")
