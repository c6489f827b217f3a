-- Vista PostgreSQL store, schema version 5: identity resolution in PostgreSQL itself
-- (imports, the match model), beside the tables 0001 copied from SQLite.

-- The identity match model (Fellegi-Sunter): one row per trained version, the newest in use.
CREATE TABLE identity_models (
    version    integer PRIMARY KEY,
    trained_at bigint NOT NULL,
    records    integer NOT NULL,
    params     text NOT NULL
);

-- How many records hold each name (term frequencies): a rare name weighs more.
CREATE TABLE identity_term_counts (
    field   text NOT NULL,
    value   text NOT NULL,
    records integer NOT NULL,
    PRIMARY KEY (field, value)
);

-- A customer's records by customer first (the merge and golden-profile reads), and the
-- records an identity link names.
CREATE INDEX source_records_customer_id ON source_records(customer_id, id);
CREATE INDEX identity_suggestions_b ON identity_suggestions(record_b);
CREATE INDEX record_changes_record ON record_changes(record_id, at);
