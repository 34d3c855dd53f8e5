-- incmodel 0.1.0: incremental data models inside PostgreSQL.
\echo Use "CREATE EXTENSION incmodel" to load this file. \quit

-- Scratch tables of every model live here (UNLOGGED, truncated at the start of each run).
CREATE SCHEMA incmodel_scratch;
REVOKE ALL ON SCHEMA incmodel_scratch FROM PUBLIC;
GRANT USAGE ON SCHEMA incmodel_scratch TO PUBLIC;

-- Test-only functions (enabled by incmodel.test_hooks); not part of the public API.
CREATE SCHEMA incmodel_test;
REVOKE ALL ON SCHEMA incmodel_test FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Catalog. Written only by incmodel's functions (as the extension owner); readable by everyone.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE incmodel.models (
    model_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL UNIQUE CHECK (name <> ''),
    query             text NOT NULL,             -- as the user wrote it
    canonical_query   text NOT NULL,             -- analyzed and fully qualified
    query_head        text NOT NULL,             -- canonical text before the source reference
    query_tail        text NOT NULL,             -- ... and after it
    alias_in_query    boolean NOT NULL,
    source            regclass NOT NULL,
    source_alias      text NOT NULL,
    source_only       boolean NOT NULL DEFAULT false,
    batch_column      text NOT NULL,
    batch_type        text NOT NULL,
    window_column     text,
    lookback          interval CHECK (lookback >= interval '0'),
    target            regclass NOT NULL,
    strategy          text NOT NULL DEFAULT 'recompute' CHECK (strategy IN ('recompute')),
    bounded_recompute boolean NOT NULL DEFAULT false,
    vacuum_dead_ratio float8 CHECK (vacuum_dead_ratio >= 0),   -- NULL: incmodel.vacuum_dead_ratio
    analyze_mod_ratio float8 CHECK (analyze_mod_ratio >= 0),   -- NULL: incmodel.analyze_mod_ratio
    timezone          text NOT NULL,
    change_log        boolean NOT NULL DEFAULT false,  -- the source's change-log trigger feeds the plan
    planned_snapshot  pg_snapshot,                     -- taken before the last committed plan
    enabled           boolean NOT NULL DEFAULT true,
    owner             regrole NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Output, key and unique columns of each model, in order.
CREATE TABLE incmodel.model_columns (
    model_id    bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('output', 'key', 'unique')),
    ord         int NOT NULL,
    name        text NOT NULL,
    type        text,
    source_expr text,
    PRIMARY KEY (model_id, kind, ord)
);

-- The manifest: one row per batch value a model has processed, with its event count then.
CREATE TABLE incmodel.manifest (
    model_id    bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    batch_value text NOT NULL,
    event_count bigint NOT NULL CHECK (event_count >= 0),
    run_id      bigint,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, batch_value)
);

-- One row per run (refresh or rebuild), kept after the model is dropped.
CREATE TABLE incmodel.runs (
    run_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id            bigint NOT NULL,
    model_name          text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('refresh', 'rebuild')),
    started_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at         timestamptz,
    outcome             text NOT NULL DEFAULT 'running'
                        CHECK (outcome IN ('running', 'success', 'noop', 'skipped', 'failed')),
    failed_step         text,
    error_sqlstate      text,
    error_message       text,
    window_start        timestamptz,
    batches             int,
    events              bigint,
    keys                bigint,
    null_keys           bigint,
    rows_deleted        bigint,
    rows_inserted       bigint,
    keys_outside_window bigint,
    step_ms             jsonb
);
CREATE INDEX ON incmodel.runs (model_id, run_id);

-- The change log: one row per INSERT/COPY statement into a source, written by the statement
-- trigger incmodel adds to it, with the range of batch values the statement inserted. A refresh
-- reads only the rows of transactions its last plan could not see, and counts only the batches
-- in their ranges, so finding new and grown batches costs what the new events cost.
CREATE TABLE incmodel.source_changes (
    source       oid NOT NULL,
    batch_column text NOT NULL,
    txid         xid8 NOT NULL,
    lo           text,              -- min and max batch value, as text in ISO DateStyle
    hi           text,
    rows         bigint NOT NULL
);
CREATE INDEX ON incmodel.source_changes (source, batch_column, txid);

-- The trigger function (AFTER INSERT ... FOR EACH STATEMENT, transition table incmodel_new_rows,
-- argument: the batch column), in C: one pass over the inserted rows. Loaders write their row
-- with their own rights; DateStyle is pinned so that the range's text is canonical.
CREATE FUNCTION incmodel.log_source_change() RETURNS trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    SET DateStyle = 'ISO, YMD'
    SET IntervalStyle = 'postgres'
    SET extra_float_digits = 1
    AS 'MODULE_PATHNAME', 'incmodel_log_source_change';

-- Dead tuples each target accumulated from refresh DELETEs since incmodel last saw it vacuumed.
CREATE TABLE incmodel.table_debt (
    target       regclass PRIMARY KEY,
    model_id     bigint NOT NULL,
    dead_tuples  bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON incmodel.models, incmodel.model_columns, incmodel.manifest, incmodel.runs,
              incmodel.table_debt, incmodel.source_changes FROM PUBLIC;
-- Anyone who may insert into a source must be able to log the insert (a forged row only makes a
-- refresh count a range of batches it did not need to).
GRANT INSERT ON incmodel.source_changes TO PUBLIC;
GRANT SELECT ON incmodel.source_changes TO PUBLIC;
GRANT SELECT ON incmodel.models, incmodel.model_columns, incmodel.manifest, incmodel.runs,
                incmodel.table_debt TO PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- API
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION incmodel.version() RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_version';

CREATE FUNCTION incmodel.create_model(
    name              text,
    query             text,
    target            text,
    batch_column      text,
    window_column     text DEFAULT NULL,
    lookback          interval DEFAULT interval '7 days',
    unique_key        text[] DEFAULT NULL,
    bounded_recompute boolean DEFAULT false,
    enabled           boolean DEFAULT true)
    RETURNS bigint
    LANGUAGE c VOLATILE
    -- No SET search_path: the user's query and target resolve in the caller's search_path, as
    -- CREATE VIEW does. Everything incmodel generates is fully qualified and runs pinned.
    AS 'MODULE_PATHNAME', 'incmodel_create_model';
COMMENT ON FUNCTION incmodel.create_model IS
    'Registers an incremental model from the SELECT of its full rebuild, creates (or checks) the target and builds it once.';

CREATE PROCEDURE incmodel.refresh(name text, skip_locked boolean DEFAULT false)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'incmodel_refresh';
COMMENT ON PROCEDURE incmodel.refresh IS
    'One incremental run of a model: new or grown batches, touched keys recomputed, DELETE + INSERT committed with the manifest.';

CREATE PROCEDURE incmodel.refresh_all(skip_locked boolean DEFAULT false)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'incmodel_refresh_all';

CREATE FUNCTION incmodel.rebuild(name text) RETURNS bigint
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_rebuild';

CREATE FUNCTION incmodel.explain(name text)
    RETURNS TABLE (step int, step_name text, detail text, sql text)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_explain';

CREATE FUNCTION incmodel.drop_model(name text, drop_target boolean DEFAULT false) RETURNS void
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_drop_model';

CREATE FUNCTION incmodel.alter_model(
    name              text,
    lookback          interval DEFAULT NULL,
    enabled           boolean DEFAULT NULL,
    bounded_recompute boolean DEFAULT NULL,
    vacuum_dead_ratio float8 DEFAULT NULL,
    analyze_mod_ratio float8 DEFAULT NULL)
    RETURNS void
    LANGUAGE c VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_alter_model';

CREATE FUNCTION incmodel.pending(name text,
    OUT pending_batches bigint, OUT pending_events bigint)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_pending';

-- ---------------------------------------------------------------------------------------------
-- Maintenance: VACUUM / ANALYZE off the refresh's critical path, retention, scheduling.
-- ---------------------------------------------------------------------------------------------
-- Every VACUUM / ANALYZE incmodel ran (worker or external command) and every retention pass.
CREATE TABLE incmodel.maintenance_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    relation     text NOT NULL,
    relid        oid,
    action       text NOT NULL CHECK (action IN ('VACUUM', 'ANALYZE', 'VACUUM ANALYZE', 'retention')),
    reason       text,
    runner       text NOT NULL,                 -- worker | command | retention
    duration_ms  float8,
    dead_before  bigint,
    dead_after   bigint,
    rows_removed bigint,
    error        text
);
CREATE INDEX ON incmodel.maintenance_log (relid, id);

-- Retention per source: events older than keep (by time_column) are deleted in chunks once every
-- model reading the source has processed their whole batch.
CREATE TABLE incmodel.retention (
    source      regclass PRIMARY KEY,
    keep        interval NOT NULL CHECK (keep > interval '0'),
    time_column text NOT NULL,
    chunk_rows  int NOT NULL DEFAULT 10000 CHECK (chunk_rows > 0)
);
REVOKE ALL ON incmodel.maintenance_log, incmodel.retention FROM PUBLIC;
GRANT SELECT ON incmodel.maintenance_log, incmodel.retention TO PUBLIC;

-- The thresholds in force (the incmodel.* settings), as a row.
CREATE FUNCTION incmodel.maintenance_settings(
    OUT vacuum_dead_ratio float8, OUT vacuum_dead_min bigint,
    OUT analyze_mod_ratio float8, OUT analyze_mod_min bigint)
    LANGUAGE c STABLE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_maintenance_settings';

-- For every target, scratch and manifest table incmodel owns: does it need VACUUM and/or
-- ANALYZE, and why. Scratch tables never do: every refresh truncates them (which frees their
-- space) and analyzes its keys, so vacuuming them would only get in a refresh's way. Dead tuples are the larger of the statistics system's count and the debt
-- recorded by refreshes (exact, and not subject to the statistics' delay).
CREATE FUNCTION incmodel.maintenance_plan()
RETURNS TABLE (model text, relation regclass, kind text, live_tuples bigint, dead_tuples bigint,
               dead_ratio float8, modified_since_analyze bigint, modified_ratio float8,
               last_vacuum timestamptz, last_analyze timestamptz,
               needs_vacuum boolean, needs_analyze boolean, reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH settings AS (SELECT * FROM incmodel.maintenance_settings()),
owned AS (
    SELECT m.name AS model, m.target::oid AS relid, 'target' AS kind,
           m.vacuum_dead_ratio AS vr, m.analyze_mod_ratio AS ar
      FROM incmodel.models m
    UNION ALL
    SELECT m.name, c.oid, 'scratch', m.vacuum_dead_ratio, m.analyze_mod_ratio
      FROM incmodel.models m
      JOIN pg_class c ON c.relnamespace = 'incmodel_scratch'::regnamespace
                     AND c.relname IN (format('m%s_batches', m.model_id), format('m%s_keys', m.model_id),
                                       format('m%s_rows', m.model_id))
    UNION ALL
    SELECT NULL, c.oid, 'catalog', NULL, NULL
      FROM pg_class c
     WHERE c.relnamespace = 'incmodel'::regnamespace AND c.relkind = 'r'
       AND c.relname IN ('manifest', 'runs', 'table_debt', 'source_changes')
),
measured AS (
    SELECT o.model, o.relid, o.kind, s.n_live_tup AS live,
           greatest(s.n_dead_tup, coalesce(d.dead_tuples, 0)) AS dead,
           s.n_mod_since_analyze AS modified,
           greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
           greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze,
           coalesce(o.vr, st.vacuum_dead_ratio) AS vr, st.vacuum_dead_min AS vmin,
           coalesce(o.ar, st.analyze_mod_ratio) AS ar, st.analyze_mod_min AS amin
      FROM owned o
      JOIN pg_stat_all_tables s ON s.relid = o.relid
      LEFT JOIN incmodel.table_debt d ON d.target = o.relid
      CROSS JOIN settings st
),
judged AS (
    SELECT m.*,
           m.dead::float8 / greatest(m.live + m.dead, 1) AS dratio,
           m.modified::float8 / greatest(m.live, 1) AS mratio
      FROM measured m
)
SELECT j.model, j.relid::regclass, j.kind, j.live, j.dead, round(j.dratio::numeric, 4)::float8,
       j.modified, round(j.mratio::numeric, 4)::float8, j.last_vacuum, j.last_analyze,
       j.kind <> 'scratch' AND j.dead >= j.vmin AND j.dratio >= j.vr,
       j.kind <> 'scratch' AND j.modified >= j.amin AND j.mratio >= j.ar,
       CASE WHEN j.kind = 'scratch' THEN 'truncated and analyzed by every refresh' ELSE
       nullif(concat_ws('; ',
         CASE WHEN j.dead >= j.vmin AND j.dratio >= j.vr THEN
           format('%s dead tuples (%s%% of the table) >= %s and >= %s%%', j.dead,
                  round((100 * j.dratio)::numeric, 1), j.vmin, round((100 * j.vr)::numeric, 1)) END,
         CASE WHEN j.modified >= j.amin AND j.mratio >= j.ar THEN
           format('%s rows modified since the last analyze (%s%%) >= %s and >= %s%%', j.modified,
                  round((100 * j.mratio)::numeric, 1), j.amin, round((100 * j.ar)::numeric, 1)) END), '')
       END
  FROM judged j
 ORDER BY j.dead DESC, j.relid
$$;

-- The statements that carry out the plan, for installations without the background worker:
--   psql -Atc 'SELECT * FROM incmodel.maintenance_commands()' | psql -v ON_ERROR_STOP=1
-- Each VACUUM / ANALYZE is followed by the call that logs it.
CREATE FUNCTION incmodel.maintenance_commands() RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT cmd FROM (
  SELECT p.dead_tuples, p.relation, 1 AS ord,
         format('%s (SKIP_LOCKED%s) %s;',
                CASE WHEN p.needs_vacuum THEN 'VACUUM' ELSE 'ANALYZE' END,
                CASE WHEN p.needs_vacuum AND p.needs_analyze THEN ', ANALYZE' ELSE '' END,
                p.relation) AS cmd
    FROM incmodel.maintenance_plan() p WHERE p.needs_vacuum OR p.needs_analyze
  UNION ALL
  SELECT p.dead_tuples, p.relation, 2,
         format('SELECT incmodel.record_maintenance(%L::regclass, %L, %L, %s);', p.relation::text,
                CASE WHEN p.needs_vacuum AND p.needs_analyze THEN 'VACUUM ANALYZE'
                     WHEN p.needs_vacuum THEN 'VACUUM' ELSE 'ANALYZE' END,
                p.reason, p.dead_tuples)
    FROM incmodel.maintenance_plan() p WHERE p.needs_vacuum OR p.needs_analyze) c
ORDER BY dead_tuples DESC, relation, ord
$$;

-- Logs a maintenance action run outside the worker (and clears the target's dead-tuple debt).
-- Only the owner of the relation may record maintenance of it.
CREATE FUNCTION incmodel.record_maintenance(relation regclass, action text, reason text,
                                            dead_before bigint) RETURNS void
    LANGUAGE c VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_record_maintenance';

-- Retention: set (or, with keep NULL, remove) the retention of a source; apply it.
CREATE FUNCTION incmodel.set_retention(source regclass, keep interval, time_column text DEFAULT NULL,
                                       chunk_rows int DEFAULT 10000) RETURNS void
    LANGUAGE c VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_set_retention';
CREATE PROCEDURE incmodel.apply_retention(source regclass DEFAULT NULL)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'incmodel_apply_retention';

-- pg_cron scheduling of a model's refresh (job name incmodel:<model>).
CREATE FUNCTION incmodel.schedule(name text, every interval) RETURNS bigint
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_schedule';
CREATE FUNCTION incmodel.unschedule(name text) RETURNS boolean
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_unschedule';

CREATE VIEW incmodel.status AS
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
       ml.action AS last_maintenance_action
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
GRANT SELECT ON incmodel.status TO PUBLIC;

-- Test-only functions: error when incmodel.test_hooks is off.
CREATE FUNCTION incmodel_test.throw_cpp(kind text) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_throw_cpp';
CREATE FUNCTION incmodel_test.guarded_error(sql text) RETURNS int
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_guarded_error';
CREATE FUNCTION incmodel_test.destructor_count() RETURNS int
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_destructor_count';
CREATE FUNCTION incmodel_test.busy_loop(seconds float8) RETURNS bigint
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_busy_loop';

-- ---- export (Redshift / portable packages) ----
-- The deployable package of one model for an engine without the extension: DDL, the refresh
-- procedure, the incmodel.refresh(name) dispatcher, and the post-commit / maintenance queries
-- (statements that must run outside a procedure). Deployed with the `incmodel` command.
CREATE FUNCTION incmodel.export(name text, dialect text DEFAULT 'redshift')
    RETURNS TABLE (step int, part text, sql text)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_export';
COMMENT ON FUNCTION incmodel.export IS
    'The ordered parts (ddl, procedure, dispatcher, post_commit, maintenance) of a package that refreshes the model on Redshift or on a PostgreSQL without incmodel.';
