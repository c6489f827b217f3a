-- Vista store, schema version 2: identity resolution and import.

-- The normalised features of each source record (what matching and
-- survivorship read), kept beside the untouched record.
CREATE TABLE record_features (
    record_id INTEGER PRIMARY KEY REFERENCES source_records(id) ON DELETE CASCADE,
    features  TEXT NOT NULL                          -- JSON
);

-- Blocking keys (name, birth date, postcode): records sharing one are compared.
CREATE TABLE match_keys (
    key       TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (key, record_id)
) WITHOUT ROWID;
CREATE INDEX match_keys_record ON match_keys(record_id);

-- Identifier values shared by implausibly many records: they never link.
CREATE TABLE identity_junk (
    kind    TEXT NOT NULL,
    value   TEXT NOT NULL,
    records INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;

-- Why records are together (or must stay apart): one row per decided pair.
CREATE TABLE identity_links (
    id         INTEGER PRIMARY KEY,
    record_a   INTEGER NOT NULL,
    record_b   INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('auto', 'manual', 'apart')),
    score      REAL NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX identity_links_a ON identity_links(record_a, kind);
CREATE INDEX identity_links_b ON identity_links(record_b, kind);

-- Pairs below the automatic threshold, for a person to decide.
CREATE TABLE identity_suggestions (
    id         INTEGER PRIMARY KEY,
    record_a   INTEGER NOT NULL,
    record_b   INTEGER NOT NULL,
    score      REAL NOT NULL,
    reason     TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'rejected')),
    created_at INTEGER NOT NULL,
    UNIQUE (record_a, record_b)
);
CREATE INDEX identity_suggestions_open ON identity_suggestions(status, score);

-- Every merge and split, with what it needs to be undone.
CREATE TABLE identity_journal (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('merge', 'split', 'auto-merge')),
    customer_id INTEGER NOT NULL,                    -- the survivor / the split customer
    other_id    INTEGER NOT NULL,                    -- the absorbed / the new customer
    records     TEXT NOT NULL,                       -- JSON list of record ids that moved
    reason      TEXT NOT NULL DEFAULT '',
    snapshot    TEXT NOT NULL DEFAULT '{}'           -- the absorbed customer row, for undo
);
CREATE INDEX identity_journal_customer ON identity_journal(customer_id);
CREATE INDEX identity_journal_other ON identity_journal(other_id);

-- Imports, and what each re-import changed in a source record.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    path        TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    counts      TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE record_changes (
    record_id INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    changed   TEXT NOT NULL,                         -- JSON field -> [old, new]
    PRIMARY KEY (record_id, import_id)
) WITHOUT ROWID;

-- Imported events are unique per source and external id (re-import updates in place).
CREATE UNIQUE INDEX events_external ON events(source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX events_record ON events(record_id) WHERE record_id IS NOT NULL;

-- What each customer's records say about birth date and first name: a record
-- joins a customer only if it agrees with all of them (kept by survivorship).
CREATE TABLE identity_profiles (
    customer_id INTEGER PRIMARY KEY,
    dobs        TEXT NOT NULL DEFAULT '[]',
    firsts      TEXT NOT NULL DEFAULT '[]'
);
