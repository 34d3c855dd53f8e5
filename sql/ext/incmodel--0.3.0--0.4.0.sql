-- incmodel 0.3.0 -> 0.4.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.4.0'" to load this file. \quit

-- =============================================================================================
-- Change capture: UPDATE and DELETE queue the keys of the rows they change
-- =============================================================================================
-- kind 'recount': the batch range of rows an UPDATE or DELETE changed (old rows, and an UPDATE's
-- new rows), whose keys incmodel_upd / incmodel_del queued for every batch model of the source in
-- incmodel.key_queue: the next plan recounts those batches for the manifest and recomputes the
-- queued keys, instead of rebuilding. A 'modify' row whose batch_column is not empty concerns
-- only the time-based models (of that load column); an empty one, every model of the source.
ALTER TABLE incmodel.source_changes DROP CONSTRAINT source_changes_kind_check;
ALTER TABLE incmodel.source_changes ADD CONSTRAINT source_changes_kind_check
    CHECK (kind IN ('insert', 'modify', 'recount'));

-- incmodel_upd (AFTER UPDATE, REFERENCING OLD TABLE AS incmodel_old NEW TABLE AS incmodel_new)
-- and incmodel_del (AFTER DELETE, REFERENCING OLD TABLE AS incmodel_old), statement triggers on a
-- logged source and on each of its partitions. The keys are evaluated as each model's owner; the
-- queue and the log are written as the catalog owner.
CREATE FUNCTION incmodel.queue_modified_keys() RETURNS trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_queue_modified_keys';

-- Logged sources get the two triggers on every relation of their partition tree, enabled ALWAYS
-- like the rest of the set (their models then stop rebuilding after an UPDATE or DELETE).
DO $$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT DISTINCT t.relid FROM incmodel.models m
             CROSS JOIN LATERAL (SELECT m.source::regclass AS relid UNION
                                 SELECT relid FROM pg_catalog.pg_partition_tree(m.source)) t
             JOIN pg_catalog.pg_class c ON c.oid = t.relid
             WHERE m.change_log AND c.relkind IN ('r', 'p') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = p AND tgname = 'incmodel_upd') THEN
            EXECUTE format('CREATE TRIGGER incmodel_upd AFTER UPDATE ON %s REFERENCING OLD TABLE '
                           'AS incmodel_old NEW TABLE AS incmodel_new FOR EACH STATEMENT EXECUTE '
                           'FUNCTION incmodel.queue_modified_keys()', p);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER incmodel_upd', p);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = p AND tgname = 'incmodel_del') THEN
            EXECUTE format('CREATE TRIGGER incmodel_del AFTER DELETE ON %s REFERENCING OLD TABLE '
                           'AS incmodel_old FOR EACH STATEMENT EXECUTE FUNCTION '
                           'incmodel.queue_modified_keys()', p);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER incmodel_del', p);
        END IF;
    END LOOP;
END
$$;

-- =============================================================================================
-- maintenance_plan() covers every catalog table of incmodel
-- =============================================================================================
-- 0.3.0's plan named the catalog tables it covered; the tables left out (models, model_columns,
-- retention, retention_expiring) were never vacuumed or analyzed by incmodel, though refreshes
-- update models (planned_snapshot, unplaced_rows) and retention passes fill and empty
-- retention_expiring. The plan now takes every ordinary table of the incmodel schema that
-- belongs to the extension, so a table a later version adds is covered without a new list.
-- Scratch tables: each model's batches, keys, rows and (time-based models) days, the names
-- RefreshPlanner gives them (m<model_id>_<name> in incmodel_scratch).
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
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'incmodel'
     WHERE c.relnamespace = 'incmodel'::regnamespace AND c.relkind = 'r'
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
-- Relations a model reads besides its source are watched
-- =============================================================================================
-- A change to a joined dimension, a context table, an identity map, a table in a subquery or
-- behind a view changes a model's rows without a new event. model_dimensions lists, per model,
-- the tables its query reads besides the source (views resolved to their tables); each gets the
-- row trigger incmodel_dim (AFTER INSERT OR UPDATE OR DELETE, WHEN note_dimension_change: no
-- event queued) and incmodel_dim_truncate, enabled ALWAYS. A transaction that changed one queues
-- a full recompute for the batch models that read it (incmodel.key_queue, keys NULL) and a
-- 'modify' row for the time-based ones, at commit. A model created before 0.4.0 records its
-- relations at its next run (dimensions_recorded).
CREATE TABLE incmodel.model_dimensions (
    model_id bigint NOT NULL REFERENCES incmodel.models ON DELETE CASCADE,
    relation regclass NOT NULL,
    PRIMARY KEY (model_id, relation)
);
CREATE INDEX ON incmodel.model_dimensions (relation);
REVOKE ALL ON incmodel.model_dimensions FROM PUBLIC;
GRANT SELECT ON incmodel.model_dimensions TO PUBLIC;
ALTER TABLE incmodel.models ADD COLUMN dimensions_recorded boolean NOT NULL DEFAULT false;
SELECT pg_catalog.pg_extension_config_dump('incmodel.model_dimensions', '');
-- The WHEN clause of incmodel_dim: notes the relation for the commit and returns false. Per row:
-- no SET clause.
CREATE FUNCTION incmodel.note_dimension_change(relation regclass) RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'incmodel_note_dimension_change';

-- =============================================================================================
-- Features models: several inputs, and keys computed from each input's key
-- =============================================================================================
-- One row per input of a features model (depends_on may name several models: sessions and users
-- feeding one user-features table). feature_keys: per key part of the features model, the
-- 1-based key part of this input it is a plain copy of, or 0 when it is an immutable expression
-- of this input's key columns (a roll-up by month over days: date_trunc('month',
-- day::timestamp)::date). feature_key_exprs: when a part is an expression, every part's
-- expression rendered over this input's key columns under the alias _incmodel_input (NULL when
-- every part is a plain copy). The input's commit projects its touched keys through them, as the
-- features model's owner, and queues the results for the features model. models.feature_keys
-- keeps the first input's positions (its CHECK); this table is what the queue reads.
CREATE TABLE incmodel.feature_inputs (
    model_id          bigint NOT NULL REFERENCES incmodel.models (model_id) ON DELETE CASCADE,
    input             text NOT NULL,
    ord               int NOT NULL,
    feature_keys      int[] NOT NULL,
    feature_key_exprs text[],
    PRIMARY KEY (model_id, input)
);
CREATE INDEX ON incmodel.feature_inputs (input);
INSERT INTO incmodel.feature_inputs (model_id, input, ord, feature_keys)
SELECT model_id, depends_on[1], 1, feature_keys FROM incmodel.models WHERE depends_on IS NOT NULL;
REVOKE ALL ON incmodel.feature_inputs FROM PUBLIC;
GRANT SELECT ON incmodel.feature_inputs TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('incmodel.feature_inputs', '');
