-- Maintenance off the critical path: the plan picks exactly the tables over threshold, the
-- external command path and the background worker vacuum them and log it, retention is tested
-- in retention.sql and scheduling in schedule.sql.
SELECT testkit.make_events('atomic.maint');
SELECT testkit.generate('atomic.maint', '--seed 11 --events 4000 --batches 8 --days 1 --batch-to 0') > 0 AS loaded;
SELECT incmodel.create_model('maint',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events, max(derived_tstamp) AS last_seen
     FROM atomic.maint GROUP BY 1 $$, 'derived.maint', 'etl_tstamp') > 0 AS created;
-- Refreshes replace rows of touched sessions: their DELETEs are recorded as dead-tuple debt.
CREATE PROCEDURE testkit.load_maint(b int) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM testkit.generate('atomic.maint',
    format('--seed 11 --events 4000 --batches 8 --days 1 --batch-from %s --batch-to %s', b, b));
  CALL incmodel.refresh('maint');
END $$;
CALL testkit.load_maint(1);
CALL testkit.load_maint(2);
CALL testkit.load_maint(3);
-- Make the statistics system's live counts current (they are flushed at most once a second).
SELECT pg_stat_force_next_flush();
SELECT dead_tuple_debt > 0 AS debt_recorded,
       dead_tuple_debt = (SELECT sum(rows_deleted) FROM incmodel.runs WHERE model_name = 'maint')
         AS debt_is_rows_deleted
FROM incmodel.status WHERE model = 'maint';

-- The plan covers the target, the three scratch tables and the catalog tables.
SET incmodel.vacuum_dead_min = 10;
SET incmodel.vacuum_dead_ratio = 0.01;
SET incmodel.analyze_mod_min = 1000000;
SELECT kind, count(*) FROM incmodel.maintenance_plan() WHERE model = 'maint' OR model IS NULL
GROUP BY kind ORDER BY kind;
-- The catalog tables are every table of incmodel's own: none of them is left out of the plan.
SELECT relation AS catalog_table FROM incmodel.maintenance_plan() WHERE kind = 'catalog'
ORDER BY relation::text;
SELECT c.relname AS catalog_table_not_planned FROM pg_class c
WHERE c.relnamespace = 'incmodel'::regnamespace AND c.relkind = 'r'
  AND c.oid NOT IN (SELECT relation FROM incmodel.maintenance_plan() WHERE kind = 'catalog');
SELECT relation, needs_vacuum, needs_analyze, reason IS NOT NULL AS has_reason
FROM incmodel.maintenance_plan() WHERE model = 'maint' AND kind = 'target';
-- Exactly the tables over threshold: a per-model override above the target's ratio takes it out.
SELECT incmodel.alter_model('maint', vacuum_dead_ratio => 0.99);
SELECT needs_vacuum FROM incmodel.maintenance_plan() WHERE model = 'maint' AND kind = 'target';
SELECT incmodel.alter_model('maint', vacuum_dead_ratio => 0.01);
SELECT needs_vacuum FROM incmodel.maintenance_plan() WHERE model = 'maint' AND kind = 'target';
SELECT * FROM testkit.error_of($$SELECT incmodel.alter_model('maint', vacuum_dead_ratio => -1)$$);

-- Without the worker: the plan as top-level statements, run here by psql's \gexec.
SELECT c LIKE 'VACUUM (SKIP_LOCKED) derived.maint;' OR c LIKE 'SELECT incmodel.record_maintenance(%derived.maint%' AS for_target
FROM incmodel.maintenance_commands() c WHERE c LIKE '%derived.maint%';
\set ECHO none
\o /dev/null
SELECT c FROM incmodel.maintenance_commands() c WHERE c LIKE '%derived.maint%' \gexec
\o
\set ECHO all
SELECT relation, action, runner, dead_before > 0 AS had_dead, dead_after, error
FROM incmodel.maintenance_log WHERE relation = 'derived.maint';
SELECT dead_tuple_debt, last_maintenance_action FROM incmodel.status WHERE model = 'maint';
SELECT needs_vacuum FROM incmodel.maintenance_plan() WHERE model = 'maint' AND kind = 'target';
-- VACUUM refuses to run in a function; incmodel never tries (the commands are top-level).
SELECT * FROM testkit.error_of($$VACUUM derived.maint$$);

-- The background worker (shared_preload_libraries = 'incmodel'): turned on by naptime.
CALL testkit.load_maint(4);
CALL testkit.load_maint(5);
-- While the model's lock is held (as during a refresh) the worker leaves its tables alone.
SELECT model_id AS maint_id FROM incmodel.models WHERE name = 'maint' \gset
SELECT pg_advisory_lock(1229865805, :maint_id);
ALTER SYSTEM SET incmodel.maintenance_naptime = 1;
ALTER SYSTEM SET incmodel.vacuum_dead_min = 10;
ALTER SYSTEM SET incmodel.vacuum_dead_ratio = 0.01;
SELECT pg_reload_conf();
CREATE FUNCTION testkit.wait_for_worker(rel text, seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..seconds * 10 LOOP
    IF EXISTS (SELECT 1 FROM incmodel.maintenance_log WHERE relation = rel AND runner = 'worker') THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.1);
    PERFORM pg_stat_clear_snapshot();
  END LOOP;
  RETURN false;
END $$;
SELECT testkit.wait_for_worker('derived.maint', 4) AS vacuumed_while_locked;
SELECT pg_advisory_unlock(1229865805, :maint_id);
SELECT testkit.wait_for_worker('derived.maint', 60) AS vacuumed_after_release;
ALTER SYSTEM RESET incmodel.maintenance_naptime;
ALTER SYSTEM RESET incmodel.vacuum_dead_min;
ALTER SYSTEM RESET incmodel.vacuum_dead_ratio;
SELECT pg_reload_conf();
SELECT action, runner, error FROM incmodel.maintenance_log
WHERE relation = 'derived.maint' AND runner = 'worker' ORDER BY id LIMIT 1;
SELECT dead_tuple_debt IS NULL AS debt_cleared FROM incmodel.status WHERE model = 'maint';
-- The target still equals a rebuild, and refreshes go on.
CALL testkit.load_maint(6);
SELECT * FROM testkit.diff('maint');
SELECT incmodel.drop_model('maint', true);
RESET incmodel.vacuum_dead_min;
RESET incmodel.vacuum_dead_ratio;
RESET incmodel.analyze_mod_min;
