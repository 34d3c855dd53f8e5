-- Retention deletes old events only after every model reading the source processed them.
-- Retention refuses a source read by a model that could recompute a key from events it deleted,
-- so these models are bounded: a touched key is recomputed from the events of its
-- window on ts only. They are built under a 60-day window (so they process the 40-day-old
-- batch), then narrowed to 30 days, no longer than keep.
CREATE TABLE atomic.ret (sid text, ts timestamp NOT NULL, etl timestamp NOT NULL);
CREATE INDEX ON atomic.ret (etl);
INSERT INTO atomic.ret
SELECT 's' || (g % 5), now() - interval '40 days' + g * interval '1 minute', date_trunc('hour', now() - interval '40 days')
FROM generate_series(1, 50) g;
INSERT INTO atomic.ret
SELECT 's' || (g % 5), now() - interval '1 day' + g * interval '1 minute', date_trunc('hour', now() - interval '1 day')
FROM generate_series(1, 20) g;
SELECT incmodel.create_model('ret_a', 'SELECT sid, count(*) AS n FROM atomic.ret GROUP BY 1',
                             'derived.ret_a', 'etl', window_column => 'ts', lookback => '60 days',
                             bounded_recompute => true) > 0 AS created;
SELECT incmodel.create_model('ret_b', 'SELECT sid, max(ts) AS last_ts FROM atomic.ret GROUP BY 1',
                             'derived.ret_b', 'etl', window_column => 'ts', lookback => '60 days',
                             bounded_recompute => true) > 0 AS created;
-- A late event under the old batch: ret_a processes it, ret_b lags behind.
INSERT INTO atomic.ret VALUES ('s9', now() - interval '39 days', date_trunc('hour', now() - interval '40 days'));
CALL incmodel.refresh('ret_a');
-- Refused while a model's window is longer than keep (SQLSTATE 55000, naming the model).
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret', '30 days', 'ts', chunk_rows => 7)$$);
SELECT incmodel.alter_model(m, lookback => '30 days') FROM unnest(ARRAY['ret_a', 'ret_b']) m;
SELECT incmodel.set_retention('atomic.ret', '30 days', 'ts', chunk_rows => 7);
SELECT source, keep, time_column, chunk_rows FROM incmodel.retention;
-- ret_b lags behind, so nothing goes.
CALL incmodel.apply_retention();
SELECT count(*) AS old_events_kept FROM atomic.ret WHERE ts < now() - interval '30 days';
-- ret_b catches up under its 60-day window again; meanwhile a pass refuses the source (a
-- WARNING, logged, nothing deleted).
SELECT incmodel.alter_model('ret_b', lookback => '60 days');
CALL incmodel.apply_retention('atomic.ret');
CALL incmodel.refresh('ret_b');
SELECT incmodel.alter_model('ret_b', lookback => '30 days');
-- Once every model has processed the batch, it is deleted in chunks, and logged.
CALL incmodel.apply_retention('atomic.ret');
SELECT count(*) AS old_events_left, count(*) FILTER (WHERE ts >= now() - interval '30 days') AS recent_kept
FROM atomic.ret;
SELECT relation, action, runner, rows_removed, reason, error FROM incmodel.maintenance_log WHERE action = 'retention' ORDER BY id;
SELECT m.name, count(mf.*) AS manifest_batches
FROM incmodel.models m LEFT JOIN incmodel.manifest mf USING (model_id)
WHERE m.name LIKE 'ret_%' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS expiring_left FROM incmodel.retention_expiring;
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

-- Retention deletes as the source's owner, in a security-restricted operation: a superuser's
-- apply_retention() lends its rights to none of the owner's triggers (deferred ones included).
-- Sources are named by OID under a pinned search_path (one in public, named unqualified here,
-- is cleaned), and one source's failure is logged while the sources after it are still cleaned.
CREATE PROCEDURE testkit.ret_source(src text, model text) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %s (sid text, ts timestamp NOT NULL, etl timestamp NOT NULL)', src);
  EXECUTE format($q$INSERT INTO %s SELECT 's' || (g %% 3), now() - interval '40 days' + g * interval '1 minute',
                    date_trunc('hour', now() - interval '40 days') FROM generate_series(1, 6) g$q$, src);
  EXECUTE format($q$INSERT INTO %s VALUES ('new', now(), date_trunc('hour', now()))$q$, src);
  -- A bounded model, built under a 60-day window, then narrowed to keep (see above).
  PERFORM incmodel.create_model(model, format('SELECT sid, count(*) AS n FROM %s GROUP BY 1', src),
                                'derived.' || model, 'etl', window_column => 'ts',
                                lookback => '60 days', bounded_recompute => true);
  PERFORM incmodel.alter_model(model, lookback => '30 days');
  PERFORM incmodel.set_retention(src::regclass, '30 days', 'ts');
END $$;
CREATE SCHEMA stage;
SET client_min_messages = warning;  -- no "no index" notices
CALL testkit.ret_source('atomic.ret_sec', 'ret_sec');
CALL testkit.ret_source('ret_pub', 'ret_pub');
CALL testkit.ret_source('stage.ret_bad', 'ret_bad');
CALL testkit.ret_source('stage.ret_last', 'ret_last');
RESET client_min_messages;
SELECT source, keep FROM incmodel.retention ORDER BY source::text;
-- atomic.ret_sec belongs to an unprivileged role; its triggers record who they run as and
-- whether they may read pg_authid (superusers only).
CREATE ROLE ret_owner;
GRANT USAGE ON SCHEMA atomic, incmodel, testkit TO ret_owner;
ALTER TABLE atomic.ret_sec OWNER TO ret_owner;
CREATE TABLE atomic.ret_seen (trigger_name text, who text, pg_authid text);
GRANT INSERT ON atomic.ret_seen TO PUBLIC;
CREATE FUNCTION atomic.ret_seen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r text := 'read';
BEGIN
  BEGIN
    PERFORM count(*) FROM pg_catalog.pg_authid;
  EXCEPTION WHEN insufficient_privilege THEN r := 'denied';
  END;
  INSERT INTO atomic.ret_seen VALUES (TG_NAME, current_user, r);
  RETURN NULL;
END $$;
CREATE TRIGGER ret_seen_stmt AFTER DELETE ON atomic.ret_sec
  FOR EACH STATEMENT EXECUTE FUNCTION atomic.ret_seen();
CREATE CONSTRAINT TRIGGER ret_seen_deferred AFTER DELETE ON atomic.ret_sec
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION atomic.ret_seen();
-- stage.ret_bad's DELETE trigger raises.
CREATE FUNCTION stage.ret_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ret_bad refuses to delete'; END $$;
CREATE TRIGGER ret_refuse BEFORE DELETE ON stage.ret_bad
  FOR EACH ROW EXECUTE FUNCTION stage.ret_refuse();
-- A superuser applies every rule.
SELECT current_user = 'ret_owner' AS caller_is_owner, rolsuper AS caller_is_superuser
FROM pg_roles WHERE rolname = current_user;
CALL incmodel.apply_retention();
SELECT trigger_name, who, pg_authid, count(*) FROM atomic.ret_seen GROUP BY 1, 2, 3 ORDER BY 1;
SELECT 'atomic.ret_sec' AS source, count(*) FILTER (WHERE ts < now() - interval '30 days') AS old_left,
       count(*) AS total FROM atomic.ret_sec
UNION ALL SELECT 'ret_pub', count(*) FILTER (WHERE ts < now() - interval '30 days'), count(*) FROM ret_pub
UNION ALL SELECT 'stage.ret_bad', count(*) FILTER (WHERE ts < now() - interval '30 days'), count(*) FROM stage.ret_bad
UNION ALL SELECT 'stage.ret_last', count(*) FILTER (WHERE ts < now() - interval '30 days'), count(*) FROM stage.ret_last;
SELECT relation, runner, rows_removed, error FROM incmodel.maintenance_log
WHERE action = 'retention' AND relid IN ('atomic.ret_sec'::regclass, 'ret_pub'::regclass,
                                         'stage.ret_bad'::regclass, 'stage.ret_last'::regclass)
ORDER BY id;
-- In a transaction block (atomic: no commit between chunks) a failure is contained the same way.
BEGIN;
CALL incmodel.apply_retention('stage.ret_bad');
SELECT count(*) AS ret_bad_events FROM stage.ret_bad;
COMMIT;
SELECT count(*) FILTER (WHERE error IS NOT NULL) AS ret_bad_failures FROM incmodel.maintenance_log
WHERE action = 'retention' AND relid = 'stage.ret_bad'::regclass;
-- Another role may apply the retention of its own sources only.
SET ROLE ret_owner;
SELECT * FROM testkit.error_of($$CALL incmodel.apply_retention('ret_pub')$$);
RESET ROLE;
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['ret_sec', 'ret_pub', 'ret_bad', 'ret_last']) m;
SELECT incmodel.set_retention(s::regclass, NULL)
FROM unnest(ARRAY['atomic.ret_sec', 'ret_pub', 'stage.ret_bad', 'stage.ret_last']) s;
DROP TABLE atomic.ret_sec, atomic.ret_seen, ret_pub;
DROP FUNCTION atomic.ret_seen();
DROP SCHEMA stage CASCADE;
DROP PROCEDURE testkit.ret_source(text, text);
REVOKE USAGE ON SCHEMA atomic, incmodel, testkit FROM ret_owner;
DROP ROLE ret_owner;

-- Retention refuses a model whose recompute could read an event it deleted (SQLSTATE 55000, the
-- model named in the detail, a hint): a batch model without bounded_recompute, one whose window
-- is on another column than retention's, a daily model whose late rows reprocess event days
-- further back than keep. set_retention refuses; a pass refuses a source such a model came to
-- read since (a WARNING, logged, nothing deleted).
CREATE TABLE atomic.ret_rule (sid text, ts timestamp NOT NULL, etl timestamp NOT NULL);
INSERT INTO atomic.ret_rule
SELECT 's' || (g % 3), now() - interval '40 days', date_trunc('hour', now() - interval '40 days')
FROM generate_series(1, 6) g;
SET client_min_messages = warning;
SELECT incmodel.create_model('ret_all', 'SELECT sid, count(*) AS n FROM atomic.ret_rule GROUP BY 1',
                             'derived.ret_all', 'etl') > 0 AS created;
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret_rule', '30 days', 'ts')$$);
SELECT incmodel.drop_model('ret_all', true);
SELECT incmodel.create_model('ret_win', 'SELECT sid, count(*) AS n FROM atomic.ret_rule GROUP BY 1',
                             'derived.ret_win', 'etl', window_column => 'ts', lookback => '7 days',
                             bounded_recompute => true) > 0 AS created;
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret_rule', '30 days', 'etl')$$);
SELECT incmodel.set_retention('atomic.ret_rule', '30 days', 'ts');
SELECT incmodel.create_model('ret_all', 'SELECT sid, count(*) AS n FROM atomic.ret_rule GROUP BY 1',
                             'derived.ret_all', 'etl') > 0 AS created;
RESET client_min_messages;
CALL incmodel.apply_retention('atomic.ret_rule');
SELECT count(*) AS ret_rule_events FROM atomic.ret_rule;
SELECT error FROM incmodel.maintenance_log WHERE relid = 'atomic.ret_rule'::regclass;
SELECT incmodel.set_retention('atomic.ret_rule', NULL);
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['ret_all', 'ret_win']) m;
DROP TABLE atomic.ret_rule;
-- A daily model reprocesses whole event days up to reprocess_days + 1 days back.
CREATE TABLE atomic.ret_days (uid text, ts timestamp NOT NULL, load_ts timestamp NOT NULL);
SET client_min_messages = warning;
SELECT incmodel.create_model(name => 'ret_day',
  query => 'SELECT uid, ts::date AS day, count(*) AS n FROM atomic.ret_days GROUP BY 1, 2',
  target => 'derived.ret_day', load_column => 'load_ts', start_date => now() - interval '1 day',
  day_key => 'day', reprocess_days => 2) > 0 AS created;
RESET client_min_messages;
SELECT * FROM testkit.error_of($$SELECT incmodel.set_retention('atomic.ret_days', '2 days', 'ts')$$);
SELECT incmodel.set_retention('atomic.ret_days', '3 days', 'ts');
SELECT incmodel.set_retention('atomic.ret_days', NULL);
SELECT incmodel.drop_model('ret_day', true);
DROP TABLE atomic.ret_days;

-- An interrupted pass. atomic.ret_int's events are copied, as they are
-- inserted, to atomic.ret_twin, which has no retention: the oracle is the same model over the
-- twin (retention must change no target). A BEFORE DELETE trigger on ret_int (a fuse) fails the
-- 13th deletion: with chunks of 4 rows the pass commits three chunks (batch A gone, 2 events of
-- batch B) and fails in the fourth.
CREATE TABLE atomic.ret_int (sid text, ts timestamp NOT NULL, etl timestamp NOT NULL);
CREATE TABLE atomic.ret_twin (LIKE atomic.ret_int);
CREATE FUNCTION atomic.ret_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO atomic.ret_twin VALUES (NEW.*); RETURN NULL; END $$;
CREATE TRIGGER ret_copy AFTER INSERT ON atomic.ret_int FOR EACH ROW EXECUTE FUNCTION atomic.ret_copy();
CREATE TABLE atomic.ret_fuse (left_rows int);
INSERT INTO atomic.ret_fuse VALUES (12);
CREATE FUNCTION atomic.ret_fuse() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k int;
BEGIN
  UPDATE atomic.ret_fuse SET left_rows = left_rows - 1 RETURNING left_rows INTO k;
  IF k < 0 THEN RAISE EXCEPTION 'the fuse blew'; END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER ret_fuse BEFORE DELETE ON atomic.ret_int FOR EACH ROW EXECUTE FUNCTION atomic.ret_fuse();
CREATE TABLE atomic.ret_marks AS
SELECT date_trunc('hour', now() - interval '40 days') AS a, date_trunc('hour', now() - interval '39 days') AS b,
       date_trunc('hour', now() - interval '1 day') AS c;
INSERT INTO atomic.ret_int
SELECT 's' || (g % 3), now() - interval '40 days' + g * interval '1 minute', a FROM atomic.ret_marks, generate_series(1, 10) g;
INSERT INTO atomic.ret_int
SELECT 's' || (g % 3), now() - interval '39 days' + g * interval '1 minute', b FROM atomic.ret_marks, generate_series(1, 10) g;
INSERT INTO atomic.ret_int
SELECT 's' || (g % 4), now() - interval '1 day' + g * interval '1 minute', c FROM atomic.ret_marks, generate_series(1, 8) g;
SET client_min_messages = warning;
SELECT incmodel.create_model(m, format('SELECT sid, count(*) AS n, max(ts) AS last_ts FROM %s GROUP BY 1', s),
                             'derived.' || m, 'etl', window_column => 'ts', lookback => '60 days',
                             bounded_recompute => true) > 0 AS created
FROM (VALUES ('ret_int_m', 'atomic.ret_int'), ('ret_twin_m', 'atomic.ret_twin')) v(m, s);
SELECT incmodel.alter_model(m, lookback => '30 days') FROM unnest(ARRAY['ret_int_m', 'ret_twin_m']) m;
RESET client_min_messages;
SELECT incmodel.set_retention('atomic.ret_int', '30 days', 'ts', chunk_rows => 4);
CREATE FUNCTION testkit.ret_twin_diff() RETURNS TABLE (side text, sid text, n bigint) LANGUAGE sql AS $$
  (SELECT 'retained', * FROM (SELECT sid, n FROM derived.ret_int_m EXCEPT SELECT sid, n FROM derived.ret_twin_m) x)
  UNION ALL
  (SELECT 'twin', * FROM (SELECT sid, n FROM derived.ret_twin_m EXCEPT SELECT sid, n FROM derived.ret_int_m) y)
  ORDER BY 1, 2 $$;
CALL incmodel.apply_retention('atomic.ret_int');
SELECT count(*) FILTER (WHERE etl = a) AS a_left, count(*) FILTER (WHERE etl = b) AS b_left,
       count(*) FILTER (WHERE etl = c) AS c_left
FROM atomic.ret_int, atomic.ret_marks;
-- The batches the pass was expiring stay marked; a refresh leaves them out (no rebuild).
SELECT m.name, count(*) AS expiring FROM incmodel.retention_expiring x JOIN incmodel.models m USING (model_id)
GROUP BY 1;
INSERT INTO atomic.ret_int SELECT 's1', now(), a FROM atomic.ret_marks;  -- under the expiring batch A
INSERT INTO atomic.ret_int VALUES ('s7', now(), date_trunc('hour', now()));  -- a new batch
CALL incmodel.refresh('ret_int_m');
CALL incmodel.refresh('ret_twin_m');
SELECT model_name, kind, outcome, batches FROM incmodel.runs WHERE model_name LIKE 'ret_%_m'
ORDER BY run_id DESC LIMIT 2;
-- The event under A waits for the pass to be finished: only s1 differs from the twin.
SELECT * FROM testkit.ret_twin_diff();
-- The next pass finishes the interrupted one first: no event older than keep is left, the
-- expired batches leave the manifest and the marks, the later event under A stays.
UPDATE atomic.ret_fuse SET left_rows = 1000;
CALL incmodel.apply_retention('atomic.ret_int');
SELECT count(*) FILTER (WHERE etl = a) AS a_left, count(*) FILTER (WHERE etl = b) AS b_left,
       count(*) FILTER (WHERE etl = c) AS c_left
FROM atomic.ret_int, atomic.ret_marks;
SELECT rows_removed, reason, error IS NOT NULL AS failed FROM incmodel.maintenance_log
WHERE relid = 'atomic.ret_int'::regclass ORDER BY id;
SELECT count(*) AS expiring_left FROM incmodel.retention_expiring;
-- The later event under A is a new batch: processed, and the target equals the twin's.
CALL incmodel.refresh('ret_int_m');
SELECT model_name, kind, outcome, batches, events FROM incmodel.runs WHERE model_name = 'ret_int_m'
ORDER BY run_id DESC LIMIT 1;
SELECT * FROM testkit.ret_twin_diff();
SELECT mf.batch_value::timestamp = a AS is_a, mf.batch_value::timestamp = b AS is_b, mf.event_count
FROM incmodel.manifest mf JOIN incmodel.models m USING (model_id), atomic.ret_marks
WHERE m.name = 'ret_int_m' AND mf.batch_value::timestamp IN (a, b);
SELECT incmodel.set_retention('atomic.ret_int', NULL);
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['ret_int_m', 'ret_twin_m']) m;
DROP TABLE atomic.ret_int, atomic.ret_twin, atomic.ret_fuse, atomic.ret_marks;
DROP FUNCTION atomic.ret_copy(), atomic.ret_fuse(), testkit.ret_twin_diff();
