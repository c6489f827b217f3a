-- The identity match model (Fellegi-Sunter): one row per trained version, the newest in use.
CREATE TABLE IF NOT EXISTS identity_models (
    version    INTEGER PRIMARY KEY,
    trained_at INTEGER NOT NULL,
    records    INTEGER NOT NULL,                     -- records in the store when trained
    params     TEXT NOT NULL                         -- JSON: levels (m, u), prior, guards
);

-- How many records hold each name (term frequencies): a rare name weighs more.
CREATE TABLE IF NOT EXISTS identity_term_counts (
    field   TEXT NOT NULL,                           -- first_name, last_name
    value   TEXT NOT NULL,                           -- the name key
    records INTEGER NOT NULL,
    PRIMARY KEY (field, value)
) WITHOUT ROWID;
