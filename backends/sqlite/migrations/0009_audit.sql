-- The audit trail: who did what to which object, when, append-only and chained.
--
-- Each entry's hash is SHA-256 over the previous entry's hash and the entry's own
-- canonical content (backends/sqlite/audit.py), so a changed, removed or inserted
-- entry breaks the chain at that point (`vista audit verify`). The before and after
-- values of an entry live in audit_values, salted and digested into the entry: erasing
-- a person (GDPR) deletes their values there, and the chain still verifies.
CREATE TABLE IF NOT EXISTS audit (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    agent       TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT '',
    token       TEXT NOT NULL DEFAULT '',
    origin      TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL DEFAULT '',
    customer_id INTEGER,
    detail      TEXT NOT NULL DEFAULT '{}',       -- non-personal facts: counts, ids
    values_hash TEXT NOT NULL DEFAULT '',         -- SHA-256 of the salted audit_values body
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_customer ON audit(customer_id, seq) WHERE customer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_agent ON audit(agent, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);

CREATE TABLE IF NOT EXISTS audit_values (
    seq         INTEGER PRIMARY KEY,              -- the audit entry's
    customer_id INTEGER,
    salt        TEXT NOT NULL,
    body        TEXT NOT NULL                     -- JSON field -> [before, after]
);
CREATE INDEX IF NOT EXISTS audit_values_customer ON audit_values(customer_id)
    WHERE customer_id IS NOT NULL;

-- customers whose personal data was erased (their audit values may be gone)
CREATE TABLE IF NOT EXISTS erasures (
    customer_id INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL
);
-- an erased person's source records, by a digest of (source, source id): a later
-- import of one of them is held instead of bringing the person back
CREATE TABLE IF NOT EXISTS erased_records (
    digest      TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    at          INTEGER NOT NULL
) WITHOUT ROWID;
-- customers under a legal hold: they cannot be erased
CREATE TABLE IF NOT EXISTS legal_holds (
    customer_id INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_values_no_update BEFORE UPDATE ON audit_values
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
-- values go only with an erasure of their person
CREATE TRIGGER IF NOT EXISTS audit_values_no_delete BEFORE DELETE ON audit_values
WHEN OLD.customer_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM erasures WHERE customer_id = OLD.customer_id)
BEGIN
    SELECT RAISE(ABORT, 'audit values are removed only by erasing their person');
END;
