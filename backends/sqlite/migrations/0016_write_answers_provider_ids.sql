-- Answers to writes sent with an idempotency key (PostgreSQL's write_answers): a keyed
-- write commits together with its answer, so a retry after a server died (or restarted),
-- or one that reaches another server on this file, is answered instead of applied again.
-- Kept a day (`at`: Unix seconds; pruned by the servers).
CREATE TABLE IF NOT EXISTS write_answers (
    owner   TEXT NOT NULL,          -- the API token's name: a key belongs to its token
    key     TEXT NOT NULL,
    request TEXT NOT NULL,          -- the fingerprint of the request the answer belongs to
    status  INTEGER NOT NULL,
    body    BLOB NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS write_answers_at ON write_answers(at);

-- One provider message is one outbox row: a delivery status names the message by the id
-- its provider gave it. An id an older Vista recorded on several rows stays on the first
-- (the one its statuses reached); the audit trail keeps it for the others.
UPDATE outbox SET provider_id = NULL
WHERE provider_id IS NOT NULL
  AND message_id > (SELECT min(o.message_id) FROM outbox o WHERE o.provider_id = outbox.provider_id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_provider ON outbox(provider_id) WHERE provider_id IS NOT NULL;
