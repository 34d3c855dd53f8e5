-- Refresh, rebuild, alter and drop need the target owner's rights: only the target's owner (or a
-- member of that role) may run them, and the user's query runs as the target's owner
-- (sql/security.sql shows a superuser's run lending it no rights).
\set SHOW_CONTEXT never
CREATE ROLE im_owner;
CREATE ROLE im_reader;
CREATE ROLE im_writer;
CREATE ROLE im_owner_member IN ROLE im_owner;
GRANT USAGE ON SCHEMA atomic, derived, testkit TO im_owner, im_reader, im_writer;
GRANT CREATE ON SCHEMA derived TO im_owner;
GRANT USAGE ON SCHEMA incmodel TO im_owner, im_reader, im_writer;
GRANT SELECT ON atomic.events TO im_owner;

SET ROLE im_owner;
SELECT incmodel.create_model('owned',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1 $$,
  'derived.owned', 'etl_tstamp') > 0 AS created;
SELECT tableowner FROM pg_tables WHERE schemaname = 'derived' AND tablename = 'owned';
-- Scratch tables belong to the target's owner and nobody else can read them.
SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'incmodel_scratch';
RESET ROLE;
GRANT SELECT, INSERT, DELETE ON derived.owned TO im_writer;
GRANT SELECT ON derived.owned TO im_reader;

SELECT format('incmodel_scratch.m%s_rows', model_id) AS scratch_rows FROM incmodel.models WHERE name = 'owned' \gset
-- A role that may only read the target can neither refresh, rebuild, alter nor drop it.
SET ROLE im_reader;
CALL incmodel.refresh('owned');
SELECT incmodel.rebuild('owned');
SELECT incmodel.alter_model('owned', enabled => false);
SELECT incmodel.drop_model('owned');
-- ... nor write the catalog or read the scratch tables directly.
INSERT INTO incmodel.manifest (model_id, batch_value, event_count) VALUES (1, 'x', 1);
DELETE FROM incmodel.models;
UPDATE incmodel.runs SET outcome = 'success';
SELECT count(*) FROM :scratch_rows;
-- Catalog tables are readable (status, runs) by everyone.
SELECT model, enabled FROM incmodel.status WHERE model = 'owned';
RESET ROLE;

-- Write access without ownership is not enough either (as for REFRESH MATERIALIZED VIEW).
SET ROLE im_writer;
CALL incmodel.refresh('owned');
RESET ROLE;

-- A member of the owning role may refresh.
SET ROLE im_owner_member;
CALL incmodel.refresh('owned');
SELECT outcome FROM incmodel.runs WHERE model_name = 'owned' ORDER BY run_id DESC LIMIT 1;
RESET ROLE;
-- The user's query runs with the target owner's rights: without SELECT on the source even the
-- owner's refresh is refused (and recorded as failed).
REVOKE SELECT ON atomic.events FROM im_owner;
SET ROLE im_owner;
CALL incmodel.refresh('owned');
RESET ROLE;
SELECT outcome, failed_step, error_sqlstate FROM incmodel.runs WHERE model_name = 'owned'
ORDER BY run_id DESC LIMIT 1;
GRANT SELECT ON atomic.events TO im_owner;

-- A hostile object in the caller's search_path cannot hijack a refresh: generated SQL is fully
-- qualified and runs with search_path = pg_catalog, pg_temp.
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 424242::bigint';
CREATE TABLE hostile.events (LIKE atomic.events);
INSERT INTO atomic.events SELECT * FROM atomic.events LIMIT 5;
SET search_path = hostile, public;
CALL incmodel.refresh('owned');
RESET search_path;
SELECT * FROM testkit.diff('owned');
SELECT max(events) < 424242 AS not_hijacked FROM derived.owned;

-- No incmodel function runs with its owner's rights, and every function pins its search_path,
-- except those that must not: create_model resolves the user's query in the caller's path (as
-- CREATE VIEW does), procedures that COMMIT cannot have a SET clause (they pin it inside,
-- per transaction, in C), and note_source_row / note_source_modification / note_dimension_change
-- / note_dimension_values, the change capture's per-row WHEN functions, and log_source_change, its
-- per-statement trigger, which resolve no names and must not pay a setting save/restore for
-- every inserted, updated or deleted row (or every small INSERT statement).
SELECT count(*) AS security_definer_functions
FROM pg_proc WHERE pronamespace IN ('incmodel'::regnamespace, 'incmodel_test'::regnamespace) AND prosecdef;
SELECT p.oid::regprocedure AS without_pinned_search_path
FROM pg_proc p
WHERE p.pronamespace IN ('incmodel'::regnamespace, 'incmodel_test'::regnamespace)
  AND NOT coalesce(p.proconfig::text LIKE '%search_path=pg_catalog, pg_temp%', false)
ORDER BY p.oid::regprocedure::text;

SET ROLE im_owner;
SELECT incmodel.drop_model('owned', true);
RESET ROLE;
DROP SCHEMA hostile CASCADE;
REVOKE ALL ON SCHEMA atomic, derived, testkit, incmodel FROM im_owner, im_reader, im_writer;
REVOKE ALL ON atomic.events FROM im_owner, im_owner_member;
DROP ROLE im_owner_member, im_owner, im_reader, im_writer;
