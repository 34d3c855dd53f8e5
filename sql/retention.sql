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
  PERFORM incmodel.create_model(model, format('SELECT sid, count(*) AS n FROM %s GROUP BY 1', src),
                                'derived.' || model, 'etl');
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
