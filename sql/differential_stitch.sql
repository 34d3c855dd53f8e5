-- Identity stitching under dimension changes: models keyed by coalesce(m.user_id,
-- e.domain_userid) over `LEFT JOIN dd.user_map m ON m.domain_userid = e.domain_userid`, run
-- through sql/differential_dims.sql's seeds (its helpers, tables and steps: events late,
-- duplicated, with NULL users; map rows arriving after their events, re-pointed to another
-- user, to NULL or to an id that is another device's domain_userid, deleted; the other
-- dimensions changing too). After every refresh each model equals a full rebuild of its query.
--
-- dd_stitched_users is keyed through the map (identity stitching: a map change recomputes the
-- keys of its old and new rows); dd_stitched_days by the day (its source key), the map's changes
-- reaching the days of the visitors' events. Runs after sql/differential_dims.sql (its helpers).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
TRUNCATE testkit.dd_results, testkit.dd_ops;
-- dd_sessions (the map as a column riding along) and the two stitched models.
DELETE FROM testkit.dd_models WHERE name <> 'dd_sessions';
INSERT INTO testkit.dd_models VALUES
('dd_stitched_users', 2, $q$
  SELECT coalesce(m.user_id, e.domain_userid) AS user_key, count(*) AS events,
         count(DISTINCT e.domain_sessionid) AS sessions, count(DISTINCT e.domain_userid) AS devices,
         min(e.collector_tstamp) AS first_seen, sum(e.tr_total) AS revenue
  FROM atomic.dd_events e LEFT JOIN dd.user_map m ON m.domain_userid = e.domain_userid
  GROUP BY 1 $q$, NULL),
('dd_stitched_days', 3, $q$
  SELECT coalesce(m.user_id, e.domain_userid) AS user_key, e.derived_tstamp::date AS day,
         count(*) AS events, string_agg(DISTINCT g.region, ',' ORDER BY g.region) AS regions,
         count(DISTINCT e.page_url) AS pages
  FROM atomic.dd_events e LEFT JOIN dd.user_map m ON m.domain_userid = e.domain_userid
  JOIN dd.geo g ON g.code = e.geo_country
  GROUP BY 1, 2 $q$, NULL);
CALL testkit.dd_seeds(101, 150);
-- Every seed checked every model after every refresh (a difference raises above); no run failed.
SELECT count(*) AS seeds, min(checks) >= 3 * 5 AS checked_often, sum(failures) AS failures
FROM testkit.dd_results;
-- The map changed under refreshed models in most seeds.
SELECT count(DISTINCT seed) >= 30 AS seeds_with_map_changes
FROM testkit.dd_ops WHERE op ~ 'map_(late|repoint|delete)';
RESET TimeZone;
RESET client_min_messages;
