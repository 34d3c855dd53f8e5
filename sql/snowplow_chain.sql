-- The Snowplow web model of examples/snowplow_web.sql (page views -> sessions, users, the user
-- mapping), run as shipped over Snowplow's real test events (../shared/data/snowplow-web),
-- maintained incrementally over many random splits of the events: duplicates (a later
-- collector_tstamp) and exact replays land in random loads, page_view context rows arrive with
-- their events or one to three loads later. After every refresh each model equals a rebuild;
-- at the end each table equals Snowplow's own expected output on the columns compared.
--
-- Compared with Snowplow's dbt-snowplow-web 0.1.0 expected tables (681 events):
--   page views: page_view_id, event_id, domain_sessionid, domain_userid, start_tstamp,
--               end_tstamp, engaged_time_in_s, page_url, page_title, page_referrer (335 rows)
--   sessions:   domain_sessionid, domain_userid, start_tstamp, end_tstamp, page_views,
--               engaged_time_in_s, absolute_time_in_s, first_page_url, first_page_title,
--               referrer, last_page_url, last_page_title (194 rows)
--   users:      domain_userid, start_tstamp, end_tstamp, page_views, sessions, first_page_url,
--               last_page_url (189 rows)
-- (0.1.0's events carry no page_ping, so engaged time is 0 there; 0.15.2's have pings.)
-- Not compared: Snowplow's enrichment columns (IAB, UA parser, YAUAA contexts: other tables),
-- page_view_in_session_index (a window over a session's page views, not a grouped value) and
-- the columns the example does not compute (geo, marketing, referrer parts: first-page values
-- that follow the same pattern as first_page_url).
--
-- With 0.15.2's edge-case events (duplicates with the same and with a later collector_tstamp,
-- duplicated page_view_id, late arriving, long and unexpired sessions, NULL session id, rotating
-- domain_userid, page pings), see the section at the end.
--
-- The example names atomic.events, as a Snowplow user has it; the regression database has
-- another atomic.events, so this runs in a database of its own.
CREATE DATABASE incmodel_snowplow_chain;
\c incmodel_snowplow_chain
SET client_min_messages = warning;
CREATE EXTENSION incmodel;
\i test/testkit.sql

-- Snowplow's tables as its PostgreSQL loader writes them (the columns the example reads).
CREATE SCHEMA atomic;
CREATE TABLE atomic.events (app_id text, platform text, etl_tstamp timestamp,
  collector_tstamp timestamp NOT NULL, dvce_created_tstamp timestamp, event text,
  event_id text NOT NULL, user_id text, domain_userid text, domain_sessionidx int,
  network_userid text, page_url text, page_title text, page_referrer text, useragent text,
  dvce_sent_tstamp timestamp, domain_sessionid text, derived_tstamp timestamp, event_name text);
CREATE TABLE atomic.com_snowplowanalytics_snowplow_web_page_1 (
  schema_vendor text, schema_name text, schema_format text, schema_version text,
  root_id text NOT NULL, root_tstamp timestamp NOT NULL, ref_root text, ref_tree text,
  ref_parent text, id text NOT NULL);
CREATE INDEX ON atomic.events (etl_tstamp);
CREATE INDEX ON atomic.events (domain_sessionid);
CREATE INDEX ON atomic.events (domain_userid);
CREATE INDEX ON atomic.com_snowplowanalytics_snowplow_web_page_1 (root_id);

-- The CSV files, as text tables named after them.
CREATE SCHEMA chain;
CREATE FUNCTION chain.load_csv(tbl text, file text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE path text := current_setting('incmodel_test.shared_data') || '/snowplow-web/' || file;
        cols text; n bigint;
BEGIN
  SELECT string_agg(format('%I text', trim(both '"' from c)), ', ') INTO cols
    FROM unnest(string_to_array(split_part(pg_read_file(path), E'\n', 1), ',')) c;
  EXECUTE format('CREATE TABLE %s (%s)', tbl, cols);
  EXECUTE format('COPY %s FROM %L (FORMAT csv, HEADER)', tbl, path);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
SELECT chain.load_csv('chain.events_010', '0.1.0/source/snowplow_web_events_it.csv') AS events,
       chain.load_csv('chain.context_010', '0.1.0/source/snowplow_web_page_view_context_it.csv')
         AS contexts,
       chain.load_csv('chain.page_views_010', '0.1.0/expected/snowplow_web_page_views_expected_it.csv')
         AS page_views,
       chain.load_csv('chain.sessions_010', '0.1.0/expected/snowplow_web_sessions_expected_it.csv')
         AS sessions,
       chain.load_csv('chain.users_010', '0.1.0/expected/snowplow_web_users_expected_it.csv')
         AS users;

-- Every event and context row once, typed (empty strings are NULLs; 0.1.0's domain_sessionid
-- is space padded: README of the data), as rows of the atomic tables. The loads draw from these.
CREATE TABLE chain.pool (n bigint, ev atomic.events);
CREATE TABLE chain.pool_context (c atomic.com_snowplowanalytics_snowplow_web_page_1);
CREATE FUNCTION chain.fill_pool_010() RETURNS void LANGUAGE sql AS $$
  TRUNCATE chain.pool, chain.pool_context;
  INSERT INTO chain.pool
  SELECT row_number() OVER (ORDER BY event_id, collector_tstamp, etl_tstamp),
         ROW(nullif(app_id, ''), nullif(platform, ''), etl_tstamp::timestamp,
             collector_tstamp::timestamp, dvce_created_tstamp::timestamp, nullif(event, ''),
             event_id, nullif(user_id, ''), nullif(domain_userid, ''),
             nullif(domain_sessionidx, '')::int, nullif(network_userid, ''), nullif(page_url, ''),
             nullif(page_title, ''), nullif(page_referrer, ''), nullif(useragent, ''),
             dvce_sent_tstamp::timestamp, nullif(rtrim(domain_sessionid), ''),
             derived_tstamp::timestamp, nullif(event_name, ''))::atomic.events
  FROM chain.events_010;
  INSERT INTO chain.pool_context
  SELECT ROW(schema_vendor, schema_name, schema_format, schema_version, root_id,
             root_tstamp::timestamp, ref_root, ref_tree, ref_parent,
             id)::atomic.com_snowplowanalytics_snowplow_web_page_1
  FROM chain.context_010;
$$;

-- One run: the models dropped, the atomic tables emptied, the example created again (by the
-- caller, \i), then the pool loaded in `loads` random loads drawn with `seed`:
--   * every event in a random load;
--   * 5% of the events get a duplicate with a later collector_tstamp (Snowplow keeps the
--     earliest), in a random load, before or after the original, with its own context row;
--   * 5% are replayed: the same row again (and its context row) in a load at or after its own;
--   * each event's context row comes with it, or (30%) one to three loads later.
-- Each load commits its events, then its context rows; after each commit refresh_all, then
-- every model equals a rebuild (testkit.assert_equal).
CREATE TABLE chain.plan_events (ev atomic.events, load int);
CREATE TABLE chain.plan_context (c atomic.com_snowplowanalytics_snowplow_web_page_1, load int);
CREATE FUNCTION chain.reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM incmodel.drop_model(name, drop_target => true)
    FROM (SELECT name FROM incmodel.models ORDER BY model_id DESC) m;
  TRUNCATE atomic.events, atomic.com_snowplowanalytics_snowplow_web_page_1;
END $$;
CREATE FUNCTION chain.plan(seed float8, loads int, OUT events bigint, OUT duplicates bigint,
                           OUT replays bigint, OUT late_contexts bigint) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM setseed(seed);
  TRUNCATE chain.plan_events, chain.plan_context;
  CREATE TEMP TABLE planned ON COMMIT DROP AS
  SELECT p.n, p.ev, 1 + floor(random() * loads)::int AS load, random() < 0.05 AS dup,
         random() < 0.05 AS replay, random() AS r1, random() AS r2, random() AS r3
  FROM chain.pool p ORDER BY p.n;
  CREATE TEMP TABLE planned_context ON COMMIT DROP AS
  SELECT p.*, c.c
  FROM planned p JOIN chain.pool_context c
    ON (c.c).root_id = (p.ev).event_id AND (c.c).root_tstamp = (p.ev).collector_tstamp;
  -- the originals; their context rows with them or one to three loads later
  INSERT INTO chain.plan_events SELECT ev, load FROM planned;
  INSERT INTO chain.plan_context
  SELECT c, least(loads, load + CASE WHEN r1 < 0.3 THEN 1 + floor(r2 * 3)::int ELSE 0 END)
  FROM planned_context;
  -- duplicates: collector_tstamp 1 to 600 s later, in any load, their context row with them
  UPDATE planned SET ev.collector_tstamp = (ev).collector_tstamp
                                           + (1 + floor(r2 * 600)) * interval '1 second'
  WHERE dup;
  UPDATE planned_context SET c.root_tstamp = (c).root_tstamp
                                             + (1 + floor(r2 * 600)) * interval '1 second'
  WHERE dup;
  INSERT INTO chain.plan_events SELECT ev, 1 + floor(r3 * loads)::int FROM planned WHERE dup;
  INSERT INTO chain.plan_context
  SELECT c, 1 + floor(r3 * loads)::int FROM planned_context WHERE dup;
  -- replays: the same rows again (of the original), at or after its load
  INSERT INTO chain.plan_events
  SELECT p.ev, x.load + floor(x.r3 * (loads - x.load + 1))::int
  FROM chain.pool p JOIN planned x USING (n) WHERE x.replay;
  INSERT INTO chain.plan_context
  SELECT c.c, x.load + floor(x.r3 * (loads - x.load + 1))::int
  FROM planned x JOIN chain.pool p USING (n)
  JOIN chain.pool_context c
    ON (c.c).root_id = (p.ev).event_id AND (c.c).root_tstamp = (p.ev).collector_tstamp
  WHERE x.replay;
  SELECT count(*), count(*) FILTER (WHERE dup), count(*) FILTER (WHERE replay)
    INTO events, duplicates, replays FROM planned;
  SELECT count(*) INTO late_contexts FROM planned_context WHERE r1 < 0.3 AND load < loads;
  DROP TABLE planned, planned_context;
END $$;
CREATE PROCEDURE chain.check(label text) LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  CALL incmodel.refresh_all();
  FOR m IN SELECT name FROM incmodel.models ORDER BY name LOOP
    PERFORM testkit.assert_equal(m, label);
  END LOOP;
END $$;
CREATE PROCEDURE chain.run(label text, loads int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. loads LOOP
    -- a load's events commit first, its context rows (and late ones) after them
    INSERT INTO atomic.events SELECT (ev).* FROM chain.plan_events WHERE load = i;
    COMMIT;
    CALL chain.check(format('%s, load %s of %s, events', label, i, loads));
    INSERT INTO atomic.com_snowplowanalytics_snowplow_web_page_1
    SELECT (c).* FROM chain.plan_context WHERE load = i;
    COMMIT;
    CALL chain.check(format('%s, load %s of %s, contexts', label, i, loads));
  END LOOP;
END $$;

-- Rows in one query's result and not the other's, both ways (EXCEPT ALL: NULLs compare equal).
CREATE FUNCTION chain.differing(actual text, expected text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (((%s) EXCEPT ALL (%s)) UNION ALL ((%s) EXCEPT ALL (%s))) d',
                 actual, expected, expected, actual) INTO n;
  RETURN n;
END $$;
CREATE FUNCTION chain.compare_010(OUT page_views bigint, OUT page_views_differing bigint,
                                  OUT sessions bigint, OUT sessions_differing bigint,
                                  OUT users bigint, OUT users_differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
  page_views := (SELECT count(*) FROM derived.snowplow_web_page_views);
  page_views_differing := chain.differing(
    $q$ SELECT page_view_id, event_id, domain_sessionid, domain_userid, start_tstamp, end_tstamp,
               engaged_time_in_s, page_url, page_title, page_referrer
        FROM derived.snowplow_web_page_views $q$,
    $q$ SELECT page_view_id, event_id, rtrim(domain_sessionid), domain_userid,
               start_tstamp::timestamp, end_tstamp::timestamp, engaged_time_in_s::bigint,
               nullif(page_url, ''), nullif(page_title, ''), nullif(page_referrer, '')
        FROM chain.page_views_010 $q$);
  sessions := (SELECT count(*) FROM derived.snowplow_web_sessions);
  sessions_differing := chain.differing(
    $q$ SELECT domain_sessionid, domain_userid, start_tstamp, end_tstamp, page_views,
               engaged_time_in_s, absolute_time_in_s, first_page_url, first_page_title, referrer,
               last_page_url, last_page_title
        FROM derived.snowplow_web_sessions $q$,
    $q$ SELECT rtrim(domain_sessionid), domain_userid, start_tstamp::timestamp,
               end_tstamp::timestamp, page_views::bigint, engaged_time_in_s::bigint,
               absolute_time_in_s::bigint, nullif(first_page_url, ''),
               nullif(first_page_title, ''), nullif(referrer, ''), nullif(last_page_url, ''),
               nullif(last_page_title, '')
        FROM chain.sessions_010 $q$);
  users := (SELECT count(*) FROM derived.snowplow_web_users);
  users_differing := chain.differing(
    $q$ SELECT domain_userid, start_tstamp, end_tstamp, page_views, sessions, first_page_url,
               last_page_url
        FROM derived.snowplow_web_users $q$,
    $q$ SELECT domain_userid, start_tstamp::timestamp, end_tstamp::timestamp,
               page_views::bigint, sessions::bigint, nullif(first_page_url, ''),
               nullif(last_page_url, '')
        FROM chain.users_010 $q$);
END $$;

-- 0.1.0, three seeds: 12, 8 and 10 loads.
SELECT chain.fill_pool_010();
SELECT count(*) AS pool_events, count(DISTINCT (ev).etl_tstamp) AS etl_batches FROM chain.pool;

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\set ECHO all
SELECT * FROM chain.plan(0.11, 12);
CALL chain.run('0.1.0 seed 0.11', 12);
SELECT * FROM chain.compare_010();

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\set ECHO all
SELECT * FROM chain.plan(0.22, 8);
CALL chain.run('0.1.0 seed 0.22', 8);
SELECT * FROM chain.compare_010();

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\set ECHO all
SELECT * FROM chain.plan(0.33, 10);
CALL chain.run('0.1.0 seed 0.33', 10);
SELECT * FROM chain.compare_010();

-- dbt-snowplow-web 0.15.2's edge-case events (160 rows): the page_view context is carried in
-- the events (a JSON column), split into the context table as Snowplow's own integration test
-- does. Two seeds: 6 and 9 loads.
SELECT chain.load_csv('chain.events_0152', '0.15.2/source/snowplow_web_events.csv') AS events,
       chain.load_csv('chain.page_views_0152', '0.15.2/expected/snowplow_web_page_views_expected.csv')
         AS page_views,
       chain.load_csv('chain.sessions_0152',
                      '0.15.2/expected/default/snowplow_web_sessions_expected.csv') AS sessions,
       chain.load_csv('chain.users_0152', '0.15.2/expected/snowplow_web_users_expected.csv')
         AS users;
CREATE FUNCTION chain.fill_pool_0152() RETURNS void LANGUAGE sql AS $$
  TRUNCATE chain.pool, chain.pool_context;
  INSERT INTO chain.pool
  SELECT row_number() OVER (ORDER BY event_id, collector_tstamp, etl_tstamp),
         ROW(nullif(app_id, ''), nullif(platform, ''), etl_tstamp::timestamp,
             collector_tstamp::timestamp, dvce_created_tstamp::timestamp, nullif(event, ''),
             event_id, nullif(user_id, ''), nullif(domain_userid, ''),
             nullif(domain_sessionidx, '')::int, nullif(network_userid, ''), nullif(page_url, ''),
             nullif(page_title, ''), nullif(page_referrer, ''), nullif(useragent, ''),
             dvce_sent_tstamp::timestamp, nullif(domain_sessionid, ''),
             derived_tstamp::timestamp, nullif(event_name, ''))::atomic.events
  FROM chain.events_0152;
  INSERT INTO chain.pool_context
  SELECT DISTINCT ROW(NULL, NULL, NULL, NULL, event_id, collector_tstamp::timestamp, NULL, NULL,
                      NULL, id)::atomic.com_snowplowanalytics_snowplow_web_page_1
  FROM (SELECT event_id, collector_tstamp,
               nullif(nullif(split_part(split_part(
                 contexts_com_snowplowanalytics_snowplow_web_page_1_0_0, '[{"id":"', 2),
                 '"}]', 1), 'null'), '') AS id
        FROM chain.events_0152) x
  WHERE id IS NOT NULL;
$$;
-- What 0.15.2 computes as 0.1.0 did, compared:
--   page views: all of them, on the columns of 0.1.0 (43 rows: duplicates, the long and the
--     unexpired session's events after 3 days, the late event and the bot-free filter applied;
--     engaged time from page pings);
--   sessions: domain_sessionid, domain_userid (the session's first, as Snowplow's manifest
--     keeps it), page_views, engaged_time_in_s, first_page_url, first_page_title, referrer,
--     last_page_url, last_page_title, for the sessions with page views in Snowplow's page views
--     (15 of 18);
--   users: first_page_url of each of Snowplow's 11 users;
--   user mapping: each session's stitched_user_id is the mapping's user_id for its
--     domain_userid (18 sessions).
-- Not compared, and why: 0.15.2 builds sessions from all of a session's events, not only its
-- page views (so its start_tstamp, end_tstamp and absolute_time_in_s, and sessions without any
-- page view, differ from the page-view sessions of 0.1.0 that the example keeps), and its users
-- from those sessions, each under the domain_userid of its first events (a session whose
-- domain_userid rotates counts once; here each domain_userid counts its own page views), so the
-- users' start_tstamp, end_tstamp, page_views and sessions are not comparable; the last page of
-- users with several last sessions is an arbitrary pick in Snowplow.
CREATE FUNCTION chain.compare_0152(OUT page_views bigint, OUT page_views_differing bigint,
                                   OUT sessions_compared bigint, OUT sessions_differing bigint,
                                   OUT users_compared bigint, OUT users_differing bigint,
                                   OUT stitched_sessions bigint, OUT stitching_differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
  page_views := (SELECT count(*) FROM derived.snowplow_web_page_views);
  page_views_differing := chain.differing(
    $q$ SELECT page_view_id, event_id, domain_sessionid, domain_userid, start_tstamp, end_tstamp,
               engaged_time_in_s, page_url, page_title, page_referrer
        FROM derived.snowplow_web_page_views $q$,
    $q$ SELECT page_view_id, event_id, domain_sessionid, domain_userid, start_tstamp::timestamp,
               end_tstamp::timestamp, engaged_time_in_s::bigint, nullif(page_url, ''),
               nullif(page_title, ''), nullif(page_referrer, '')
        FROM chain.page_views_0152 $q$);
  sessions_compared := (SELECT count(*) FROM chain.sessions_0152 s
                        WHERE s.domain_sessionid IN (SELECT domain_sessionid
                                                     FROM chain.page_views_0152));
  sessions_differing := chain.differing(
    $q$ SELECT domain_sessionid, domain_userid, page_views, engaged_time_in_s, first_page_url,
               first_page_title, referrer, last_page_url, last_page_title
        FROM derived.snowplow_web_sessions $q$,
    $q$ SELECT domain_sessionid, nullif(domain_userid, ''), page_views::bigint,
               engaged_time_in_s::bigint, nullif(first_page_url, ''),
               nullif(first_page_title, ''), nullif(referrer, ''), nullif(last_page_url, ''),
               nullif(last_page_title, '')
        FROM chain.sessions_0152
        WHERE domain_sessionid IN (SELECT domain_sessionid FROM chain.page_views_0152) $q$);
  users_compared := (SELECT count(*) FROM chain.users_0152);
  users_differing := (SELECT count(*) FROM chain.users_0152 x
                      LEFT JOIN derived.snowplow_web_users u USING (domain_userid)
                      WHERE u.first_page_url IS DISTINCT FROM nullif(x.first_page_url, ''));
  stitched_sessions := (SELECT count(*) FROM chain.sessions_0152);
  stitching_differing := (SELECT count(*) FROM chain.sessions_0152 s
                          LEFT JOIN derived.snowplow_web_user_mapping m USING (domain_userid)
                          WHERE nullif(s.stitched_user_id, '') IS DISTINCT FROM m.user_id);
END $$;

SELECT chain.fill_pool_0152();
SELECT count(*) AS pool_events, count(*) - count(DISTINCT (ev).event_id) AS duplicated_ids,
       (SELECT count(*) FROM chain.pool_context) AS contexts
FROM chain.pool;

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\set ECHO all
SELECT * FROM chain.plan(0.44, 6);
CALL chain.run('0.15.2 seed 0.44', 6);
SELECT * FROM chain.compare_0152();

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\set ECHO all
SELECT * FROM chain.plan(0.55, 9);
CALL chain.run('0.15.2 seed 0.55', 9);
SELECT * FROM chain.compare_0152();

-- Every refresh was recorded as a success.
SELECT count(*) > 0 AS refreshed, count(*) FILTER (WHERE outcome = 'failed') AS failed
FROM incmodel.runs;

SELECT chain.reset();
\c contrib_regression
DROP DATABASE incmodel_snowplow_chain;
