-- incmodel 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- Change log without a transition table. The row trigger's WHEN clause calls this function,
-- which widens a backend-local range of the inserted batch values and returns false, so the row
-- trigger never fires and COPY keeps its multi-insert path; the statement trigger
-- (incmodel.log_source_change) writes the range. It runs once per inserted row, so it carries no
-- SET clause (a pinned setting would cost a GUC save/restore per row); it resolves no names.
-- Anyone may call it: at worst it widens the range logged for their own transaction's insert.
CREATE FUNCTION incmodel.note_source_row(source regclass, batch_column text, value anyelement)
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'incmodel_note_source_row';

-- Sources logged by 0.1.0 get the new trigger pair (their old statement trigger read a transition
-- table, which copied every inserted row).
DO $$
DECLARE
    t record;
    digest text;
BEGIN
    FOR t IN
        SELECT DISTINCT m.source, m.batch_column
          FROM incmodel.models m
          JOIN pg_catalog.pg_trigger g
            ON g.tgrelid = m.source
           AND g.tgname = 'incmodel_changes_' || left(pg_catalog.md5(m.batch_column), 12)
         WHERE m.change_log
    LOOP
        digest := left(pg_catalog.md5(t.batch_column), 12);
        EXECUTE format('DROP TRIGGER %I ON %s', 'incmodel_changes_' || digest, t.source);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW WHEN '
                       '(incmodel.note_source_row(%L::pg_catalog.regclass, %L, NEW.%I)) '
                       'EXECUTE FUNCTION incmodel.log_source_change(%L)',
                       'incmodel_rows_' || digest, t.source, t.source::text, t.batch_column,
                       t.batch_column, t.batch_column);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION incmodel.log_source_change(%L)',
                       'incmodel_changes_' || digest, t.source, t.batch_column);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Time-based models: a load-time range manifest instead of discrete batches, daily aggregates
-- with a late-events ledger, backfills by date.
-- ---------------------------------------------------------------------------------------------
-- A time-based model keeps batch_column = load_column (the column its runs range over).
ALTER TABLE incmodel.models
    ADD COLUMN load_column         text,            -- set: a time-based model
    ADD COLUMN start_date          timestamptz,     -- the first run starts here (inclusive)
    ADD COLUMN backfill_limit      interval CHECK (backfill_limit > interval '0'),
    ADD COLUMN day_key             text,            -- the output column holding the event day
    ADD COLUMN reprocess_days      int CHECK (reprocess_days >= 0),
    ADD COLUMN min_rows_to_process bigint CHECK (min_rows_to_process >= 1),
    ADD COLUMN upper_limit         timestamptz,     -- load_column processed up to here (inclusive)
    ADD COLUMN event_key           text;            -- append models: the dedupe key
ALTER TABLE incmodel.models DROP CONSTRAINT models_strategy_check;
ALTER TABLE incmodel.models ADD CONSTRAINT models_strategy_check
    CHECK (strategy IN ('recompute', 'append'));
-- A time-based model is a daily aggregate (recompute, day_key) or an append model (event_key).
ALTER TABLE incmodel.models ADD CONSTRAINT models_time_based_check CHECK (
    load_column IS NULL OR (load_column = batch_column AND start_date IS NOT NULL AND
                            backfill_limit IS NOT NULL AND reprocess_days IS NOT NULL AND
                            min_rows_to_process IS NOT NULL AND
                            CASE strategy WHEN 'append' THEN event_key IS NOT NULL
                                          ELSE day_key IS NOT NULL END));

-- The range manifest: one row per run of a time-based model, the load range it processed,
-- (lower_limit, upper_limit], with the reprocess_days it ran with (which decides, for every
-- later recompute, which of its rows were late).
CREATE TABLE incmodel.range_manifest (
    model_id         bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    run_id           bigint NOT NULL,
    lower_limit      timestamptz NOT NULL,
    upper_limit      timestamptz NOT NULL,
    reprocess_days   int NOT NULL,
    rows_processed   bigint NOT NULL,
    rows_late        bigint NOT NULL,
    days_reprocessed int NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, upper_limit),
    CHECK (lower_limit < upper_limit)
);

-- The daily ledger of a daily aggregate model: per event day, the rows included, the late rows
-- skipped since the day was last processed in full, and the load limit of that full pass.
CREATE TABLE incmodel.daily_manifest (
    model            text NOT NULL REFERENCES incmodel.models (name)
                     ON UPDATE CASCADE ON DELETE CASCADE,
    event_date       date NOT NULL,
    processed_events bigint NOT NULL DEFAULT 0,
    skipped_events   bigint NOT NULL DEFAULT 0,
    max_load_tstamp  timestamptz,
    last_updated_at  timestamptz NOT NULL DEFAULT now(),
    full_upper       timestamptz,   -- rows loaded up to here are all included (full reprocess)
    PRIMARY KEY (model, event_date)
);
-- Features models: a model over another model's target (depends_on), refreshed from the keys its
-- input touched. feature_keys maps each of its key parts to a key part of the input (1-based).
ALTER TABLE incmodel.models
    ADD COLUMN depends_on   text[],
    ADD COLUMN feature_keys int[];
ALTER TABLE incmodel.models ADD CONSTRAINT models_features_check CHECK (
    depends_on IS NULL OR (batch_column = '' AND load_column IS NULL AND feature_keys IS NOT NULL));

-- The keys each input run touched, queued for the models that depend on it (text values of the
-- dependent's key parts; keys NULL: the input was rebuilt, recompute everything).
CREATE TABLE incmodel.key_queue (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    keys     text[]
);
CREATE INDEX ON incmodel.key_queue (model_id, id);

REVOKE ALL ON incmodel.range_manifest, incmodel.daily_manifest, incmodel.key_queue FROM PUBLIC;
GRANT SELECT ON incmodel.range_manifest, incmodel.daily_manifest, incmodel.key_queue TO PUBLIC;

ALTER TABLE incmodel.runs DROP CONSTRAINT runs_kind_check;
ALTER TABLE incmodel.runs ADD CONSTRAINT runs_kind_check
    CHECK (kind IN ('refresh', 'rebuild', 'backfill'));
ALTER TABLE incmodel.runs
    ADD COLUMN lower_limit    timestamptz,
    ADD COLUMN upper_limit    timestamptz,
    ADD COLUMN late_rows      bigint,
    ADD COLUMN days_reprocessed int;

DROP FUNCTION incmodel.create_model(text, text, text, text, text, interval, text[], boolean, boolean);
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
    depends_on          text[] DEFAULT NULL)
    RETURNS bigint
    LANGUAGE c VOLATILE
    -- No SET search_path: the user's query and target resolve in the caller's search_path, as
    -- CREATE VIEW does. Everything incmodel generates is fully qualified and runs pinned.
    AS 'MODULE_PATHNAME', 'incmodel_create_model';
COMMENT ON FUNCTION incmodel.create_model IS
    'Registers an incremental model from the SELECT of its full rebuild (batch_column: discrete batches; load_column + day_key: a daily aggregate over load-time ranges; load_column + strategy => ''append'' + event_key: an event-level table; depends_on: a features model over another model''s target), creates (or checks) the target and builds it.';

DROP PROCEDURE incmodel.refresh(text, boolean);
CREATE PROCEDURE incmodel.refresh(name text, skip_locked boolean DEFAULT false,
                                  reprocess_days int DEFAULT NULL,
                                  min_rows_to_process bigint DEFAULT NULL)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'incmodel_refresh';
COMMENT ON PROCEDURE incmodel.refresh IS
    'One incremental run of a model: new or grown batches (or the next load-time range), touched keys recomputed, DELETE + INSERT committed with the manifest. reprocess_days / min_rows_to_process override a daily model''s settings for this run.';

-- Rebuilds the event days [range_start, range_end) of a daily model, or the events loaded in
-- [range_start, range_end) of an append model, from every row loaded up to the model's upper
-- limit, atomically; the range manifest does not move.
CREATE FUNCTION incmodel.backfill(name text, range_start timestamptz, range_end timestamptz)
    RETURNS bigint
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_backfill';

-- What a backfill of a time-based model would touch (days or load range, rows) and its SQL.
CREATE FUNCTION incmodel.explain(name text, range_start timestamptz, range_end timestamptz)
    RETURNS TABLE (step int, step_name text, detail text, sql text)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_explain';

CREATE OR REPLACE VIEW incmodel.status AS
SELECT m.name AS model,
       m.source,
       m.target,
       m.enabled,
       m.batch_column,
       m.window_column,
       m.lookback,
       ok.finished_at  AS last_success,
       last.outcome    AS last_outcome,
       last.finished_at - last.started_at AS last_duration,
       last.failed_step AS last_failed_step,
       last.error_message AS last_error,
       p.pending_batches,
       p.pending_events,
       (SELECT count(*) FROM incmodel.manifest mf WHERE mf.model_id = m.model_id) AS manifest_batches,
       d.dead_tuples AS dead_tuple_debt,
       pg_stat_get_dead_tuples(m.target) AS dead_tuples,
       pg_stat_get_live_tuples(m.target) AS live_tuples,
       ml.started_at AS last_maintenance,
       ml.action AS last_maintenance_action,
       m.upper_limit,
       CASE WHEN m.load_column IS NOT NULL THEN now() - m.upper_limit END AS lag,
       CASE WHEN m.load_column IS NOT NULL
            THEN (SELECT coalesce(sum(dm.skipped_events), 0) FROM incmodel.daily_manifest dm
                  WHERE dm.model = m.name) END AS skipped_late_rows
FROM incmodel.models m
LEFT JOIN LATERAL (SELECT r.finished_at FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome IN ('success', 'noop')
                   ORDER BY r.run_id DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (SELECT r.* FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome <> 'skipped'
                   ORDER BY r.run_id DESC LIMIT 1) last ON true
LEFT JOIN LATERAL incmodel.pending(m.name) p ON true
LEFT JOIN incmodel.table_debt d ON d.target = m.target
LEFT JOIN LATERAL (SELECT l.started_at, l.action FROM incmodel.maintenance_log l
                   WHERE l.relid = m.target::oid ORDER BY l.id DESC LIMIT 1) ml ON true;
