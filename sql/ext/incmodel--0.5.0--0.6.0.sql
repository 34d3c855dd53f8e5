-- incmodel 0.5.0 -> 0.6.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.6.0'" to load this file. \quit

-- =============================================================================================
-- Dimension changes noted by the row triggers (issue 15: the dimension's writers pay <= 1.05x)
-- =============================================================================================
-- A watched relation whose models' routes to the source start from plain columns (c.root_id =
-- e.event_id) no longer has statement triggers reading transition tables: the row triggers'
-- WHEN clauses note the changed rows' values on those columns (incmodel_dim: the NEW row on
-- INSERT and UPDATE; incmodel_dim_old: the OLD row on UPDATE and DELETE) and the values are
-- queued before commit, one key_queue row per model and transaction. The statement triggers
-- incmodel_dim_ins / _upd / _del stay only where a model needs whole rows (a key read through
-- the relation; a route starting from an expression). The triggers of existing models are
-- replaced at their next run (dimensions_recorded is reset below).
-- Per row: no SET clause; VARIADIC "any": the noted columns' values as they are.
CREATE FUNCTION incmodel.note_dimension_values(relation regclass, columns int2[], VARIADIC "any")
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'incmodel_note_dimension_values';
UPDATE incmodel.models SET dimensions_recorded = false;
-- A statement that loads many dimension rows queues as many values in one array; compressing it
-- with pglz cost the loader more than noting the values did. Queue rows live until the next
-- refresh: compressed with lz4 where the server has it, else kept uncompressed (out of line).
DO $$
BEGIN
    ALTER TABLE incmodel.key_queue ALTER COLUMN keys SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    ALTER TABLE incmodel.key_queue ALTER COLUMN keys SET STORAGE EXTERNAL;
END $$;

-- What a change to the relation does for the model, worked out from its query when the watch is
-- set up ('values': its route starts from noted_column, whose values the row triggers note;
-- 'rows': the statement triggers read whole rows; 'recompute': a full recompute; 'reprocess': a
-- time-based model's 'modify' row), so a writer's commit reads it instead of analyzing the query.
-- NULL until then (the models' next run records it; until then it is worked out per backend).
ALTER TABLE incmodel.model_dimensions
    ADD COLUMN watch text CHECK (watch IN ('values', 'rows', 'recompute', 'reprocess')),
    ADD COLUMN noted_column smallint;

-- =============================================================================================
-- A small INSERT into a logged source pays less (issue 17: streamed loads)
-- =============================================================================================
-- The change log's statement trigger wrote each statement's range with a GUC nest level of four
-- settings (its SET clauses) and a freshly planned INSERT: ~0.1 ms, more than a 10-row INSERT's
-- own rows. It now resolves no names (a saved plan of fully qualified SQL, bounds written in ISO
-- DateStyle set around their output, every setting pinned for the rarer types), so it keeps no
-- SET clause, as the row triggers' WHEN functions.
ALTER FUNCTION incmodel.log_source_change() RESET ALL;

-- kind 'uncounted': a load logged by a transaction in which a subtransaction aborted (a savepoint
-- rolled back, an error caught in a PL/pgSQL block): its row count may include rows that are gone,
-- so a plan counts its batches in the source (an 'insert' row's count may stand for the source's).
ALTER TABLE incmodel.source_changes DROP CONSTRAINT source_changes_kind_check;
ALTER TABLE incmodel.source_changes ADD CONSTRAINT source_changes_kind_check
    CHECK (kind IN ('insert', 'modify', 'recount', 'uncounted'));
