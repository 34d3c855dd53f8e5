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
    timezone          text NOT NULL,
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

-- Dead tuples each target accumulated from refresh DELETEs since incmodel last saw it vacuumed.
CREATE TABLE incmodel.table_debt (
    target       regclass PRIMARY KEY,
    model_id     bigint NOT NULL,
    dead_tuples  bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON incmodel.models, incmodel.model_columns, incmodel.manifest, incmodel.runs,
              incmodel.table_debt FROM PUBLIC;
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
    bounded_recompute boolean DEFAULT NULL)
    RETURNS void
    LANGUAGE c VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_alter_model';

CREATE FUNCTION incmodel.pending(name text,
    OUT pending_batches bigint, OUT pending_events bigint)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_pending';

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
       d.dead_tuples AS dead_tuple_debt
FROM incmodel.models m
LEFT JOIN LATERAL (SELECT r.finished_at FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome IN ('success', 'noop')
                   ORDER BY r.run_id DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (SELECT r.* FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome <> 'skipped'
                   ORDER BY r.run_id DESC LIMIT 1) last ON true
LEFT JOIN LATERAL incmodel.pending(m.name) p ON true
LEFT JOIN incmodel.table_debt d ON d.target = m.target;
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
