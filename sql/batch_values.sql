-- Batch values no load path may lose: events whose batch value is NULL (a batch of their own),
-- a text batch column whose collation orders values unlike the database's default, and batches
-- that shrink or vanish under a model that plans by counting (a view source: no change log).
-- After every step each model equals a full rebuild of its query.
SET TimeZone = 'UTC';

-- ---------------------------------------------------------------------------------------------
-- NULL batch values: with and without the change log, with and without a window.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE atomic.bv (k text, v int, b timestamptz, ts timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON atomic.bv (b);
CREATE INDEX ON atomic.bv (k);
CREATE INDEX ON atomic.bv (ts);
CREATE VIEW atomic.bv_view AS SELECT * FROM atomic.bv;
-- Present before the models: the initial build includes them and records the NULL batch.
INSERT INTO atomic.bv (k, v, b) VALUES ('a', 1, '2026-01-01'), ('b', 2, NULL), ('a', 3, NULL);

CREATE FUNCTION testkit.bv_model(name text, src text, win boolean) RETURNS boolean
LANGUAGE sql AS $$
  SELECT incmodel.create_model(name => name,
    query => format('SELECT k, count(*) AS n, sum(v) AS total FROM %s GROUP BY k', src),
    target => 'derived.' || name, batch_column => 'b',
    window_column => CASE WHEN win THEN 'ts' END) > 0 $$;
SELECT testkit.bv_model('bv_log', 'atomic.bv', false) AS log,
       testkit.bv_model('bv_log_win', 'atomic.bv', true) AS log_window;
SELECT testkit.bv_model('bv_count', 'atomic.bv_view', false) AS counting;
SELECT testkit.bv_model('bv_count_win', 'atomic.bv_view', true) AS counting_window;
SELECT m.name, m.change_log, mf.event_count AS null_batch_events
FROM incmodel.models m LEFT JOIN incmodel.manifest mf ON mf.model_id = m.model_id AND mf.batch_value IS NULL
WHERE m.name LIKE 'bv\_%' ORDER BY m.name;

CREATE FUNCTION testkit.bv_check(context text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOREACH m IN ARRAY ARRAY['bv_log', 'bv_log_win', 'bv_count', 'bv_count_win'] LOOP
    EXECUTE format('CALL incmodel.refresh(%L)', m);
    PERFORM testkit.assert_equal(m, context);
  END LOOP;
  RETURN context || ': equal';
END $$;

-- A statement that loads only NULL batch values: its log row has no range, only NULLs.
INSERT INTO atomic.bv (k, v, b) VALUES ('b', 10, NULL), ('c', 20, NULL);
SELECT lo, hi, rows, nulls, kind FROM incmodel.source_changes
WHERE source = 'atomic.bv'::regclass ORDER BY txid DESC LIMIT 1;
SELECT model, pending_batches, pending_events FROM incmodel.status WHERE model LIKE 'bv\_%' ORDER BY 1;
SELECT testkit.bv_check('insert of NULL batch values only');
SELECT model_name, outcome, batches, events FROM incmodel.runs
WHERE model_name LIKE 'bv\_%' AND kind = 'refresh' ORDER BY run_id DESC LIMIT 4;

-- COPY mixing NULL and non-NULL batch values.
COPY atomic.bv (k, v, b) FROM STDIN;
a	100	2026-01-02 00:00:00+00
d	101	\N
b	102	2026-01-01 00:00:00+00
\.
SELECT testkit.bv_check('copy mixing NULL and other batch values');

-- Both kinds in one transaction, NULLs in their own statement; then nothing new: a noop.
BEGIN;
INSERT INTO atomic.bv (k, v, b) VALUES ('e', 1000, NULL);
INSERT INTO atomic.bv (k, v, b) VALUES ('e', 1001, '2026-01-03');
COMMIT;
SELECT testkit.bv_check('NULL and other batches in one transaction');
SELECT testkit.bv_check('nothing new');
SELECT model_name, outcome FROM incmodel.runs
WHERE model_name LIKE 'bv\_%' ORDER BY run_id DESC LIMIT 4;
SELECT m.name, mf.event_count AS null_batch_events
FROM incmodel.models m JOIN incmodel.manifest mf ON mf.model_id = m.model_id AND mf.batch_value IS NULL
WHERE m.name LIKE 'bv\_%' ORDER BY m.name;

-- The window keeps its meaning for the NULL batch. Keys come from its events in the window only:
-- an event older than the lookback waits for a rebuild, as in any batch (sql/lookback.sql).
INSERT INTO atomic.bv (k, v, b, ts) VALUES ('old', 1, NULL, now() - interval '30 days'),
                                           ('new', 1, NULL, now());
DO $$ DECLARE m text; BEGIN
  FOREACH m IN ARRAY ARRAY['bv_log', 'bv_log_win', 'bv_count', 'bv_count_win'] LOOP
    EXECUTE format('CALL incmodel.refresh(%L)', m);
  END LOOP; END $$;
SELECT m, d.* FROM unnest(ARRAY['bv_log', 'bv_log_win', 'bv_count', 'bv_count_win']) m,
  LATERAL testkit.diff(m) d ORDER BY m;
SELECT incmodel.rebuild('bv_log_win') > 0 AS rebuilt, incmodel.rebuild('bv_count_win') > 0 AS rebuilt;
SELECT testkit.bv_check('after the rebuild of the windowed models');
-- A counting model with a window finds the NULL batch only when one of its events is in the
-- window.
CREATE TABLE atomic.bvw (k text, v int, b int, ts timestamptz NOT NULL);
CREATE VIEW atomic.bvw_view AS SELECT * FROM atomic.bvw;
SET client_min_messages = warning;
SELECT incmodel.create_model('bvw', 'SELECT k, count(*) AS n FROM atomic.bvw_view GROUP BY k',
  'derived.bvw', 'b', window_column => 'ts') > 0 AS created;
RESET client_min_messages;
INSERT INTO atomic.bvw VALUES ('old', 1, NULL, now() - interval '30 days');
SELECT model, pending_batches, pending_events FROM incmodel.status WHERE model = 'bvw';
INSERT INTO atomic.bvw VALUES ('new', 1, NULL, now());
SELECT model, pending_batches, pending_events FROM incmodel.status WHERE model = 'bvw';
CALL incmodel.refresh('bvw');
SELECT * FROM derived.bvw ORDER BY k;

-- ---------------------------------------------------------------------------------------------
-- A text batch column whose collation orders values unlike the database's default ("C" here).
-- ---------------------------------------------------------------------------------------------
SELECT 'B' < 'b' COLLATE "C" AS c_upper_first, 'b' < 'B' COLLATE "und-x-icu" AS icu_lower_first;
CREATE TABLE atomic.bvc (k text, v int, label text COLLATE "und-x-icu" NOT NULL);
CREATE INDEX ON atomic.bvc (label);
CREATE INDEX ON atomic.bvc (k);
SELECT incmodel.create_model('bvc', 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.bvc GROUP BY k',
  'derived.bvc', 'label') > 0 AS created;
-- Two statements: the ranges [A, b] and [B, B] under the column's collation. Merged under "C"
-- they would become [A, b], which under the column's collation leaves B out.
INSERT INTO atomic.bvc VALUES ('x', 1, 'A'), ('y', 2, 'b');
INSERT INTO atomic.bvc VALUES ('z', 3, 'B');
SELECT lo, hi FROM incmodel.source_changes WHERE source = 'atomic.bvc'::regclass ORDER BY txid;
CALL incmodel.refresh('bvc');
SELECT * FROM testkit.diff('bvc');
SELECT batch_value, event_count FROM incmodel.manifest
WHERE model_id = (SELECT model_id FROM incmodel.models WHERE name = 'bvc') ORDER BY batch_value COLLATE "C";
-- More rows in the ranges' middle and at both ends, then a rebuild-equal check again.
INSERT INTO atomic.bvc VALUES ('x', 4, 'a'), ('w', 5, 'C');
INSERT INTO atomic.bvc VALUES ('v', 6, 'B'), ('u', 7, 'c');
CALL incmodel.refresh('bvc');
SELECT * FROM testkit.diff('bvc');

-- ---------------------------------------------------------------------------------------------
-- Counting models (a view source): a batch that shrank or vanished makes the refresh a rebuild.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE atomic.bvd (k text, v int, b int, ts timestamptz NOT NULL DEFAULT now());
CREATE VIEW atomic.bvd_view AS SELECT * FROM atomic.bvd;
INSERT INTO atomic.bvd (k, v, b) SELECT 'k' || (g % 5), g, nullif(g % 4, 3) FROM generate_series(1, 40) g;
SELECT incmodel.create_model('bvd', 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.bvd_view GROUP BY k',
  'derived.bvd', 'b') > 0 AS created;
SELECT incmodel.create_model('bvd_win', 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.bvd_view GROUP BY k',
  'derived.bvd_win', 'b', window_column => 'ts') > 0 AS created;

CREATE FUNCTION testkit.bvd_check(context text) RETURNS TABLE (model text, kind text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOREACH m IN ARRAY ARRAY['bvd', 'bvd_win'] LOOP
    EXECUTE format('CALL incmodel.refresh(%L)', m);
    PERFORM testkit.assert_equal(m, context);
    RETURN QUERY SELECT r.model_name, r.kind, r.outcome FROM incmodel.runs r
      WHERE r.model_name = m ORDER BY r.run_id DESC LIMIT 1;
  END LOOP;
END $$;

-- Some rows of a processed batch deleted: explain says the refresh rebuilds, and it does.
DELETE FROM atomic.bvd WHERE b = 1 AND v % 8 = 1;
SELECT step_name, detail FROM incmodel.explain('bvd') WHERE step = 1;
SELECT * FROM testkit.bvd_check('rows of a batch deleted');
-- A whole batch deleted.
DELETE FROM atomic.bvd WHERE b = 2;
SELECT * FROM testkit.bvd_check('a whole batch deleted');
-- The NULL batch shrinks, then vanishes.
DELETE FROM atomic.bvd WHERE b IS NULL AND v % 8 = 3;
SELECT * FROM testkit.bvd_check('rows of the NULL batch deleted');
DELETE FROM atomic.bvd WHERE b IS NULL;
SELECT * FROM testkit.bvd_check('the NULL batch deleted');
-- New rows only: incremental again; then nothing: a noop.
INSERT INTO atomic.bvd (k, v, b) VALUES ('k9', 1, 5), ('k1', 2, NULL), ('k2', 3, 0);
SELECT * FROM testkit.bvd_check('rows added');
SELECT * FROM testkit.bvd_check('nothing new');

SELECT count(incmodel.drop_model(name, true)) AS dropped FROM incmodel.models
WHERE name IN ('bv_log', 'bv_log_win', 'bv_count', 'bv_count_win', 'bvw', 'bvc', 'bvd', 'bvd_win');
DROP TABLE atomic.bv, atomic.bvw, atomic.bvc, atomic.bvd CASCADE;
