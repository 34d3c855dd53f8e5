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


-- =============================================================================================
-- NULL batch values, collations, counting that sees shrunk and vanished batches.
-- =============================================================================================


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
