-- Telephony: one row per call (the provider's call id), on the phone contact it opened or continued.
CREATE TABLE IF NOT EXISTS calls (
    call_id     TEXT PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    customer_id INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('ringing', 'answered', 'ended')),
    caller      TEXT NOT NULL,                     -- E.164
    dialled     TEXT NOT NULL DEFAULT '',
    queue       TEXT NOT NULL DEFAULT '',
    agent       TEXT NOT NULL DEFAULT '',          -- the agent it is offered to
    extension   TEXT NOT NULL DEFAULT '',
    recording   TEXT NOT NULL DEFAULT '',
    new_caller  INTEGER NOT NULL DEFAULT 0,        -- the caller was unknown: a customer was created
    started_at  INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at    INTEGER,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_contact ON calls(contact_id, started_at);

-- The knowledge base: Markdown articles, one per (slug, language).
CREATE TABLE IF NOT EXISTS kb_articles (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL,
    language   TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL DEFAULT '',
    intents    TEXT NOT NULL DEFAULT '[]',         -- JSON list
    tags       TEXT NOT NULL DEFAULT '[]',         -- JSON list
    updated_at INTEGER NOT NULL,
    UNIQUE (slug, language)
);
CREATE VIRTUAL TABLE IF NOT EXISTS kb_search USING fts5(
    title, body, intents, tags, language,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3 4'
);

-- How many articles hold each word (folded as the index folds it): a question is searched
-- by its rarest words.
CREATE TABLE IF NOT EXISTS kb_terms (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL
) WITHOUT ROWID;

-- An article inserted into a reply (its answer or its link): the KPIs count these.
CREATE TABLE IF NOT EXISTS kb_uses (
    id         INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    agent      TEXT NOT NULL,
    how        TEXT NOT NULL CHECK (how IN ('answer', 'link')),
    at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_uses_contact ON kb_uses(contact_id);
CREATE INDEX IF NOT EXISTS kb_uses_at ON kb_uses(at);
