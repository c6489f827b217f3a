-- Vista PostgreSQL store: the audit trail, erasures and legal holds (as the SQLite store's
-- 0009). Who did what to which object, when: append-only and hash-chained.
--
-- Each entry's hash is SHA-256 over the previous entry's hash and the entry's own
-- canonical content (backends/audit_chain.py, shared with the SQLite store), so a changed,
-- removed or inserted entry breaks the chain at that point (`vista audit verify`). Server
-- processes append one at a time: an appender holds a transaction-level advisory lock
-- (backends/postgres/audit.py) until its write and its entry commit together. The before
-- and after values live in audit_values, salted and digested into the entry: erasing a
-- person deletes their values there, and the chain still verifies.
CREATE TABLE audit (
    seq         bigint PRIMARY KEY,
    at          bigint NOT NULL,
    agent       text NOT NULL DEFAULT '',
    role        text NOT NULL DEFAULT '',
    token       text NOT NULL DEFAULT '',
    origin      text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL DEFAULT '',
    customer_id bigint,
    detail      text NOT NULL DEFAULT '{}',       -- non-personal facts: counts, ids
    values_hash text NOT NULL DEFAULT '',         -- SHA-256 of the salted audit_values body
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_customer ON audit(customer_id, seq) WHERE customer_id IS NOT NULL;
CREATE INDEX audit_agent ON audit(agent, seq);
CREATE INDEX audit_at ON audit(at);

CREATE TABLE audit_values (
    seq         bigint PRIMARY KEY,               -- the audit entry's
    customer_id bigint,
    salt        text NOT NULL,
    body        text NOT NULL                     -- JSON field -> [before, after]
);
CREATE INDEX audit_values_customer ON audit_values(customer_id) WHERE customer_id IS NOT NULL;

-- customers whose personal data was erased (their audit values may be gone)
CREATE TABLE erasures (
    customer_id bigint PRIMARY KEY,
    at          bigint NOT NULL
);
-- an erased person's source records, by a digest of (source, source id): a later import
-- of one of them is held instead of bringing the person back
CREATE TABLE erased_records (
    digest      text PRIMARY KEY,
    source      text NOT NULL,
    customer_id bigint NOT NULL,
    at          bigint NOT NULL
);
-- customers under a legal hold: they cannot be erased
CREATE TABLE legal_holds (
    customer_id bigint PRIMARY KEY,
    at          bigint NOT NULL,
    actor       text NOT NULL
);

CREATE FUNCTION vista_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION vista_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION vista_audit_append_only();
CREATE TRIGGER audit_values_no_update BEFORE UPDATE ON audit_values
    FOR EACH ROW EXECUTE FUNCTION vista_audit_append_only();
CREATE TRIGGER audit_values_no_truncate BEFORE TRUNCATE ON audit_values
    FOR EACH STATEMENT EXECUTE FUNCTION vista_audit_append_only();

-- values go only with an erasure of their person
CREATE FUNCTION vista_audit_values_erased_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.customer_id IS NULL
       OR NOT EXISTS (SELECT 1 FROM erasures WHERE customer_id = OLD.customer_id) THEN
        RAISE EXCEPTION 'audit values are removed only by erasing their person'
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER audit_values_no_delete BEFORE DELETE ON audit_values
    FOR EACH ROW EXECUTE FUNCTION vista_audit_values_erased_only();
