-- The demo's SQL: an events table, a sessions model, five loads each followed by a refresh.
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

SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) AS batches FROM staging \gset
\echo '== five loads, each followed by CALL incmodel.refresh(''sessions'')'
SELECT 1 AS n \gset
\set load 'INSERT INTO atomic.events SELECT * FROM staging WHERE etl_tstamp = (:''batches''::timestamp[])[:n]'
\set show 'SELECT :n AS load, batches, events AS new_events, keys AS sessions_touched, rows_deleted, rows_inserted, (finished_at - started_at) AS took FROM incmodel.runs WHERE model_name = ''sessions'' ORDER BY run_id DESC LIMIT 1'
:load; CALL incmodel.refresh('sessions'); :show;
SELECT 2 AS n \gset
:load; CALL incmodel.refresh('sessions'); :show;
SELECT 3 AS n \gset
:load; CALL incmodel.refresh('sessions'); :show;
SELECT 4 AS n \gset
:load; CALL incmodel.refresh('sessions'); :show;
SELECT 5 AS n \gset
:load; CALL incmodel.refresh('sessions'); :show;
\echo '== a refresh with nothing new is a cheap recorded no-op'
CALL incmodel.refresh('sessions');
SELECT outcome, (finished_at - started_at) AS took FROM incmodel.runs ORDER BY run_id DESC LIMIT 1;

\echo '== SELECT * FROM incmodel.status'
\x on
SELECT model, source, target, last_success, last_outcome, last_duration, pending_batches,
       pending_events, manifest_batches, dead_tuple_debt FROM incmodel.status;
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
