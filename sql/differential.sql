-- Randomized differential tests: after every refresh, every model equals a full rebuild of its
-- query over the same events. Event streams come from tools/eventgen with late events,
-- duplicate event_ids (within and across batches), NULL session ids and sessions that span
-- batches; the loader also holds back part of each batch and loads it later under the same
-- etl_tstamp (a batch that grows after it was processed) and replays a whole batch.
SET client_min_messages = warning;  -- index NOTICEs for every seed
CREATE TABLE testkit.staging (LIKE testkit.event_layout);

-- The four model shapes the engine must get right.
CREATE FUNCTION testkit.create_models(src text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- sessions: MIN, MAX, COUNT, COUNT DISTINCT, SUM
  PERFORM incmodel.create_model('d_sessions', format($q$
    SELECT domain_sessionid AS session_id, min(derived_tstamp) AS start_tstamp,
           max(derived_tstamp) AS end_tstamp, count(*) AS events,
           count(DISTINCT page_url) AS distinct_pages, count(DISTINCT event_id) AS distinct_events,
           sum(tr_total) AS revenue
    FROM %s GROUP BY domain_sessionid $q$, src), 'derived.d_sessions', 'etl_tstamp');
  -- users by day: a key with an expression
  PERFORM incmodel.create_model('d_user_days', format($q$
    SELECT domain_userid AS user_id, date_trunc('day', derived_tstamp) AS day, count(*) AS events,
           count(DISTINCT domain_sessionid) AS sessions, max(collector_tstamp) AS last_seen
    FROM %s GROUP BY 1, 2 $q$, src), 'derived.d_user_days', 'etl_tstamp');
  -- joined to a dimension table; the dimension column rides along in the GROUP BY
  PERFORM incmodel.create_model('d_session_regions', format($q$
    SELECT e.domain_sessionid AS session_id, c.region, count(*) AS events,
           min(e.collector_tstamp) AS first_seen
    FROM %s e JOIN testkit.countries c ON c.code = e.geo_country
    WHERE e.event IN ('page_view', 'transaction')
    GROUP BY e.domain_sessionid, c.region $q$, src), 'derived.d_session_regions', 'etl_tstamp');
  -- a multi-column key
  PERFORM incmodel.create_model('d_user_sessions', format($q$
    SELECT app_id, domain_userid, domain_sessionidx, count(*) AS n, max(derived_tstamp) AS last_tstamp,
           count(DISTINCT event_name) AS kinds
    FROM %s GROUP BY app_id, domain_userid, domain_sessionidx $q$, src), 'derived.d_user_sessions', 'etl_tstamp');
END $$;

CREATE FUNCTION testkit.check_all(ctx text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOREACH m IN ARRAY ARRAY['d_sessions', 'd_user_days', 'd_session_regions', 'd_user_sessions'] LOOP
    PERFORM testkit.assert_equal(m, ctx);
  END LOOP;
END $$;

CREATE PROCEDURE testkit.refresh_all_checked(ctx text) LANGUAGE plpgsql AS $$
BEGIN
  CALL incmodel.refresh('d_sessions');
  CALL incmodel.refresh('d_user_days');
  CALL incmodel.refresh('d_session_regions');
  CALL incmodel.refresh('d_user_sessions');
  PERFORM testkit.check_all(ctx);
END $$;

-- One seed: generate, then load batch by batch with a refresh (and a full comparison) after
-- each load. Part of every batch (by event_id hash) is held back and loaded two batches later
-- under its original etl_tstamp; batch 1 is replayed whole after batch 4.
CREATE PROCEDURE testkit.run_seed(seed int, batches int DEFAULT 12) LANGUAGE plpgsql AS $$
DECLARE b timestamp; i int := 0; all_batches timestamp[]; before text;
BEGIN
  TRUNCATE testkit.staging;
  PERFORM testkit.generate('testkit.staging', format(
    '--seed %s --events 1500 --users 40 --session-events 15 --batches %s --days 0.5 '
    '--late-fraction 0.08 --dup-fraction 0.05 --null-session-fraction 0.03', seed, batches));
  PERFORM testkit.make_events('atomic.diff_events');
  PERFORM testkit.create_models('atomic.diff_events');
  SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) INTO all_batches FROM testkit.staging;
  FOREACH b IN ARRAY all_batches LOOP
    i := i + 1;
    INSERT INTO atomic.diff_events SELECT * FROM testkit.staging
     WHERE etl_tstamp = b AND abs(hashtext(event_id::text || seed)) % 5 <> 0;
    IF i > 2 THEN  -- the held-back part of the batch two loads ago
      INSERT INTO atomic.diff_events SELECT * FROM testkit.staging
       WHERE etl_tstamp = all_batches[i - 2] AND abs(hashtext(event_id::text || seed)) % 5 = 0;
    END IF;
    IF i = 4 THEN  -- replay batch 1 whole: duplicates of every event, same etl_tstamp
      INSERT INTO atomic.diff_events SELECT * FROM testkit.staging WHERE etl_tstamp = all_batches[1];
    END IF;
    CALL testkit.refresh_all_checked(format('seed %s after load %s', seed, i));
    IF i % 4 = 0 THEN  -- idempotent: a second refresh is a no-op and changes nothing
      before := testkit.fingerprint('derived.d_sessions');
      CALL testkit.refresh_all_checked(format('seed %s second refresh %s', seed, i));
      IF before <> testkit.fingerprint('derived.d_sessions') THEN
        RAISE EXCEPTION 'seed %: a second refresh changed d_sessions', seed;
      END IF;
    END IF;
  END LOOP;
  INSERT INTO atomic.diff_events SELECT * FROM testkit.staging
   WHERE etl_tstamp >= all_batches[greatest(i - 1, 1)] AND abs(hashtext(event_id::text || seed)) % 5 = 0;
  CALL testkit.refresh_all_checked(format('seed %s final', seed));
  PERFORM incmodel.drop_model(m, true)
     FROM unnest(ARRAY['d_sessions', 'd_user_days', 'd_session_regions', 'd_user_sessions']) m;
END $$;

CREATE TABLE testkit.diff_results (seed int PRIMARY KEY, refreshes bigint, keys bigint,
                                   null_key_runs bigint, failures bigint);
CREATE PROCEDURE testkit.run_seeds(first int, last int) LANGUAGE plpgsql AS $$
DECLARE s int; r0 bigint;
BEGIN
  FOR s IN first..last LOOP
    SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
    CALL testkit.run_seed(s);
    INSERT INTO testkit.diff_results
    SELECT s, count(*) FILTER (WHERE kind = 'refresh' AND outcome = 'success'),
           sum(keys), count(*) FILTER (WHERE null_keys > 0), count(*) FILTER (WHERE outcome = 'failed')
      FROM incmodel.runs WHERE run_id > r0;
  END LOOP;
END $$;

CALL testkit.run_seeds(1, 50);
-- Every seed ran 12+ incremental refreshes per model, touched keys, met NULL keys, and never
-- differed from a rebuild (a difference raises an error above and stops the test).
SELECT count(*) AS seeds, min(refreshes) >= 48 AS all_refreshed,
       bool_and(keys > 0) AS keys_touched, sum(null_key_runs) > 0 AS null_keys_seen,
       sum(failures) AS failures
FROM testkit.diff_results;
-- The loads produced what the test claims: duplicates, late events and grown batches.
SELECT count(*) FILTER (WHERE n > 1) > 0 AS duplicate_event_ids
FROM (SELECT event_id, count(*) AS n FROM testkit.staging GROUP BY 1) d;
SELECT count(*) > 0 AS grown_batches_reprocessed
FROM incmodel.runs r WHERE r.kind = 'refresh' AND r.outcome = 'success' AND r.batches > 1;
