-- Consent, computed values, managed templates and the store's own id.

-- The store's identity: a UUID made once, so that anything keyed by "this store" (console
-- drafts) follows the database and not the path it was opened by.
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO store_meta(key, value)
SELECT 'store_id', lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3)
       || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-'
       || substr(h, 21, 12))
FROM (SELECT hex(randomblob(16)) AS h);

-- Churn risk as computed (backends/values.py): the score, its reasons, the next action.
ALTER TABLE customers ADD COLUMN churn_score REAL NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN churn_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN next_action TEXT NOT NULL DEFAULT '';

-- Templates: the provider's name of an approved WhatsApp template, and retirement.
ALTER TABLE templates ADD COLUMN provider_name TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
