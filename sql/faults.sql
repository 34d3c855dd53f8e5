-- Recoverable: an ERROR injected at the end of each step leaves target and manifest as they
-- were, the run is recorded as failed at that step, and the next refresh gives the rebuild.
SELECT testkit.make_events('atomic.faulty');
SELECT testkit.generate('atomic.faulty', '--seed 7 --events 3000 --batches 6 --batch-to 2') > 0 AS loaded;
SELECT incmodel.create_model('faulty',
  $$ SELECT domain_sessionid AS session_id, min(derived_tstamp) AS start_tstamp,
            max(derived_tstamp) AS end_tstamp, count(*) AS events, count(DISTINCT page_url) AS pages,
            sum(tr_total) AS revenue
     FROM atomic.faulty GROUP BY 1 $$,
  'derived.faulty', 'etl_tstamp') > 0 AS created;

CREATE PROCEDURE testkit.fail_once(step text, batch int) LANGUAGE plpgsql AS $$
DECLARE t_before text; m_before text; r record;
BEGIN
  PERFORM testkit.generate('atomic.faulty',
    format('--seed 7 --events 3000 --batches 6 --batch-from %s --batch-to %s', batch, batch));
  t_before := testkit.fingerprint('derived.faulty');
  m_before := testkit.manifest_fingerprint('faulty');
  PERFORM set_config('incmodel_test.fail_at_step', step, false);
  BEGIN
    CALL incmodel.refresh('faulty');
    RAISE EXCEPTION 'refresh did not fail at %', step;
  EXCEPTION WHEN raise_exception THEN
    IF SQLERRM NOT LIKE 'incmodel: injected failure%' THEN RAISE; END IF;
  END;
  PERFORM set_config('incmodel_test.fail_at_step', '', false);
  SELECT outcome, failed_step, error_sqlstate INTO r FROM incmodel.runs
   WHERE model_name = 'faulty' ORDER BY run_id DESC LIMIT 1;
  RAISE NOTICE 'step %: target unchanged %, manifest unchanged %', step,
    t_before = testkit.fingerprint('derived.faulty'), m_before = testkit.manifest_fingerprint('faulty');
END $$;

-- Inside a PL/pgSQL exception block the refresh is atomic (its subtransaction), so the failed
-- run's record rolls back with it; at top level (below) the failure is committed to the log.
CALL testkit.fail_once('plan', 3);
CALL testkit.fail_once('keys', 3);
CALL testkit.fail_once('recompute', 3);
CALL testkit.fail_once('commit', 3);
CALL incmodel.refresh('faulty');
SELECT * FROM testkit.diff('faulty');

-- Top-level CALLs commit between steps: each failure is in incmodel.runs with its step.
SELECT testkit.generate('atomic.faulty', '--seed 7 --events 3000 --batches 6 --batch-from 4 --batch-to 4') > 0 AS loaded;
SELECT testkit.fingerprint('derived.faulty') AS t0, testkit.manifest_fingerprint('faulty') AS m0 \gset
SET incmodel_test.fail_at_step = 'plan';
CALL incmodel.refresh('faulty');
SET incmodel_test.fail_at_step = 'keys';
CALL incmodel.refresh('faulty');
SET incmodel_test.fail_at_step = 'recompute';
CALL incmodel.refresh('faulty');
SET incmodel_test.fail_at_step = 'commit';
CALL incmodel.refresh('faulty');
RESET incmodel_test.fail_at_step;
SELECT testkit.fingerprint('derived.faulty') = :'t0' AS target_unchanged,
       testkit.manifest_fingerprint('faulty') = :'m0' AS manifest_unchanged;
SELECT outcome, failed_step, error_sqlstate, error_message
FROM incmodel.runs WHERE model_name = 'faulty' AND outcome = 'failed' ORDER BY run_id;
-- The scratch tables of the run that failed at commit are still there for inspection.
SELECT format('incmodel_scratch.m%s_rows', model_id) AS scratch_rows FROM incmodel.models WHERE name = 'faulty' \gset
SELECT count(*) > 0 AS scratch_rows_kept FROM :scratch_rows;
SELECT last_outcome, last_failed_step FROM incmodel.status WHERE model = 'faulty';
CALL incmodel.refresh('faulty');
SELECT * FROM testkit.diff('faulty');
SELECT last_outcome, pending_batches FROM incmodel.status WHERE model = 'faulty';

-- A failed rebuild changes nothing either.
SELECT testkit.generate('atomic.faulty', '--seed 7 --events 3000 --batches 6 --batch-from 5 --batch-to 5') > 0 AS loaded;
SELECT testkit.fingerprint('derived.faulty') AS t0, testkit.manifest_fingerprint('faulty') AS m0 \gset
SET incmodel_test.fail_at_step = 'plan';
SELECT incmodel.rebuild('faulty');
SET incmodel_test.fail_at_step = 'recompute';
SELECT incmodel.rebuild('faulty');
SET incmodel_test.fail_at_step = 'commit';
SELECT incmodel.rebuild('faulty');
RESET incmodel_test.fail_at_step;
SELECT testkit.fingerprint('derived.faulty') = :'t0' AS target_unchanged,
       testkit.manifest_fingerprint('faulty') = :'m0' AS manifest_unchanged;
CALL incmodel.refresh('faulty');
SELECT * FROM testkit.diff('faulty');

-- Killed backends and a crashed cluster mid-refresh: test/reliability/crash_and_kill.sh.
SELECT incmodel.drop_model('faulty', true);
