-- Daily models whose recompute reads the touched days by a range of the column under the day key
-- (found in the analyzed query: a monotone chain of casts, date_trunc and AT TIME ZONE over one
-- column), and one whose day key no range bounds. Every model counts every row (reprocess_days
-- too large for a row to be late), so after every refresh each target must equal its query over
-- all events (testkit.diff: 0 extra, 0 missing). Events sit at and around midnights (local and
-- UTC, across the 2026 DST changes of the model's TimeZone), on sparse days, on more days than
-- the recompute has ranges, at infinity and NULL.
SET client_min_messages = warning;
SET TimeZone = 'America/New_York';
CREATE TABLE atomic.rng (id int, ts timestamp, tstz timestamptz, day date, txt text, zone text,
                         load_tstamp timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE INDEX ON atomic.rng (load_tstamp);
CREATE INDEX ON atomic.rng (ts);
CREATE INDEX ON atomic.rng (tstz);
CREATE INDEX ON atomic.rng (day);
-- Rows on the given days after 2026-03-06 (DST starts on day 2, ends on day 240): for each, the
-- last and first microseconds around its midnight and noon, as local time (ts), as an instant at
-- the model's midnight or at UTC midnight (tstz), as a date and as text.
CREATE PROCEDURE atomic.rng_load(days int[]) LANGUAGE sql AS $$
  INSERT INTO atomic.rng (id, ts, tstz, day, txt, zone)
  SELECT d * 10 + k, t, CASE WHEN k % 2 = 0 THEN timezone('America/New_York', t)
                             ELSE timezone('UTC', t) END, t::date,
         to_char(t, 'YYYY-MM-DD'), 'Europe/Paris'
  FROM unnest(days) AS d, generate_series(0, 5) AS k,
       LATERAL (SELECT timestamp '2026-03-06' + d * interval '1 day'
                       + (ARRAY[interval '-1 microsecond', interval '0', interval '1 microsecond',
                                interval '12 hours', interval '-1 hour', interval '25 hours'])[k + 1]
                AS t) x $$;
CALL atomic.rng_load(ARRAY[0, 1, 2, 3]);
SELECT now() - interval '1 hour' AS start_date \gset
CREATE FUNCTION atomic.rng_model(name text, day_expr text) RETURNS bigint LANGUAGE sql AS $$
  SELECT incmodel.create_model(name => name,
    query => format('SELECT %s AS day, id %% 3 AS grp, count(*) AS n, sum(id) AS s, '
                    'min(ts) AS first_ts FROM atomic.rng GROUP BY 1, 2', day_expr),
    target => 'derived.' || name, load_column => 'load_tstamp',
    start_date => current_setting('rng.start')::timestamptz, backfill_limit => interval '10 days',
    day_key => 'day', reprocess_days => 100000) $$;
SELECT set_config('rng.start', :'start_date', false) IS NOT NULL AS set;
SELECT atomic.rng_model('rng_ts', 'date_trunc(''day'', ts)') > 0 AS ts,
       atomic.rng_model('rng_cast', 'ts::date') > 0 AS cast,
       atomic.rng_model('rng_tz', 'tstz::date') > 0 AS tz,
       atomic.rng_model('rng_utc', '(tstz AT TIME ZONE ''UTC'')::date') > 0 AS utc,
       atomic.rng_model('rng_date', 'day') > 0 AS date,
       atomic.rng_model('rng_text', 'txt::date') > 0 AS text;
-- How each recompute reads the source: by ranges of the column, widened by the days a time zone
-- can move the day, or (the text key) every row loaded since start_date.
SELECT m.name, e.detail FROM incmodel.models m, incmodel.explain(m.name) e
WHERE m.name LIKE 'rng\_%' AND e.step = 3 ORDER BY m.name;
-- The oracle: every model equals its query over all events.
CREATE FUNCTION atomic.rng_check(context text) RETURNS TABLE (model text, extra bigint, missing bigint)
LANGUAGE sql AS $$
  SELECT m.name, d.extra, d.missing FROM incmodel.models m, testkit.diff(m.name) d
  WHERE m.name LIKE 'rng\_%' AND (d.extra <> 0 OR d.missing <> 0)
  UNION ALL SELECT 'all ' || context || ': equal to the query over all events', 0, 0 ORDER BY 1 $$;
CREATE PROCEDURE atomic.rng_refresh() LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOR m IN SELECT name FROM incmodel.models WHERE name LIKE 'rng\_%' ORDER BY name LOOP
    CALL incmodel.refresh(m);
    COMMIT;
  END LOOP;
END $$;
SELECT * FROM atomic.rng_check('after create');

-- Sparse days: an old day and a new one in one load (two ranges).
CALL atomic.rng_load(ARRAY[0, 30]);
CALL atomic.rng_refresh();
SELECT * FROM atomic.rng_check('sparse days');

-- More scattered days than the recompute has ranges (the closest are merged), across the end of
-- DST (day 240) and before the first day.
CALL atomic.rng_load(ARRAY[-40, -20, -10, 5, 7, 9, 50, 60, 70, 80, 90, 239, 240, 241]);
CALL atomic.rng_refresh();
SELECT * FROM atomic.rng_check('scattered days');

-- Infinite and NULL event times ('-infinity' would be late under any reprocess_days).
INSERT INTO atomic.rng (id, ts, tstz, day, txt) VALUES
  (1, 'infinity', 'infinity', 'infinity', 'infinity'),
  (3, NULL, NULL, NULL, NULL);
CALL atomic.rng_refresh();
SELECT * FROM atomic.rng_check('infinite and NULL days');

-- A caller in another TimeZone: the runs keep the model's (pinned at creation).
CALL atomic.rng_load(ARRAY[1, 2, 100]);
SET TimeZone = 'Asia/Kathmandu';
CALL atomic.rng_refresh();
SET TimeZone = 'America/New_York';
SELECT * FROM atomic.rng_check('refreshed from another TimeZone');

-- A delete (a change the log cannot describe by ranges): every day is reprocessed in full.
DELETE FROM atomic.rng WHERE id % 7 = 0;
CALL atomic.rng_refresh();
SELECT * FROM atomic.rng_check('after a delete');
SELECT name, (SELECT count(*) FROM incmodel.runs r WHERE r.model_name = m.name
              AND r.outcome = 'success') AS successful_runs
FROM incmodel.models m WHERE name LIKE 'rng\_%' ORDER BY name;

-- A zone read from a column: no constant zone to check, so the day key is not bounded.
SELECT atomic.rng_model('rng_zone', '(ts AT TIME ZONE zone)::date') > 0 AS zone;
SELECT e.detail FROM incmodel.explain('rng_zone') e WHERE e.step = 3;
CALL atomic.rng_load(ARRAY[3, 4]);
CALL atomic.rng_refresh();
SELECT * FROM atomic.rng_check('with a zone column');
RESET TimeZone;
SELECT incmodel.drop_model(name) FROM incmodel.models WHERE name LIKE 'rng\_%' ORDER BY name;
DROP TABLE atomic.rng;
RESET client_min_messages;
