"""Knowledge-base articles as files: Markdown with a front matter block.

    ---
    title: How do I return an item?
    language: en
    intents: [returns, refund]
    tags: [returns, shipping]
    link: https://shop.example/help/returns
    ---
    You can return any item within 30 days...

The slug is the file name without `.md` (and without a `.LANG` suffix naming the
article's language: returns.it.md and returns.en.md are one article in two languages). Values are plain text (no YAML types);
a list is `[a, b]` or `a, b`. The body is kept as written and only ever shown as
plain text: an article is no more trusted than a customer's message.
"""

from __future__ import annotations

from pathlib import Path

from backends import limits
from backends.base import InvalidInput
from backends.models import Article

FIELDS = ("title", "language", "intents", "tags", "link")
MAX_ARTICLE_BYTES = 200_000


def _list(value: str) -> tuple[str, ...]:
    inner = value.strip().removeprefix("[").removesuffix("]")
    items = (item.strip().strip("'\"").strip() for item in inner.split(","))
    return tuple(dict.fromkeys(item for item in items if item))


def parse_article(slug: str, text: str) -> Article:
    """The article a file named `slug`.md holds.

    Raises:
        InvalidInput: no front matter, an unknown or repeated field, no title, no body,
            a link that is not http(s), or a field over its length bound.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise InvalidInput(f"{slug}: the article must start with a '---' front matter block")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise InvalidInput(f"{slug}: the front matter block is not closed by '---'") from None
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in FIELDS:
            raise InvalidInput(
                f"{slug}, line {number}: expected one of {', '.join(FIELDS)} as 'name: value'"
            )
        if key in meta:
            raise InvalidInput(f"{slug}, line {number}: {key} is given twice")
        meta[key] = value.strip().strip("'\"") if key not in ("intents", "tags") else value
    body = "\n".join(lines[end + 1 :]).strip()
    title = meta.get("title", "").strip()
    if not title:
        raise InvalidInput(f"{slug}: the front matter has no title")
    if not body:
        raise InvalidInput(f"{slug}: the article has no text")
    link = meta.get("link", "").strip()
    if link and not link.startswith(("https://", "http://")):
        raise InvalidInput(f"{slug}: the link must be an http(s) URL")
    language = meta.get("language", "").strip().lower()
    if language and slug.endswith(f".{language}"):  # returns.it.md, returns.en.md
        slug = slug[: -len(language) - 1]
    article = Article(
        id=0,
        slug=slug,
        language=language,
        title=title,
        body=body,
        link=link,
        intents=tuple(i.lower() for i in _list(meta.get("intents", ""))),
        tags=_list(meta.get("tags", "")),
    )
    check_article(article)
    return article


def check_article(article: Article) -> None:
    """Raise InvalidInput when `article` cannot be stored (blank or over-long fields)."""
    name = article.slug or "an article"
    if not article.slug.strip():
        raise InvalidInput("an article has no slug")
    if not article.title.strip():
        raise InvalidInput(f"{name}: no title")
    if not article.body.strip():
        raise InvalidInput(f"{name}: no text")
    try:
        limits.check_fields(
            {
                "slug": article.slug,
                "title": article.title,
                "link": article.link,
                "language": article.language,
                "text": article.body,
            }
        )
        for value in (*article.intents, *article.tags):
            limits.check_fields({"tag": value})
    except InvalidInput as e:
        raise InvalidInput(f"{name}: {e.message}") from e


def read_articles(folder: Path) -> tuple[Article, ...]:
    """Every `*.md` article under `folder` (recursively), sorted by path.

    Raises:
        InvalidInput: the folder does not exist, a file is not UTF-8 or too large, or an
            article is malformed (naming the file).
    """
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a directory")
    articles: list[Article] = []
    for path in sorted(folder.rglob("*.md")):
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise InvalidInput(f"{path}: over {MAX_ARTICLE_BYTES:,} bytes")
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidInput(f"{path}: not UTF-8 text") from e
        try:
            articles.append(parse_article(path.stem, text))
        except InvalidInput as e:
            raise InvalidInput(f"{path.parent}/{e.message}") from e
    return tuple(articles)
