-- Snowplow's web model (page views -> sessions -> users) kept current by incmodel.
--
-- Run it once with psql, in the database that holds your Snowplow data:
--
--   psql -v ON_ERROR_STOP=1 -d analytics -f examples/snowplow_web.sql
--
-- It reads what Snowplow's PostgreSQL/Redshift loader writes:
--   atomic.events                                        the events (append-only)
--   atomic.com_snowplowanalytics_snowplow_web_page_1     the web_page context: root_id (the
--                                                        event_id), root_tstamp (its
--                                                        collector_tstamp), id (page_view_id)
-- and creates, in schema derived, the tables of Snowplow's dbt-snowplow-web package under the
-- same names, each one an incmodel model built once from all history here:
--   derived.snowplow_web_page_views     one row per page view (page_view event + its pings)
--   derived.snowplow_web_sessions       one row per domain_sessionid, from the page views
--   derived.snowplow_web_users          one row per domain_userid
--   derived.snowplow_web_user_mapping   domain_userid -> the last user_id it logged in with
-- (examples/snowplow_web_stitching.sql adds the users stitched through the mapping.)
-- Other schema names: replace `atomic.` and `derived.` below (the names are stored fully
-- qualified, so later refreshes do not depend on search_path).
--
-- Keep them current from cron, pg_cron or Airflow (refresh_all runs the page views before the
-- sessions built on them; each model processes only the events loaded since its last run):
--
--   */5 * * * *  psql -d analytics -c "CALL incmodel.refresh_all(skip_locked => true)"
--
-- or one model at a time, e.g. CALL incmodel.refresh('snowplow_web_page_views'), or
-- SELECT incmodel.schedule('snowplow_web_page_views', '5 minutes') with pg_cron installed.
-- SELECT * FROM incmodel.status shows what each model has pending.
--
-- The batch column is etl_tstamp, which every atomic.events has; with a recent loader,
-- load_tstamp is the better choice (replace 'etl_tstamp' in the create_model calls).
--
-- How the queries follow Snowplow's rules (dbt-snowplow-web 0.15; 0.1.0 gives the same tables
-- on its test data):
--   * events whose dvce_sent_tstamp is more than 3 days after dvce_created_tstamp are dropped,
--     and so are events more than 3 days after the first event of their session;
--   * duplicates of an event_id keep the copy with the earliest collector_tstamp (then the
--     earliest etl_tstamp; 0.1.0 dropped events whose copies tie). incmodel deduplicates within
--     the model's refresh key (docs/QUERIES.md): the window partitions by (domain_sessionid,
--     event_id), so copies of an event are compared within its session, as a refresh
--     recomputes whole sessions; real duplicates carry the same domain_sessionid;
--   * the context joins on event_id and collector_tstamp, as Snowplow's base model does; a
--     page view is the page_view event of a page_view_id (the earliest, when several carry it),
--     its end and engaged time come from the page_ping events carrying the same page_view_id
--     (10 s heartbeat, 5 s minimum visit);
--   * a session's domain_userid is its first one (a visitor whose cookie changes midway);
--   * page views whose user agent looks like a bot are dropped (Snowplow's ua_bot_filter).
-- A context row that arrives after its event is no problem: the context table is watched, and
-- the next refresh of the models reading it takes the new rows in (this version recomputes
-- those models in full after a change of the context table: README, "Dimensions are watched").
--
-- Indexes the refreshes use (create them if your atomic schema lacks them):
--   CREATE INDEX ON atomic.events (etl_tstamp);
--   CREATE INDEX ON atomic.events (domain_sessionid);
--   CREATE INDEX ON atomic.events (domain_userid);
--   CREATE INDEX ON atomic.com_snowplowanalytics_snowplow_web_page_1 (root_id);

CREATE EXTENSION IF NOT EXISTS incmodel;
CREATE SCHEMA IF NOT EXISTS derived;

-- Page views. The refresh key is domain_sessionid: a refresh recomputes every page view of the
-- sessions its new events touch, so the dedupe window, the session's first event and the pings
-- of a page view all stay within the key. page_view_id comes from the context and rides along in
-- the GROUP BY: a session's page views are its groups.
SELECT incmodel.create_model(
  name         => 'snowplow_web_page_views',
  query        => $$
    SELECT e.domain_sessionid,
           c.id AS page_view_id,
           (array_agg(e.event_id ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS event_id,
           max(e.session_userid) AS domain_userid,
           (array_agg(e.user_id ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS user_id,
           min(e.derived_tstamp) FILTER (WHERE e.event_name = 'page_view') AS start_tstamp,
           coalesce(max(e.derived_tstamp) FILTER (WHERE e.event_name = 'page_ping'),
                    min(e.derived_tstamp) FILTER (WHERE e.event_name = 'page_view')) AS end_tstamp,
           CASE WHEN count(*) FILTER (WHERE e.event_name = 'page_ping') > 0
                THEN 10 * (count(DISTINCT floor(extract(epoch FROM e.dvce_created_tstamp) / 10))
                             FILTER (WHERE e.event_name = 'page_ping') - 1) + 5
                ELSE 0 END AS engaged_time_in_s,
           (array_agg(e.page_url ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS page_url,
           (array_agg(e.page_title ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS page_title,
           (array_agg(e.page_referrer ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS page_referrer
    FROM (SELECT ev.*,
                 row_number() OVER (PARTITION BY ev.domain_sessionid, ev.event_id
                                    ORDER BY ev.collector_tstamp, ev.etl_tstamp) AS dedupe_index,
                 min(ev.collector_tstamp) OVER (PARTITION BY ev.domain_sessionid) AS session_start,
                 first_value(ev.domain_userid) OVER (
                   PARTITION BY ev.domain_sessionid
                   ORDER BY ev.domain_userid IS NULL, ev.collector_tstamp, ev.event_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS session_userid
          FROM atomic.events ev
          WHERE ev.domain_sessionid IS NOT NULL
            AND ev.dvce_sent_tstamp <= ev.dvce_created_tstamp + interval '3 days') e
    JOIN atomic.com_snowplowanalytics_snowplow_web_page_1 c
      ON c.root_id = e.event_id AND c.root_tstamp = e.collector_tstamp
    WHERE e.dedupe_index = 1
      AND e.collector_tstamp <= e.session_start + interval '3 days'
      AND e.event_name IN ('page_view', 'page_ping')
      AND e.useragent NOT SIMILAR TO '%(bot|crawl|slurp|spider|archiv|spinn|sniff|seo|audit|survey|pingdom|worm|capture|(browser|screen)shots|analyz|index|thumb|check|facebook|PingdomBot|PhantomJS|YandexBot|Twitterbot|a_archiver|facebookexternalhit|Bingbot|BingPreview|Googlebot|Baiduspider|360(Spider|User-agent)|semalt)%'
    GROUP BY e.domain_sessionid, c.id
    HAVING count(*) FILTER (WHERE e.event_name = 'page_view') > 0 $$,
  target       => 'derived.snowplow_web_page_views',
  batch_column => 'etl_tstamp');

-- Sessions, from the page views (a features model: its refresh recomputes the sessions whose
-- page views the last page-view refresh touched). First and last page: the page views with the
-- earliest and the latest start (page views that start at the same instant are ordered by
-- event_id; Snowplow's row_number() picks one of them arbitrarily).
SELECT incmodel.create_model(
  name       => 'snowplow_web_sessions',
  query      => $$
    SELECT domain_sessionid,
           (array_agg(domain_userid ORDER BY start_tstamp, event_id))[1] AS domain_userid,
           (array_agg(user_id ORDER BY start_tstamp, event_id))[1] AS user_id,
           min(start_tstamp) AS start_tstamp,
           max(end_tstamp) AS end_tstamp,
           count(DISTINCT page_view_id) AS page_views,
           sum(engaged_time_in_s) AS engaged_time_in_s,
           extract(epoch FROM max(end_tstamp) - min(start_tstamp))::bigint AS absolute_time_in_s,
           (array_agg(page_url ORDER BY start_tstamp, event_id))[1] AS first_page_url,
           (array_agg(page_title ORDER BY start_tstamp, event_id))[1] AS first_page_title,
           (array_agg(page_referrer ORDER BY start_tstamp, event_id))[1] AS referrer,
           (array_agg(page_url ORDER BY start_tstamp DESC, event_id DESC))[1] AS last_page_url,
           (array_agg(page_title ORDER BY start_tstamp DESC, event_id DESC))[1]
             AS last_page_title
    FROM derived.snowplow_web_page_views
    GROUP BY domain_sessionid $$,
  target     => 'derived.snowplow_web_sessions',
  depends_on => ARRAY['snowplow_web_page_views']);

-- Users, by domain_userid, straight from the events (incmodel's features models group by their
-- input's key, and the sessions are keyed by domain_sessionid). The events are deduplicated
-- within the user here, so copies of an event are compared within (domain_userid,
-- domain_sessionid). A session whose domain_userid changes midway counts here for each of its
-- domain_userids (Snowplow counts it once, under its first).
SELECT incmodel.create_model(
  name         => 'snowplow_web_users',
  query        => $$
    SELECT e.domain_userid,
           min(e.derived_tstamp) FILTER (WHERE e.event_name = 'page_view') AS start_tstamp,
           max(e.derived_tstamp) AS end_tstamp,
           count(DISTINCT c.id) FILTER (WHERE e.event_name = 'page_view') AS page_views,
           count(DISTINCT e.domain_sessionid) FILTER (WHERE e.event_name = 'page_view') AS sessions,
           (array_agg(e.page_url ORDER BY e.derived_tstamp, e.event_id)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS first_page_url,
           (array_agg(e.page_url ORDER BY e.derived_tstamp DESC, e.event_id DESC)
              FILTER (WHERE e.event_name = 'page_view'))[1] AS last_page_url
    FROM (SELECT ev.*,
                 row_number() OVER (PARTITION BY ev.domain_userid, ev.domain_sessionid, ev.event_id
                                    ORDER BY ev.collector_tstamp, ev.etl_tstamp) AS dedupe_index,
                 min(ev.collector_tstamp) OVER (PARTITION BY ev.domain_userid, ev.domain_sessionid)
                   AS session_start
          FROM atomic.events ev
          WHERE ev.domain_sessionid IS NOT NULL
            AND ev.dvce_sent_tstamp <= ev.dvce_created_tstamp + interval '3 days') e
    JOIN atomic.com_snowplowanalytics_snowplow_web_page_1 c
      ON c.root_id = e.event_id AND c.root_tstamp = e.collector_tstamp
    WHERE e.dedupe_index = 1
      AND e.collector_tstamp <= e.session_start + interval '3 days'
      AND e.event_name IN ('page_view', 'page_ping')
      AND e.useragent NOT SIMILAR TO '%(bot|crawl|slurp|spider|archiv|spinn|sniff|seo|audit|survey|pingdom|worm|capture|(browser|screen)shots|analyz|index|thumb|check|facebook|PingdomBot|PhantomJS|YandexBot|Twitterbot|a_archiver|facebookexternalhit|Bingbot|BingPreview|Googlebot|Baiduspider|360(Spider|User-agent)|semalt)%'
    GROUP BY e.domain_userid
    HAVING count(*) FILTER (WHERE e.event_name = 'page_view') > 0 $$,
  target       => 'derived.snowplow_web_users',
  batch_column => 'etl_tstamp');

-- The user mapping, as Snowplow's snowplow_web_user_mapping: every domain_userid that was seen
-- with a user_id (a login) and the last user_id it had, by collector_tstamp. It changes when a
-- visitor logs in, possibly long after their first visits: examples/snowplow_web_stitching.sql
-- builds the users stitched through it (needs incmodel with keys over a LEFT JOINed dimension).
SELECT incmodel.create_model(
  name         => 'snowplow_web_user_mapping',
  query        => $$
    SELECT domain_userid,
           (array_agg(user_id ORDER BY collector_tstamp DESC, event_id DESC))[1] AS user_id,
           max(collector_tstamp) AS end_tstamp
    FROM atomic.events
    WHERE user_id IS NOT NULL AND domain_userid IS NOT NULL AND domain_sessionid IS NOT NULL
      AND dvce_sent_tstamp <= dvce_created_tstamp + interval '3 days'
    GROUP BY domain_userid $$,
  target       => 'derived.snowplow_web_user_mapping',
  batch_column => 'etl_tstamp');
