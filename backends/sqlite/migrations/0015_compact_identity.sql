-- Vista store, schema version 15: identity rows kept compactly.
--
-- At a million imported records the store held about 2,000 bytes per record, 12 times
-- its input. Three tables repeated what is known elsewhere:
-- * match_keys: each blocking key as text (18 characters on average, twice: the table
--   and its record index). Now an 8-byte code of the key (`vista_key_code`, the same
--   function the importer writes with); name keys (`n:`) stay text, the term frequencies
--   of names are counted from them. No index by record (as big as the table): a record's
--   keys are found again from its stored features when it changes; an erasure reads the
--   table through.
-- * identities: the raw form beside the normalised value even where they are the same
--   (two rows in three), and each record's own external id (`crm:C123`, a third of the
--   rows), which source_records' (source, source_id) already holds. The raw form is now
--   empty where it is the value, and an imported record's (one with features) own
--   external id is read from source_records (backends/sqlite/identity/encoding.py).
-- * customers.provenance: each field repeated its source record's source, id and time.
--   Now packed (`vista_pack_provenance`, backends/provenance.py): the records once, each
--   field pointing at one; read back in full by `provenance.loads`.
-- * record_features: each record's name, street and city keys beside their display values
--   even where a key is the value in lower case, the e-mails twice (as typed and
--   normalised), trailing empty fields. Now 0 in a key's place where it is the value in
--   lower case, 0 for e-mails as typed that are the normalised ones, and no trailing empty
--   fields (`vista_pack_features`, `Features.to_json`; `Features.from_json` reads both).
-- * identity_links.reason (and identity_suggestions.reason): each level's phrase in full (`same first name (+6.2), ...`, about
--   110 characters). Now the phrases' numbers with their weights (`vista_pack_reason`,
--   backends/link_reasons.py; a reason it cannot number stays as written).
-- The tables are rebuilt in key order; `VACUUM` returns the freed pages to the disk.

CREATE TABLE match_keys_v15 (
    key       INTEGER NOT NULL,                      -- code of the key; name keys as text
    record_id INTEGER NOT NULL,
    PRIMARY KEY (key, record_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO match_keys_v15(key, record_id)
    SELECT CASE WHEN typeof(key) = 'text' THEN vista_key_code(key) ELSE key END, record_id
    FROM match_keys ORDER BY 1, 2;

DROP TABLE match_keys;

ALTER TABLE match_keys_v15 RENAME TO match_keys;

CREATE TABLE identities_v15 (
    record_id   INTEGER NOT NULL REFERENCES source_records(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    raw         TEXT NOT NULL DEFAULT '',            -- '' : the value (external id: source_id)
    PRIMARY KEY (record_id, kind, value)
) WITHOUT ROWID;

INSERT INTO identities_v15(record_id, kind, value, raw)
    SELECT i.record_id, i.kind, i.value,
           CASE WHEN i.raw = i.value OR (i.kind = 'external_id' AND i.raw = r.source_id)
                THEN '' ELSE i.raw END
    FROM identities i LEFT JOIN source_records r ON r.id = i.record_id
    WHERE NOT (i.kind = 'external_id' AND i.value = r.source || ':' || r.source_id
               AND EXISTS (SELECT 1 FROM record_features f WHERE f.record_id = i.record_id))
    ORDER BY 1, 2, 3;

DROP TABLE identities;

ALTER TABLE identities_v15 RENAME TO identities;

CREATE INDEX identities_value ON identities(kind, value);

UPDATE customers SET provenance = vista_pack_provenance(provenance)
    WHERE provenance LIKE '{"%' AND provenance NOT LIKE '{"~":%';

UPDATE record_features SET features = vista_pack_features(features);

UPDATE identity_links SET reason = vista_pack_reason(reason);

UPDATE identity_suggestions SET reason = vista_pack_reason(reason);
