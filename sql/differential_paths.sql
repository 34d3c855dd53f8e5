-- Randomized differential test of the load paths: per seed, a generated event stream
-- is loaded into a source partitioned by day (partitions created as days arrive) through a
-- random mix of paths: INSERT through the parent, INSERT straight into partitions, COPY,
-- loads in session_replication_role = replica, a load while the triggers are disabled, NULL
-- batch values, DELETE, a batch deleted and reloaded corrected (same count), UPDATE of a key
-- and of metrics, INSERT ... ON CONFLICT DO UPDATE, TRUNCATE of a partition and its reload,
-- DETACH and ATTACH of a partition. Each step is its own transaction; after a random share of
-- them the models are refreshed (one by one, or refresh_all) and every target must equal a full
-- rebuild of its query (a difference raises an error naming the seed and step).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE TABLE testkit.dp_stage (LIKE testkit.event_layout);
-- The steps taken (refreshed: the models were refreshed after it).
CREATE TABLE testkit.dp_ops (seed int, step int, op text, refreshed boolean NOT NULL DEFAULT false);

-- Partitions of atomic.dp_events for every day in [lo, hi] that has none yet.
CREATE FUNCTION testkit.dp_ensure(lo timestamp, hi timestamp) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d date;
BEGIN
  IF lo IS NULL THEN RETURN; END IF;
  FOR d IN SELECT generate_series(lo::date, hi::date, interval '1 day')::date LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS atomic.%I PARTITION OF atomic.dp_events '
                   'FOR VALUES FROM (%L) TO (%L)', 'dp_events_' || to_char(d, 'YYYYMMDD'), d, d + 1);
  END LOOP;
END $$;

-- The rows of batch b as generated, or a variant: salt > 0 changes page_url and tr_total; null_etl
-- gives them a NULL batch value and a collector_tstamp 1 ms later (another unique key).
CREATE FUNCTION testkit.dp_rows(b timestamp, salt int DEFAULT 0, null_etl boolean DEFAULT false)
RETURNS SETOF testkit.dp_stage LANGUAGE sql STABLE AS $$
  SELECT app_id, platform, CASE WHEN null_etl THEN NULL ELSE etl_tstamp END,
         collector_tstamp + CASE WHEN null_etl THEN interval '1 ms' ELSE interval '0' END,
         dvce_created_tstamp, dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name,
         event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id, network_userid,
         page_url || CASE WHEN salt > 0 THEN '?v' || salt ELSE '' END, page_title, page_referrer,
         refr_medium, geo_country, br_family, os_family, dvce_type,
         CASE WHEN salt > 0 THEN coalesce(tr_total, 0) + salt ELSE tr_total END
  FROM testkit.dp_stage WHERE etl_tstamp = b $$;

-- Batch b straight into its days' partitions, one INSERT per partition.
CREATE FUNCTION testkit.dp_into_partitions(b timestamp) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d date;
BEGIN
  FOR d IN SELECT DISTINCT collector_tstamp::date FROM testkit.dp_stage WHERE etl_tstamp = b ORDER BY 1 LOOP
    EXECUTE format('INSERT INTO atomic.%I SELECT * FROM testkit.dp_rows($1) WHERE collector_tstamp::date = $2',
                   'dp_events_' || to_char(d, 'YYYYMMDD')) USING b, d;
  END LOOP;
END $$;

CREATE FUNCTION testkit.dp_check(ctx text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM testkit.assert_equal('dp_sessions', ctx);
  PERFORM testkit.assert_equal('dp_user_days', ctx);
END $$;

-- One seed. The loader walks the generated batches in order; a step either loads the next batch
-- (through one of the insert paths) or changes what is loaded already.
CREATE PROCEDURE testkit.dp_seed(seed int) LANGUAGE plpgsql AS $$
<<run>>
DECLARE
  batches timestamp[]; nb int; i int := 1; step int := 0; op text; b timestamp; r float8;
  part text; lo timestamp; hi timestamp;
  ops constant text[] := ARRAY['parent', 'partitions', 'copy', 'replica', 'replica_partitions',
    'disabled', 'nulls', 'delete', 'reload', 'update_key', 'update_metric', 'upsert',
    'truncate_partition', 'detach_attach'];
BEGIN
  PERFORM setseed(seed / 1000.0);
  TRUNCATE testkit.dp_stage;
  PERFORM testkit.generate('testkit.dp_stage', format(
    '--seed %s --events 1200 --users 30 --session-events 12 --batches 10 --days 3 '
    '--late-fraction 0.08 --dup-fraction 0.03 --null-session-fraction 0.03', seed));
  SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) INTO batches FROM testkit.dp_stage;
  nb := array_length(batches, 1);
  DROP TABLE IF EXISTS atomic.dp_events CASCADE;
  CREATE TABLE atomic.dp_events (LIKE testkit.event_layout) PARTITION BY RANGE (collector_tstamp);
  CREATE UNIQUE INDEX ON atomic.dp_events (event_id, collector_tstamp);
  CREATE INDEX ON atomic.dp_events (etl_tstamp);
  CREATE INDEX ON atomic.dp_events (domain_sessionid);
  SELECT min(collector_tstamp), max(collector_tstamp) INTO lo, hi FROM testkit.dp_rows(batches[1]);
  PERFORM testkit.dp_ensure(lo, hi);
  INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(batches[1]);
  PERFORM incmodel.create_model('dp_sessions', $q$
    SELECT domain_sessionid AS session_id, min(derived_tstamp) AS start_tstamp,
           max(derived_tstamp) AS end_tstamp, count(*) AS events,
           count(DISTINCT page_url) AS distinct_pages, count(DISTINCT event_id) AS distinct_events,
           sum(tr_total) AS revenue
    FROM atomic.dp_events GROUP BY domain_sessionid $q$, 'derived.dp_sessions', 'etl_tstamp');
  PERFORM incmodel.create_model('dp_user_days', $q$
    SELECT domain_userid AS user_id, date_trunc('day', derived_tstamp) AS day, count(*) AS events,
           count(DISTINCT domain_sessionid) AS sessions, max(collector_tstamp) AS last_seen,
           sum(tr_total) AS revenue
    FROM atomic.dp_events GROUP BY 1, 2 $q$, 'derived.dp_user_days', 'etl_tstamp');
  COMMIT;
  WHILE i < nb OR step < 6 LOOP
    step := step + 1;
    op := ops[1 + floor(random() * array_length(ops, 1))::int];
    IF i >= nb AND op IN ('parent', 'partitions', 'copy', 'replica', 'replica_partitions', 'disabled', 'upsert') THEN
      op := 'update_metric';  -- every batch is in; change what is there
    END IF;
    INSERT INTO testkit.dp_ops VALUES (seed, step, op);
    -- a batch loaded already (for the steps that change loaded rows)
    b := batches[1 + floor(random() * i)::int];
    IF op IN ('parent', 'partitions', 'copy', 'replica', 'replica_partitions', 'disabled', 'upsert') THEN
      i := i + 1;
      SELECT min(collector_tstamp), max(collector_tstamp) INTO lo, hi FROM testkit.dp_rows(batches[i]);
      PERFORM testkit.dp_ensure(lo, hi);
    END IF;
    CASE op
    WHEN 'parent' THEN
      INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(batches[i]);
    WHEN 'partitions' THEN
      PERFORM testkit.dp_into_partitions(batches[i]);
    WHEN 'copy' THEN  -- the same rows, as the generator writes them
      PERFORM testkit.generate('atomic.dp_events', format(
        '--seed %s --events 1200 --users 30 --session-events 12 --batches 10 --days 3 '
        '--late-fraction 0.08 --dup-fraction 0.03 --null-session-fraction 0.03 --batch-from %s --batch-to %s',
        seed, i - 1, i - 1));
    WHEN 'replica' THEN
      PERFORM set_config('session_replication_role', 'replica', true);
      INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(batches[i]);
    WHEN 'replica_partitions' THEN
      PERFORM set_config('session_replication_role', 'replica', true);
      PERFORM testkit.dp_into_partitions(batches[i]);
    WHEN 'disabled' THEN
      ALTER TABLE atomic.dp_events DISABLE TRIGGER ALL;
      COMMIT;
      INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(batches[i]);
      COMMIT;
      ALTER TABLE atomic.dp_events ENABLE TRIGGER ALL;
    WHEN 'nulls' THEN
      SELECT min(collector_tstamp), max(collector_tstamp) + interval '1 ms' INTO lo, hi FROM testkit.dp_rows(b);
      PERFORM testkit.dp_ensure(lo, hi);
      INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(b, 0, true) x
       WHERE abs(hashtext(x.event_id::text || step)) % 4 = 0
      ON CONFLICT DO NOTHING;
    WHEN 'delete' THEN
      DELETE FROM atomic.dp_events
       WHERE etl_tstamp = b AND abs(hashtext(event_id::text || step)) % 5 = 0;
    WHEN 'reload' THEN  -- the batch again, corrected: same events, new page_url and revenue
      DELETE FROM atomic.dp_events WHERE etl_tstamp = b;
      INSERT INTO atomic.dp_events SELECT * FROM testkit.dp_rows(b, step);
    WHEN 'update_key' THEN
      UPDATE atomic.dp_events SET domain_sessionid = 'moved-' || step || '-' || left(domain_sessionid, 6)
       WHERE etl_tstamp = b AND abs(hashtext(event_id::text || step)) % 6 = 0;
    WHEN 'update_metric' THEN
      UPDATE atomic.dp_events SET tr_total = coalesce(tr_total, 0) + step, page_url = page_url || '#' || step
       WHERE etl_tstamp = b AND abs(hashtext(event_id::text || step)) % 4 = 0;
    WHEN 'upsert' THEN  -- the next batch, and corrections of loaded rows
      INSERT INTO atomic.dp_events
      SELECT * FROM testkit.dp_rows(batches[i])
      UNION ALL
      SELECT * FROM testkit.dp_rows(b, step) x WHERE abs(hashtext(x.event_id::text || step)) % 3 = 0
      ON CONFLICT (event_id, collector_tstamp) DO UPDATE
        SET page_url = EXCLUDED.page_url, tr_total = EXCLUDED.tr_total;
    WHEN 'truncate_partition' THEN  -- a day emptied, then every loaded batch's rows of it again
      SELECT c.relname INTO part FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
       WHERE h.inhparent = 'atomic.dp_events'::regclass ORDER BY random() LIMIT 1;
      EXECUTE format('TRUNCATE atomic.%I', part);
      IF random() < 0.5 THEN COMMIT; END IF;
      EXECUTE format('INSERT INTO atomic.%I SELECT * FROM testkit.dp_stage '
                     'WHERE etl_tstamp <= $1 AND to_char(collector_tstamp, %L) = $2', part, 'YYYYMMDD')
        USING batches[i], right(part, 8);
    WHEN 'detach_attach' THEN
      SELECT c.relname INTO part FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
       WHERE h.inhparent = 'atomic.dp_events'::regclass ORDER BY random() LIMIT 1;
      EXECUTE format('ALTER TABLE atomic.dp_events DETACH PARTITION atomic.%I', part);
      COMMIT;
      IF random() < 0.5 THEN
        CALL incmodel.refresh('dp_sessions');
        CALL incmodel.refresh('dp_user_days');
        PERFORM testkit.dp_check(format('seed %s step %s (%s, detached)', seed, step, op));
      END IF;
      EXECUTE format('ALTER TABLE atomic.dp_events ATTACH PARTITION atomic.%1$I FOR VALUES FROM (%2$L) TO (%3$L)',
                     part, to_date(right(part, 8), 'YYYYMMDD'), to_date(right(part, 8), 'YYYYMMDD') + 1);
    END CASE;
    COMMIT;
    r := random();
    IF r < 0.6 THEN
      UPDATE testkit.dp_ops o SET refreshed = true WHERE o.seed = dp_seed.seed AND o.step = run.step;
    END IF;
    IF r < 0.45 THEN
      CALL incmodel.refresh('dp_sessions');
      CALL incmodel.refresh('dp_user_days');
      PERFORM testkit.dp_check(format('seed %s step %s (%s)', seed, step, op));
    ELSIF r < 0.6 THEN
      CALL incmodel.refresh_all();
      PERFORM testkit.dp_check(format('seed %s step %s (%s, refresh_all)', seed, step, op));
    END IF;
  END LOOP;
  CALL incmodel.refresh('dp_sessions');
  CALL incmodel.refresh('dp_user_days');
  PERFORM testkit.dp_check(format('seed %s final', seed));
  PERFORM incmodel.drop_model(m, true) FROM unnest(ARRAY['dp_sessions', 'dp_user_days']) m;
  COMMIT;
END run $$;

CREATE TABLE testkit.dp_results (seed int PRIMARY KEY, refreshes bigint, rebuilds bigint,
                                 failures bigint);
CREATE PROCEDURE testkit.dp_seeds(first int, last int) LANGUAGE plpgsql AS $$
DECLARE s int; r0 bigint;
BEGIN
  FOR s IN first..last LOOP
    SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
    CALL testkit.dp_seed(s);
    INSERT INTO testkit.dp_results
    SELECT s, count(*) FILTER (WHERE kind = 'refresh' AND outcome = 'success'),
           count(*) FILTER (WHERE kind = 'rebuild' AND outcome = 'success'),
           count(*) FILTER (WHERE outcome = 'failed')
      FROM incmodel.runs WHERE run_id > r0 AND model_name IN ('dp_sessions', 'dp_user_days');
    COMMIT;
  END LOOP;
END $$;

CALL testkit.dp_seeds(1, 25);
-- Every seed refreshed incrementally and rebuilt after changes; no run failed (a difference from
-- a rebuild raises an error above and stops the test).
SELECT count(*) AS seeds, bool_and(refreshes > 0) AS all_refreshed, sum(rebuilds) > 0 AS rebuilt,
       sum(failures) AS failures
FROM testkit.dp_results;
-- Every seed has refreshes that follow only loads (no change to loaded rows since the previous
-- refresh): those are incremental, and the runs above show them.
SELECT count(*) AS seeds_with_load_only_refreshes FROM (
  SELECT DISTINCT o.seed FROM testkit.dp_ops o
  WHERE o.refreshed AND NOT EXISTS (
    SELECT 1 FROM testkit.dp_ops p
    WHERE p.seed = o.seed AND p.step <= o.step
      AND p.step > coalesce((SELECT max(q.step) FROM testkit.dp_ops q
                             WHERE q.seed = o.seed AND q.step < o.step AND q.refreshed), 0)
      AND p.op NOT IN ('parent', 'partitions', 'copy', 'replica', 'replica_partitions', 'nulls'))) x;
-- Every path was taken, in several seeds.
SELECT op, count(DISTINCT seed) >= 2 AS in_several_seeds
FROM testkit.dp_ops GROUP BY op ORDER BY op;
DROP TABLE atomic.dp_events CASCADE;
RESET TimeZone;
RESET client_min_messages;
