-- Every load path reaches a batch model. One block per path; each ends with a refresh
-- whose runs (kind:outcome) and difference from a full rebuild (extra, missing) are shown:
-- rows inserted by any path, and rows changed by UPDATE, DELETE or an upsert (their keys were
-- queued), are found by an ordinary refresh ('refresh:success'); a change the change log cannot
-- describe (TRUNCATE, ATTACH/DETACH PARTITION, triggers disabled during a load) makes the next
-- refresh rebuild the model ('rebuild:success').
-- Either way the target must equal a full rebuild: (0, 0).
SET client_min_messages = warning;  -- index NOTICEs; the rebuild NOTICE's wording may change
SET TimeZone = 'UTC';

-- One event stream for every block: 8 batches over 4 collector days (batch b covers half a day;
-- late rows arrive up to 3 batches later), unique event_ids (an upsert needs a unique key).
CREATE TABLE testkit.lp_gen (LIKE testkit.event_layout);
\set lp_args '--seed 13 --events 2400 --users 60 --session-events 12 --batches 8 --days 4 --dup-fraction 0 --late-fraction 0.05'
SELECT testkit.generate('testkit.lp_gen', :'lp_args') AS generated;
CREATE TABLE testkit.lp_batches AS
SELECT (row_number() OVER (ORDER BY etl_tstamp) - 1)::int AS b, etl_tstamp
FROM (SELECT DISTINCT etl_tstamp FROM testkit.lp_gen) x;
-- The rows of batch b (0-based, the generator's batch index).
CREATE FUNCTION testkit.lp_batch(b int) RETURNS SETOF testkit.lp_gen LANGUAGE sql STABLE AS $$
  SELECT g.* FROM testkit.lp_gen g JOIN testkit.lp_batches x USING (etl_tstamp) WHERE x.b = $1 $$;
-- Batch b's rows of one collector day, inserted straight into that day's partition.
CREATE FUNCTION testkit.lp_insert_day(b int, day date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('INSERT INTO atomic.%I SELECT * FROM testkit.lp_batch($1) WHERE collector_tstamp::date = $2',
                 'lp_part_' || to_char(day, 'YYYYMMDD')) USING b, day;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
-- The sessions model of the tests, over a given source.
CREATE FUNCTION testkit.lp_model(name text, src text) RETURNS bigint LANGUAGE sql AS $$
  SELECT incmodel.create_model(name, format($q$
    SELECT domain_sessionid AS session_id, min(derived_tstamp) AS start_tstamp,
           max(derived_tstamp) AS end_tstamp, count(*) AS events,
           count(DISTINCT page_url) AS distinct_pages, sum(tr_total) AS revenue
    FROM %s GROUP BY domain_sessionid $q$, src), 'derived.' || name, 'etl_tstamp') $$;
-- A refresh and what it did (testkit.refresh_outcome). When the target differs from a rebuild,
-- it is rebuilt afterwards so that the next block starts equal: each block fails on its own.
CREATE FUNCTION testkit.lp_check(model text, OUT runs text, OUT extra bigint, OUT missing bigint)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT * INTO runs, extra, missing FROM testkit.refresh_outcome(model);
  IF extra <> 0 OR missing <> 0 THEN
    PERFORM incmodel.rebuild(model);
  END IF;
END $$;
-- The stream has its 8 batches.
SELECT count(*) AS batches, min(b) AS first, max(b) AS last FROM testkit.lp_batches;

-- =============================================================================================
-- Partitioned source (Snowplow users partition atomic.events by day): the model is on the
-- parent; day partitions 2026-01-01 and 2026-01-02 exist when it is created.
-- =============================================================================================
CREATE TABLE atomic.lp_part (LIKE testkit.event_layout) PARTITION BY RANGE (collector_tstamp);
CREATE INDEX ON atomic.lp_part (etl_tstamp);
CREATE INDEX ON atomic.lp_part (domain_sessionid);
CREATE TABLE atomic.lp_part_20260101 PARTITION OF atomic.lp_part
  FOR VALUES FROM ('2026-01-01') TO ('2026-01-02');
CREATE TABLE atomic.lp_part_20260102 PARTITION OF atomic.lp_part
  FOR VALUES FROM ('2026-01-02') TO ('2026-01-03');
INSERT INTO atomic.lp_part SELECT * FROM testkit.lp_batch(0);
SELECT testkit.lp_model('lp_part_sessions', 'atomic.lp_part') > 0 AS created;
SELECT * FROM testkit.diff('lp_part_sessions');

-- INSERT straight into a partition.
SELECT testkit.lp_insert_day(1, '2026-01-01') > 0 AS loaded;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- COPY straight into partitions (batch 2: day 2, and late rows of day 1).
SELECT testkit.generate_day('atomic.lp_part_20260102', :'lp_args' || ' --batch-from 2 --batch-to 2', '2026-01-02') > 0 AS copied,
       testkit.generate_day('atomic.lp_part_20260101', :'lp_args' || ' --batch-from 2 --batch-to 2', '2026-01-01') >= 0 AS copied_late;
SELECT count(*) AS copied_as_generated FROM (
  SELECT * FROM testkit.lp_batch(2) EXCEPT ALL SELECT * FROM atomic.lp_part WHERE etl_tstamp =
    (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 2)) x;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- Through the parent (the path the statement trigger always saw): the control case.
INSERT INTO atomic.lp_part SELECT * FROM testkit.lp_batch(3);
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- A partition created after the model, then loaded straight (batch 4: day 3 and late rows).
CREATE TABLE atomic.lp_part_20260103 PARTITION OF atomic.lp_part
  FOR VALUES FROM ('2026-01-03') TO ('2026-01-04');
SELECT testkit.lp_insert_day(4, '2026-01-03') > 0 AS loaded,
       testkit.lp_insert_day(4, '2026-01-02') + testkit.lp_insert_day(4, '2026-01-01') >= 0 AS late_loaded;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- session_replication_role = replica (logical replication apply, pg_restore
-- --disable-triggers) loading straight into partitions: incmodel's triggers fire ALWAYS.
SET session_replication_role = replica;
SELECT testkit.lp_insert_day(5, d) >= 0 AS loaded
FROM unnest(ARRAY['2026-01-01', '2026-01-02', '2026-01-03']::date[]) d;
RESET session_replication_role;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- A table filled on the side, then ATTACHed as the day 2026-01-04 partition (batches 6 and 7's
-- rows of that day; their late rows go in through the parent).
CREATE TABLE atomic.lp_side (LIKE testkit.event_layout);
INSERT INTO atomic.lp_side SELECT * FROM testkit.lp_gen g
WHERE g.etl_tstamp >= (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 6)
  AND g.collector_tstamp >= '2026-01-04';
INSERT INTO atomic.lp_part SELECT * FROM testkit.lp_gen g
WHERE g.etl_tstamp >= (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 6)
  AND g.collector_tstamp < '2026-01-04';
SELECT * FROM testkit.lp_check('lp_part_sessions');
ALTER TABLE atomic.lp_part ATTACH PARTITION atomic.lp_side FOR VALUES FROM ('2026-01-04') TO ('2026-01-05');
SELECT count(*) AS attached_rows FROM atomic.lp_part WHERE collector_tstamp >= '2026-01-04';
SELECT * FROM testkit.lp_check('lp_part_sessions');
-- Every generated row is in the source now.
SELECT (SELECT count(*) FROM atomic.lp_part) = (SELECT count(*) FROM testkit.lp_gen) AS all_loaded;

-- TRUNCATE of one partition: its rows leave the source.
TRUNCATE atomic.lp_part_20260103;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- DETACH of a partition: its rows leave the source.
ALTER TABLE atomic.lp_part DETACH PARTITION atomic.lp_part_20260101;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- After all that, loads through any path are incremental again.
SELECT testkit.lp_insert_day(4, '2026-01-03') > 0 AS reloaded;
SELECT * FROM testkit.lp_check('lp_part_sessions');
SELECT * FROM testkit.lp_check('lp_part_sessions');  -- nothing new: a no-op

-- A loader whose DateStyle reads day before month, straight into a partition: the range the
-- pre-commit flush logs is written in ISO whatever the loader's settings (read as DMY, batch
-- 2026-01-03 10:00 would become March 1st or fail).
SET DateStyle = 'SQL, DMY';
INSERT INTO atomic.lp_part_20260103 (etl_tstamp, collector_tstamp, derived_tstamp, event,
                                     event_name, event_id, domain_sessionid, page_url)
VALUES ('03/01/2026 10:00:00', '03/01/2026 10:00:00', '03/01/2026 10:00:00', 'page_view',
        'page_view', '00000000-0000-4000-8000-0000000000d1', 'lp-dmy-session', '/dmy');
RESET DateStyle;
SELECT * FROM testkit.lp_check('lp_part_sessions');

-- =============================================================================================
-- A plain source with a unique key on event_id (upsert loaders need one).
-- =============================================================================================
CREATE TABLE atomic.lp_ev (LIKE testkit.event_layout, PRIMARY KEY (event_id));
CREATE INDEX ON atomic.lp_ev (etl_tstamp);
CREATE INDEX ON atomic.lp_ev (domain_sessionid);
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(0);
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(1);
SELECT testkit.lp_model('lp_ev_sessions', 'atomic.lp_ev') > 0 AS created;

-- session_replication_role = replica: an INSERT and a COPY.
SET session_replication_role = replica;
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(2);
SELECT testkit.generate('atomic.lp_ev', :'lp_args' || ' --batch-from 3 --batch-to 3') > 0 AS copied;
RESET session_replication_role;
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- A replica-mode load (batch 4) in a transaction that sets the role back before its second
-- load (batch 7) and commits.
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(4);
SET LOCAL session_replication_role = origin;
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(7);
COMMIT;
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- ALTER TABLE ... DISABLE TRIGGER ALL, a load, ENABLE TRIGGER ALL, then the refresh.
ALTER TABLE atomic.lp_ev DISABLE TRIGGER ALL;
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_batch(5);
ALTER TABLE atomic.lp_ev ENABLE TRIGGER ALL;
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- DELETE of some events (the page pings of batch 1).
DELETE FROM atomic.lp_ev WHERE event_name = 'page_ping'
  AND etl_tstamp = (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 1);
-- Until the refresh, status does not say 0 pending: each queued key of the deleted rows counts.
SELECT pending_events = (SELECT count(*) FROM incmodel.key_queue q JOIN incmodel.models m
                         USING (model_id) WHERE m.name = 'lp_ev_sessions') AS queued_keys_pending,
       pending_events > 0 AS not_zero
FROM incmodel.status WHERE model = 'lp_ev_sessions';
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- A batch deleted and reloaded, corrected, with the same row count (batch 2: new page_url and
-- revenue for its rows).
SELECT count(*) AS batch_2_rows FROM atomic.lp_ev
WHERE etl_tstamp = (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 2) \gset
BEGIN;
DELETE FROM atomic.lp_ev WHERE etl_tstamp = (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 2);
INSERT INTO atomic.lp_ev SELECT (g).app_id, (g).platform, (g).etl_tstamp, (g).collector_tstamp,
  (g).dvce_created_tstamp, (g).dvce_sent_tstamp, (g).derived_tstamp, (g).load_tstamp, (g).event,
  (g).event_name, (g).event_id, (g).domain_userid, (g).domain_sessionid, (g).domain_sessionidx,
  (g).user_id, (g).network_userid, (g).page_url || '?fixed', (g).page_title, (g).page_referrer,
  (g).refr_medium, (g).geo_country, (g).br_family, (g).os_family, (g).dvce_type,
  coalesce((g).tr_total, 0) + 1
FROM testkit.lp_batch(2) g;
COMMIT;
SELECT count(*) = :batch_2_rows AS same_count FROM atomic.lp_ev
WHERE etl_tstamp = (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 2);
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- UPDATE of a key column: some events move to another session.
UPDATE atomic.lp_ev SET domain_sessionid = 'moved-' || left(domain_sessionid, 8)
WHERE event_name = 'page_view' AND domain_sessionidx = 2;
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- UPDATE of a metric.
UPDATE atomic.lp_ev SET tr_total = coalesce(tr_total, 0) + 10, page_url = page_url || '#x'
WHERE event_name IN ('transaction', 'page_view') AND domain_sessionidx = 1;
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- INSERT ... ON CONFLICT DO UPDATE: batch 6 (new rows) together with corrections of rows of
-- batch 3 (conflicts).
INSERT INTO atomic.lp_ev
SELECT * FROM testkit.lp_batch(6)
UNION ALL
SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp,
       derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid,
       domain_sessionidx, user_id, network_userid, page_url || '?upsert', page_title,
       page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, 99
FROM testkit.lp_batch(3) WHERE event_name <> 'page_ping'
ON CONFLICT (event_id) DO UPDATE SET page_url = EXCLUDED.page_url, tr_total = EXCLUDED.tr_total;
SELECT count(*) > 0 AS rows_upserted FROM atomic.lp_ev WHERE page_url LIKE '%?upsert';
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- TRUNCATE, then a reload of fewer batches than there were (0 to 3, as generated).
TRUNCATE atomic.lp_ev;
INSERT INTO atomic.lp_ev SELECT * FROM testkit.lp_gen
WHERE etl_tstamp <= (SELECT etl_tstamp FROM testkit.lp_batches WHERE b = 3);
SELECT * FROM testkit.lp_check('lp_ev_sessions');

-- NULL batch values: rows without an etl_tstamp, for existing and for new sessions; then more
-- of them (the NULL batch grows).
INSERT INTO atomic.lp_ev SELECT app_id, platform, NULL, collector_tstamp, dvce_created_tstamp,
  dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid,
  domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title,
  page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total
FROM testkit.lp_batch(4) WHERE collector_tstamp < '2026-01-03 06:00';
SELECT count(*) > 0 AS null_batch_rows FROM atomic.lp_ev WHERE etl_tstamp IS NULL;
SELECT * FROM testkit.lp_check('lp_ev_sessions');
INSERT INTO atomic.lp_ev SELECT app_id, platform, NULL, collector_tstamp, dvce_created_tstamp,
  dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid,
  domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title,
  page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total
FROM testkit.lp_batch(4) WHERE collector_tstamp >= '2026-01-03 06:00';
SELECT * FROM testkit.lp_check('lp_ev_sessions');
-- ... and in replica mode, through COPY.
SET session_replication_role = replica;
COPY atomic.lp_ev (etl_tstamp, collector_tstamp, derived_tstamp, event, event_name, event_id,
                   domain_sessionid, page_url, tr_total) FROM STDIN;
\N	2026-01-04 01:00:00	2026-01-04 01:00:00	page_view	page_view	00000000-0000-4000-8000-000000000001	lp-null-session	/null/1	\N
\N	2026-01-04 01:00:05	2026-01-04 01:00:05	transaction	transaction	00000000-0000-4000-8000-000000000002	lp-null-session	/null/2	12.50
\.
RESET session_replication_role;
SELECT * FROM testkit.lp_check('lp_ev_sessions');
SELECT * FROM testkit.lp_check('lp_ev_sessions');  -- nothing new: a no-op

-- No run failed.
SELECT count(*) FILTER (WHERE outcome = 'failed') AS failed_runs FROM incmodel.runs
WHERE model_name IN ('lp_part_sessions', 'lp_ev_sessions');

SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['lp_part_sessions', 'lp_ev_sessions']) m;
DROP TABLE atomic.lp_part, atomic.lp_part_20260101, atomic.lp_ev, testkit.lp_gen, testkit.lp_batches CASCADE;
DROP FUNCTION testkit.lp_insert_day(int, date), testkit.lp_model(text, text), testkit.lp_check(text);
RESET TimeZone;
RESET client_min_messages;
