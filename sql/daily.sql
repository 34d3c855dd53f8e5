-- Daily aggregate models (load_column + day_key): randomized loads with late events,
-- duplicates, NULL keys and NULL days, checked after every run against a full rebuild over the
-- rows loaded up to the model's upper limit:
--   * a day with no skipped rows in the ledger equals the rebuild's day exactly;
--   * a day with skipped rows lacks exactly that many rows (rebuild events - model events);
--   * the ledger's processed count of a day is the model's event count of that day.
-- Loaders stamp load_tstamp with clock_timestamp(), as the upper-limit contract asks; the checks
-- print only facts that do not depend on the time of day.
CREATE TABLE atomic.dev (event_id text, domain_userid text, derived_tstamp timestamp,
                         load_tstamp timestamp NOT NULL, page_url text);
CREATE INDEX ON atomic.dev (load_tstamp);
CREATE INDEX ON atomic.dev (domain_userid);

-- The model: events per user and event day. Its first run happens at creation.
SELECT now() - interval '7 days' AS start_date \gset
SELECT testkit.daily_load(400, 0.11);
SELECT incmodel.create_model(
  name => 'user_days',
  query => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
                     count(DISTINCT page_url) AS pages, min(derived_tstamp) AS first_seen
              FROM atomic.dev GROUP BY 1, 2 $$,
  target => 'derived.user_days', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 2, min_rows_to_process => 15) > 0 AS created;
\d derived.user_days
SELECT testkit.daily_check('user_days', 'after create');
SELECT kind, outcome, events > 0 AS rows_processed, late_rows > 0 AS late_rows_skipped,
       lower_limit = :'start_date'::timestamptz - interval '1 microsecond' AS from_start_date
FROM incmodel.runs WHERE model_name = 'user_days';

-- Ten more loads, each followed by a refresh and the checks.
DO $$
DECLARE i int;
BEGIN
  FOR i IN 1..10 LOOP
    PERFORM testkit.daily_load(150 + i * 10, i / 100.0);
    COMMIT;
    CALL incmodel.refresh('user_days');
    PERFORM testkit.daily_check('user_days', 'load ' || i);
  END LOOP;
END $$;
SELECT count(*) AS runs, count(*) FILTER (WHERE late_rows > 0) > 0 AS some_late_rows,
       count(*) FILTER (WHERE days_reprocessed > 0) > 0 AS some_days_reprocessed
FROM incmodel.runs WHERE model_name = 'user_days';
-- The range manifest: one row per run, contiguous ranges.
SELECT count(*) AS ranges,
       bool_and(lower_limit = lag_upper) FILTER (WHERE lag_upper IS NOT NULL) AS contiguous
FROM (SELECT rm.lower_limit, lag(rm.upper_limit) OVER (ORDER BY rm.upper_limit) AS lag_upper
      FROM incmodel.range_manifest rm JOIN incmodel.models m USING (model_id)
      WHERE m.name = 'user_days') r;
SELECT upper_limit IS NOT NULL AS has_upper_limit, lag >= interval '0' AS lag_known,
       skipped_late_rows > 0 AS skipped_rows_shown
FROM incmodel.status WHERE model = 'user_days';

-- Nothing new: a no-op run still moves the upper limit and records its range.
CALL incmodel.refresh('user_days');
SELECT outcome, events FROM incmodel.runs WHERE model_name = 'user_days' ORDER BY run_id DESC LIMIT 1;
-- The maintenance plan covers a daily model's four scratch tables, its days scratch included.
SELECT kind, count(*), count(*) FILTER (WHERE relation::text LIKE 'incmodel\_scratch.m%\_days') AS days
FROM incmodel.maintenance_plan() WHERE model = 'user_days' GROUP BY kind ORDER BY kind;

-- Per-run overrides: reprocess_days 3650 makes no row late; min_rows_to_process 1 reprocesses
-- every day with skipped rows in full, so the whole model equals the rebuild afterwards.
SELECT testkit.daily_load(100, 0.5);
CALL incmodel.refresh('user_days', reprocess_days => 3650, min_rows_to_process => 1);
SELECT late_rows, days_reprocessed > 0 AS reprocessed FROM incmodel.runs
WHERE model_name = 'user_days' ORDER BY run_id DESC LIMIT 1;
SELECT sum(skipped_events) AS skipped_left FROM incmodel.daily_manifest WHERE model = 'user_days';
SELECT testkit.daily_check('user_days', 'after overrides');
-- The rows that run loaded stay included for later recomputes of their keys (its range
-- manifest row remembers reprocess_days 3650), so later runs with the default keep them.
SELECT testkit.daily_load(100, 0.6);
CALL incmodel.refresh('user_days');
SELECT testkit.daily_check('user_days', 'default settings after an override');

-- Backfill two past days: they become current (skipped rows included), the range manifest does
-- not move, other days are not touched.
SELECT testkit.daily_load(300, 0.7);
CALL incmodel.refresh('user_days');
SELECT max(rm.upper_limit) AS upper_before, count(*) AS ranges_before
FROM incmodel.range_manifest rm JOIN incmodel.models m USING (model_id) WHERE m.name = 'user_days' \gset
SELECT now()::date - 5 AS bf_from, now()::date - 3 AS bf_to \gset
-- explain of the backfill: the days and the rows they hold up to the upper limit.
SELECT step, step_name, step <> 1 OR detail ~ '^backfill of the days \[\S+, \S+ \+ 1\): \d+ rows on \d+ days' AS described
FROM incmodel.explain('user_days', :'bf_from', :'bf_to') ORDER BY step;
SELECT substring(detail from '\): (\d+) rows')::bigint AS explained_rows
FROM incmodel.explain('user_days', :'bf_from', :'bf_to') WHERE step = 1 \gset
SELECT incmodel.backfill('user_days', :'bf_from', :'bf_to') >= 0 AS backfilled;
SELECT sum(processed_events) = :explained_rows AND :explained_rows > 0 AS backfill_matched_explain
FROM incmodel.daily_manifest
WHERE model = 'user_days' AND event_date >= :'bf_from'::date AND event_date < :'bf_to'::date;
SELECT count(*) FILTER (WHERE skipped_events > 0) AS backfilled_days_with_skipped_rows
FROM incmodel.daily_manifest
WHERE model = 'user_days' AND event_date >= :'bf_from'::date AND event_date < :'bf_to'::date;
SELECT max(rm.upper_limit) = :'upper_before'::timestamptz AS upper_unchanged,
       count(*) = :ranges_before AS no_new_range
FROM incmodel.range_manifest rm JOIN incmodel.models m USING (model_id) WHERE m.name = 'user_days';
SELECT testkit.daily_check('user_days', 'after backfill');
SELECT kind, outcome FROM incmodel.runs WHERE model_name = 'user_days' ORDER BY run_id DESC LIMIT 1;

-- A model added later catches up in bounded runs (backfill_limit) while the first one keeps
-- refreshing; each of its runs is checked.
SELECT min(load_tstamp) AS first_load, (max(load_tstamp) - min(load_tstamp)) / 4 AS step
FROM atomic.dev \gset
SELECT incmodel.create_model(
  name => 'user_days_late',
  query => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events
              FROM atomic.dev GROUP BY 1, 2 $$,
  target => 'derived.user_days_late', load_column => 'load_tstamp',
  start_date => :'first_load', backfill_limit => :'step', day_key => 'day',
  reprocess_days => 1, min_rows_to_process => 1000) > 0 AS created;
DO $$
DECLARE i int := 0; caught_up boolean := false;
BEGIN
  WHILE NOT caught_up AND i < 20 LOOP
    i := i + 1;
    PERFORM testkit.daily_check('user_days_late', 'catch-up run ' || i);
    SELECT upper_limit >= (SELECT max(load_tstamp) FROM atomic.dev) INTO caught_up
      FROM incmodel.models WHERE name = 'user_days_late';
    PERFORM testkit.daily_load(50, 0.8 + i / 100.0);
    COMMIT;
    CALL incmodel.refresh('user_days');
    PERFORM testkit.daily_check('user_days', 'while the other catches up ' || i);
    CALL incmodel.refresh('user_days_late');
  END LOOP;
  RAISE NOTICE 'caught up after more than two runs: %', i > 2;
END $$;
SELECT testkit.daily_check('user_days_late', 'caught up');

-- explain: what the next run covers, without changing anything; the run then processes as many
-- rows as explain announced.
SELECT testkit.daily_load(120, 0.41);
SELECT step, step_name, step <> 1 OR detail ~ '^load range \(.*\]: \d+ new rows, \d+ late; days touched: .*; days reprocessed in full: ' AS plan_described,
       sql <> '' AS has_sql
FROM incmodel.explain('user_days') ORDER BY step;
SELECT substring(detail from '\]: (\d+) new rows')::bigint AS explained_rows
FROM incmodel.explain('user_days') WHERE step = 1 \gset
SELECT pending_batches, pending_events = :explained_rows AS status_shows_pending_rows
FROM incmodel.status WHERE model = 'user_days';
CALL incmodel.refresh('user_days');
SELECT events = :explained_rows AND events > 0 AS run_matched_explain FROM incmodel.runs
WHERE model_name = 'user_days' ORDER BY run_id DESC LIMIT 1;

-- Recoverable: an error injected at the end of each step of a daily run, and of a backfill,
-- leaves the target, the ledger, the range manifest and the upper limit as they were; the run
-- is recorded as failed at its step, and the next run passes the checks.
CREATE FUNCTION testkit.daily_fingerprint(model text) RETURNS text LANGUAGE sql AS $$
  SELECT testkit.fingerprint(m.target) || '/' ||
         coalesce((SELECT md5(string_agg(d::text, ',' ORDER BY d.event_date))
                   FROM incmodel.daily_manifest d WHERE d.model = m.name), '') || '/' ||
         coalesce((SELECT md5(string_agg(r::text, ',' ORDER BY r.upper_limit))
                   FROM incmodel.range_manifest r WHERE r.model_id = m.model_id), '') || '/' ||
         coalesce(m.upper_limit::text, '')
  FROM incmodel.models m WHERE m.name = $1 $$;
SELECT testkit.daily_load(200, 0.31);
SELECT testkit.daily_fingerprint('user_days') AS fp \gset
SET incmodel_test.fail_at_step = 'plan';
CALL incmodel.refresh('user_days');
SET incmodel_test.fail_at_step = 'keys';
CALL incmodel.refresh('user_days');
SET incmodel_test.fail_at_step = 'recompute';
CALL incmodel.refresh('user_days');
SET incmodel_test.fail_at_step = 'commit';
CALL incmodel.refresh('user_days');
SELECT incmodel.backfill('user_days', now() - interval '3 days', now());
RESET incmodel_test.fail_at_step;
SELECT testkit.daily_fingerprint('user_days') = :'fp' AS nothing_changed;
SELECT kind, outcome, failed_step FROM incmodel.runs WHERE model_name = 'user_days'
ORDER BY run_id DESC LIMIT 4;
CALL incmodel.refresh('user_days');
SELECT testkit.daily_check('user_days', 'after injected failures');

-- A rebuild starts again at start_date.
SELECT incmodel.rebuild('user_days') > 0 AS rebuilt;
SELECT testkit.daily_check('user_days', 'after rebuild');

-- Bad input, each with its SQLSTATE.
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, derived_tstamp::date AS day, count(*) FROM atomic.dev GROUP BY 1, 2', 'derived.d1', load_column => 'load_tstamp', day_key => 'day')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, derived_tstamp::date AS day, count(*) FROM atomic.dev GROUP BY 1, 2', 'derived.d1', load_column => 'load_tstamp', start_date => now(), day_key => 'nope')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, derived_tstamp::date AS day, count(*) FROM atomic.dev GROUP BY 1, 2', 'derived.d1', load_column => 'page_url', start_date => now(), day_key => 'day')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, derived_tstamp::date AS day, count(*) FROM atomic.dev GROUP BY 1, 2', 'derived.d1', load_column => 'load_tstamp', start_date => now(), day_key => 'day', backfill_limit => '0 days')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, derived_tstamp::date AS day, count(*) FROM atomic.dev GROUP BY 1, 2', 'derived.d1', load_column => 'load_tstamp', start_date => now(), day_key => 'day', reprocess_days => -1)$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('d1', 'SELECT domain_userid, count(*) FROM atomic.dev GROUP BY 1', 'derived.d1')$$);
SELECT * FROM testkit.error_of($$CALL incmodel.refresh('user_days', min_rows_to_process => 0)$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.backfill('user_days', now(), now() - interval '1 day')$$);
-- A daily model exports (test/redshift/time_models.sh deploys and refreshes its package).
SELECT part, count(*) FROM incmodel.export('user_days', 'redshift') GROUP BY part ORDER BY part;
-- The DELETE + APPEND commit is for batch models.
SELECT state, message FROM testkit.error_of(
  $$SELECT count(*) FROM incmodel.export('user_days', 'redshift', commit => 'append')$$);
BEGIN ISOLATION LEVEL REPEATABLE READ;
CALL incmodel.refresh('user_days');
ROLLBACK;

-- Randomized: six models with random reprocess_days and thresholds, eight loads each with
-- random per-run overrides and an occasional backfill of random days, checked after every run.
DO $$
DECLARE seed int; i int; r int; name text; d date;
BEGIN
  FOR seed IN 1..6 LOOP
    PERFORM setseed(seed / 10.0);
    name := 'rand_days_' || seed;
    r := (random() * 3)::int;
    PERFORM incmodel.create_model(name => name,
      query => 'SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events, '
               'max(page_url) AS last_page FROM atomic.dev GROUP BY 1, 2',
      target => 'derived.' || name, load_column => 'load_tstamp',
      start_date => now() - interval '1 day', day_key => 'day', reprocess_days => r,
      min_rows_to_process => 3 + (random() * 40)::int);
    COMMIT;
    FOR i IN 1..8 LOOP
      PERFORM testkit.daily_load(40 + (random() * 120)::int, seed * 0.07 + i * 0.01);
      COMMIT;
      IF random() < 0.25 THEN
        CALL incmodel.refresh(name, reprocess_days => (random() * 6)::int,
                              min_rows_to_process => 1 + (random() * 10)::int);
      ELSE
        CALL incmodel.refresh(name);
      END IF;
      PERFORM testkit.daily_check(name, format('seed %s load %s', seed, i));
      IF random() < 0.2 THEN
        d := now()::date - (random() * 6)::int;
        PERFORM incmodel.backfill(name, d, d + 1 + (random() * 2)::int);
        PERFORM testkit.daily_check(name, format('seed %s backfill after load %s', seed, i));
      END IF;
    END LOOP;
    PERFORM incmodel.drop_model(name, true);
    COMMIT;
  END LOOP;
END $$;

SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['user_days', 'user_days_late']) m;
SELECT count(*) AS ledger_rows_left FROM incmodel.daily_manifest;
SELECT count(*) AS ranges_left FROM incmodel.range_manifest;
DROP TABLE atomic.dev;

-- Real Snowplow events (sp.raw, from snowplow_web.sql) loaded in four parts in etl_tstamp order,
-- each stamped with its own load time. Two daily models of page views per user and event day:
-- one with a reprocess window wider than the data's age (every row current: equal to a rebuild
-- after every load), one with reprocess_days 2 (every row is years late: nothing processed, the
-- ledger counts exactly the rebuild's rows per day) that a backfill of all days then completes.
CREATE TABLE sp.loaded (event_id text, event text, domain_userid text, derived_tstamp timestamp,
                        page_url text, load_tstamp timestamp NOT NULL);
CREATE INDEX ON sp.loaded (load_tstamp);
CREATE INDEX ON sp.loaded (domain_userid);
CREATE FUNCTION testkit.sp_load(part int) RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO sp.loaded
  SELECT event_id, event, domain_userid, nullif(derived_tstamp, '')::timestamp, page_url, clock_timestamp()
  FROM (SELECT r.*, ntile(4) OVER (ORDER BY etl_tstamp, event_id) AS part FROM sp.raw r) x
  WHERE x.part = sp_load.part;
  SELECT count(*) FROM sp.loaded $$;
SELECT testkit.sp_load(1) AS loaded;
SELECT now() - interval '1 hour' AS sp_start \gset
SELECT incmodel.create_model(name => m.name,
  query => $$ SELECT domain_userid, derived_tstamp::date AS day, count(*) AS events,
                     count(*) FILTER (WHERE event = 'page_view') AS page_views,
                     count(DISTINCT page_url) AS urls, min(derived_tstamp) AS first_tstamp
              FROM sp.loaded GROUP BY 1, 2 $$,
  target => 'derived.' || m.name, load_column => 'load_tstamp', start_date => :'sp_start',
  day_key => 'day', reprocess_days => m.days, min_rows_to_process => 1000000) > 0 AS created
FROM (VALUES ('sp_days', 36500), ('sp_days_strict', 2)) m(name, days);
-- ... and an event-level model of the page views, deduplicated on event_id.
SELECT incmodel.create_model(name => 'sp_page_views',
  query => $$ SELECT event_id, domain_userid, page_url, derived_tstamp FROM sp.loaded
              WHERE event = 'page_view' $$,
  target => 'derived.sp_page_views', load_column => 'load_tstamp', start_date => :'sp_start',
  strategy => 'append', event_key => 'event_id') > 0 AS created;
CREATE FUNCTION testkit.sp_page_views_diff() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    (SELECT * FROM derived.sp_page_views EXCEPT ALL
     SELECT event_id, domain_userid, page_url, derived_tstamp
     FROM (SELECT DISTINCT ON (event_id) * FROM sp.loaded ORDER BY event_id, load_tstamp) x
     WHERE event = 'page_view')
    UNION ALL
    (SELECT event_id, domain_userid, page_url, derived_tstamp
     FROM (SELECT DISTINCT ON (event_id) * FROM sp.loaded ORDER BY event_id, load_tstamp) x
     WHERE event = 'page_view'
     EXCEPT ALL SELECT * FROM derived.sp_page_views)) d $$;
SELECT testkit.daily_check(m, 'part 1') FROM unnest(ARRAY['sp_days', 'sp_days_strict']) m;
SELECT testkit.sp_page_views_diff() AS page_views_differing;
DO $$
DECLARE p int;
BEGIN
  FOR p IN 2..4 LOOP
    PERFORM testkit.sp_load(p);
    COMMIT;
    CALL incmodel.refresh('sp_days');
    CALL incmodel.refresh('sp_days_strict');
    CALL incmodel.refresh('sp_page_views');
    IF testkit.sp_page_views_diff() <> 0 THEN
      RAISE EXCEPTION 'sp_page_views differs from a rebuild after part %', p;
    END IF;
    PERFORM testkit.daily_check('sp_days', 'part ' || p);
    PERFORM testkit.daily_check('sp_days_strict', 'part ' || p);
  END LOOP;
END $$;
SELECT (SELECT count(*) FROM sp.loaded) AS events_loaded,
       (SELECT sum(events) FROM derived.sp_days) AS events_in_sp_days,
       (SELECT count(*) FROM derived.sp_days_strict) AS rows_in_strict_model,
       (SELECT sum(skipped_events) FROM incmodel.daily_manifest WHERE model = 'sp_days_strict')
         AS skipped_by_strict_model;
-- Part 1 loaded again (a replay): the event-level model adds nothing.
SELECT count(*) AS page_views_before FROM derived.sp_page_views \gset
SELECT testkit.sp_load(1) AS loaded_with_replay;
CALL incmodel.refresh('sp_page_views');
SELECT count(*) = :page_views_before AS replay_added_nothing,
       count(*) = (SELECT count(DISTINCT event_id) FROM sp.loaded WHERE event = 'page_view')
         AS one_row_per_page_view,
       testkit.sp_page_views_diff() AS page_views_differing
FROM derived.sp_page_views;
SELECT incmodel.backfill('sp_days_strict', '2000-01-01', now()) > 0 AS backfilled;
SELECT testkit.daily_check('sp_days_strict', 'after backfill');
SELECT count(*) AS differing_rows FROM (
  (SELECT * FROM derived.sp_days EXCEPT ALL SELECT * FROM derived.sp_days_strict)
  UNION ALL (SELECT * FROM derived.sp_days_strict EXCEPT ALL SELECT * FROM derived.sp_days)) d;
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['sp_days', 'sp_days_strict', 'sp_page_views']) m;
DROP TABLE sp.loaded;
