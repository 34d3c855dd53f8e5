-- New batches counted from the change log (every load since the last plan of one value the
-- manifest lacks, each logged once per transaction) and the loads the log cannot vouch for
-- (recounted in the source): a value loaded twice in one transaction, a batch that grows after
-- it was processed, a load of several values, a refresh inside the loading transaction. After
-- each refresh the manifest holds exactly the source's count of every batch, the run's events
-- are the new rows, and the target equals a full rebuild.
CREATE TABLE atomic.lc (k text, v int, b int NOT NULL);
CREATE INDEX ON atomic.lc (b);
SELECT incmodel.create_model(name => 'lc',
  query => 'SELECT k, count(*) AS n, sum(v) AS total FROM atomic.lc GROUP BY k',
  target => 'derived.lc', batch_column => 'b') > 0 AS created;
CREATE FUNCTION testkit.lc_state() RETURNS TABLE (manifest_is_source_count boolean,
  target_is_rebuild boolean, run_events bigint) LANGUAGE sql AS $$
  SELECT NOT EXISTS ((SELECT mf.batch_value, mf.event_count FROM incmodel.manifest mf
                      JOIN incmodel.models m USING (model_id) WHERE m.name = 'lc')
                     EXCEPT ALL (SELECT b::text, count(*) FROM atomic.lc GROUP BY b))
     AND NOT EXISTS ((SELECT b::text, count(*) FROM atomic.lc GROUP BY b)
                     EXCEPT ALL (SELECT mf.batch_value, mf.event_count FROM incmodel.manifest mf
                                 JOIN incmodel.models m USING (model_id) WHERE m.name = 'lc')),
         NOT EXISTS ((SELECT * FROM derived.lc
                      EXCEPT ALL SELECT k, count(*), sum(v) FROM atomic.lc GROUP BY k)
                     UNION ALL (SELECT k, count(*), sum(v) FROM atomic.lc GROUP BY k
                                EXCEPT ALL SELECT * FROM derived.lc)),
         (SELECT events FROM incmodel.runs WHERE model_name = 'lc' ORDER BY run_id DESC LIMIT 1)
$$;
-- one new value per statement, each its own transaction: counted from the log
INSERT INTO atomic.lc VALUES ('a', 1, 1), ('b', 2, 1), ('a', 3, 1);
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
INSERT INTO atomic.lc VALUES ('a', 1, 2), ('c', 2, 2);
INSERT INTO atomic.lc VALUES ('d', 5, 3);
-- explain shows what the run will do: the log's counts, not a count of the source
SELECT detail, sql LIKE '%atomic.lc%' AS reads_source
FROM incmodel.explain('lc') WHERE step_name = 'plan';
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- one value loaded by two statements of one transaction: their ranges are kept as one log row
-- of 5 rows at commit, so the log's count serves (5 rows, not 2 or 3)
BEGIN;
INSERT INTO atomic.lc VALUES ('a', 1, 4), ('e', 1, 4);
INSERT INTO atomic.lc VALUES ('a', 1, 4), ('f', 1, 4), ('f', 1, 4);
COMMIT;
SELECT detail, sql LIKE '%atomic.lc%' AS reads_source
FROM incmodel.explain('lc') WHERE step_name = 'plan';
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- a statement rolled back to a savepoint had noted its rows (and an error caught in a
-- subtransaction may leave rows noted that are gone): the transaction's loads are logged as
-- 'uncounted' and counted in the source (1 row of batch 8, not 3); a later row of batch 8 is new
BEGIN;
SAVEPOINT s;
INSERT INTO atomic.lc VALUES ('r', 1, 8), ('r', 1, 8);
ROLLBACK TO SAVEPOINT s;
INSERT INTO atomic.lc VALUES ('r', 5, 8);
COMMIT;
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
INSERT INTO atomic.lc VALUES ('r', 7, 8);
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- a batch grown after it was processed (in the manifest): recounted, 6 in all
INSERT INTO atomic.lc VALUES ('g', 7, 4);
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- several values in one statement's range: recounted (explain shows the count in the source)
INSERT INTO atomic.lc VALUES ('h', 1, 5), ('h', 1, 6), ('i', 1, 6);
SELECT detail, sql LIKE '%atomic.lc%' AS reads_source
FROM incmodel.explain('lc') WHERE step_name = 'plan';
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- a refresh inside the loading transaction, then more rows of the same value in it
BEGIN;
INSERT INTO atomic.lc VALUES ('j', 1, 7), ('k', 1, 7);
CALL incmodel.refresh('lc');
INSERT INTO atomic.lc VALUES ('j', 2, 7);
COMMIT;
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
-- another model of the source refreshed inside the loading transaction: the log may hold that
-- transaction's range twice (written for that refresh and again at commit), never counted twice
SELECT incmodel.create_model(name => 'lc_other',
  query => 'SELECT k, count(*) AS n FROM atomic.lc GROUP BY k',
  target => 'derived.lc_other', batch_column => 'b') > 0 AS created;
BEGIN;
INSERT INTO atomic.lc VALUES ('l', 1, 8), ('m', 1, 8);
CALL incmodel.refresh('lc_other');
COMMIT;
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
SELECT incmodel.drop_model('lc_other', true);
-- nothing new: a no-op keeps everything
CALL incmodel.refresh('lc');
SELECT * FROM testkit.lc_state();
SELECT outcome, count(*) FROM incmodel.runs WHERE model_name = 'lc' GROUP BY 1 ORDER BY 1;
SELECT incmodel.drop_model('lc', true);
DROP TABLE atomic.lc;
DROP FUNCTION testkit.lc_state();
