-- Event-level models (strategy => 'append'): the user's SELECT over the source deduplicated on
-- event_key, keeping the first duplicate by load_tstamp then dvce_created_tstamp, among the rows
-- loaded in [start_date, upper limit]. Randomized loads with duplicates within and across loads,
-- replays, NULL event ids and a filter that can drop the first duplicate; after every run the
-- target equals that rebuild, and reloading events adds nothing.
CREATE TABLE atomic.aev (event_id text, domain_userid text, event text, page_url text,
                         dvce_created_tstamp timestamp, load_tstamp timestamp NOT NULL);
CREATE INDEX ON atomic.aev (load_tstamp);
CREATE INDEX ON atomic.aev (event_id);

-- n new events (ids from a counter), then duplicates of random earlier events with other
-- values, each duplicate with its own device time; one transaction, stamped at load.
CREATE SEQUENCE testkit.aev_ids;
CREATE FUNCTION testkit.append_load(n int, dups int, seed float8) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM setseed(seed);
  INSERT INTO atomic.aev
  SELECT CASE WHEN random() < 0.02 THEN NULL ELSE 'e' || nextval('testkit.aev_ids') END,
         'u' || (random() * 20)::int,
         CASE WHEN random() < 0.7 THEN 'page_view' ELSE 'page_ping' END,
         '/p' || (random() * 9)::int,
         clock_timestamp()::timestamp - random() * interval '1 hour', clock_timestamp()
  FROM generate_series(1, n);
  INSERT INTO atomic.aev
  SELECT event_id, domain_userid,
         CASE WHEN random() < 0.5 THEN 'page_view' ELSE 'page_ping' END,
         '/dup' || (random() * 9)::int,
         dvce_created_tstamp + (random() * 1000000)::int * interval '1 microsecond' - interval '0.5 s',
         clock_timestamp()
  FROM (SELECT * FROM atomic.aev ORDER BY random() LIMIT dups) d;
END $$;

CREATE FUNCTION testkit.append_check(model text, context text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m record; bad bigint;
BEGIN
  SELECT * INTO m FROM incmodel.models WHERE name = model;
  EXECUTE format($q$
    SELECT count(*) FROM (
      (SELECT * FROM %1$s EXCEPT ALL %2$s) UNION ALL (%2$s EXCEPT ALL SELECT * FROM %1$s)) d $q$,
    m.target, replace(m.query, 'FROM atomic.aev',
      format('FROM (SELECT DISTINCT ON (event_id) * FROM atomic.aev WHERE load_tstamp BETWEEN %L AND %L '
             'ORDER BY event_id, load_tstamp, dvce_created_tstamp) aev', m.start_date::timestamp,
             m.upper_limit::timestamp))) INTO bad;
  IF bad <> 0 THEN
    RAISE EXCEPTION '% (%): % rows differ from the deduplicated rebuild', model, context, bad;
  END IF;
  RETURN context || ': ok';
END $$;

SELECT testkit.append_load(300, 30, 0.21);
SELECT now() - interval '1 day' AS start_date \gset
SELECT incmodel.create_model(
  name => 'page_views',
  query => $$ SELECT event_id, domain_userid, page_url, dvce_created_tstamp
              FROM atomic.aev WHERE event = 'page_view' $$,
  target => 'derived.page_views', load_column => 'load_tstamp', start_date => :'start_date',
  strategy => 'append', event_key => 'event_id') > 0 AS created;
\d derived.page_views
SELECT testkit.append_check('page_views', 'after create');
SELECT count(*) = count(DISTINCT event_id) + least(count(*) FILTER (WHERE event_id IS NULL), 1)
       AS one_row_per_event
FROM derived.page_views;

DO $$
DECLARE i int;
BEGIN
  FOR i IN 1..10 LOOP
    PERFORM testkit.append_load(50 + i * 15, 5 + i * 3, 0.3 + i / 100.0);
    COMMIT;
    CALL incmodel.refresh('page_views');
    PERFORM testkit.append_check('page_views', 'load ' || i);
  END LOOP;
END $$;
SELECT count(*) AS runs, sum(events) > 0 AS rows_processed, sum(rows_deleted) AS rows_deleted
FROM incmodel.runs WHERE model_name = 'page_views';

-- explain announces the rows of the next run's load range.
SELECT testkit.append_load(40, 4, 0.61);
SELECT step, step_name, sql <> '' AS has_sql FROM incmodel.explain('page_views') ORDER BY step;
SELECT substring(detail from '\]: (\d+) new rows')::bigint AS explained_rows
FROM incmodel.explain('page_views') WHERE step = 1 \gset
CALL incmodel.refresh('page_views');
SELECT events = :explained_rows AND events > 0 AS run_matched_explain FROM incmodel.runs
WHERE model_name = 'page_views' ORDER BY run_id DESC LIMIT 1;
SELECT testkit.append_check('page_views', 'after explain');

-- Reloading events that are already there (a replay of everything) adds nothing.
SELECT count(*) AS rows_before FROM derived.page_views \gset
INSERT INTO atomic.aev SELECT event_id, domain_userid, event, page_url, dvce_created_tstamp,
  clock_timestamp() FROM atomic.aev;
CALL incmodel.refresh('page_views');
SELECT count(*) = :rows_before AS replay_added_nothing FROM derived.page_views;
SELECT testkit.append_check('page_views', 'after replay');

-- Backfill a load range: its events are recomputed (from their first duplicate overall).
SELECT min(load_tstamp) + (max(load_tstamp) - min(load_tstamp)) / 3 AS bf_from,
       min(load_tstamp) + (max(load_tstamp) - min(load_tstamp)) * 2 / 3 AS bf_to
FROM atomic.aev \gset
UPDATE derived.page_views SET page_url = 'tampered'
WHERE event_id IN (SELECT event_id FROM atomic.aev WHERE load_tstamp >= :'bf_from' AND load_tstamp < :'bf_to');
SELECT substring(detail from 'rows of (\d+) events')::bigint AS explained_events
FROM incmodel.explain('page_views', :'bf_from', :'bf_to') WHERE step = 1 \gset
SELECT incmodel.backfill('page_views', :'bf_from', :'bf_to') > 0 AS backfilled;
SELECT keys = :explained_events AS backfill_matched_explain FROM incmodel.runs
WHERE model_name = 'page_views' ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS tampered_left FROM derived.page_views WHERE page_url = 'tampered';
SELECT testkit.append_check('page_views', 'after backfill');

-- A rebuild starts again at start_date.
SELECT incmodel.rebuild('page_views') > 0 AS rebuilt;
SELECT testkit.append_check('page_views', 'after rebuild');

-- Bad input.
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('a1', 'SELECT event_id, count(*) FROM atomic.aev GROUP BY 1', 'derived.a1', load_column => 'load_tstamp', start_date => now(), strategy => 'append', event_key => 'event_id')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('a1', 'SELECT upper(event_id) AS event_id FROM atomic.aev', 'derived.a1', load_column => 'load_tstamp', start_date => now(), strategy => 'append', event_key => 'event_id')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('a1', 'SELECT event_id FROM atomic.aev', 'derived.a1', load_column => 'load_tstamp', start_date => now(), strategy => 'append')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('a1', 'SELECT event_id FROM atomic.aev', 'derived.a1', load_column => 'load_tstamp', start_date => now(), strategy => 'merge', event_key => 'event_id')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('a1', 'SELECT event_id, count(*) FROM atomic.aev GROUP BY 1', 'derived.a1', 'load_tstamp', strategy => 'append')$$);

SELECT incmodel.drop_model('page_views', true);
DROP TABLE atomic.aev;
DROP SEQUENCE testkit.aev_ids;
