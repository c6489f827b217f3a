-- Vista store: agents' skills, capacity and presence; a contact's language and who set its
-- intent; the routing rules and the trained intent model.

ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '{}';      -- {"intents": [...], "languages": [...], "channels": [...]}
ALTER TABLE agents ADD COLUMN capacity TEXT NOT NULL DEFAULT '{}';    -- {"chat": 3, ...}: own limits
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE agents ADD COLUMN presence_at INTEGER;                    -- when presence was last set
ALTER TABLE agents ADD COLUMN last_active_at INTEGER;                 -- the agent's last write
ALTER TABLE agents ADD COLUMN last_routed_at INTEGER;                 -- last contact given to them
ALTER TABLE agents ADD COLUMN routed_seq INTEGER NOT NULL DEFAULT 0;  -- order of that, within a second
ALTER TABLE agents ADD COLUMN disabled_at INTEGER;

ALTER TABLE contacts ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN intent_source TEXT NOT NULL DEFAULT '';  -- model, rules, agent, '' (import)

-- Contacts held against capacity, per agent and channel: routing reads the load of every
-- online operator from this small index alone (its WHERE is routing.HELD's).
CREATE INDEX IF NOT EXISTS contacts_held ON contacts(assignee, channel)
    WHERE status IN ('new', 'open', 'pending') AND assignee IS NOT NULL;

-- Named settings: `routing_rules` (the TOML text in effect; absent: the defaults).
CREATE TABLE IF NOT EXISTS settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- Trained intent models, newest in use; `model` is a NumPy archive (no pickled objects).
CREATE TABLE IF NOT EXISTS intent_models (
    id         INTEGER PRIMARY KEY,
    trained_at INTEGER NOT NULL,
    trained_by TEXT NOT NULL,
    report     TEXT NOT NULL,                -- the IntentReport as JSON
    model      BLOB NOT NULL
);
