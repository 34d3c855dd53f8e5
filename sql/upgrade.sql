-- The upgrade path: a database on 0.1.0 with a logged model moves to the current version with
-- ALTER EXTENSION UPDATE; its transition-table trigger is replaced by the row/statement pair and
-- refreshes stay equal to a rebuild across the upgrade. Runs in its own database.
SELECT count(*) AS fresh_functions FROM pg_proc WHERE pronamespace = 'incmodel'::regnamespace \gset
CREATE DATABASE incmodel_upgrade;
\c incmodel_upgrade
CREATE EXTENSION incmodel VERSION '0.1.0';
CREATE SCHEMA atomic;
CREATE SCHEMA derived;
CREATE TABLE atomic.ev (k text, v int, etl_tstamp timestamp NOT NULL);
INSERT INTO atomic.ev SELECT 'k' || (g % 7), g, '2026-01-01'::timestamp + (g / 10) * interval '1 h'
FROM generate_series(1, 100) g;
SELECT incmodel.create_model(name => 'ev_keys',
  query => 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.ev GROUP BY k',
  target => 'derived.ev_keys', batch_column => 'etl_tstamp') > 0 AS created;
SELECT tgname ~ '^incmodel_changes_' AS statement_trigger, tgnewtable IS NOT NULL AS transition_table
FROM pg_trigger WHERE tgrelid = 'atomic.ev'::regclass ORDER BY tgname;
-- A load logged by the old trigger and not yet refreshed survives the upgrade.
INSERT INTO atomic.ev VALUES ('k1', 1000, '2026-01-02 00:00'), ('new', 1, '2025-12-31 00:00');
ALTER EXTENSION incmodel UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'incmodel';
SELECT incmodel.version();
SELECT regexp_replace(tgname, '_[0-9a-f]{12}$', '') AS trigger, tgnewtable IS NOT NULL AS transition_table,
       pg_get_triggerdef(oid) ~ 'WHEN \(incmodel\.note_source_row\(''atomic\.ev''::regclass' AS notes_rows
FROM pg_trigger WHERE tgrelid = 'atomic.ev'::regclass ORDER BY tgname;
CALL incmodel.refresh('ev_keys');
INSERT INTO atomic.ev VALUES ('k2', 5, '2026-01-01 03:00'), ('k9', 5, '2026-01-03 00:00');
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes ORDER BY txid;
CALL incmodel.refresh('ev_keys');
SELECT count(*) AS differing_rows FROM (
  (SELECT * FROM derived.ev_keys EXCEPT ALL SELECT k, count(*), sum(v) FROM atomic.ev GROUP BY k)
  UNION ALL
  (SELECT k, count(*), sum(v) FROM atomic.ev GROUP BY k EXCEPT ALL SELECT * FROM derived.ev_keys)) d;
-- Every object of the current version is there after the upgrade, as after a fresh install.
SELECT count(*) = :fresh_functions AS same_functions_as_fresh_install FROM pg_proc
WHERE pronamespace = 'incmodel'::regnamespace;
\c contrib_regression
DROP DATABASE incmodel_upgrade;
