-- Vista store, schema version 0017 (taken after 0016): source records kept as values.
--
-- At a million imported records `source_records` took about 300 bytes per record, half of
-- it the keys of each record's JSON object, the same on every record of a file. Now the
-- keys are kept once, as a shape (`[["id",0],"first_name",...]`, 0: the value is the
-- record's source_id) in `record_shapes`, and a record as its other values in that order
-- (`Mario`, `Rossi`, ... separated by U+001F, or a JSON list) with its shape's id
-- (`backends/record_fields.py`, `backends/sqlite/record_shapes.py`). Every reader sees
-- the record's JSON object as received, key order included (`vista_record_fields`). A
-- record whose keys do not look like field names (an e-mail or a number as a key) stays
-- as it is, and so does every record with no shape.
--
-- A customer's provenance (packed by 0015) names a field with no losers by its record's
-- index alone, and the profile's fields by short codes (`backends/provenance.py`): about
-- 30 % less; `provenance.loads` reads every form back in full.

CREATE TABLE IF NOT EXISTS record_shapes (
    id   INTEGER PRIMARY KEY,
    keys TEXT NOT NULL UNIQUE                        -- JSON: keys, a nested object's as [key, [keys]]
);

ALTER TABLE source_records ADD COLUMN shape INTEGER;   -- record_shapes.id; NULL: fields as received

INSERT OR IGNORE INTO record_shapes(keys)
    SELECT DISTINCT vista_record_shape(fields, source_id) FROM source_records
    WHERE shape IS NULL AND vista_record_shape(fields, source_id) IS NOT NULL;

UPDATE source_records
    SET shape = (SELECT id FROM record_shapes WHERE keys = vista_record_shape(fields, source_id)),
        fields = vista_record_values(fields, source_id)
    WHERE shape IS NULL AND vista_record_shape(fields, source_id) IS NOT NULL;

UPDATE customers SET provenance = vista_pack_provenance(provenance)
    WHERE provenance LIKE '{"%';
