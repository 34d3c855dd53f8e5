-- incmodel 0.4.0 -> 0.5.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.5.0'" to load this file. \quit

-- =============================================================================================
-- Dimension changes recompute the keys they reach
-- =============================================================================================
-- A statement that changes rows of a relation a batch model reads besides its source queues the
-- changed rows' values on the query's equality that leads from that relation to the source
-- (c.root_id = e.event_id, possibly through other joined tables), one key_queue row per statement
-- with `dimension` set and the values in `keys`; the next refresh follows the equalities from those values to the
-- source's rows and recomputes their keys. The statement triggers incmodel_dim_ins, _upd and _del
-- (REFERENCING the changed rows, enabled ALWAYS) do it on each watched relation and partition;
-- rows no statement trigger takes care of (logical replication's apply) and TRUNCATE still queue
-- a full recompute at commit. Models created before 0.5.0 get the new triggers at their next run
-- (dimensions_recorded is reset below).
ALTER TABLE incmodel.key_queue ADD COLUMN dimension regclass;
COMMENT ON COLUMN incmodel.key_queue.dimension IS
    'Set: keys holds the join values of rows of this relation one statement changed (the model''s refresh maps them to keys); NULL: keys holds a key (NULL keys: a full recompute).';

-- What a change to a relation the query reads besides the source does for this model:
-- 'recompute' (the keys it reaches; a batch model with no route from the relation to its source
-- is refused at creation), 'rebuild' (the whole model, as 0.4.0 did), 'ignore' (not watched).
ALTER TABLE incmodel.models ADD COLUMN on_dimension_change text NOT NULL DEFAULT 'recompute'
    CHECK (on_dimension_change IN ('recompute', 'rebuild', 'ignore'));
-- Models from 0.4.0 rebuilt on any dimension change: they keep doing so where no route exists
-- (the trigger falls back per change), and map the rest to keys.
UPDATE incmodel.models SET dimensions_recorded = false;

CREATE FUNCTION incmodel.queue_dimension_values() RETURNS trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_queue_dimension_values';

DROP FUNCTION incmodel.create_model(text, text, text, text, text, interval, text[], boolean,
                                    boolean, text, timestamptz, interval, text, int, bigint, text,
                                    text, text[]);
CREATE FUNCTION incmodel.create_model(
    name                text,
    query               text,
    target              text,
    batch_column        text DEFAULT NULL,
    window_column       text DEFAULT NULL,
    lookback            interval DEFAULT interval '7 days',
    unique_key          text[] DEFAULT NULL,
    bounded_recompute   boolean DEFAULT false,
    enabled             boolean DEFAULT true,
    load_column         text DEFAULT NULL,
    start_date          timestamptz DEFAULT NULL,
    backfill_limit      interval DEFAULT interval '30 days',
    day_key             text DEFAULT NULL,
    reprocess_days      int DEFAULT 2,
    min_rows_to_process bigint DEFAULT 1000,
    strategy            text DEFAULT NULL,
    event_key           text DEFAULT NULL,
    depends_on          text[] DEFAULT NULL,
    on_dimension_change text DEFAULT 'recompute')
    RETURNS bigint
    LANGUAGE c VOLATILE
    -- No SET search_path: the user's query and target resolve in the caller's search_path, as
    -- CREATE VIEW does. Everything incmodel generates is fully qualified and runs pinned.
    AS 'MODULE_PATHNAME', 'incmodel_create_model';
COMMENT ON FUNCTION incmodel.create_model IS
    'Registers an incremental model from the SELECT of its full rebuild (batch_column: discrete batches; load_column + day_key: a daily aggregate over load-time ranges; load_column + strategy => ''append'' + event_key: an event-level table; depends_on: a features model over another model''s target; on_dimension_change: what a change to a joined relation does), creates (or checks) the target and builds it.';

-- ---- export: commit => 'append' (DELETE + APPEND commit of Redshift packages; issue 16) ----
-- incmodel.export() takes the commit pattern of the package: 'delete_insert' (the default: DELETE
-- of the touched keys and INSERT of their rows in the procedure's one transaction) or 'append'
-- (the procedure commits the DELETE and the rows in a permanent staging table; the post-commit
-- step moves them to the target with ALTER TABLE APPEND, emulated on PostgreSQL). docs/REDSHIFT.md.
DROP FUNCTION incmodel.export(text, text);
CREATE FUNCTION incmodel.export(name text, dialect text DEFAULT 'redshift',
                                commit text DEFAULT 'delete_insert')
    RETURNS TABLE (step int, part text, sql text)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_export';
COMMENT ON FUNCTION incmodel.export IS
    'The ordered parts (ddl, procedure, dispatcher, post_commit, maintenance) of a package that refreshes the model on Redshift or on a PostgreSQL without incmodel; commit => ''append'' commits by DELETE + APPEND.';
