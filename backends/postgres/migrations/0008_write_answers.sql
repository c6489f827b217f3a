-- Answers to writes sent with an idempotency key, shared by every server on this database:
-- a write retried on another server (the first one died after the write) gets the first
-- answer again instead of being applied twice. Kept a day (pruned by the servers).
CREATE TABLE write_answers (
    owner text NOT NULL,          -- the API token's name: a key belongs to its token
    key text NOT NULL,
    request text NOT NULL,        -- the fingerprint of the request the answer belongs to
    status integer NOT NULL,
    body bytea NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX write_answers_at ON write_answers (at);
