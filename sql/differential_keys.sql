-- Randomized differential test of key types, features chains and corrections: after every
-- refresh each model equals a full rebuild of its query over the same events.
--   dk_mail     a citext key (the user as an e-mail address whose case varies between events)
--   dk_events   a uuid key (one row per event id: duplicates of an event are one group)
--   dk_pages    an expression key (lower(page_url)) over the rows a filter keeps
--   dk_days     a batch model keyed (user, day), input of
--   dk_users    a features model per user over dk_days, input of
--   dk_tiers    a features model over dk_users (a chain of two levels, refreshed in DAG order
--               by refresh_all)
--   dk_months   a features model over dk_days rolled up by month (its key an expression of the
--               input's key: each touched day queues its month)
--   dk_float    float avg/stddev/sum per user: a refresh adds in another order than a rebuild, so
--               it is compared with a relative tolerance of 1e-9 (README, "The query")
--   dk_geo      joined to a dimension (regions by country) whose rows are updated, deleted and
--               inserted with the corrections: a watched relation (each change rebuilds it)
-- The streams are sql/differential.sql's (tools/eventgen: late events, duplicate event ids, NULL
-- sessions, part of every batch held back and loaded two loads later under its etl_tstamp, batch
-- 1 replayed whole). Besides, every load is followed by corrections as pipelines make them: an
-- UPDATE of metrics and of the user of a few events, a DELETE of a few events (their keys are
-- queued by the capture triggers and recomputed by the next ordinary refresh).
SET client_min_messages = warning;  -- index NOTICEs for every seed
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE testkit.dk_stage (LIKE testkit.event_layout);
CREATE TABLE testkit.dk_regions (code text PRIMARY KEY, region text NOT NULL);

CREATE FUNCTION testkit.dk_models() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['dk_mail', 'dk_events', 'dk_pages', 'dk_days', 'dk_users', 'dk_tiers', 'dk_months',
               'dk_geo'] $$;

CREATE FUNCTION testkit.dk_create_models() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM incmodel.create_model('dk_mail', $q$
    SELECT (CASE WHEN abs(hashtext(event_id::text)) % 2 = 0 THEN upper(domain_userid)
                 ELSE domain_userid END || '@Example.com')::public.citext AS email,
           count(*) AS events, count(DISTINCT domain_sessionid) AS sessions
    FROM atomic.dk_events GROUP BY 1 $q$, 'derived.dk_mail', 'etl_tstamp');
  PERFORM incmodel.create_model('dk_events', $q$
    SELECT event_id, count(*) AS copies, min(collector_tstamp) AS first_seen,
           sum(tr_total) AS revenue
    FROM atomic.dk_events GROUP BY event_id $q$, 'derived.dk_events', 'etl_tstamp');
  PERFORM incmodel.create_model('dk_pages', $q$
    SELECT lower(page_url) AS page, count(*) AS views, count(DISTINCT domain_userid) AS users
    FROM atomic.dk_events WHERE event = 'page_view' GROUP BY 1 $q$, 'derived.dk_pages',
    'etl_tstamp');
  PERFORM incmodel.create_model('dk_days', $q$
    SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
           count(DISTINCT page_url) AS pages
    FROM atomic.dk_events GROUP BY 1, 2 $q$, 'derived.dk_days', 'etl_tstamp');
  PERFORM incmodel.create_model('dk_float', $q$
    SELECT domain_userid AS user_id, avg(tr_total::float8) AS avg_revenue,
           stddev(tr_total::float8) AS sd_revenue, sum(tr_total::float8 / 3) AS thirds
    FROM atomic.dk_events GROUP BY 1 $q$, 'derived.dk_float', 'etl_tstamp');
  PERFORM incmodel.create_model('dk_geo', $q$
    SELECT e.geo_country, r.region, count(*) AS events, count(DISTINCT e.domain_userid) AS users
    FROM atomic.dk_events e JOIN testkit.dk_regions r ON r.code = e.geo_country
    GROUP BY e.geo_country, r.region $q$, 'derived.dk_geo', 'etl_tstamp');
  PERFORM incmodel.create_model(name => 'dk_months', query => $q$
    SELECT date_trunc('month', day::timestamp)::date AS month, sum(events) AS events,
           count(DISTINCT user_id) AS users
    FROM derived.dk_days GROUP BY 1 $q$, target => 'derived.dk_months',
    depends_on => ARRAY['dk_days']);
  PERFORM incmodel.create_model(name => 'dk_users', query => $q$
    SELECT user_id, count(*) AS active_days, sum(events) AS events, max(pages) AS max_pages
    FROM derived.dk_days GROUP BY user_id $q$, target => 'derived.dk_users',
    depends_on => ARRAY['dk_days']);
  PERFORM incmodel.create_model(name => 'dk_tiers', query => $q$
    SELECT user_id, max(CASE WHEN events >= 50 THEN 'heavy' WHEN events >= 10 THEN 'regular'
                             ELSE 'light' END) AS tier, sum(active_days) AS active_days
    FROM derived.dk_users GROUP BY user_id $q$, target => 'derived.dk_tiers',
    depends_on => ARRAY['dk_users']);
END $$;

-- dk_float against its query: the same keys, every float within 1e-9 of the rebuild's
-- (relatively), NULL where the rebuild has NULL.
CREATE FUNCTION testkit.dk_assert_close(ctx text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT count(*) INTO bad
  FROM (SELECT *, coalesce(user_id, '(null)') AS k, true AS present FROM derived.dk_float) t
  FULL JOIN (
    SELECT domain_userid AS user_id, avg(tr_total::float8) AS avg_revenue,
           stddev(tr_total::float8) AS sd_revenue, sum(tr_total::float8 / 3) AS thirds,
           coalesce(domain_userid, '(null)') AS k, true AS present
    FROM atomic.dk_events GROUP BY 1) q ON q.k = t.k
  WHERE t.present IS NULL OR q.present IS NULL
     OR NOT testkit.dk_close(t.avg_revenue, q.avg_revenue)
     OR NOT testkit.dk_close(t.sd_revenue, q.sd_revenue)
     OR NOT testkit.dk_close(t.thirds, q.thirds);
  IF bad > 0 THEN
    RAISE EXCEPTION 'dk_float differs from a rebuild beyond the tolerance (%): % keys', ctx, bad;
  END IF;
END $$;
CREATE FUNCTION testkit.dk_close(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT (a IS NULL AND b IS NULL)
      OR (a IS NOT NULL AND b IS NOT NULL AND abs(a - b) <= 1e-9 * greatest(1, abs(b))) $$;

CREATE PROCEDURE testkit.dk_refresh_checked(ctx text) LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  CALL incmodel.refresh_all();
  FOREACH m IN ARRAY testkit.dk_models() LOOP
    PERFORM testkit.assert_equal(m, ctx);
  END LOOP;
  PERFORM testkit.dk_assert_close(ctx);
END $$;

-- Corrections after load i: metrics and users of a few loaded events change, a few are deleted.
CREATE FUNCTION testkit.dk_correct(seed int, i int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE atomic.dk_events SET tr_total = coalesce(tr_total, 0) + i, page_url = upper(page_url)
   WHERE abs(hashtext(event_id::text || seed || i)) % 40 = 0;
  UPDATE atomic.dk_events SET domain_userid = domain_userid || '-moved'
   WHERE abs(hashtext(event_id::text || seed || i || 'u')) % 60 = 0;
  DELETE FROM atomic.dk_events WHERE abs(hashtext(event_id::text || seed || i || 'd')) % 70 = 0;
  -- the dimension: a region renamed, a country dropped, one (re)added
  UPDATE testkit.dk_regions SET region = region || '+' WHERE abs(hashtext(code || seed || i)) % 3 = 0;
  DELETE FROM testkit.dk_regions WHERE abs(hashtext(code || seed || i || 'd')) % 7 = 0;
  INSERT INTO testkit.dk_regions
  SELECT DISTINCT geo_country, 'region of ' || geo_country FROM testkit.dk_stage
   WHERE geo_country IS NOT NULL AND abs(hashtext(geo_country || seed || i)) % 5 = 0
  ON CONFLICT (code) DO NOTHING;
END $$;

CREATE PROCEDURE testkit.dk_run_seed(seed int, batches int DEFAULT 10) LANGUAGE plpgsql AS $$
DECLARE b timestamp; i int := 0; all_batches timestamp[];
BEGIN
  TRUNCATE testkit.dk_stage;
  PERFORM testkit.generate('testkit.dk_stage', format(
    '--seed %s --events 1200 --users 30 --session-events 15 --batches %s --days 3 '
    '--late-fraction 0.08 --dup-fraction 0.05 --null-session-fraction 0.03', seed, batches));
  PERFORM testkit.make_events('atomic.dk_events');
  TRUNCATE testkit.dk_regions;
  INSERT INTO testkit.dk_regions SELECT DISTINCT geo_country, 'region ' || (abs(hashtext(geo_country)) % 3)
    FROM testkit.dk_stage WHERE geo_country IS NOT NULL AND abs(hashtext(geo_country || seed)) % 4 <> 0;
  PERFORM testkit.dk_create_models();
  SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) INTO all_batches FROM testkit.dk_stage;
  FOREACH b IN ARRAY all_batches LOOP
    i := i + 1;
    INSERT INTO atomic.dk_events SELECT * FROM testkit.dk_stage
     WHERE etl_tstamp = b AND abs(hashtext(event_id::text || seed)) % 5 <> 0;
    IF i > 2 THEN
      INSERT INTO atomic.dk_events SELECT * FROM testkit.dk_stage
       WHERE etl_tstamp = all_batches[i - 2] AND abs(hashtext(event_id::text || seed)) % 5 = 0;
    END IF;
    IF i = 4 THEN
      INSERT INTO atomic.dk_events SELECT * FROM testkit.dk_stage WHERE etl_tstamp = all_batches[1];
    END IF;
    CALL testkit.dk_refresh_checked(format('seed %s after load %s', seed, i));
    PERFORM testkit.dk_correct(seed, i);
    CALL testkit.dk_refresh_checked(format('seed %s after corrections %s', seed, i));
  END LOOP;
  PERFORM incmodel.drop_model(m, true)
     FROM unnest(ARRAY['dk_tiers', 'dk_users', 'dk_months', 'dk_mail', 'dk_events', 'dk_pages',
                       'dk_days', 'dk_geo', 'dk_float']) m;
END $$;

CREATE TABLE testkit.dk_results (seed int PRIMARY KEY, refreshes bigint, rebuilds bigint,
                                 keys bigint, failures bigint);
CREATE PROCEDURE testkit.dk_run_seeds(first int, last int) LANGUAGE plpgsql AS $$
DECLARE s int; r0 bigint;
BEGIN
  FOR s IN first..last LOOP
    SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
    CALL testkit.dk_run_seed(s);
    INSERT INTO testkit.dk_results
    SELECT s, count(*) FILTER (WHERE kind = 'refresh' AND outcome = 'success'),
           -- rebuilds besides the builds of create_model and dk_geo's (its dimension changed)
           count(*) FILTER (WHERE kind = 'rebuild' AND model_name <> 'dk_geo') - 8,
           sum(keys), count(*) FILTER (WHERE outcome = 'failed')
      FROM incmodel.runs WHERE run_id > r0;
  END LOOP;
END $$;

CALL testkit.dk_run_seeds(1, 30);
-- Every seed refreshed every model after every load and every round of corrections (a
-- difference from a rebuild raises an error above and stops the test); the corrections were
-- refreshed by key, never by a rebuild (but for dk_geo, whose dimension changed); nothing failed.
SELECT count(*) AS seeds, min(refreshes) >= 60 AS all_refreshed, sum(rebuilds) AS rebuilds,
       bool_and(keys > 0) AS keys_touched, sum(failures) AS failures
FROM testkit.dk_results;
