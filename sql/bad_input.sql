-- Bad input gets a clear ERROR with a SQLSTATE, and changes nothing.
-- Each case runs through testkit.error_of(), which shows SQLSTATE, message, detail and hint.
\pset format unaligned
\pset fieldsep ' | '
\pset tuples_only on
-- NULL and empty arguments
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model(NULL, 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', NULL, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', NULL, 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', NULL)$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp')$sql$);
-- not a single aggregating SELECT
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT 1; SELECT 2', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'DELETE FROM atomic.events', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELEC 1', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT * FROM atomic.events', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT count(*) AS n FROM atomic.events', 'derived.bad', 'etl_tstamp')$sql$);
-- no relation with the batch column; ambiguous source
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'no_such_column')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT a.domain_sessionid AS s, count(*) AS n
  FROM atomic.events a JOIN atomic.events b USING (event_id) GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
-- no GROUP BY expression computed from the source alone
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT c.region, count(*) AS n FROM atomic.events e
  JOIN testkit.countries c ON c.code = upper(e.geo_country) GROUP BY c.region $$, 'derived.bad', 'etl_tstamp')$sql$);
-- LIMIT/OFFSET, ORDER BY, set operations, volatile functions, window functions, DISTINCT ON
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1' || ' LIMIT 10', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1' || ' OFFSET 1', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1' || ' ORDER BY 1', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1' || ' UNION ALL ' || 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n, random() AS r
  FROM atomic.events GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n,
  rank() OVER (ORDER BY count(*)) AS r FROM atomic.events GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT DISTINCT ON (count(*)) domain_sessionid AS s, count(*) AS n
  FROM atomic.events GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n
  FROM atomic.events GROUP BY ROLLUP (1) $$, 'derived.bad', 'etl_tstamp')$sql$);
-- the source two subqueries deep, on the nullable side of an outer join, or GROUP BY not selected
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT c.code, count(*) AS n FROM testkit.countries c
  LEFT JOIN atomic.events e ON e.geo_country = c.code GROUP BY e.domain_sessionid, c.code $$,
  'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT count(*) AS n FROM atomic.events GROUP BY domain_sessionid $$,
  'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT s, count(*) AS n
  FROM (SELECT s FROM (SELECT domain_sessionid AS s FROM atomic.events) y) x GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n
  FROM atomic.events WHERE event_id IN (SELECT event_id FROM atomic.events WHERE event = 'page_view')
  GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n
  FROM atomic.events GROUP BY 1 FOR UPDATE $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s,
  generate_series(1, 2) AS g FROM atomic.events GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT 1 AS x', 'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS s FROM atomic.events GROUP BY 1', 'no_such_schema.bad', 'etl_tstamp')$sql$);
-- unnamed and duplicate output columns, reserved names
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid, 1 + count(*) FROM atomic.events GROUP BY 1 $$,
  'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS a, count(*) AS a FROM atomic.events GROUP BY 1 $$,
  'derived.bad', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', $$ SELECT domain_sessionid AS s, count(*) AS n
  FROM atomic.events _incmodel_x GROUP BY 1 $$, 'derived.bad', 'etl_tstamp')$sql$);
-- window column missing or of the wrong type; negative lookback; bad unique_key
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp', window_column => 'nope')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp', window_column => 'page_url')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp',
  window_column => 'collector_tstamp', lookback => '-1 day')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.bad', 'etl_tstamp', unique_key => '{events}')$sql$);
-- an existing target with incompatible columns, or not a table
CREATE TABLE derived.incompatible (session_id int, events bigint, extra text);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.incompatible', 'etl_tstamp')$sql$);
CREATE VIEW derived.a_view AS SELECT 1 AS x;
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('bad', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.a_view', 'etl_tstamp')$sql$);
-- unknown names, duplicate names
SELECT incmodel.create_model('dup', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.dup', 'etl_tstamp') > 0 AS created;
SELECT * FROM testkit.error_of($sql$SELECT incmodel.create_model('dup', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY 1', 'derived.dup2', 'etl_tstamp')$sql$);
SELECT * FROM testkit.error_of($sql$CALL incmodel.refresh('no_such_model')$sql$);
SELECT * FROM testkit.error_of($sql$CALL incmodel.refresh(NULL)$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.rebuild('no_such_model')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT * FROM incmodel.explain('no_such_model')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.drop_model('no_such_model')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.alter_model('no_such_model', enabled => false)$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.alter_model('dup', lookback => '-5 minutes')$sql$);
-- the source or target dropped, or the source changed, behind the model's back
CREATE TABLE atomic.doomed (sid text, etl timestamp NOT NULL);
INSERT INTO atomic.doomed VALUES ('a', '2026-01-01');
SELECT incmodel.create_model('doomed', 'SELECT sid, count(*) AS n FROM atomic.doomed GROUP BY 1',
                             'derived.doomed', 'etl') > 0 AS created;
ALTER TABLE atomic.doomed ALTER COLUMN sid TYPE int USING 1;
INSERT INTO atomic.doomed VALUES (2, '2026-01-02');
SELECT * FROM testkit.error_of($sql$CALL incmodel.refresh('doomed')$sql$);
DROP TABLE derived.doomed;
SELECT * FROM testkit.error_of($sql$CALL incmodel.refresh('doomed')$sql$);
DROP TABLE atomic.doomed;
SELECT * FROM testkit.error_of($sql$CALL incmodel.refresh('doomed')$sql$);
SELECT * FROM testkit.error_of($sql$SELECT incmodel.rebuild('doomed')$sql$);
SELECT model, pending_batches FROM incmodel.status WHERE model = 'doomed';
SELECT incmodel.drop_model('doomed');
\pset format aligned
\pset tuples_only off
-- Nothing was created by the failed calls.
SELECT name FROM incmodel.models ORDER BY 1;
SELECT to_regclass('derived.bad') AS bad_target, to_regclass('derived.dup2') AS dup2_target;
SELECT count(*) AS failed_runs_recorded FROM incmodel.runs WHERE model_name IN ('bad', 'dup');
SELECT count(*) AS scratch_tables FROM pg_tables WHERE schemaname = 'incmodel_scratch';
SELECT incmodel.drop_model('dup', true);
DROP TABLE derived.incompatible;
DROP VIEW derived.a_view;
