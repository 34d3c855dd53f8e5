-- Query shapes, part 3 (the queries analytics engineers write): a deduplicated source (the
-- Snowplow dedupe in a subquery or CTE: ROW_NUMBER() ... = 1, DISTINCT ON) and GROUP BY a
-- dimension's copy of the key (JOIN users u ON u.user_id = e.uid GROUP BY u.user_id). Every
-- accepted model is refreshed after loads with duplicates (within a batch and arriving in later
-- batches, some earlier than the copy kept so far), late events and NULL keys, and compared with
-- a full rebuild each time: testkit.refresh_outcome gives (refresh:success, 0 extra, 0 missing).
-- What cannot stay equal is refused at create_model with a SQLSTATE, a detail and a hint.
SET client_min_messages = warning;
CREATE SCHEMA qs3;
-- Only this test's models take part in refresh_all here; the others are enabled again at the end.
CREATE TEMP TABLE qs3_disabled AS SELECT name FROM incmodel.models WHERE enabled;
SELECT count(*) >= 0 AS disabled FROM qs3_disabled, incmodel.alter_model(name, enabled => false);

CREATE TABLE qs3.ev (event_id text, sid text, uid text, event text NOT NULL, ts timestamp NOT NULL,
                     page text, batch int NOT NULL);
CREATE INDEX ON qs3.ev (batch);
CREATE INDEX ON qs3.ev (sid);
CREATE INDEX ON qs3.ev (uid);
CREATE TABLE qs3.users (user_id text PRIMARY KEY, plan text NOT NULL, big bigint);
INSERT INTO qs3.users VALUES ('u1', 'free', 1), ('u2', 'pro', 2), ('u3', 'pro', 3);
-- Batch 1: two sessions; e2 is delivered twice (the second copy 5 s later, another page).
INSERT INTO qs3.ev VALUES
  ('e1', 's1', 'u1', 'page_view', '2026-03-01 10:00:00', '/a', 1),
  ('e2', 's1', 'u1', 'page_view', '2026-03-01 10:01:00', '/b', 1),
  ('e2', 's1', 'u1', 'page_view', '2026-03-01 10:01:05', '/b-retry', 1),
  ('e3', 's2', 'u2', 'page_view', '2026-03-01 11:00:00', '/a', 1),
  ('e4', 's2', 'u2', 'ping', '2026-03-01 11:00:30', NULL, 1);

-- 1. ROW_NUMBER() = 1 in a subquery, partitioned by the key and the event id. A refresh reads
-- every event of the touched sessions below the window (the restriction is spliced into the
-- subquery's FROM), so the window sees what a rebuild's sees for those sessions. The subquery's
-- own WHERE is the source filter; a second window (lag, for the time since the previous
-- event) is partitioned by the key too.
SELECT incmodel.create_model('qs3_rownum', $$
  SELECT d.sid, count(*) AS events, min(d.ts) AS first_ts, max(d.ts) AS last_ts,
         string_agg(d.page, ',' ORDER BY d.ts) AS pages, max(d.gap) AS longest_gap
  FROM (SELECT e.*, row_number() OVER (PARTITION BY e.sid, e.event_id ORDER BY e.ts) AS n,
               e.ts - lag(e.ts) OVER (PARTITION BY e.sid ORDER BY e.ts) AS gap
        FROM qs3.ev e WHERE e.event <> 'ping') d
  WHERE d.n = 1 GROUP BY d.sid $$, 'qs3.rownum', 'batch') > 0 AS created;
-- The key is the base table's column; the source filter is the subquery's WHERE.
SELECT c.kind, c.name, c.source_expr FROM incmodel.model_columns c JOIN incmodel.models m USING (model_id)
WHERE m.name = 'qs3_rownum' AND c.kind = 'key';
-- The refresh's recompute: the touched keys restrict the source inside the subquery.
SELECT regexp_replace(btrim(line), 'm[0-9]+_', 'm?_', 'g') AS restricted_source
FROM incmodel.explain('qs3_rownum') x, regexp_split_to_table(x.sql, E'\n') line
WHERE x.step_name = 'recompute' AND line LIKE '%EXISTS%';

-- 2. The same dedupe with DISTINCT ON in a CTE (the first copy by time kept).
SELECT incmodel.create_model('qs3_distinct_on', $$
  WITH deduped AS (
    SELECT DISTINCT ON (sid, event_id) sid, event_id, ts, page FROM qs3.ev
    ORDER BY sid, event_id, ts)
  SELECT sid, count(*) AS events, string_agg(page, ',' ORDER BY ts) AS pages
  FROM deduped GROUP BY sid $$, 'qs3.distinct_on', 'batch') > 0 AS created;

-- 3. A dimension's copy of the key: u.user_id = e.uid in every row of the inner join, so the key
-- is e.uid; u.plan rides along. Also as a WHERE equality and through JOIN ... USING.
SELECT incmodel.create_model('qs3_user_plans', $$
  SELECT u.user_id, u.plan, count(*) AS events, count(DISTINCT e.sid) AS sessions
  FROM qs3.ev e JOIN qs3.users u ON u.user_id = e.uid GROUP BY u.user_id, u.plan $$,
  'qs3.user_plans', 'batch') > 0 AS created;
SELECT incmodel.create_model('qs3_user_where', $$
  SELECT u.user_id, max(e.ts) AS last_ts FROM qs3.ev e, qs3.users u WHERE u.user_id = e.uid
  GROUP BY u.user_id $$, 'qs3.user_where', 'batch') > 0 AS created;
CREATE TABLE qs3.plans (uid text PRIMARY KEY, seats int NOT NULL);
INSERT INTO qs3.plans VALUES ('u1', 1), ('u2', 5), ('u4', 9);
SELECT incmodel.create_model('qs3_user_using', $$
  SELECT uid, max(p.seats) AS seats, count(*) AS events FROM qs3.ev e JOIN qs3.plans p USING (uid)
  GROUP BY uid $$, 'qs3.user_using', 'batch') > 0 AS created;
-- A cast makes both sides the key's type: the key is the cast source expression.
SELECT incmodel.create_model('qs3_user_big', $$
  SELECT u.big, count(*) AS events FROM qs3.ev e JOIN qs3.users u ON u.big = right(e.uid, 1)::bigint
  WHERE e.uid ~ '^u[0-9]$' GROUP BY u.big $$, 'qs3.user_big', 'batch') > 0 AS created;
SELECT m.name, c.name AS key, c.type, c.source_expr FROM incmodel.model_columns c
JOIN incmodel.models m USING (model_id) WHERE m.name LIKE 'qs3\_user\_%' AND c.kind = 'key' ORDER BY 1;

-- 4. Both at once: a deduplicating CTE partitioned by the user, joined to the dimension.
SELECT incmodel.create_model('qs3_user_dedupe', $$
  WITH d AS (SELECT e.*, row_number() OVER (PARTITION BY e.uid, e.event_id ORDER BY e.ts) AS n
             FROM qs3.ev e)
  SELECT u.user_id, u.plan, count(*) AS events, min(d.page) AS first_page
  FROM d JOIN qs3.users u ON u.user_id = d.uid WHERE d.n = 1 GROUP BY u.user_id, u.plan $$,
  'qs3.user_dedupe', 'batch') > 0 AS created;

CREATE FUNCTION qs3.refresh_and_diff() RETURNS TABLE (model text, runs text, extra bigint, missing bigint)
LANGUAGE sql AS $$
  SELECT m.name, o.* FROM incmodel.models m, testkit.refresh_outcome(m.name) o
  WHERE m.name LIKE 'qs3\_%' ORDER BY m.name $$;

-- Batch 2: new events; e1 delivered again, later (the kept copy stays); e2 delivered again with
-- an earlier time than both copies so far (the kept copy changes); e5 twice in this batch; a
-- user without a dimension row (u9); a ping.
INSERT INTO qs3.ev VALUES
  ('e1', 's1', 'u1', 'page_view', '2026-03-01 10:00:07', '/a-late-copy', 2),
  ('e2', 's1', 'u1', 'page_view', '2026-03-01 10:00:59', '/b-first', 2),
  ('e5', 's3', 'u3', 'page_view', '2026-03-02 09:00:00', '/c', 2),
  ('e5', 's3', 'u3', 'page_view', '2026-03-02 09:00:02', '/c-retry', 2),
  ('e6', 's4', 'u9', 'page_view', '2026-03-02 09:30:00', '/d', 2),
  ('e7', 's3', 'u3', 'ping', '2026-03-02 09:00:10', NULL, 2);
SELECT * FROM qs3.refresh_and_diff();
-- Batch 3: late events of old sessions, events without a session or a user (NULL keys), a
-- duplicate of a NULL-session event, and late duplicates of e3 and e5.
INSERT INTO qs3.ev VALUES
  ('e8', 's2', 'u2', 'page_view', '2026-03-01 11:05:00', '/late', 3),
  ('e9', NULL, 'u1', 'page_view', '2026-03-03 08:00:00', '/nosession', 3),
  ('e9', NULL, 'u1', 'page_view', '2026-03-03 08:00:01', '/nosession-retry', 3),
  ('e10', 's5', NULL, 'page_view', '2026-03-03 08:10:00', '/nouser', 3),
  ('e3', 's2', 'u2', 'page_view', '2026-03-01 10:59:59', '/a-earlier', 3),
  ('e5', 's3', 'u3', 'page_view', '2026-03-02 09:00:05', '/c-again', 3);
SELECT * FROM qs3.refresh_and_diff();
-- Batch 1 grows after it was processed (an event loaded late under an old batch value), and a
-- batch of duplicates only.
INSERT INTO qs3.ev VALUES ('e11', 's1', 'u2', 'page_view', '2026-03-01 10:02:00', '/e', 1);
INSERT INTO qs3.ev SELECT event_id, sid, uid, event, ts + interval '1 minute', page || '-dup', 4
FROM qs3.ev WHERE batch = 2;
SELECT * FROM qs3.refresh_and_diff();
-- UPDATE and DELETE: the deleted copy of e2 was the one kept; the next one takes its place.
DELETE FROM qs3.ev WHERE event_id = 'e2' AND page = '/b-first';
UPDATE qs3.ev SET ts = ts - interval '1 hour' WHERE event_id = 'e6';
SELECT * FROM qs3.refresh_and_diff();
SELECT sid, events, first_ts, last_ts, pages, longest_gap FROM qs3.rownum ORDER BY sid NULLS FIRST;
SELECT sid, events, pages FROM qs3.distinct_on ORDER BY sid NULLS FIRST;
SELECT user_id, plan, events, sessions FROM qs3.user_plans ORDER BY user_id;
SELECT user_id, plan, events, first_page FROM qs3.user_dedupe ORDER BY user_id;
SELECT uid, seats, events FROM qs3.user_using ORDER BY uid;
SELECT big, events FROM qs3.user_big ORDER BY big;
-- verify() agrees, and a rebuild changes nothing.
SELECT m.name, v.result FROM incmodel.models m, incmodel.verify(m.name) v
WHERE m.name LIKE 'qs3\_%' ORDER BY 1;
SELECT testkit.fingerprint('qs3.rownum') AS before_rebuild \gset
SELECT incmodel.rebuild('qs3_rownum') AS rebuilt_rows;
SELECT testkit.fingerprint('qs3.rownum') = :'before_rebuild' AS rebuild_unchanged;

-- Renames are followed: the base table and the column the dedupe partitions by renamed, the
-- models refresh (the stored query is rendered with the new names, inside the subquery too)
-- and equal their queries written with the new names.
CREATE FUNCTION qs3.diff_query(t regclass, q text, OUT extra bigint, OUT missing bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL (%s)) x', t, q) INTO extra;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL SELECT * FROM %s) x', q, t) INTO missing;
END $$;
ALTER TABLE qs3.ev RENAME COLUMN sid TO session_id;
ALTER TABLE qs3.ev RENAME TO events;
INSERT INTO qs3.events VALUES ('e12', 's1', 'u1', 'page_view', '2026-03-01 09:59:00', '/first', 5),
  ('e12', 's1', 'u1', 'page_view', '2026-03-01 09:59:01', '/first-retry', 5);
CALL incmodel.refresh('qs3_rownum');
CALL incmodel.refresh('qs3_distinct_on');
SELECT * FROM qs3.diff_query('qs3.rownum', $$
  SELECT d.session_id AS sid, count(*) AS events, min(d.ts) AS first_ts, max(d.ts) AS last_ts,
         string_agg(d.page, ',' ORDER BY d.ts) AS pages, max(d.gap) AS longest_gap
  FROM (SELECT e.*, row_number() OVER (PARTITION BY e.session_id, e.event_id ORDER BY e.ts) AS n,
               e.ts - lag(e.ts) OVER (PARTITION BY e.session_id ORDER BY e.ts) AS gap
        FROM qs3.events e WHERE e.event <> 'ping') d
  WHERE d.n = 1 GROUP BY d.session_id $$);
SELECT * FROM qs3.diff_query('qs3.distinct_on', $$
  WITH deduped AS (
    SELECT DISTINCT ON (session_id, event_id) session_id, event_id, ts, page FROM qs3.events
    ORDER BY session_id, event_id, ts)
  SELECT session_id AS sid, count(*) AS events, string_agg(page, ',' ORDER BY ts) AS pages
  FROM deduped GROUP BY session_id $$);
SELECT sid, events, pages FROM qs3.rownum WHERE sid = 's1';
ALTER TABLE qs3.events RENAME TO ev;
ALTER TABLE qs3.ev RENAME COLUMN session_id TO sid;

-- 5. Refused: a dedupe that compares events of several keys. PARTITION BY event_id alone puts
-- copies of an event from two sessions in one partition: recomputing one session would see
-- fewer copies than a rebuild (so another copy could win). The hint shows the supported form.
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, count(*) AS events
    FROM (SELECT e.*, row_number() OVER (PARTITION BY e.event_id ORDER BY e.ts) AS n FROM qs3.ev e) d
    WHERE d.n = 1 GROUP BY d.sid $$, 'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    WITH d AS (SELECT DISTINCT ON (event_id) * FROM qs3.ev ORDER BY event_id, ts)
    SELECT d.sid, count(*) AS events FROM d GROUP BY d.sid $$, 'qs3.bad', 'batch') $q$);
-- a window without PARTITION BY (a rank over all events)
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, max(d.r) AS top FROM (SELECT e.sid, rank() OVER (ORDER BY e.ts) AS r FROM qs3.ev e) d
    GROUP BY d.sid $$, 'qs3.bad', 'batch') $q$);
-- a multi-part key needs every part in the partition
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, d.uid, count(*) AS events
    FROM (SELECT e.*, row_number() OVER (PARTITION BY e.sid, e.event_id ORDER BY e.ts) AS n FROM qs3.ev e) d
    WHERE d.n = 1 GROUP BY d.sid, d.uid $$, 'qs3.bad', 'batch') $q$);
-- LIMIT, aggregation, a CTE read twice, a CTE read by another CTE
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, count(*) AS events FROM (SELECT * FROM qs3.ev ORDER BY ts LIMIT 100) d
    GROUP BY d.sid $$, 'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, sum(d.n) AS events FROM (SELECT sid, count(*) AS n FROM qs3.ev GROUP BY sid) d
    GROUP BY d.sid $$, 'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    WITH d AS (SELECT * FROM qs3.ev)
    SELECT a.sid, count(*) AS pairs FROM d a JOIN d b ON b.sid = a.sid GROUP BY a.sid $$,
    'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    WITH d AS (SELECT DISTINCT ON (sid, event_id) * FROM qs3.ev ORDER BY sid, event_id, ts),
         v AS (SELECT * FROM d WHERE event = 'page_view')
    SELECT v.sid, count(*) AS views FROM v GROUP BY v.sid $$, 'qs3.bad', 'batch') $q$);
-- the source on the nullable side of an outer join inside the subquery; a LATERAL subquery
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, count(*) AS events
    FROM (SELECT e.* FROM qs3.users u LEFT JOIN qs3.ev e ON e.uid = u.user_id) d GROUP BY d.sid $$,
    'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT d.sid, count(*) AS events
    FROM qs3.users u, LATERAL (SELECT * FROM qs3.ev e WHERE e.uid = u.user_id) d GROUP BY d.sid $$,
    'qs3.bad', 'batch') $q$);
-- Refused: a dimension's column equated to the source only by a LEFT JOIN whose ON has another
-- condition (events of users without a matching row all group under NULL, and a user row can
-- fail to match; with the equality alone the key is read through the dimension: sql/stitching.sql),
-- or by a comparison across types.
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT u.user_id, count(*) AS events FROM qs3.ev e LEFT JOIN qs3.users u ON u.user_id = e.uid
      AND u.plan IS NOT NULL
    GROUP BY u.user_id $$, 'qs3.bad', 'batch') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs3_bad', $$
    SELECT u.big, count(*) AS events FROM qs3.ev e JOIN qs3.users u ON u.big = length(e.uid)
    GROUP BY u.big $$, 'qs3.bad', 'batch') $q$);
-- Refused: time-based models over a subquery (they count rows by load time themselves).
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model(name => 'qs3_bad', query => $$
    SELECT d.sid, d.ts::date AS day, count(*) AS events
    FROM (SELECT DISTINCT ON (sid, ts::date, event_id) * FROM qs3.ev ORDER BY sid, ts::date, event_id, ts) d
    GROUP BY 1, 2 $$, target => 'qs3.bad', load_column => 'ts', start_date => '2026-01-01',
    day_key => 'day') $q$);
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model(name => 'qs3_bad', query => $$
    SELECT d.event_id, d.page FROM (SELECT * FROM qs3.ev WHERE event = 'page_view') d $$,
    target => 'qs3.bad', load_column => 'ts', start_date => '2026-01-01', strategy => 'append',
    event_key => 'event_id') $q$);
-- Refused: a features model reading its input's target in a subquery.
SELECT state, message, detail, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model(name => 'qs3_bad', query => $$
    SELECT r.sid, max(r.events) AS events FROM (SELECT * FROM qs3.rownum) r GROUP BY r.sid $$,
    target => 'qs3.bad', depends_on => ARRAY['qs3_rownum']) $q$);
SELECT count(*) AS refused_models FROM incmodel.models WHERE name = 'qs3_bad';

SELECT incmodel.drop_model(name) FROM incmodel.models WHERE name LIKE 'qs3\_%' ORDER BY name;
SELECT count(*) >= 0 AS enabled FROM qs3_disabled, incmodel.alter_model(name, enabled => true);
DROP SCHEMA qs3 CASCADE;
RESET client_min_messages;
