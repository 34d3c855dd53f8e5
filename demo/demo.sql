-- The demo's SQL: an events table, a sessions model and a daily model, five loads each followed
-- by a refresh. Each load stamps load_tstamp with its own time, as a loader does.
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION incmodel;
CREATE SCHEMA atomic;
CREATE SCHEMA derived;
\set events_table atomic.events
\ir ../tools/eventgen/events_table.sql
CREATE INDEX ON atomic.events (etl_tstamp);
CREATE INDEX ON atomic.events (domain_sessionid);
CREATE UNLOGGED TABLE staging (LIKE atomic.events);
COPY staging FROM :'events_file';

\echo '== creating the model from the SQL of its full rebuild'
SELECT incmodel.create_model(
  name         => 'sessions',
  query        => $$ SELECT domain_sessionid          AS session_id,
                            MIN(derived_tstamp)       AS start_tstamp,
                            MAX(derived_tstamp)       AS end_tstamp,
                            COUNT(*)                  AS events,
                            COUNT(DISTINCT page_url)  AS distinct_pages,
                            SUM(tr_total)             AS revenue
                     FROM atomic.events GROUP BY 1 $$,
  target       => 'derived.sessions',
  batch_column => 'etl_tstamp') AS model_id;

CREATE INDEX ON atomic.events (load_tstamp);
\echo '== a daily model: events per user and event day, over load-time ranges (late events counted)'
SELECT incmodel.create_model(
  name                => 'user_days',
  query               => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day,
                                   COUNT(*) AS events, COUNT(DISTINCT domain_sessionid) AS sessions
                            FROM atomic.events GROUP BY 1, 2 $$,
  target              => 'derived.user_days',
  load_column         => 'load_tstamp',
  start_date          => now() - interval '1 hour',
  day_key             => 'day',
  reprocess_days      => 2,
  min_rows_to_process => 5000) AS model_id;

SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) AS batches FROM staging \gset
\echo '== five loads, each followed by CALL incmodel.refresh_all()'
SELECT 1 AS n \gset
\set load 'INSERT INTO atomic.events SELECT (json_populate_record(s, json_build_object(''load_tstamp'', now()::timestamp))).* FROM staging s WHERE etl_tstamp = (:''batches''::timestamp[])[:n]'
\set show 'SELECT :n AS load, model_name AS model, events AS new_events, late_rows, days_reprocessed, keys AS keys_touched, rows_deleted, rows_inserted, (finished_at - started_at) AS took FROM incmodel.runs WHERE run_id > (SELECT max(run_id) - 2 FROM incmodel.runs) ORDER BY run_id'
:load; CALL incmodel.refresh_all(); :show;
SELECT 2 AS n \gset
:load; CALL incmodel.refresh_all(); :show;
SELECT 3 AS n \gset
:load; CALL incmodel.refresh_all(); :show;
SELECT 4 AS n \gset
:load; CALL incmodel.refresh_all(); :show;
SELECT 5 AS n \gset
:load; CALL incmodel.refresh_all(); :show;
\echo '== a refresh with nothing new is a cheap recorded no-op'
CALL incmodel.refresh('sessions');
SELECT outcome, (finished_at - started_at) AS took FROM incmodel.runs ORDER BY run_id DESC LIMIT 1;

\echo '== the daily ledger: rows processed per event day, late rows skipped (a day is reprocessed in full once they reach min_rows_to_process)'
SELECT event_date, processed_events, skipped_events FROM incmodel.daily_manifest ORDER BY 1;

\echo '== SELECT * FROM incmodel.status'
\x on
SELECT model, source, target, last_success, last_outcome, last_duration, pending_batches,
       pending_events, manifest_batches, dead_tuple_debt, upper_limit, skipped_late_rows
FROM incmodel.status;
\x off
\echo '== proof: the target equals a full rebuild of the same query (EXCEPT ALL both ways)'
WITH rebuild AS (
  SELECT domain_sessionid AS session_id, MIN(derived_tstamp) AS start_tstamp,
         MAX(derived_tstamp) AS end_tstamp, COUNT(*) AS events,
         COUNT(DISTINCT page_url) AS distinct_pages, SUM(tr_total) AS revenue
  FROM atomic.events GROUP BY 1)
SELECT (SELECT count(*) FROM derived.sessions) AS target_rows,
       (SELECT count(*) FROM rebuild) AS rebuild_rows,
       (SELECT count(*) FROM (SELECT * FROM derived.sessions EXCEPT ALL SELECT * FROM rebuild) a) AS only_in_target,
       (SELECT count(*) FROM (SELECT * FROM rebuild EXCEPT ALL SELECT * FROM derived.sessions) b) AS only_in_rebuild,
       (SELECT count(*) = 0 FROM (SELECT * FROM derived.sessions EXCEPT ALL SELECT * FROM rebuild
                                  UNION ALL
                                  (SELECT * FROM rebuild EXCEPT ALL SELECT * FROM derived.sessions)) c) AS equal;
\echo '== proof for the daily model: days without skipped rows equal a full rebuild; elsewhere the ledger counts the difference'
WITH rebuild AS (
  SELECT domain_userid AS user_id, derived_tstamp::date AS day, COUNT(*) AS events,
         COUNT(DISTINCT domain_sessionid) AS sessions
  FROM atomic.events GROUP BY 1, 2),
current_days AS (
  SELECT day FROM (SELECT day FROM rebuild UNION SELECT day FROM derived.user_days) d
  WHERE NOT EXISTS (SELECT 1 FROM incmodel.daily_manifest m
                    WHERE m.event_date = d.day AND m.skipped_events > 0))
SELECT (SELECT count(*) FROM current_days) AS current_days,
       (SELECT count(*) = 0 FROM (
          (SELECT * FROM derived.user_days WHERE day IN (SELECT day FROM current_days)
           EXCEPT ALL SELECT * FROM rebuild WHERE day IN (SELECT day FROM current_days))
          UNION ALL
          (SELECT * FROM rebuild WHERE day IN (SELECT day FROM current_days)
           EXCEPT ALL SELECT * FROM derived.user_days WHERE day IN (SELECT day FROM current_days))) x)
         AS current_days_equal,
       (SELECT coalesce(sum(events), 0) FROM rebuild) - (SELECT coalesce(sum(events), 0) FROM derived.user_days)
         = (SELECT coalesce(sum(skipped_events), 0) FROM incmodel.daily_manifest) AS ledger_accounts_for_the_rest;
