-- Real Snowplow events (../shared/data/snowplow-web/0.1.0): loaded in four etl_tstamp ranges
-- with a refresh after each, a sessions model equals a full rebuild after every load and, at
-- the end, Snowplow's own derived sessions (start/end of page views, page view count). As in
-- Snowplow's model, a page view counts only with its web_page context (a dimension here).
CREATE SCHEMA sp;
DO $$
DECLARE header text; cols text;
BEGIN
  header := split_part(pg_read_file(current_setting('incmodel_test.shared_data') ||
                       '/snowplow-web/0.1.0/source/snowplow_web_events_it.csv'), E'\n', 1);
  SELECT string_agg(format('%I text', trim(both '"' from c)), ', ') INTO cols
    FROM unnest(string_to_array(header, ',')) c;
  EXECUTE format('CREATE TABLE sp.raw (%s)', cols);
  EXECUTE format('COPY sp.raw FROM %L (FORMAT csv, HEADER)',
                 current_setting('incmodel_test.shared_data') ||
                 '/snowplow-web/0.1.0/source/snowplow_web_events_it.csv');
  EXECUTE format('CREATE TABLE sp.expected_sessions (%s)', (
    SELECT string_agg(format('%I text', trim(both '"' from c)), ', ')
      FROM unnest(string_to_array(split_part(pg_read_file(
        current_setting('incmodel_test.shared_data') ||
        '/snowplow-web/0.1.0/expected/snowplow_web_sessions_expected_it.csv'), E'\n', 1), ',')) c));
  EXECUTE format('COPY sp.expected_sessions FROM %L (FORMAT csv, HEADER)',
                 current_setting('incmodel_test.shared_data') ||
                 '/snowplow-web/0.1.0/expected/snowplow_web_sessions_expected_it.csv');
  CREATE TABLE sp.page_view_context (schema_vendor text, schema_name text, schema_format text,
    schema_version text, root_id text, root_tstamp text, ref_root text, ref_tree text,
    ref_parent text, id text);
  EXECUTE format('COPY sp.page_view_context FROM %L (FORMAT csv, HEADER)',
                 current_setting('incmodel_test.shared_data') ||
                 '/snowplow-web/0.1.0/source/snowplow_web_page_view_context_it.csv');
END $$;
SELECT count(*) AS raw_events, count(DISTINCT etl_tstamp) AS batches FROM sp.raw;

CREATE TABLE sp.events (event_id text, event text, domain_sessionid text, domain_userid text,
  collector_tstamp timestamp, derived_tstamp timestamp, dvce_created_tstamp timestamp,
  dvce_sent_tstamp timestamp, etl_tstamp timestamp NOT NULL, page_url text);
CREATE INDEX ON sp.events (etl_tstamp);
SELECT incmodel.create_model('sp_sessions',
  $$ SELECT rtrim(domain_sessionid) AS domain_sessionid, min(derived_tstamp) AS start_tstamp,
            max(derived_tstamp) AS end_tstamp, count(DISTINCT event_id) AS page_views
     FROM sp.events e JOIN sp.page_view_context c ON c.root_id = e.event_id
     WHERE event = 'page_view' AND dvce_sent_tstamp <= dvce_created_tstamp + interval '3 days'
     GROUP BY 1 $$,
  'derived.sp_sessions', 'etl_tstamp') > 0 AS created;

CREATE PROCEDURE sp.load(lo int, hi int) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sp.events
  SELECT event_id, event, domain_sessionid, domain_userid, collector_tstamp::timestamp,
         derived_tstamp::timestamp, dvce_created_tstamp::timestamp, dvce_sent_tstamp::timestamp,
         etl_tstamp::timestamp, page_url
  FROM (SELECT r.*, ntile(4) OVER (ORDER BY etl_tstamp, event_id) AS part FROM sp.raw r) p
  WHERE part BETWEEN lo AND hi;
  CALL incmodel.refresh('sp_sessions');
  PERFORM testkit.assert_equal('sp_sessions', format('load %s', hi));
END $$;
CALL sp.load(1, 1);
CALL sp.load(2, 2);
CALL sp.load(3, 3);
CALL sp.load(4, 4);
SELECT count(*) AS sessions, sum(page_views) AS page_views FROM derived.sp_sessions;
SELECT batches, keys, rows_inserted > 0 AS inserted FROM incmodel.runs
WHERE model_name = 'sp_sessions' AND kind = 'refresh' ORDER BY run_id;
-- Against Snowplow's own result.
SELECT count(*) AS sessions_differing_from_snowplow FROM (
  (SELECT domain_sessionid, start_tstamp, end_tstamp, page_views FROM derived.sp_sessions
   EXCEPT
   SELECT rtrim(domain_sessionid), start_tstamp::timestamp, end_tstamp::timestamp, page_views::bigint
   FROM sp.expected_sessions)
  UNION ALL
  (SELECT rtrim(domain_sessionid), start_tstamp::timestamp, end_tstamp::timestamp, page_views::bigint
   FROM sp.expected_sessions
   EXCEPT
   SELECT domain_sessionid, start_tstamp, end_tstamp, page_views FROM derived.sp_sessions)) d;
SELECT incmodel.drop_model('sp_sessions', true);
