-- incmodel.schedule() / unschedule() with pg_cron (shared_preload_libraries, background workers).
CREATE TABLE atomic.sched (sid text, etl timestamp NOT NULL);
INSERT INTO atomic.sched VALUES ('a', '2026-01-01');
SELECT incmodel.create_model('sched', 'SELECT sid, count(*) AS n FROM atomic.sched GROUP BY 1',
                             'derived.sched', 'etl') > 0 AS created;
-- Without pg_cron: a clear error.
SELECT * FROM testkit.error_of($$SELECT incmodel.schedule('sched', '1 minute')$$);
CREATE EXTENSION pg_cron;
SELECT incmodel.schedule('sched', '1 minute') > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job ORDER BY jobid;
-- Rescheduling replaces the job; intervals pg_cron cannot express are refused.
SELECT incmodel.schedule('sched', '1 minute') > 0 AS rescheduled;
SELECT count(*) AS jobs FROM cron.job;
SELECT * FROM testkit.error_of($$SELECT incmodel.schedule('sched', '90 seconds')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.schedule('nope', '1 minute')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.schedule('sched', '0 seconds')$$);
SELECT incmodel.schedule('sched', '2 hours') > 0 AS every_two_hours;
SELECT schedule FROM cron.job;
SELECT incmodel.schedule('sched', '1 minute') > 0 AS every_minute;
-- The job refreshes the model: a new batch shows up in the target within a minute or so.
INSERT INTO atomic.sched VALUES ('a', '2026-01-02'), ('b', '2026-01-02');
CREATE FUNCTION testkit.wait_for_rows(n int, seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..seconds * 10 LOOP
    IF (SELECT count(*) FROM derived.sched) = n THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
SELECT testkit.wait_for_rows(2, 90) AS refreshed_by_pg_cron;
SELECT * FROM testkit.diff('sched');
SELECT incmodel.unschedule('sched') AS removed;
SELECT incmodel.unschedule('sched') AS removed_again;
SELECT count(*) AS jobs FROM cron.job;
DROP EXTENSION pg_cron;
SELECT incmodel.drop_model('sched', true);
DROP TABLE atomic.sched;
