-- The machinery of the Snowplow chain tests (sql/snowplow_chain.sql, sql/snowplow_stitching.sql):
-- Snowplow's atomic tables, the real events of ../shared/data/snowplow-web as a pool of typed
-- rows, random load plans over the pool (duplicates, replays, late context rows) and a run that
-- loads a plan with refresh_all and testkit.assert_equal after every commit. Needs the incmodel
-- extension and test/testkit.sql, in a database of its own (the examples name atomic.events).

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
-- The source files: 0.1.0's events and context rows, 0.15.2's events (their context is a column).
DO $$
BEGIN
  PERFORM chain.load_csv('chain.events_010', '0.1.0/source/snowplow_web_events_it.csv');
  PERFORM chain.load_csv('chain.context_010', '0.1.0/source/snowplow_web_page_view_context_it.csv');
  PERFORM chain.load_csv('chain.events_0152', '0.15.2/source/snowplow_web_events.csv');
END $$;

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
