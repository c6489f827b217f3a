-- Vista store, schema version 1. Times are UTC unix seconds (INTEGER).

CREATE TABLE agents (
    name         TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'admin')),
    created_at   INTEGER NOT NULL
);

-- Golden customers: what identity resolution made of the source records.
CREATE TABLE customers (
    id               INTEGER PRIMARY KEY,
    first_name       TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL DEFAULT '',
    emails           TEXT NOT NULL DEFAULT '[]',   -- JSON list, best first
    phones           TEXT NOT NULL DEFAULT '[]',   -- JSON list of E.164, best first
    addresses        TEXT NOT NULL DEFAULT '[]',   -- JSON list of objects
    birth_date       TEXT,
    language         TEXT NOT NULL DEFAULT '',
    segment          TEXT NOT NULL DEFAULT '',
    tier             TEXT NOT NULL DEFAULT '',
    consents         TEXT NOT NULL DEFAULT '{}',
    lifetime_value   REAL NOT NULL DEFAULT 0,
    currency         TEXT NOT NULL DEFAULT 'EUR',
    tags             TEXT NOT NULL DEFAULT '[]',
    attributes       TEXT NOT NULL DEFAULT '{}',
    churn_risk       INTEGER NOT NULL DEFAULT 0,
    unhappy          INTEGER NOT NULL DEFAULT 0,
    provenance       TEXT NOT NULL DEFAULT '{}',   -- field -> {source, at, losers}
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);

-- Source records, kept apart from customers and never lost: identity
-- resolution may re-point customer_id, it never rewrites `fields`.
CREATE TABLE source_records (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    fields      TEXT NOT NULL,                     -- JSON object as received
    received_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX source_records_customer ON source_records(customer_id);

-- Normalised identifiers of each source record (e-mail, E.164 phone, ids).
CREATE TABLE identities (
    record_id   INTEGER NOT NULL REFERENCES source_records(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    raw         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (record_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX identities_value ON identities(kind, value);

-- The unified timeline, clustered by customer and time so that one
-- customer's newest events sit together on few pages.
CREATE TABLE events (
    customer_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    id          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL DEFAULT '{}',
    contact_id  INTEGER,
    record_id   INTEGER,                           -- the source record it was attached through
    external_id TEXT,
    PRIMARY KEY (customer_id, at, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_id ON events(id);
CREATE INDEX events_kind ON events(customer_id, kind, at);

-- Order numbers, for search and the customer's key facts.
CREATE TABLE orders (
    number      TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT NOT NULL,
    total       REAL NOT NULL DEFAULT 0,
    event_id    INTEGER
) WITHOUT ROWID;
CREATE INDEX orders_customer ON orders(customer_id, at);

-- The contact queue.
CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    customer_id       INTEGER NOT NULL REFERENCES customers(id),
    channel           TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    intent            TEXT NOT NULL DEFAULT '',
    priority          INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),
    status            TEXT NOT NULL CHECK (status IN ('new','open','pending','snoozed','resolved')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at       INTEGER,
    sla_due_at        INTEGER,
    assignee          TEXT REFERENCES agents(name),
    assigned_at       INTEGER,
    snoozed_until     INTEGER,
    last_inbound_at   INTEGER,
    csat              INTEGER,
    version           INTEGER NOT NULL DEFAULT 1,
    -- queue order, all ascending so that a row value walks one index:
    -- priority (urgent first), SLA due (none last), age, id
    prio_sort         INTEGER GENERATED ALWAYS AS (3 - priority) VIRTUAL,
    sla_sort          INTEGER GENERATED ALWAYS AS (coalesce(sla_due_at, 9999999999)) VIRTUAL
);
CREATE INDEX contacts_open_queue ON contacts(prio_sort, sla_sort, created_at, id)
    WHERE status <> 'resolved';
CREATE INDEX contacts_status ON contacts(status, resolved_at);
CREATE INDEX contacts_assignee ON contacts(assignee, status);
CREATE INDEX contacts_customer ON contacts(customer_id, created_at);
CREATE INDEX contacts_created ON contacts(created_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound','outbound','note')),
    channel         TEXT NOT NULL,
    author          TEXT NOT NULL,
    body            TEXT NOT NULL,
    at              INTEGER NOT NULL,
    external_id     TEXT,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX messages_contact ON messages(contact_id, at);

CREATE TABLE templates (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    body              TEXT NOT NULL,
    channel           TEXT,
    language          TEXT NOT NULL DEFAULT '',
    whatsapp_approved INTEGER NOT NULL DEFAULT 0
);

-- The change feed: every write appends here in the same transaction.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    entity    TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action    TEXT NOT NULL,
    actor     TEXT NOT NULL
);

-- Type-ahead search over names, e-mails, phones (as typed and as digits) and order numbers.
CREATE VIRTUAL TABLE customer_search USING fts5(
    name, emails, phones, orders,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3 4'
);
