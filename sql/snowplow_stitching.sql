-- Users stitched across devices (examples/snowplow_web_stitching.sql) over Snowplow's 0.15.2
-- edge-case events, maintained incrementally while logins arrive late: every domain_userid
-- keeps its user_id only on its last event (its login, by collector_tstamp), and those logins
-- are loaded in the last two loads, after the visitor's other events (and, often, after their
-- own context rows). Until its login arrives a visitor is a user of their own, keyed by their
-- domain_userid; then the mapping (the model snowplow_web_user_mapping) gains its row and the
-- next refresh re-keys all of the visitor's page views under the user_id, merging the cookies
-- of one person. After every refresh every model equals a rebuild; at the end the stitched
-- users equal what Snowplow's 0.15.2 expected tables give when their page views are grouped by
-- their session's stitched_user_id (page views, sessions, first page url), and the mapping
-- equals each expected session's stitched_user_id. (Keeping the user_id on the last event only
-- leaves the mapping, the last user_id by collector_tstamp, what it is with every user_id.)
-- The stitched key is read through the mapping model's target (a dimension of the stitched
-- model): each refresh of the mapping moves the keys of the rows it changed.
CREATE DATABASE incmodel_snowplow_stitching;
\c incmodel_snowplow_stitching
SET client_min_messages = warning;
CREATE EXTENSION incmodel;
\set ECHO none
\i test/testkit.sql
\i test/snowplow_chain_lib.sql
\set ECHO all

SELECT chain.load_csv('chain.page_views_0152', '0.15.2/expected/snowplow_web_page_views_expected.csv')
         AS page_views,
       chain.load_csv('chain.sessions_0152',
                      '0.15.2/expected/default/snowplow_web_sessions_expected.csv') AS sessions;

-- The pool with user_id only on each domain_userid's last event that the mapping reads; after a
-- plan, those events move to the last two loads.
CREATE FUNCTION chain.fill_pool_logins() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  PERFORM chain.fill_pool_0152();
  UPDATE chain.pool p SET ev.user_id = NULL
  WHERE p.n NOT IN (SELECT DISTINCT ON ((x.ev).domain_userid) x.n FROM chain.pool x
                    WHERE (x.ev).domain_userid IS NOT NULL AND (x.ev).domain_sessionid IS NOT NULL
                      AND (x.ev).dvce_sent_tstamp <= (x.ev).dvce_created_tstamp + interval '3 days'
                    ORDER BY (x.ev).domain_userid, (x.ev).collector_tstamp DESC,
                             (x.ev).event_id DESC, x.n DESC);
  SELECT count(*) INTO n FROM chain.pool WHERE (ev).user_id IS NOT NULL;
  RETURN n;
END $$;
CREATE FUNCTION chain.logins_late(loads int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  UPDATE chain.plan_events SET load = greatest(load, loads - 1) WHERE (ev).user_id IS NOT NULL;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE FUNCTION chain.compare_stitching(OUT stitched_users bigint,
                                        OUT stitched_users_differing bigint,
                                        OUT mapped_sessions bigint, OUT mapping_differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
  stitched_users := (SELECT count(*) FROM derived.snowplow_web_users_stitched);
  stitched_users_differing := chain.differing(
    $q$ SELECT stitched_user_id, page_views, sessions, first_page_url
        FROM derived.snowplow_web_users_stitched $q$,
    $q$ SELECT coalesce(nullif(s.stitched_user_id, ''), nullif(s.domain_userid, '')),
               count(DISTINCT p.page_view_id), count(DISTINCT p.domain_sessionid),
               (array_agg(nullif(p.page_url, '') ORDER BY p.start_tstamp, p.event_id))[1]
        FROM chain.page_views_0152 p JOIN chain.sessions_0152 s USING (domain_sessionid)
        GROUP BY 1 $q$);
  mapped_sessions := (SELECT count(*) FROM chain.sessions_0152);
  mapping_differing := (SELECT count(*) FROM chain.sessions_0152 s
                        LEFT JOIN derived.snowplow_web_user_mapping m USING (domain_userid)
                        WHERE nullif(s.stitched_user_id, '') IS DISTINCT FROM m.user_id);
END $$;

-- Three seeds: 6, 8 and 10 loads.
SELECT chain.fill_pool_logins() AS logins;

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\i examples/snowplow_web_stitching.sql
\set ECHO all
SELECT * FROM chain.plan(0.61, 6);
SELECT chain.logins_late(6) AS logins_planned;
CALL chain.run('stitching seed 0.61', 6);
SELECT * FROM chain.compare_stitching();

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\i examples/snowplow_web_stitching.sql
\set ECHO all
SELECT * FROM chain.plan(0.62, 8);
SELECT chain.logins_late(8) AS logins_planned;
CALL chain.run('stitching seed 0.62', 8);
SELECT * FROM chain.compare_stitching();

SELECT chain.reset();
\set ECHO none
\i examples/snowplow_web.sql
\i examples/snowplow_web_stitching.sql
\set ECHO all
SELECT * FROM chain.plan(0.63, 10);
SELECT chain.logins_late(10) AS logins_planned;
CALL chain.run('stitching seed 0.63', 10);
SELECT * FROM chain.compare_stitching();

-- Stitching happened: some stitched user merges several domain_userids.
SELECT max(domain_userids) > 1 AS merged FROM derived.snowplow_web_users_stitched;
SELECT count(*) > 0 AS refreshed, count(*) FILTER (WHERE outcome = 'failed') AS failed
FROM incmodel.runs;
-- Late logins and late context rows were refreshes of the keys they moved: the only rebuilds
-- are the builds at create_model (one per seed).
SELECT model_name, count(*) FILTER (WHERE kind = 'refresh' AND outcome = 'success') > 0
       AS refreshed, count(*) FILTER (WHERE kind = 'rebuild') AS rebuilds
FROM incmodel.runs WHERE model_name IN ('snowplow_web_users_stitched', 'snowplow_web_page_views')
GROUP BY 1 ORDER BY 1;

SELECT chain.reset();
\c contrib_regression
DROP DATABASE incmodel_snowplow_stitching;
