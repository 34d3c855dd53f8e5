-- incmodel 0.6.0 -> 0.7.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.7.0'" to load this file. \quit

-- =============================================================================================
-- Dimension values queued packed (issue 15: the dimension's writers pay <= 1.05x on COPY)
-- =============================================================================================
-- The values the row triggers note for a watched dimension are queued in a packed form: each
-- value as the bytes it shares with the value before it and the rest (keys loaded in order pack
-- to a few bytes each), instead of as text[] elements (a 4-byte header and padding each). A
-- 100k-row COPY's values were 1.2 MB to compress and write out of line at its commit. Rows
-- queued before (keys text[], packed_values NULL) are read as they were: the refresh reads
-- COALESCE(keys, incmodel.noted_values(packed_values)); a row with both NULL asks for a full
-- recompute, as before.
ALTER TABLE incmodel.key_queue ADD COLUMN packed_values bytea;
COMMENT ON COLUMN incmodel.key_queue.packed_values IS
    'The values a dimension''s row triggers noted, packed (read them with incmodel.noted_values)';
DO $$
BEGIN
    ALTER TABLE incmodel.key_queue ALTER COLUMN packed_values SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;  -- pglz (packed values compress well either way)
END $$;
-- The values of a key_queue row's packed_values as text[] (an ERROR for a bytea that is not
-- in the packed form). Called once per queue row a refresh reads: its search_path is pinned, as
-- every incmodel function's is except the per-row capture functions.
CREATE FUNCTION incmodel.noted_values(packed bytea) RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_noted_values';
