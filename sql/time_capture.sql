-- Time-based models never lose a row silently. The source carries the
-- change-log triggers on the load column; each run records its snapshot, and the next run reads
-- the log rows of the transactions that snapshot could not see:
--   * rows committed behind the limit (stamped in another TimeZone, or by hand at or below the
--     limit) are included: their event days are reprocessed in full (daily), their event keys
--     recomputed (append), with a NOTICE and runs.rows_behind_limit;
--   * rows no range can place (NULL load value, loaded before start_date) raise a WARNING and
--     are counted in status.unplaced_rows;
--   * an UPDATE or DELETE reprocesses every day / event key up to the limit.
-- The oracle: testkit.daily_check (a rebuild over the rows loaded up to the limit, and the
-- ledger) for daily models, incmodel.verify for the append model. Output is independent of the
-- time of day. (Concurrent loaders: test/isolation/specs/time_capture_inflight.spec.)
CREATE SCHEMA tcap;
CREATE TABLE tcap.ev (uid text, ev timestamp, load_tstamp timestamp);
CREATE INDEX ON tcap.ev (load_tstamp);
-- n rows stamped at load (clock_timestamp()), events over the last three days.
CREATE FUNCTION tcap.load(n int, tag text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO tcap.ev SELECT tag || (g % 7), now()::timestamp - (g % 3) * interval '1 day',
                             clock_timestamp() FROM generate_series(1, n) g $$;
SELECT tcap.load(120, 'a');
SELECT now() - interval '10 days' AS start_date \gset
SELECT incmodel.create_model(
  name => 'tc_days',
  query => $$ SELECT uid, ev::date AS day, count(*) AS events FROM tcap.ev GROUP BY 1, 2 $$,
  target => 'tcap.days', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 1, min_rows_to_process => 1000) > 0 AS created;
-- the capture triggers are on the source, and the model uses the log
SELECT tgname ~ '^incmodel_(rows|changes)_' OR tgname IN ('incmodel_mods', 'incmodel_truncate', 'incmodel_upd', 'incmodel_del') AS ours,
       count(*) FROM pg_trigger WHERE tgrelid = 'tcap.ev'::regclass GROUP BY 1;
SELECT change_log, planned_snapshot IS NOT NULL AS snapshot_recorded FROM incmodel.models
WHERE name = 'tc_days';
SELECT testkit.daily_check('tc_days', 'after create');

-- Item 9: a loader in a TimeZone behind the model's stamps a timestamp column with its wall
-- clock: below the limit the last run reached.
SET TimeZone = 'Etc/GMT+12';
INSERT INTO tcap.ev SELECT 'tz' || (g % 3), now()::timestamp - interval '2 days', now()::timestamp
FROM generate_series(1, 25) g;
RESET TimeZone;
SELECT max(e.load_tstamp) < m.upper_limit::timestamp AS stamped_behind_limit
FROM tcap.ev e, incmodel.models m WHERE e.uid LIKE 'tz%' AND m.name = 'tc_days' GROUP BY m.upper_limit;
CALL incmodel.refresh('tc_days');
SELECT outcome, rows_behind_limit, rows_unplaced, days_reprocessed FROM incmodel.runs
WHERE model_name = 'tc_days' ORDER BY run_id DESC LIMIT 1;
SELECT sum(events) AS tz_rows_modelled FROM tcap.days WHERE uid LIKE 'tz%';
SELECT testkit.daily_check('tc_days', 'rows stamped in another TimeZone');

-- Item 12: rows loaded with a stamp at or below the current limit: processed late (their days
-- reprocessed in full, so the ledger stays exact).
SELECT upper_limit::timestamp AS lim FROM incmodel.models WHERE name = 'tc_days' \gset
SELECT tcap.load(30, 'b');
INSERT INTO tcap.ev SELECT 'old' || (g % 2), now()::timestamp - interval '4 days',
                           CASE WHEN g = 1 THEN :'lim'::timestamp ELSE :'lim'::timestamp - interval '1 day' END
FROM generate_series(1, 10) g;
CALL incmodel.refresh('tc_days');
-- (rows_behind_limit counts every row in the load ranges those transactions logged: here the
-- earlier loads stamped within the last day as well; days_reprocessed depends on the time of day)
SELECT outcome, rows_behind_limit, days_reprocessed >= 4 AS days_reprocessed FROM incmodel.runs
WHERE model_name = 'tc_days' ORDER BY run_id DESC LIMIT 1;
SELECT sum(events) AS old_rows_modelled FROM tcap.days WHERE uid LIKE 'old%';
SELECT testkit.daily_check('tc_days', 'rows stamped at or below the limit');
-- Two transactions behind the limit whose logged load ranges overlap ([lim - 20h, lim - 10h] and
-- [lim - 15h, lim - 5h]): the rows behind are read by the ranges merged, each row once (the
-- count is every row in their union, earlier loads stamped there included).
SELECT upper_limit::timestamp AS lim FROM incmodel.models WHERE name = 'tc_days' \gset
INSERT INTO tcap.ev SELECT 'ov1', now()::timestamp - interval '4 days',
                           :'lim'::timestamp - interval '20 hours' + g * interval '1 hour'
FROM generate_series(0, 10) g;
INSERT INTO tcap.ev SELECT 'ov2', now()::timestamp - interval '4 days',
                           :'lim'::timestamp - interval '15 hours' + g * interval '1 hour'
FROM generate_series(0, 10) g;
SELECT count(*) AS rows_in_union FROM tcap.ev
WHERE load_tstamp BETWEEN :'lim'::timestamp - interval '20 hours' AND :'lim'::timestamp - interval '5 hours' \gset
SET client_min_messages = warning;
CALL incmodel.refresh('tc_days');
RESET client_min_messages;
SELECT outcome, rows_behind_limit = :rows_in_union AS each_row_once, rows_behind_limit >= 22 AS both_loads
FROM incmodel.runs WHERE model_name = 'tc_days' ORDER BY run_id DESC LIMIT 1;
SELECT testkit.daily_check('tc_days', 'overlapping ranges behind the limit');
-- nothing new: a noop, and no row is reported twice
CALL incmodel.refresh('tc_days');
SELECT outcome, rows_behind_limit FROM incmodel.runs WHERE model_name = 'tc_days'
ORDER BY run_id DESC LIMIT 1;

-- Rows no range can place: a NULL load value, a stamp before start_date. A WARNING, counted in
-- status; the rows placed beside them are processed.
SELECT tcap.load(5, 'c');
INSERT INTO tcap.ev VALUES ('null1', now(), NULL), ('null2', now(), NULL),
                           ('early', now(), :'start_date'::timestamp - interval '1 day');
CALL incmodel.refresh('tc_days');
SELECT outcome, rows_behind_limit, rows_unplaced FROM incmodel.runs WHERE model_name = 'tc_days'
ORDER BY run_id DESC LIMIT 1;
SELECT unplaced_rows FROM incmodel.status WHERE model = 'tc_days';
SELECT testkit.daily_check('tc_days', 'after unplaced rows');

-- A DELETE (some rows, and every row of one day) and an UPDATE: every day up to the limit is
-- reprocessed in full; days left without rows lose their target rows and their ledger counts.
SELECT min(ev::date) AS first_day FROM tcap.ev WHERE load_tstamp IS NOT NULL \gset
DELETE FROM tcap.ev WHERE ev::date = :'first_day'::date;
DELETE FROM tcap.ev WHERE uid = 'a3';
UPDATE tcap.ev SET uid = 'renamed' WHERE uid = 'a4';
SELECT count(*) > 0 AS target_has_stale_rows FROM tcap.days
WHERE day = :'first_day'::date OR uid IN ('a3', 'a4');
CALL incmodel.refresh('tc_days');
SELECT outcome FROM incmodel.runs WHERE model_name = 'tc_days' ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS stale_rows FROM tcap.days WHERE day = :'first_day'::date OR uid IN ('a3', 'a4');
SELECT processed_events, skipped_events FROM incmodel.daily_manifest
WHERE model = 'tc_days' AND event_date = :'first_day'::date;
SELECT testkit.daily_check('tc_days', 'after DELETE and UPDATE');
SELECT result FROM incmodel.verify('tc_days');

-- A partitioned source, loaded through a partition: the triggers are on every partition, rows
-- stamped behind the limit are caught there too.
CREATE TABLE tcap.pev (uid text, ev timestamp, load_tstamp timestamp) PARTITION BY RANGE (load_tstamp);
CREATE TABLE tcap.pev_old PARTITION OF tcap.pev FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE tcap.pev_new PARTITION OF tcap.pev DEFAULT;
INSERT INTO tcap.pev SELECT 'p' || (g % 4), now() - interval '1 day', clock_timestamp() FROM generate_series(1, 40) g;
SELECT incmodel.create_model(
  name => 'tc_pdays',
  query => $$ SELECT uid, ev::date AS day, count(*) AS events FROM tcap.pev GROUP BY 1, 2 $$,
  target => 'tcap.pdays', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 1, min_rows_to_process => 1000) > 0 AS created;
SELECT upper_limit::timestamp AS plim FROM incmodel.models WHERE name = 'tc_pdays' \gset
INSERT INTO tcap.pev_new SELECT 'q' || (g % 2), now() - interval '3 days', :'plim'::timestamp - interval '1 hour'
FROM generate_series(1, 12) g;
CALL incmodel.refresh('tc_pdays');
SELECT outcome, rows_behind_limit FROM incmodel.runs WHERE model_name = 'tc_pdays'
ORDER BY run_id DESC LIMIT 1;
SELECT testkit.daily_check('tc_pdays', 'partition loaded behind the limit');

-- An append model: a duplicate loaded behind the limit becomes the first duplicate of its
-- event; a DELETE recomputes every event key.
CREATE TABLE tcap.aev (event_id text, page text, load_tstamp timestamp);
INSERT INTO tcap.aev SELECT 'e' || g, 'first', clock_timestamp() FROM generate_series(1, 50) g;
SELECT incmodel.create_model(
  name => 'tc_events',
  query => $$ SELECT event_id, page FROM tcap.aev $$,
  target => 'tcap.events', load_column => 'load_tstamp', start_date => :'start_date',
  strategy => 'append', event_key => 'event_id') > 0 AS created;
INSERT INTO tcap.aev SELECT 'e' || g, 'earlier duplicate', now()::timestamp - interval '1 day'
FROM generate_series(1, 5) g;
INSERT INTO tcap.aev SELECT 'late' || g, 'late', now()::timestamp - interval '1 day'
FROM generate_series(1, 3) g;
CALL incmodel.refresh('tc_events');
SELECT outcome, rows_behind_limit FROM incmodel.runs WHERE model_name = 'tc_events'
ORDER BY run_id DESC LIMIT 1;
SELECT page, count(*) FROM tcap.events GROUP BY 1 ORDER BY 1;
SELECT result FROM incmodel.verify('tc_events');
DELETE FROM tcap.aev WHERE event_id IN ('e1', 'e10', 'late1');
CALL incmodel.refresh('tc_events');
SELECT count(*) AS events, count(*) FILTER (WHERE event_id IN ('e1', 'e10', 'late1')) AS deleted_left
FROM tcap.events;
SELECT result FROM incmodel.verify('tc_events');

SELECT incmodel.drop_model('tc_events');
SELECT incmodel.drop_model('tc_pdays');
SELECT incmodel.drop_model('tc_days');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid IN ('tcap.ev'::regclass, 'tcap.aev'::regclass)
  AND tgname LIKE 'incmodel%';
DROP SCHEMA tcap CASCADE;
