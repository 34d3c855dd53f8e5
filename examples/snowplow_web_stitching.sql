-- Users stitched across devices: run after examples/snowplow_web.sql, whose model
-- snowplow_web_user_mapping maps every domain_userid seen with a user_id (a login) to the last
-- user_id it had.
--
--   psql -v ON_ERROR_STOP=1 -d analytics -f examples/snowplow_web_stitching.sql
--
-- derived.snowplow_web_users_stitched has one row per person: the user_id when any of their
-- visitor cookies ever logged in, else the domain_userid. When a visitor logs in (today, on one
-- device), the mapping gains a row and the next refresh re-keys every page view that visitor
-- ever made: the cookie's old row disappears and the person's row is recomputed from all of
-- their events, whichever device they came from.
--
-- The key coalesce(m.user_id, e.domain_userid) is read through the mapping (unique on
-- domain_userid): incmodel looks each event's visitor up in it, and a change to a mapping row
-- recomputes the keys of its old and new user_id and of the visitor's own domain_userid
-- (README, "Identity stitching").
-- Refresh it after the mapping, e.g. with CALL incmodel.refresh_all() (models in name order:
-- snowplow_web_user_mapping before snowplow_web_users_stitched).
SELECT incmodel.create_model(
  name         => 'snowplow_web_users_stitched',
  query        => $$
    SELECT coalesce(m.user_id, e.domain_userid) AS stitched_user_id,
           count(DISTINCT e.domain_userid) AS domain_userids,
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
    LEFT JOIN derived.snowplow_web_user_mapping m ON m.domain_userid = e.domain_userid
    WHERE e.dedupe_index = 1
      AND e.collector_tstamp <= e.session_start + interval '3 days'
      AND e.event_name IN ('page_view', 'page_ping')
      AND e.useragent NOT SIMILAR TO '%(bot|crawl|slurp|spider|archiv|spinn|sniff|seo|audit|survey|pingdom|worm|capture|(browser|screen)shots|analyz|index|thumb|check|facebook|PingdomBot|PhantomJS|YandexBot|Twitterbot|a_archiver|facebookexternalhit|Bingbot|BingPreview|Googlebot|Baiduspider|360(Spider|User-agent)|semalt)%'
    GROUP BY coalesce(m.user_id, e.domain_userid)
    HAVING count(*) FILTER (WHERE e.event_name = 'page_view') > 0 $$,
  target       => 'derived.snowplow_web_users_stitched',
  batch_column => 'etl_tstamp');
