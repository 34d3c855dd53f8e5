-- incmodel 0.2.0 -> 0.3.0: safe in a shared database (docs/SECURITY.md).
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.3.0'" to load this file. \quit

-- =============================================================================================
-- Change log: written by the triggers as the catalog owner; nobody else writes it.
-- =============================================================================================


-- =============================================================================================
-- Catalog privacy: rows that carry data values are visible to the roles that may read them.
-- =============================================================================================


-- =============================================================================================
-- Dependent models: drop_model(..., cascade => true).
-- =============================================================================================


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


-- =============================================================================================
-- Maintenance and retention.
-- =============================================================================================

