-- Query shapes: every model create_model accepts refreshes equal to a full rebuild
-- after several loads; what it cannot keep equal it refuses with a SQLSTATE, detail and hint.
-- One block per shape; the oracle is testkit.diff (0 extra, 0 missing = equal to a rebuild).
SET client_min_messages = warning;
CREATE SCHEMA qs;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
CREATE EXTENSION IF NOT EXISTS ltree SCHEMA public;
-- Only this test's models take part in refresh_all here; the others are enabled again at the end.
CREATE TEMP TABLE qs_disabled AS SELECT name FROM incmodel.models WHERE enabled;
SELECT count(*) >= 0 AS disabled FROM qs_disabled, incmodel.alter_model(name, enabled => false);

-- 1. A citext key: its equality is case-insensitive, so alice@x.com after Alice@X.com is the
-- same key (matched with public.=(citext, citext), not as text).
CREATE TABLE qs.logins (email public.citext, batch int NOT NULL, n int NOT NULL);
CREATE INDEX ON qs.logins (batch);
INSERT INTO qs.logins VALUES ('Alice@X.com', 1, 1), ('bob@y.org', 1, 2), (NULL, 1, 3);
SELECT incmodel.create_model('qs_citext',
  $$ SELECT l.email, count(*) AS logins, sum(l.n) AS total FROM qs.logins l GROUP BY l.email $$,
  'qs.by_email', 'batch') > 0 AS created;
INSERT INTO qs.logins VALUES ('alice@x.com', 2, 10), ('BOB@Y.ORG', 2, 20), (NULL, 2, 5);
SELECT * FROM testkit.refresh_outcome('qs_citext');
INSERT INTO qs.logins VALUES ('ALICE@x.COM', 3, 100), ('carol@z.net', 3, 1);
SELECT * FROM testkit.refresh_outcome('qs_citext');
SELECT lower(email::text) AS email, logins, total FROM qs.by_email ORDER BY 1;

-- 2. An ltree key: its operators are not on the pinned search_path (no implicit cast to text).
CREATE TABLE qs.paths (path public.ltree, batch int NOT NULL);
INSERT INTO qs.paths VALUES ('top.a', 1), ('top.b', 1), ('top.a', 1);
SELECT incmodel.create_model('qs_ltree',
  $$ SELECT p.path, count(*) AS hits FROM qs.paths p GROUP BY p.path $$,
  'qs.by_path', 'batch') > 0 AS created;
INSERT INTO qs.paths VALUES ('top.a', 2), ('top.c.d', 2);
SELECT * FROM testkit.refresh_outcome('qs_ltree');
INSERT INTO qs.paths VALUES ('top.c.d', 3), ('top.b', 3);
SELECT * FROM testkit.refresh_outcome('qs_ltree');
SELECT path::text, hits FROM qs.by_path ORDER BY 1;

-- 3. The clock and the session: a rebuild with no new data would differ, so they are refused.
CREATE TABLE qs.events (event text NOT NULL, payload text, ts timestamptz, batch int NOT NULL);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_now', 'SELECT e.event, max(now() - e.ts) AS age FROM qs.events e GROUP BY e.event', 'qs.t_now', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_today', 'SELECT e.event, count(*) AS n FROM qs.events e WHERE e.ts::date = current_date GROUP BY e.event', 'qs.t_today', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_localts', 'SELECT e.event, max(localtimestamp - e.ts::timestamp) AS age FROM qs.events e GROUP BY e.event', 'qs.t_localts', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_stmt', 'SELECT e.event, min(statement_timestamp()) AS seen FROM qs.events e GROUP BY e.event', 'qs.t_stmt', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_user', 'SELECT e.event, count(*) FILTER (WHERE e.payload = current_user) AS mine FROM qs.events e GROUP BY e.event', 'qs.t_user', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_setting', 'SELECT e.event, count(*) AS n FROM qs.events e WHERE e.payload = current_setting(''application_name'') GROUP BY e.event', 'qs.t_setting', 'batch') $q$);
-- A daily model too (its query goes through the same analysis).
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_daily_now', 'SELECT e.ts::date AS day, count(*) AS n, max(now()) AS at FROM qs.events e GROUP BY e.ts::date', 'qs.t_daily_now', 'batch') $q$);
-- A function declared IMMUTABLE is taken at its word, as before.
CREATE FUNCTION qs.fixed_day() RETURNS date IMMUTABLE LANGUAGE sql AS $$ SELECT date '2024-01-01' $$;
SELECT incmodel.create_model('qs_fixed',
  $$ SELECT e.event, count(*) FILTER (WHERE e.ts::date >= qs.fixed_day()) AS recent FROM qs.events e GROUP BY e.event $$,
  'qs.t_fixed', 'batch') > 0 AS created;
SELECT incmodel.drop_model('qs_fixed');

-- 4. System columns change when rows are rewritten or moved: refused.
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_xmin', 'SELECT e.event, max(e.xmin::text) AS x FROM qs.events e GROUP BY e.event', 'qs.t_xmin', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_tableoid', 'SELECT e.tableoid AS rel, count(*) AS n FROM qs.events e GROUP BY e.tableoid', 'qs.t_tableoid', 'batch') $q$);
SELECT state, message FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs_ctid', 'SELECT e.event, count(*) AS n FROM qs.events e WHERE e.ctid > ''(0,0)'' GROUP BY e.event', 'qs.t_ctid', 'batch') $q$);

-- 5. A key expression that only the rows the WHERE keeps can evaluate: other events' payloads
-- are not JSON, so the keys step and the recompute must not evaluate the key on them.
INSERT INTO qs.events VALUES
  ('login', '{"user": "u1"}', '2024-01-01', 1), ('click', 'not json', '2024-01-01', 1),
  ('login', '{"user": "u2"}', '2024-01-01', 1);
SELECT incmodel.create_model('qs_guarded',
  $$ SELECT (e.payload::jsonb ->> 'user') AS user_id, count(*) AS logins
     FROM qs.events e WHERE e.event = 'login' GROUP BY (e.payload::jsonb ->> 'user') $$,
  'qs.t_guarded', 'batch') > 0 AS created;
INSERT INTO qs.events VALUES
  ('click', '<<also not json>>', '2024-01-02', 2), ('login', '{"user": "u1"}', '2024-01-02', 2),
  ('login', '{}', '2024-01-02', 2);
SELECT * FROM testkit.refresh_outcome('qs_guarded');
INSERT INTO qs.events VALUES ('login', '{"user": "u3"}', '2024-01-03', 3), ('view', '', '2024-01-03', 3);
SELECT * FROM testkit.refresh_outcome('qs_guarded');
SELECT user_id, logins FROM qs.t_guarded ORDER BY 1 NULLS FIRST;
-- The same guarded key in a daily model: its keys step (new rows, and days reprocessed in full
-- when rows arrive behind its limit) evaluates the key only on the rows the WHERE keeps.
SELECT incmodel.create_model(name => 'qs_guarded_days',
  query => $$ SELECT (e.payload::jsonb ->> 'user') AS user_id, e.ts::date AS day, count(*) AS logins
              FROM qs.events e WHERE e.event = 'login' GROUP BY 1, 2 $$,
  target => 'qs.t_guarded_days', load_column => 'ts', start_date => '2024-01-01',
  day_key => 'day', reprocess_days => 1000, min_rows_to_process => 1) > 0 AS created;
INSERT INTO qs.events VALUES ('login', '{"user": "u4"}', '2024-01-04', 4), ('click', 'nope', '2024-01-04', 4);
CALL incmodel.refresh('qs_guarded_days');
SELECT count(*) AS differing_rows FROM (
  (SELECT * FROM qs.t_guarded_days EXCEPT ALL
   SELECT (e.payload::jsonb ->> 'user'), e.ts::date, count(*) FROM qs.events e
   WHERE e.event = 'login' GROUP BY 1, 2)
  UNION ALL
  (SELECT (e.payload::jsonb ->> 'user'), e.ts::date, count(*) FROM qs.events e
   WHERE e.event = 'login' GROUP BY 1, 2
   EXCEPT ALL SELECT * FROM qs.t_guarded_days)) d;

-- 6. A chain of features models: sessions -> users (features) -> a score per user (features
-- over features). Keys are propagated through every level, and refresh_all runs the models in
-- dependency order: qs_a_score sorts first by name but runs after qs_b_users, its input.
CREATE TABLE qs.hits (sess text, user_id text, batch int NOT NULL);
INSERT INTO qs.hits VALUES ('s1', 'u1', 1), ('s1', 'u1', 1), ('s2', 'u2', 1);
SELECT incmodel.create_model('qs_sessions',
  $$ SELECT h.sess, h.user_id, count(*) AS hits FROM qs.hits h GROUP BY h.sess, h.user_id $$,
  'qs.sessions', 'batch') > 0 AS created;
SELECT incmodel.create_model(name => 'qs_b_users',
  query => $$ SELECT s.user_id, count(*) AS sessions, sum(s.hits) AS hits FROM qs.sessions s
              GROUP BY s.user_id $$,
  target => 'qs.users', depends_on => ARRAY['qs_sessions']) > 0 AS created;
SELECT incmodel.create_model(name => 'qs_a_score',
  query => $$ SELECT u.user_id, max(u.hits * 10 + u.sessions) AS score FROM qs.users u
              GROUP BY u.user_id $$,
  target => 'qs.scores', depends_on => ARRAY['qs_b_users']) > 0 AS created;
INSERT INTO qs.hits VALUES ('s3', 'u1', 2), ('s2', 'u2', 2), ('s4', 'u3', 2);
CALL incmodel.refresh_all();
SELECT m, d.* FROM unnest(ARRAY['qs_sessions', 'qs_b_users', 'qs_a_score']) m,
  testkit.diff(m) d;
INSERT INTO qs.hits VALUES ('s1', 'u1', 3), ('s5', NULL, 3);
CALL incmodel.refresh_all();
SELECT m, d.* FROM unnest(ARRAY['qs_sessions', 'qs_b_users', 'qs_a_score']) m,
  testkit.diff(m) d;
SELECT user_id, score FROM qs.scores ORDER BY 1 NULLS FIRST;
SELECT incmodel.drop_model('qs_a_score');
SELECT incmodel.drop_model('qs_b_users');

-- Clean up; the other tests' models are enabled again.
SELECT incmodel.drop_model(name) FROM incmodel.models WHERE name LIKE 'qs\_%' ORDER BY name;
SELECT count(*) >= 0 AS enabled FROM qs_disabled, incmodel.alter_model(name, enabled => true);
DROP SCHEMA qs CASCADE;
RESET client_min_messages;
