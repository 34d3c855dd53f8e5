-- The upgrade path from 0.1.0, in its own database. The library is already the new release: on
-- the old catalog it refuses to work, with a hint. A source logged by a 0.1.0 model (its
-- statement trigger read a transition table) gets the new trigger pair from ALTER EXTENSION
-- UPDATE, and a load logged by the old trigger before the update is not lost; values queued by
-- 0.6.0 stay readable after 0.7.0.
SELECT count(*) AS fresh_functions FROM pg_proc WHERE pronamespace = 'incmodel'::regnamespace \gset
SELECT count(*) AS fresh_policies FROM pg_policies WHERE schemaname = 'incmodel' \gset
CREATE DATABASE incmodel_upgrade;
\c incmodel_upgrade
CREATE EXTENSION incmodel VERSION '0.1.0';
CREATE SCHEMA atomic;
CREATE SCHEMA derived;
CREATE TABLE atomic.ev (k text, v int, etl_tstamp timestamp NOT NULL);
CREATE INDEX ON atomic.ev (etl_tstamp);
CREATE INDEX ON atomic.ev (k);
INSERT INTO atomic.ev SELECT 'k' || (g % 7), g, '2026-01-01'::timestamp + (g / 10) * interval '1 h'
FROM generate_series(1, 100) g;
\set VERBOSITY default
SELECT incmodel.create_model(name => 'ev_keys',
  query => 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.ev GROUP BY k',
  target => 'derived.ev_keys', batch_column => 'etl_tstamp');
-- What a 0.1.0 create_model left on a logged source: its model row and a transition-table trigger.
INSERT INTO incmodel.models (name, query, canonical_query, query_head, query_tail, alias_in_query,
  source, source_alias, batch_column, batch_type, target, timezone, owner, change_log)
VALUES ('made_by_0_1_0', '', '', '', '', false, 'atomic.ev', 'ev', 'etl_tstamp',
  'timestamp without time zone', 'atomic.ev', 'UTC', current_user::regrole, true);
DO $$ BEGIN
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON atomic.ev REFERENCING NEW TABLE AS '
                 'incmodel_new_rows FOR EACH STATEMENT EXECUTE FUNCTION '
                 'incmodel.log_source_change(%L)',
                 'incmodel_changes_' || left(md5('etl_tstamp'), 12), 'etl_tstamp');
END $$;
INSERT INTO atomic.ev VALUES ('k1', 1000, '2026-01-02 00:00'), ('new', 1, '2025-12-31 00:00');
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes ORDER BY txid;
-- The test functions 0.1.0 created reach only stubs in this library; the update drops them.
SELECT incmodel_test.throw_cpp('std');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Values a 0.6.0 row trigger queued for a model (text[] in keys) are still there, and read the
-- same way, after the update to 0.7.0 (which queues new ones packed).
ALTER EXTENSION incmodel UPDATE TO '0.6.0';
INSERT INTO incmodel.key_queue (model_id, dimension, keys)
SELECT model_id, 'atomic.ev'::regclass, '{k1,k2}' FROM incmodel.models WHERE name = 'made_by_0_1_0';
ALTER EXTENSION incmodel UPDATE;
SELECT COALESCE(keys, incmodel.noted_values(packed_values)) AS queued_by_0_6_0,
       packed_values IS NULL AS not_packed
FROM incmodel.key_queue WHERE dimension IS NOT NULL;
SELECT extversion FROM pg_extension WHERE extname = 'incmodel';
SELECT count(*) AS test_schemas FROM pg_namespace WHERE nspname = 'incmodel_test';
SELECT incmodel.version();
SELECT regexp_replace(tgname, '_[0-9a-f]{12}$', '') AS trigger, tgnewtable IS NOT NULL AS transition_table,
       pg_get_triggerdef(oid) ~ 'WHEN \(incmodel\.note_source_row\(''atomic\.ev''::regclass' AS notes_rows
FROM pg_trigger WHERE tgrelid = 'atomic.ev'::regclass ORDER BY tgname;
-- The old trigger's log row is still there; the new pair logs the next load.
INSERT INTO atomic.ev VALUES ('k2', 5, '2026-01-01 03:00'), ('k9', 5, '2026-01-03 00:00');
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes ORDER BY txid;
-- A model created now sees everything; a refresh after another load stays equal to a rebuild.
DELETE FROM incmodel.models WHERE name = 'made_by_0_1_0';
SELECT incmodel.create_model(name => 'ev_keys',
  query => 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.ev GROUP BY k',
  target => 'derived.ev_keys', batch_column => 'etl_tstamp') > 0 AS created;
INSERT INTO atomic.ev VALUES ('k3', 7, '2026-01-04 00:00'), ('k4', 8, '2025-12-30 00:00');
CALL incmodel.refresh('ev_keys');
SELECT count(*) AS differing_rows FROM (
  (SELECT * FROM derived.ev_keys EXCEPT ALL SELECT k, count(*), sum(v) FROM atomic.ev GROUP BY k)
  UNION ALL
  (SELECT k, count(*), sum(v) FROM atomic.ev GROUP BY k EXCEPT ALL SELECT * FROM derived.ev_keys)) d;
-- Every object of the current version is there after the upgrade, as after a fresh install.
SELECT count(*) = :fresh_functions AS same_functions_as_fresh_install FROM pg_proc
WHERE pronamespace = 'incmodel'::regnamespace;
-- 0.3.0's catalog privacy came with the update: row security on the tables whose rows carry
-- data, the change log closed to PUBLIC, status reading with its caller's rights.
SELECT count(*) = :fresh_policies AS same_policies_as_fresh_install FROM pg_policies
WHERE schemaname = 'incmodel';
SELECT relname AS row_security FROM pg_class
WHERE relnamespace = 'incmodel'::regnamespace AND relrowsecurity ORDER BY 1;
SELECT has_table_privilege('public', 'incmodel.source_changes', 'INSERT') AS public_may_log,
       has_table_privilege('public', 'incmodel.source_changes', 'SELECT') AS public_may_read_log,
       (SELECT reloptions FROM pg_class WHERE oid = 'incmodel.status'::regclass) AS status_options;
\c contrib_regression
DROP DATABASE incmodel_upgrade;
