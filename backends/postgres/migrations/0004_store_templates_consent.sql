-- Vista PostgreSQL store, schema version 4 (as the SQLite store's 0009 and 0011, and the
-- agents' disabled mark of its 0012): the store's own id, managed templates, computed
-- values kept by imports, a disabled agent, and whether the provider refused a reply.

-- The store's identity: a UUID made once, so that anything keyed by "this store" (console
-- drafts) follows the database and not the URL it was opened by.
CREATE TABLE store_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO store_meta(key, value) VALUES ('store_id', gen_random_uuid()::text);

-- Churn risk as computed (backends/values.py): the score, its reasons, the next action.
ALTER TABLE customers ADD COLUMN churn_score double precision NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN churn_reasons text NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN next_action text NOT NULL DEFAULT '';

-- Templates: the provider's name of an approved WhatsApp template, and retirement.
ALTER TABLE templates ADD COLUMN provider_name text NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN retired integer NOT NULL DEFAULT 0;

-- A disabled agent can no longer act; what they did is kept.
ALTER TABLE agents ADD COLUMN disabled_at bigint;

-- A failed reply the provider refused (a retry goes out under a fresh key).
ALTER TABLE outbox ADD COLUMN refused integer NOT NULL DEFAULT 0;
