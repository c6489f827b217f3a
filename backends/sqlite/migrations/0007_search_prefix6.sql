-- Vista store, schema version 7: five- and six-character prefixes in the search index.
--
-- Type-ahead searches on every keystroke. Without a prefix index of a prefix's
-- length, FTS5 merges the doclist of every term starting with it: five or six
-- letters of a common surname ("ferra", "bianc") took 14-30 ms at a million
-- customers, against about 1 ms with the index (longer prefixes are mostly whole
-- words, one doclist each: 6-8 ms). The index grows by about 65 MB per million
-- customers. FTS5 options cannot be altered, so the table is rebuilt from its own
-- rows (about 25 seconds at a million customers, once).

CREATE VIRTUAL TABLE customer_search_v7 USING fts5(
    name, emails, phones, orders,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '1 2 3 4 5 6'
);

INSERT INTO customer_search_v7(rowid, name, emails, phones, orders)
    SELECT rowid, name, emails, phones, orders FROM customer_search;

DROP TABLE customer_search;

ALTER TABLE customer_search_v7 RENAME TO customer_search;
