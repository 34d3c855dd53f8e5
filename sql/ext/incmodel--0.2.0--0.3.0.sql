-- incmodel 0.2.0 -> 0.3.0: safe in a shared database (docs/SECURITY.md).
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.3.0'" to load this file. \quit

-- =============================================================================================
-- Change log: written by the triggers as the catalog owner; nobody else writes it.
-- =============================================================================================
-- log_source_change() writes as the catalog owner, so a loader needs no right on schema incmodel
-- or on the log; the log's batch values are data: only incmodel itself reads them.
REVOKE INSERT, SELECT ON incmodel.source_changes FROM PUBLIC;


-- =============================================================================================
-- Catalog privacy: rows that carry data values are visible to the roles that may read them.
-- =============================================================================================
-- Batch values (manifest), error messages (runs), queued keys (key_queue), the time-based
-- ledgers and maintenance errors show a model's data: each row is visible to the roles that
-- have the privileges of the owner of the model's target (as pg_statistic is to those who may
-- read the column), and to superusers. incmodel writes them as the catalog owner, which row
-- security does not restrict. Policies are parsed here, so their names never resolve through a
-- caller's search_path; the subquery runs once per query (a hashed subplan).
ALTER TABLE incmodel.manifest ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.manifest FOR SELECT USING (
    model_id IN (SELECT m.model_id FROM incmodel.models m JOIN pg_catalog.pg_class c
                    ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
                 WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
ALTER TABLE incmodel.runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.runs FOR SELECT USING (
    model_id IN (SELECT m.model_id FROM incmodel.models m JOIN pg_catalog.pg_class c
                    ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
                 WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
ALTER TABLE incmodel.key_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.key_queue FOR SELECT USING (
    model_id IN (SELECT m.model_id FROM incmodel.models m JOIN pg_catalog.pg_class c
                    ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
                 WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
ALTER TABLE incmodel.range_manifest ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.range_manifest FOR SELECT USING (
    model_id IN (SELECT m.model_id FROM incmodel.models m JOIN pg_catalog.pg_class c
                    ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
                 WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
ALTER TABLE incmodel.daily_manifest ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.daily_manifest FOR SELECT USING (
    model IN (SELECT m.name FROM incmodel.models m JOIN pg_catalog.pg_class c
                 ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
              WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
ALTER TABLE incmodel.maintenance_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY table_owner ON incmodel.maintenance_log FOR SELECT USING (
    relid IN (SELECT c.oid FROM pg_catalog.pg_class c
              WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
-- status reads the catalog with the rights of whoever queries it (a view otherwise reads as its
-- owner, the extension owner, whom row security does not restrict).
ALTER VIEW incmodel.status SET (security_invoker = true);


-- =============================================================================================
-- Dependent models: drop_model(..., cascade => true).
-- =============================================================================================
-- A role with SELECT on a model's target may build a features model over it; the owner of the
-- target can still drop its model, with cascade, as DROP TABLE ... CASCADE drops other roles'
-- views (the dependents' targets stay as tables).
DROP FUNCTION incmodel.drop_model(text, boolean);
CREATE FUNCTION incmodel.drop_model(name text, drop_target boolean DEFAULT false,
                                    cascade boolean DEFAULT false) RETURNS void
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_drop_model';
COMMENT ON FUNCTION incmodel.drop_model IS
    'Drops a model, its manifest and scratch tables (and its target with drop_target); cascade also drops the models that depend on it.';


-- =============================================================================================
-- pg_dump / pg_restore: the catalog is dumped with the extension.
-- =============================================================================================
-- The catalog rows that describe models and what they have processed are dumped with the
-- extension (pg_extension_config_dump), with the sequences behind their identity columns, so a
-- restored database has its models again (docs/security/dump_restore.md). Not dumped:
-- source_changes (source OIDs and xids, meaningless in another database: a restored model counts
-- its source's batches once instead), table_debt (dead tuples of the old copy of a target) and
-- maintenance_log (relation OIDs of the old database). A run still 'running' at the dump is not
-- dumped either: its work is not in the dump, and no backend of the restored database runs it.
SELECT pg_catalog.pg_extension_config_dump('incmodel.models', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.models_model_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.model_columns', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.manifest', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.runs', $$WHERE outcome <> 'running'$$);
SELECT pg_catalog.pg_extension_config_dump('incmodel.runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.range_manifest', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.daily_manifest', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.key_queue', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.key_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('incmodel.retention', '');

-- Where planned_snapshot was taken: '<system identifier>/<database OID>/<source OID>'. A
-- snapshot's xids and the change log's source OIDs mean something only in the cluster, database
-- and source relation of the plan that took it; a model whose planned_origin is not the current
-- one (restored from a dump, pg_upgrade'd) plans by counting its source's batches once and then
-- records a fresh snapshot.
ALTER TABLE incmodel.models ADD COLUMN planned_origin text;
-- Snapshots recorded by 0.2.0 were taken here: 0.2.0 dumps had no catalog. The system
-- identifier is unsigned (the library prints it so); pg_control_system() shows it as a bigint.
UPDATE incmodel.models m
   SET planned_origin = pg_catalog.format('%s/%s/%s',
           CASE WHEN c.system_identifier < 0
                THEN c.system_identifier::numeric + 18446744073709551616
                ELSE c.system_identifier END, d.oid, m.source::oid)
  FROM pg_catalog.pg_control_system() c, pg_catalog.pg_database d
 WHERE d.datname = pg_catalog.current_database() AND m.planned_snapshot IS NOT NULL;


-- =============================================================================================
-- Nothing test-only in a production database: the test functions moved to extension
-- incmodel_test (test/ext), which only the test suite installs.
-- =============================================================================================
-- The 0.1.0 script created them here; incmodel.so keeps only stubs of their symbols (so that
-- script still runs) and has no fault setting. RESTRICT: objects someone else put into the
-- schema stop the upgrade instead of being dropped with it.
DROP FUNCTION incmodel_test.throw_cpp(text);
DROP FUNCTION incmodel_test.guarded_error(text);
DROP FUNCTION incmodel_test.destructor_count();
DROP FUNCTION incmodel_test.busy_loop(float8);
DROP SCHEMA incmodel_test RESTRICT;


-- =============================================================================================
-- Maintenance and retention.
-- =============================================================================================
-- No SQL changes: the worker (owner rights, snapshot, per-table isolation) and retention (as the
-- source owner, by OID, per-source isolation) changed in the library only.

-- =============================================================================================
-- Change capture on every path (issue 13): the change log's kinds, ALWAYS triggers, the event
-- trigger for ATTACH/DETACH/DISABLE TRIGGER.
-- =============================================================================================
-- kind 'insert': rows inserted (lo/hi their batch range, nulls how many had a NULL batch value);
-- kind 'modify': the source was changed in a way the log cannot describe by batches (UPDATE,
-- DELETE, TRUNCATE, ATTACH/DETACH PARTITION, its triggers disabled): the models on it rebuild.
ALTER TABLE incmodel.source_changes
    ADD COLUMN nulls bigint NOT NULL DEFAULT 0,
    ADD COLUMN kind text NOT NULL DEFAULT 'insert' CHECK (kind IN ('insert', 'modify'));
CREATE INDEX ON incmodel.source_changes (source, txid) WHERE kind = 'modify';

-- The WHEN clause of incmodel_mods (AFTER UPDATE OR DELETE, each row, cloned to partitions):
-- notes the source as modified and returns false, so no row event is queued. Per row: no SET.
CREATE FUNCTION incmodel.note_source_modification(source regclass) RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'incmodel_note_source_modification';
-- incmodel_truncate (AFTER TRUNCATE, statement, on a source and on each of its partitions).
CREATE FUNCTION incmodel.log_source_modification() RETURNS trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_log_source_modification';
-- ATTACH/DETACH of a partition holding rows, and any change to whether a logged source's
-- triggers fire, log a 'modify' row; a new partition of a logged source gets incmodel_truncate.
CREATE FUNCTION incmodel.on_ddl_command() RETURNS event_trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_on_ddl_command';

-- Sources logged by 0.2.0 get the rest of the trigger set, every trigger enabled ALWAYS (so that
-- logical replication's apply and pg_restore --disable-triggers are captured too).
DO $$
DECLARE
    s regclass;
    p regclass;
    t record;
BEGIN
    FOR s IN SELECT DISTINCT m.source FROM incmodel.models m WHERE m.change_log LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = s AND tgname = 'incmodel_mods') THEN
            EXECUTE format('CREATE TRIGGER incmodel_mods AFTER UPDATE OR DELETE ON %s FOR EACH ROW '
                           'WHEN (incmodel.note_source_modification(%L::pg_catalog.regclass)) '
                           'EXECUTE FUNCTION incmodel.log_source_modification()', s, s::text);
        END IF;
        FOR p IN SELECT s UNION SELECT relid FROM pg_catalog.pg_partition_tree(s) LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                           WHERE tgrelid = p AND tgname = 'incmodel_truncate') THEN
                EXECUTE format('CREATE TRIGGER incmodel_truncate AFTER TRUNCATE ON %s FOR EACH '
                               'STATEMENT EXECUTE FUNCTION incmodel.log_source_modification()', p);
            END IF;
            FOR t IN SELECT tgname FROM pg_catalog.pg_trigger
                     WHERE tgrelid = p AND tgname LIKE 'incmodel\_%' AND tgenabled <> 'A' LOOP
                EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p, t.tgname);
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;

CREATE EVENT TRIGGER incmodel_capture_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')
    EXECUTE FUNCTION incmodel.on_ddl_command();
ALTER EVENT TRIGGER incmodel_capture_ddl ENABLE ALWAYS;


-- =============================================================================================
-- NULL batch values, collations, counting that sees shrunk and vanished batches.
-- =============================================================================================
-- Events whose batch value is NULL form a batch of their own (the NULL batch): the manifest
-- records it as a NULL batch_value, unique per model (NULLS NOT DISTINCT, which ON CONFLICT
-- infers), and the batches scratch tables accept it.
ALTER TABLE incmodel.manifest DROP CONSTRAINT manifest_pkey,
    ALTER COLUMN batch_value DROP NOT NULL,
    ADD CONSTRAINT manifest_model_batch UNIQUE NULLS NOT DISTINCT (model_id, batch_value);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::pg_catalog.regclass AS rel FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
             JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
             WHERE n.nspname OPERATOR(pg_catalog.=) 'incmodel_scratch'
               AND c.relname OPERATOR(pg_catalog.~) '^m[0-9]+_batches$'
               AND a.attname OPERATOR(pg_catalog.=) 'batch_value' AND a.attnotnull
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN batch_value DROP NOT NULL', r.rel);
    END LOOP;
END $$;
-- 0.2.0 skipped the change log's rows of statements that loaded only NULL batch values, and
-- merged the ranges of a text batch column under the database's default collation: the first
-- plan after the update counts the source's batches (and records the NULL batch) instead of
-- trusting what 0.2.0 planned from the log.
UPDATE incmodel.models SET planned_snapshot = NULL WHERE change_log;


-- =============================================================================================
-- Renames: the stored query follows its relations; every failure is a recorded run.
-- =============================================================================================
-- A model's analyzed query as a tree (nodeToString), as PostgreSQL stores a view's: at every
-- load the canonical text, its split around the source and the key expressions are rendered
-- from it with the current names, so renames of the source, its schema, a dimension, a column
-- or a function are followed (the text columns are refreshed when names changed). query_origin
-- ('<system identifier>/<database OID>') says where its OIDs mean something: a tree restored
-- into another database is ignored and taken again from the canonical text. Models created by
-- 0.2.0 get theirs at their next refresh (or rebuild), from their canonical text.
ALTER TABLE incmodel.models ADD COLUMN query_tree text, ADD COLUMN query_origin text;
-- A failure before a run's steps (loading the model, its lock, its query) is recorded as a run
-- too, at failed_step 'load' (and 'run' for one refresh_all() contained elsewhere).


-- =============================================================================================
-- verify(): compare a target with a recomputation.
-- =============================================================================================

-- verify(name, sample) recomputes what a model's target should hold (every key, or a random
-- sample of keys drawn from the target's and the source's keys) and compares it with the target,
-- read-only on the target, as the target's owner under the model lock. Each verify is a run of
-- kind 'verify': outcome 'success' when equal, 'differs' when not (with the counts and up to 5
-- example keys of each kind), 'failed' when it could not run.
ALTER TABLE incmodel.runs DROP CONSTRAINT runs_kind_check;
ALTER TABLE incmodel.runs ADD CONSTRAINT runs_kind_check
    CHECK (kind IN ('refresh', 'rebuild', 'backfill', 'verify'));
ALTER TABLE incmodel.runs DROP CONSTRAINT runs_outcome_check;
ALTER TABLE incmodel.runs ADD CONSTRAINT runs_outcome_check
    CHECK (outcome IN ('running', 'success', 'noop', 'skipped', 'failed', 'differs'));
ALTER TABLE incmodel.runs
    ADD COLUMN rows_missing bigint,      -- verify: keys the target lacks
    ADD COLUMN rows_extra bigint,        -- verify: keys only the target has
    ADD COLUMN rows_differ bigint,       -- verify: keys whose rows differ
    ADD COLUMN verify_examples jsonb;    -- verify: {sample, missing[], extra[], differ[]}

CREATE FUNCTION incmodel.verify(name text, sample float8 DEFAULT NULL,
    OUT run_id bigint, OUT keys_checked bigint, OUT missing bigint, OUT extra bigint,
    OUT differ bigint, OUT missing_keys text[], OUT extra_keys text[], OUT differ_keys text[],
    OUT result text)
    LANGUAGE c VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_verify';
COMMENT ON FUNCTION incmodel.verify IS
    'Compares a model''s target with a recomputation of every key (sample NULL) or of a random fraction of keys; records a run of kind verify.';


-- =============================================================================================
-- maintenance_plan() covers the tables 0.2.0 added (the time-based ledgers, the key queue, a
-- daily model's days scratch) and the maintenance log.
-- =============================================================================================
CREATE OR REPLACE FUNCTION incmodel.maintenance_plan()
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
                                       format('m%s_rows', m.model_id), format('m%s_days', m.model_id))
    UNION ALL
    SELECT NULL, c.oid, 'catalog', NULL, NULL
      FROM pg_class c
     WHERE c.relnamespace = 'incmodel'::regnamespace AND c.relkind = 'r'
       AND c.relname IN ('manifest', 'runs', 'table_debt', 'source_changes', 'range_manifest',
                         'daily_manifest', 'key_queue', 'maintenance_log')
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

-- =============================================================================================
-- Time-based models never lose a row silently (issue 13, items 9-12): change log on the load
-- column, rows committed behind the limit caught, unplaced rows counted.
-- =============================================================================================
-- A daily or append model's source carries the change-log triggers on its load column, as a
-- batch model's on its batch column; each run records the snapshot taken before it reads the
-- source (planned_snapshot), and the next run reads the log rows of the transactions it could
-- not see: rows loaded at or below its lower limit (stamped before the loader's lock, in another
-- TimeZone, by a long single INSERT) make their event days be reprocessed in full (daily) or
-- their event keys be recomputed (append); a 'modify' row (UPDATE, DELETE, TRUNCATE, ...) makes
-- it reprocess every day / event key up to the limit.
ALTER TABLE incmodel.runs
    ADD COLUMN rows_behind_limit bigint,  -- time-based: rows committed behind the previous limit
    ADD COLUMN rows_unplaced bigint;      -- time-based: rows no range can place (NULL load, or
                                          -- loaded before start_date)
-- The rows loaded after a time-based model's first run that no run can place, counted by the
-- runs that found them (status.unplaced_rows).
ALTER TABLE incmodel.models ADD COLUMN unplaced_rows bigint NOT NULL DEFAULT 0;

-- Time-based models created by 0.2.0 get the trigger set on their load column (their sources
-- that are tables); their next run records its snapshot, the one after reads the log from it.
DO $$
DECLARE
    m record;
    p regclass;
    t record;
    rows_trigger text;
    stmt_trigger text;
BEGIN
    FOR m IN SELECT DISTINCT x.source, x.load_column FROM incmodel.models x
             JOIN pg_catalog.pg_class c ON c.oid = x.source
             WHERE x.load_column IS NOT NULL AND NOT x.change_log AND c.relkind IN ('r', 'p') LOOP
        rows_trigger := 'incmodel_rows_' || left(md5(m.load_column), 12);
        stmt_trigger := 'incmodel_changes_' || left(md5(m.load_column), 12);
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = m.source AND tgname = rows_trigger) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW WHEN '
                           '(incmodel.note_source_row(%L::pg_catalog.regclass, %L, NEW.%I)) '
                           'EXECUTE FUNCTION incmodel.log_source_change(%L)', rows_trigger,
                           m.source, m.source::text, m.load_column, m.load_column, m.load_column);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = m.source AND tgname = stmt_trigger) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE '
                           'FUNCTION incmodel.log_source_change(%L)', stmt_trigger, m.source,
                           m.load_column);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = m.source AND tgname = 'incmodel_mods') THEN
            EXECUTE format('CREATE TRIGGER incmodel_mods AFTER UPDATE OR DELETE ON %s FOR EACH ROW '
                           'WHEN (incmodel.note_source_modification(%L::pg_catalog.regclass)) '
                           'EXECUTE FUNCTION incmodel.log_source_modification()', m.source,
                           m.source::text);
        END IF;
        FOR p IN SELECT m.source UNION SELECT relid FROM pg_catalog.pg_partition_tree(m.source) LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                           WHERE tgrelid = p AND tgname = 'incmodel_truncate') THEN
                EXECUTE format('CREATE TRIGGER incmodel_truncate AFTER TRUNCATE ON %s FOR EACH '
                               'STATEMENT EXECUTE FUNCTION incmodel.log_source_modification()', p);
            END IF;
            FOR t IN SELECT tgname FROM pg_catalog.pg_trigger
                     WHERE tgrelid = p AND tgname LIKE 'incmodel\_%' AND tgenabled <> 'A' LOOP
                EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p, t.tgname);
            END LOOP;
        END LOOP;
        UPDATE incmodel.models SET change_log = true
        WHERE source = m.source AND load_column = m.load_column;
    END LOOP;
END
$$;

-- status: its last_* columns keep describing the runs that change the target; last_verified
-- and last_verify_result describe the last finished verify; unplaced_rows counts a time-based
-- model's rows it could not place. CREATE OR REPLACE VIEW replaces the view's options, so
-- security_invoker is given again.
CREATE OR REPLACE VIEW incmodel.status WITH (security_invoker = true) AS
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
                  WHERE dm.model = m.name) END AS skipped_late_rows,
       v.finished_at AS last_verified,
       CASE v.outcome WHEN 'success' THEN 'equal'
                      WHEN 'differs' THEN format('%s missing, %s extra, %s differ',
                                                 v.rows_missing, v.rows_extra, v.rows_differ)
                      ELSE 'failed: ' || v.error_message END AS last_verify_result,
       CASE WHEN m.load_column IS NOT NULL THEN m.unplaced_rows END AS unplaced_rows
FROM incmodel.models m
LEFT JOIN LATERAL (SELECT r.finished_at FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome IN ('success', 'noop')
                     AND r.kind <> 'verify'
                   ORDER BY r.run_id DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (SELECT r.* FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.outcome <> 'skipped'
                     AND r.kind <> 'verify'
                   ORDER BY r.run_id DESC LIMIT 1) last ON true
LEFT JOIN LATERAL incmodel.pending(m.name) p ON true
LEFT JOIN incmodel.table_debt d ON d.target = m.target
LEFT JOIN LATERAL (SELECT l.started_at, l.action FROM incmodel.maintenance_log l
                   WHERE l.relid = m.target::oid ORDER BY l.id DESC LIMIT 1) ml ON true
LEFT JOIN LATERAL (SELECT r.finished_at, r.outcome, r.rows_missing, r.rows_extra, r.rows_differ,
                          r.error_message FROM incmodel.runs r
                   WHERE r.model_id = m.model_id AND r.kind = 'verify' AND r.outcome <> 'running'
                   ORDER BY r.run_id DESC LIMIT 1) v ON true;

-- =============================================================================================
-- Retention passes that were interrupted: the batches a pass is expiring.
-- =============================================================================================
-- apply_retention() records the batches it is about to delete, one row per model reading the
-- source, and commits them before its first DELETE. A pass that ends early (lock_timeout, a
-- failure, a crash between its chunk commits) leaves them here; the next pass finishes them
-- first (deletes what is left of them, drops their manifest rows, then these rows). Until then a
-- refresh treats an expiring batch as neither new nor shrunk: it never rebuilds for it. Batch
-- values are data: rows are visible as the manifest's are. Dumped with the manifest, whose rows
-- for these batches a restored database still has.
CREATE TABLE incmodel.retention_expiring (
    model_id    bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    batch_value text NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, batch_value)
);
REVOKE ALL ON incmodel.retention_expiring FROM PUBLIC;
GRANT SELECT ON incmodel.retention_expiring TO PUBLIC;
ALTER TABLE incmodel.retention_expiring ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owner ON incmodel.retention_expiring FOR SELECT USING (
    model_id IN (SELECT m.model_id FROM incmodel.models m JOIN pg_catalog.pg_class c
                    ON c.oid OPERATOR(pg_catalog.=) m.target::pg_catalog.oid
                 WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')));
SELECT pg_catalog.pg_extension_config_dump('incmodel.retention_expiring', '');
