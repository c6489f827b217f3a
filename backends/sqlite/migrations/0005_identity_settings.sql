-- Vista store, schema version 5: identity settings kept per database, and a faster read
-- of the pairs a person kept apart.

-- The [identity] settings of mapping files imported into this database (matching rules,
-- thresholds, survivorship policies): later imports, merges and splits use them too.
CREATE TABLE IF NOT EXISTS identity_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                              -- JSON
) WITHOUT ROWID;

-- The 'apart' links (splits, rejected suggestions) are read whenever an import merges
-- customers: a small index of just them, instead of a scan of every link.
CREATE INDEX IF NOT EXISTS identity_links_apart ON identity_links(record_a, record_b)
    WHERE kind = 'apart';
