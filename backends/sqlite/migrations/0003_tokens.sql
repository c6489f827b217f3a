-- Vista store: API tokens for the HTTP server, and receipts of inbound messages.
-- IF NOT EXISTS: this file may run after a store that other migrations reached first.

-- A token is shown once when created; only its SHA-256 is kept (tokens are 256-bit
-- random, so a plain hash is enough: nothing to brute-force).
CREATE TABLE IF NOT EXISTS api_tokens (
    name       TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'admin')),
    agent      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- One row per delivered inbound message: a redelivered (channel, external id) is ignored.
CREATE TABLE IF NOT EXISTS inbound_receipts (
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    message_id  INTEGER NOT NULL,
    contact_id  INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    created_customer INTEGER NOT NULL DEFAULT 0,
    at          INTEGER NOT NULL,
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;
