-- The SQL API on a small hand-made source: create, refresh, explain, status, runs, alter,
-- rebuild, drop, and identifiers that need quoting.
CREATE TABLE atomic.tiny (
  event_id int, domain_sessionid text, derived_tstamp timestamp, page_url text,
  etl_tstamp timestamp NOT NULL);
CREATE INDEX ON atomic.tiny (etl_tstamp);
CREATE INDEX ON atomic.tiny (domain_sessionid);
INSERT INTO atomic.tiny VALUES
  (1, 's1', '2026-01-01 10:00', '/a', '2026-01-01 11:00'),
  (2, 's1', '2026-01-01 10:05', '/b', '2026-01-01 11:00'),
  (3, 's2', '2026-01-01 10:07', '/a', '2026-01-01 11:00'),
  (4, NULL, '2026-01-01 10:08', '/a', '2026-01-01 11:00');

SELECT incmodel.create_model(
  name => 'tiny_sessions',
  query => $$ SELECT domain_sessionid AS session_id, MIN(derived_tstamp) AS start_tstamp,
                     MAX(derived_tstamp) AS end_tstamp, COUNT(*) AS events,
                     COUNT(DISTINCT page_url) AS distinct_pages
              FROM atomic.tiny GROUP BY 1 $$,
  target => 'derived.tiny_sessions',
  batch_column => 'etl_tstamp') > 0 AS created;
\d derived.tiny_sessions
SELECT * FROM derived.tiny_sessions ORDER BY session_id NULLS LAST;
SELECT batch_value, event_count FROM incmodel.manifest ORDER BY 1;

-- A new batch, a late event under an old etl_tstamp, and another NULL-session event.
INSERT INTO atomic.tiny VALUES
  (5, 's2', '2026-01-01 12:00', '/c', '2026-01-01 13:00'),
  (6, 's3', '2026-01-01 12:07', '/a', '2026-01-01 13:00'),
  (7, NULL, '2026-01-01 12:09', '/z', '2026-01-01 13:00'),
  (8, 's1', '2026-01-01 10:30', '/q', '2026-01-01 11:00');
-- The source got a change-log trigger: each INSERT statement logs the range of batch values it
-- wrote, so the next plan counts only those batches.
SELECT regexp_replace(tgname, '_[0-9a-f]{12}$', '') AS change_log_trigger, tgtype
FROM pg_trigger WHERE tgrelid = 'atomic.tiny'::regclass ORDER BY 1;
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes ORDER BY lo;
SELECT step, step_name, detail FROM incmodel.explain('tiny_sessions');
SELECT model, pending_batches, pending_events FROM incmodel.status;
CALL incmodel.refresh('tiny_sessions');
SELECT * FROM derived.tiny_sessions ORDER BY session_id NULLS LAST;
SELECT * FROM testkit.diff('tiny_sessions');
SELECT batch_value, event_count FROM incmodel.manifest ORDER BY 1;
SELECT kind, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted
FROM incmodel.runs WHERE model_name = 'tiny_sessions' ORDER BY run_id;

-- Nothing new: a recorded no-op; refreshing twice changes nothing.
CALL incmodel.refresh('tiny_sessions');
SELECT outcome FROM incmodel.runs WHERE model_name = 'tiny_sessions' ORDER BY run_id DESC LIMIT 1;
SELECT model, enabled, last_outcome, last_error, pending_batches, pending_events,
       manifest_batches, dead_tuple_debt
FROM incmodel.status;
-- Inside a transaction block the refresh runs atomically (no intermediate commits).
BEGIN;
INSERT INTO atomic.tiny VALUES (9, 's4', '2026-01-01 14:00', '/a', '2026-01-01 15:00');
CALL incmodel.refresh('tiny_sessions');
SELECT * FROM testkit.diff('tiny_sessions');
COMMIT;

-- Every source key disappears from the target when its events are gone (rebuild semantics).
SELECT incmodel.rebuild('tiny_sessions') AS rows_after_rebuild;
SELECT kind, outcome FROM incmodel.runs WHERE model_name = 'tiny_sessions' ORDER BY run_id DESC LIMIT 1;

-- alter_model: disabled models are skipped by refresh and refresh_all.
SELECT incmodel.alter_model('tiny_sessions', enabled => false);
INSERT INTO atomic.tiny VALUES (10, 's5', '2026-01-01 16:00', '/a', '2026-01-01 17:00');
CALL incmodel.refresh('tiny_sessions');
SELECT incmodel.alter_model('tiny_sessions', enabled => true, lookback => '3 days');
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('tiny_sessions');

-- Identifiers with quotes, spaces and mixed case, and a target named like an injection attempt.
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Event ""Log""" (
  "Session Id" text, "Page" text, "Batch Ts" timestamp NOT NULL, "user" text);
INSERT INTO "My Schema"."Event ""Log""" VALUES
  ('a', '/x', '2026-01-01', 'u1'), ('a', '/y', '2026-01-01', 'u1'), ('b', '/x', '2026-01-01', 'u2');
SELECT incmodel.create_model(
  name => 'Odd "Model"; DROP TABLE atomic.tiny; --',
  query => $$ SELECT "Session Id" AS "Session Id", "user", count(*) AS "Event Count"
              FROM "My Schema"."Event ""Log""" GROUP BY "Session Id", "user" $$,
  target => '"My Schema"."Sessions; DROP TABLE atomic.tiny; --"',
  batch_column => 'Batch Ts') > 0 AS created;
INSERT INTO "My Schema"."Event ""Log""" VALUES ('a', '/z', '2026-01-02', 'u1'), ('c', '/x', '2026-01-02', 'u3');
CALL incmodel.refresh('Odd "Model"; DROP TABLE atomic.tiny; --');
SELECT * FROM "My Schema"."Sessions; DROP TABLE atomic.tiny; --" ORDER BY 1;
SELECT * FROM testkit.diff('Odd "Model"; DROP TABLE atomic.tiny; --');
SELECT count(*) AS tiny_still_there FROM atomic.tiny;

-- drop_model removes the catalog rows and scratch tables; the target stays unless asked.
SELECT incmodel.drop_model('Odd "Model"; DROP TABLE atomic.tiny; --', drop_target => true);
SELECT to_regclass('"My Schema"."Sessions; DROP TABLE atomic.tiny; --"') AS target_after_drop;
SELECT incmodel.drop_model('tiny_sessions');
SELECT count(*) AS rows_kept FROM derived.tiny_sessions;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'atomic.tiny'::regclass;
SELECT count(*) AS log_rows_left FROM incmodel.source_changes;
SELECT count(*) AS models, (SELECT count(*) FROM pg_tables WHERE schemaname = 'incmodel_scratch') AS scratch_tables
FROM incmodel.models;

-- An unqualified target is created in the first schema of the caller's search_path.
SET search_path = derived, public;
SELECT incmodel.create_model('unqualified',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.tiny GROUP BY 1 $$,
  'unqualified_sessions', 'etl_tstamp') > 0 AS created;
RESET search_path;
SELECT target FROM incmodel.models WHERE name = 'unqualified';
SELECT incmodel.drop_model('unqualified', true);

-- An existing target with matching columns is adopted (and rebuilt).
CREATE TABLE derived.adopted (session_id text, events bigint);
INSERT INTO derived.adopted VALUES ('stale', 99);
SELECT incmodel.create_model('adopted',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.tiny GROUP BY 1 $$,
  'derived.adopted', 'etl_tstamp') > 0 AS created;
SELECT * FROM testkit.diff('adopted');
SELECT incmodel.drop_model('adopted', true);

-- DROP EXTENSION leaves nothing of incmodel behind but the schema named in its control file,
-- empty (it is created again for later tests). PostgreSQL creates that schema before the install
-- script runs and never makes it a member of the extension (ALTER EXTENSION ADD SCHEMA refuses the
-- schema that contains the extension, and pg_dump relies on it not being one: it writes
-- CREATE SCHEMA incmodel before CREATE EXTENSION ... WITH SCHEMA incmodel). DROP SCHEMA (RESTRICT)
-- then succeeds, which proves it empty, and nothing is left. The test suite's extension
-- incmodel_test requires incmodel: it goes first and comes back after.
DROP EXTENSION incmodel_test;
DROP EXTENSION incmodel;
SELECT n.nspname AS leftover_schema,
       (SELECT count(*) FROM pg_class WHERE relnamespace = n.oid)
     + (SELECT count(*) FROM pg_proc WHERE pronamespace = n.oid)
     + (SELECT count(*) FROM pg_type WHERE typnamespace = n.oid) AS objects_in_it
FROM pg_namespace n WHERE n.nspname LIKE 'incmodel%';
DROP SCHEMA incmodel;
SELECT count(*) AS leftover_schemas FROM pg_namespace WHERE nspname LIKE 'incmodel%';
CREATE EXTENSION incmodel;
CREATE EXTENSION incmodel_test;
