-- Replies leave Vista through an outbox: a reply is stored together with its outbox entry
-- in one transaction, and a dispatcher hands it to the channel's connector, retrying with
-- backoff. The message carries its delivery state (queued, sent, delivered, read, failed).

ALTER TABLE messages ADD COLUMN delivery TEXT
    CHECK (delivery IN ('queued','sent','delivered','read','failed'));
ALTER TABLE messages ADD COLUMN failure TEXT;

-- an HTML alternative for e-mail, filled like the text body
ALTER TABLE templates ADD COLUMN html TEXT;

CREATE TABLE IF NOT EXISTS outbox (
    message_id   INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    channel      TEXT NOT NULL,
    -- queued: waits for due_at; sending: claimed by a dispatcher until due_at (its lease);
    -- sent and failed are final
    status       TEXT NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued','sending','sent','failed')),
    due_at       REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- the idempotency key: the same on every attempt (the e-mail Message-ID is built from it)
    message_key  TEXT NOT NULL UNIQUE,
    recipient    TEXT NOT NULL DEFAULT '',
    recipient_name TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    html         TEXT,
    customer_id  INTEGER NOT NULL,
    event_id     INTEGER,
    last_error   TEXT,
    provider_id  TEXT,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(due_at) WHERE status IN ('queued','sending');
CREATE INDEX IF NOT EXISTS messages_external ON messages(external_id) WHERE external_id IS NOT NULL;
