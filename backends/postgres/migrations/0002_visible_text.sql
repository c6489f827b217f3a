-- Vista PostgreSQL store, schema version 2: text as a person sees it, for the queue's text
-- filter. The same removals as backends/text.py's `visible`: ANSI/VT escape sequences,
-- C0/C1 controls (but tab and newline), bidi controls and zero-width characters.
CREATE FUNCTION vista_visible(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN regexp_replace(
        regexp_replace(value,
            '\x1b\[[0-?]*[ -/]*[@-~]'
            '|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?'
            '|\x1b[PX^_][^\x1b]*(?:\x1b\\)?'
            '|\x1b[@-Z\\-_]'
            '|\x9b[0-?]*[ -/]*[@-~]', '', 'g'),
        '[\x01-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]',
        '', 'g');
