-- Randomized differential test of the shapes of sql/query_shapes3.sql: a deduplicated source
-- (ROW_NUMBER() = 1 in a subquery, DISTINCT ON in a CTE with a two-part key) and GROUP BY a
-- dimension's copy of the key (alone, and over a deduplicating CTE). After every refresh each
-- model equals a full rebuild of its query over the same events. The streams are those of
-- sql/differential.sql: tools/eventgen with duplicate event_ids (within a batch and in later
-- batches), late events, NULL session ids and sessions spanning batches; part of every batch is
-- held back and loaded two loads later under its etl_tstamp, and batch 1 is replayed whole (a
-- duplicate of every one of its events). Besides, copies of a few events arrive a batch later
-- under another session and user (an event id under two keys). The dimension holds three users
-- in four, so some events join nothing.
SET client_min_messages = warning;  -- index NOTICEs for every seed
CREATE TABLE testkit.ds_stage (LIKE testkit.event_layout);
CREATE TABLE testkit.ds_users (user_id text PRIMARY KEY, plan text NOT NULL);
CREATE TABLE testkit.ds_foreign (LIKE testkit.event_layout);

CREATE FUNCTION testkit.ds_models() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['ds_dedupe_sessions', 'ds_distinct_on_days', 'ds_user_plans', 'ds_user_dedupe'] $$;

CREATE FUNCTION testkit.ds_create_models(src text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- the Snowplow dedupe, within the session: the first copy of each event by collector time
  PERFORM incmodel.create_model('ds_dedupe_sessions', format($q$
    SELECT d.domain_sessionid AS session_id, count(*) AS events, min(d.collector_tstamp) AS first_seen,
           max(d.derived_tstamp) AS last_derived, count(DISTINCT d.page_url) AS pages,
           sum(d.tr_total) AS revenue, min(d.etl_tstamp) AS first_batch
    FROM (SELECT e.*, row_number() OVER (PARTITION BY e.domain_sessionid, e.event_id
                                         ORDER BY e.collector_tstamp, e.etl_tstamp, e.load_tstamp) AS n
          FROM %s e WHERE e.event IN ('page_view', 'page_ping', 'transaction')) d
    WHERE d.n = 1 GROUP BY d.domain_sessionid $q$, src), 'derived.ds_dedupe_sessions', 'etl_tstamp');
  -- DISTINCT ON in a CTE, a key of two parts (user, event day), both in the DISTINCT ON
  PERFORM incmodel.create_model('ds_distinct_on_days', format($q$
    WITH d AS (
      SELECT DISTINCT ON (domain_userid, date_trunc('day', derived_tstamp), event_id)
             domain_userid, derived_tstamp, domain_sessionid, collector_tstamp, page_url
      FROM %s
      ORDER BY domain_userid, date_trunc('day', derived_tstamp), event_id, collector_tstamp,
               etl_tstamp, load_tstamp)
    SELECT domain_userid AS user_id, date_trunc('day', derived_tstamp) AS day, count(*) AS events,
           count(DISTINCT domain_sessionid) AS sessions, max(collector_tstamp) AS last_seen
    FROM d GROUP BY 1, 2 $q$, src), 'derived.ds_distinct_on_days', 'etl_tstamp');
  -- a dimension's copy of the key (u.user_id = e.domain_userid), the plan riding along
  PERFORM incmodel.create_model('ds_user_plans', format($q$
    SELECT u.user_id, u.plan, count(*) AS events, count(DISTINCT e.domain_sessionid) AS sessions,
           max(e.derived_tstamp) AS last_seen
    FROM %s e JOIN testkit.ds_users u ON u.user_id = e.domain_userid
    GROUP BY u.user_id, u.plan $q$, src), 'derived.ds_user_plans', 'etl_tstamp');
  -- both: a dedupe within the user, joined to the dimension
  PERFORM incmodel.create_model('ds_user_dedupe', format($q$
    WITH d AS (SELECT e.*, row_number() OVER (PARTITION BY e.domain_userid, e.event_id
                                              ORDER BY e.collector_tstamp, e.etl_tstamp, e.load_tstamp) AS n
               FROM %s e)
    SELECT u.user_id, count(*) AS events, min(d.collector_tstamp) AS first_seen,
           sum(d.tr_total) AS revenue
    FROM d JOIN testkit.ds_users u ON u.user_id = d.domain_userid WHERE d.n = 1
    GROUP BY u.user_id $q$, src), 'derived.ds_user_dedupe', 'etl_tstamp');
END $$;

CREATE PROCEDURE testkit.ds_refresh_checked(ctx text) LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOREACH m IN ARRAY testkit.ds_models() LOOP
    CALL incmodel.refresh(m);
  END LOOP;
  FOREACH m IN ARRAY testkit.ds_models() LOOP
    PERFORM testkit.assert_equal(m, ctx);
  END LOOP;
END $$;

-- One seed, loaded as sql/differential.sql loads it, with a refresh and a comparison after
-- each load.
CREATE PROCEDURE testkit.ds_run_seed(seed int, batches int DEFAULT 12) LANGUAGE plpgsql AS $$
DECLARE b timestamp; i int := 0; all_batches timestamp[]; before text;
BEGIN
  TRUNCATE testkit.ds_stage;
  PERFORM testkit.generate('testkit.ds_stage', format(
    '--seed %s --events 1500 --users 40 --session-events 15 --batches %s --days 0.5 '
    '--late-fraction 0.08 --dup-fraction 0.05 --null-session-fraction 0.03', seed, batches));
  -- Copies of one event in fifty under another event's session and user (an event id seen under
  -- two keys, as bots and broken trackers produce), one second later, with the next batch: a
  -- dedupe partitioned by the key keeps a copy per key.
  TRUNCATE testkit.ds_foreign;
  INSERT INTO testkit.ds_foreign SELECT * FROM testkit.ds_stage
   WHERE abs(hashtext(event_id::text || 'foreign' || seed)) % 50 = 0;
  UPDATE testkit.ds_foreign f SET
    (domain_sessionid, domain_userid) = (SELECT o.domain_sessionid, o.domain_userid FROM testkit.ds_stage o
       WHERE o.event_id <> f.event_id ORDER BY hashtext(o.event_id::text || f.event_id::text), o.event_id LIMIT 1),
    collector_tstamp = f.collector_tstamp + interval '1 second',
    etl_tstamp = coalesce((SELECT min(o.etl_tstamp) FROM testkit.ds_stage o WHERE o.etl_tstamp > f.etl_tstamp),
                          f.etl_tstamp);
  INSERT INTO testkit.ds_stage SELECT * FROM testkit.ds_foreign;
  TRUNCATE testkit.ds_users;
  INSERT INTO testkit.ds_users
  SELECT DISTINCT domain_userid, CASE WHEN abs(hashtext(domain_userid)) % 2 = 0 THEN 'free' ELSE 'pro' END
  FROM testkit.ds_stage WHERE domain_userid IS NOT NULL AND abs(hashtext(domain_userid || seed)) % 4 <> 0;
  PERFORM testkit.make_events('atomic.ds_events');
  PERFORM testkit.ds_create_models('atomic.ds_events');
  SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) INTO all_batches FROM testkit.ds_stage;
  FOREACH b IN ARRAY all_batches LOOP
    i := i + 1;
    INSERT INTO atomic.ds_events SELECT * FROM testkit.ds_stage
     WHERE etl_tstamp = b AND abs(hashtext(event_id::text || seed)) % 5 <> 0;
    IF i > 2 THEN  -- the held-back part of the batch two loads ago
      INSERT INTO atomic.ds_events SELECT * FROM testkit.ds_stage
       WHERE etl_tstamp = all_batches[i - 2] AND abs(hashtext(event_id::text || seed)) % 5 = 0;
    END IF;
    IF i = 4 THEN  -- replay batch 1 whole: a duplicate of every event, same etl_tstamp
      INSERT INTO atomic.ds_events SELECT * FROM testkit.ds_stage WHERE etl_tstamp = all_batches[1];
    END IF;
    CALL testkit.ds_refresh_checked(format('seed %s after load %s', seed, i));
    IF i % 4 = 0 THEN  -- idempotent: a second refresh is a no-op and changes nothing
      before := testkit.fingerprint('derived.ds_dedupe_sessions');
      CALL testkit.ds_refresh_checked(format('seed %s second refresh %s', seed, i));
      IF before <> testkit.fingerprint('derived.ds_dedupe_sessions') THEN
        RAISE EXCEPTION 'seed %: a second refresh changed ds_dedupe_sessions', seed;
      END IF;
    END IF;
  END LOOP;
  INSERT INTO atomic.ds_events SELECT * FROM testkit.ds_stage
   WHERE etl_tstamp >= all_batches[greatest(i - 1, 1)] AND abs(hashtext(event_id::text || seed)) % 5 = 0;
  CALL testkit.ds_refresh_checked(format('seed %s final', seed));
  PERFORM incmodel.drop_model(m, true) FROM unnest(testkit.ds_models()) m;
END $$;

CREATE TABLE testkit.ds_results (seed int PRIMARY KEY, refreshes bigint, keys bigint,
                                 null_key_runs bigint, failures bigint,
                                 dup_rows bigint, cross_key_dups bigint, joinless_rows bigint);
CREATE PROCEDURE testkit.ds_run_seeds(first int, last int) LANGUAGE plpgsql AS $$
DECLARE s int; r0 bigint;
BEGIN
  FOR s IN first..last LOOP
    SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
    CALL testkit.ds_run_seed(s);
    INSERT INTO testkit.ds_results
    SELECT s, count(*) FILTER (WHERE kind = 'refresh' AND outcome = 'success'),
           sum(keys), count(*) FILTER (WHERE null_keys > 0), count(*) FILTER (WHERE outcome = 'failed'),
           (SELECT count(*) - count(DISTINCT event_id) FROM atomic.ds_events),
           (SELECT count(*) FROM (SELECT event_id FROM atomic.ds_events GROUP BY event_id
                                  HAVING count(DISTINCT domain_sessionid) > 1) x),
           (SELECT count(*) FROM atomic.ds_events e
             WHERE NOT EXISTS (SELECT 1 FROM testkit.ds_users u WHERE u.user_id = e.domain_userid))
      FROM incmodel.runs WHERE run_id > r0;
  END LOOP;
END $$;

CALL testkit.ds_run_seeds(1, 30);
-- Every seed (30 of them) ran 12+ incremental refreshes per model, touched keys, met NULL keys, and never
-- differed from a rebuild (a difference raises an error above and stops the test); its events
-- had duplicates and events whose user the dimension lacks.
SELECT count(*) AS seeds, min(refreshes) >= 48 AS all_refreshed,
       bool_and(keys > 0) AS keys_touched, sum(null_key_runs) > 0 AS null_keys_seen,
       sum(failures) AS failures, bool_and(dup_rows > 0) AS duplicates_every_seed,
       bool_and(cross_key_dups > 0) AS cross_session_duplicates_every_seed,
       bool_and(joinless_rows > 0) AS unjoined_events_every_seed
FROM testkit.ds_results;
