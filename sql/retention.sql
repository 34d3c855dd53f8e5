-- Retention deletes old events only after every model reading the source processed them.
CREATE TABLE atomic.ret (sid text, ts timestamp NOT NULL, etl timestamp NOT NULL);
CREATE INDEX ON atomic.ret (etl);
INSERT INTO atomic.ret
SELECT 's' || (g % 5), now() - interval '40 days' + g * interval '1 minute', date_trunc('hour', now() - interval '40 days')
FROM generate_series(1, 50) g;
INSERT INTO atomic.ret
SELECT 's' || (g % 5), now() - interval '1 day' + g * interval '1 minute', date_trunc('hour', now() - interval '1 day')
FROM generate_series(1, 20) g;
SELECT incmodel.create_model('ret_a', 'SELECT sid, count(*) AS n FROM atomic.ret GROUP BY 1',
                             'derived.ret_a', 'etl') > 0 AS created;
SELECT incmodel.create_model('ret_b', 'SELECT sid, max(ts) AS last_ts FROM atomic.ret GROUP BY 1',
                             'derived.ret_b', 'etl') > 0 AS created;
SELECT incmodel.set_retention('atomic.ret', '30 days', 'ts', chunk_rows => 7);
SELECT source, keep, time_column, chunk_rows FROM incmodel.retention;
-- A late event under the old batch: ret_a processes it, ret_b lags behind, so nothing goes.
INSERT INTO atomic.ret VALUES ('s9', now() - interval '39 days', date_trunc('hour', now() - interval '40 days'));
CALL incmodel.refresh('ret_a');
CALL incmodel.apply_retention();
SELECT count(*) AS old_events_kept FROM atomic.ret WHERE ts < now() - interval '30 days';
-- Once every model has processed the batch, it is deleted in chunks, and logged.
CALL incmodel.refresh('ret_b');
CALL incmodel.apply_retention('atomic.ret');
SELECT count(*) AS old_events_left, count(*) FILTER (WHERE ts >= now() - interval '30 days') AS recent_kept
FROM atomic.ret;
SELECT relation, action, runner, rows_removed, reason FROM incmodel.maintenance_log WHERE action = 'retention';
SELECT m.name, count(mf.*) AS manifest_batches
FROM incmodel.models m LEFT JOIN incmodel.manifest mf USING (model_id)
WHERE m.name LIKE 'ret_%' GROUP BY 1 ORDER BY 1;
-- Derived tables keep what they had; a later event with the expired batch value is new again.
SELECT * FROM derived.ret_a ORDER BY sid;
INSERT INTO atomic.ret VALUES ('s1', now(), date_trunc('hour', now() - interval '40 days'));
CALL incmodel.refresh('ret_a');
SELECT outcome, batches FROM incmodel.runs WHERE model_name = 'ret_a' ORDER BY run_id DESC LIMIT 1;
-- Only the source's owner may set retention; bad arguments are refused.
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret', '-1 day', 'ts')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret', '1 day', 'sid')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret', '1 day', 'nope')$$);
SELECT incmodel.set_retention('atomic.ret', NULL);
SELECT count(*) AS rules FROM incmodel.retention;
SELECT incmodel.drop_model('ret_a', true);
SELECT incmodel.drop_model('ret_b', true);
DROP TABLE atomic.ret;
