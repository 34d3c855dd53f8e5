-- A run empties the model's scratch tables first: by DELETE while they are small (a TRUNCATE of an
-- UNLOGGED table fsyncs a new init fork per table, the floor of a small refresh), by TRUNCATE
-- once one of them has grown past 1 MB, so dead rows stay bounded (src/pg/models/model_runs.cpp,
-- clear_scratch). Which one ran shows in the tables' relfilenodes: TRUNCATE gives new files.
-- Either way the target equals a rebuild.
SET client_min_messages = warning;
CREATE TABLE atomic.scratch_src (etl_tstamp timestamp, sid text, url text);
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-01', 's' || (i % 50), 'u' || (i % 7)
  FROM generate_series(1, 500) i;
CREATE INDEX ON atomic.scratch_src (sid);
SELECT incmodel.create_model('scratch_reuse',
  $$ SELECT sid, count(*) AS n, count(DISTINCT url) AS pages FROM atomic.scratch_src GROUP BY 1 $$,
  'derived.scratch_reuse', 'etl_tstamp') > 0 AS created;
-- The scratch tables' files now, and whether they changed since (new = TRUNCATE ran).
CREATE TEMP TABLE files AS SELECT c.oid, c.relfilenode FROM pg_class c
  WHERE c.relnamespace = 'incmodel_scratch'::regnamespace
    AND c.relname LIKE (SELECT 'm' || model_id || '\_%' FROM incmodel.models WHERE name = 'scratch_reuse');
CREATE FUNCTION pg_temp.truncated() RETURNS TABLE (tables bigint, new_files bigint)
LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE c.relfilenode <> f.relfilenode)
  FROM files f JOIN pg_class c ON c.oid = f.oid $$;
CREATE FUNCTION pg_temp.remember() RETURNS void LANGUAGE sql AS $$
  UPDATE files f SET relfilenode = c.relfilenode FROM pg_class c WHERE c.oid = f.oid $$;

-- Small runs: DELETE, the files stay.
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-02', 's' || (i % 60), 'u' || (i % 9)
  FROM generate_series(1, 300) i;
CALL incmodel.refresh('scratch_reuse');
SELECT * FROM pg_temp.truncated();
SELECT * FROM testkit.diff('scratch_reuse');
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-03', 's' || (i % 70), 'u' || (i % 11)
  FROM generate_series(1, 300) i;
CALL incmodel.refresh('scratch_reuse');
SELECT * FROM pg_temp.truncated();
SELECT * FROM testkit.diff('scratch_reuse');

-- A large run (40,000 new keys) leaves more than 1 MB in the keys and rows tables: that run
-- still starts with DELETE, the next one with TRUNCATE, and the one after with DELETE again.
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-04', 'big' || i, 'u' FROM generate_series(1, 40000) i;
CALL incmodel.refresh('scratch_reuse');
SELECT * FROM pg_temp.truncated();
SELECT pg_relation_size(oid) > 1024 * 1024 AS over_1mb FROM files ORDER BY oid;
SELECT * FROM testkit.diff('scratch_reuse');
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-05', 's' || (i % 40), 'u' || (i % 13)
  FROM generate_series(1, 200) i;
CALL incmodel.refresh('scratch_reuse');
SELECT * FROM pg_temp.truncated();
SELECT * FROM testkit.diff('scratch_reuse');
SELECT pg_temp.remember();
INSERT INTO atomic.scratch_src SELECT timestamp '2026-01-06', 'big' || i, 'v' FROM generate_series(1, 30) i;
CALL incmodel.refresh('scratch_reuse');
SELECT * FROM pg_temp.truncated();
SELECT * FROM testkit.diff('scratch_reuse');
SELECT outcome, kind, keys FROM incmodel.runs WHERE model_name = 'scratch_reuse' ORDER BY run_id;

SELECT incmodel.drop_model('scratch_reuse', true);
DROP TABLE atomic.scratch_src;
