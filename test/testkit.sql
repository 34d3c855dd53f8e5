-- Test fixtures shared by the pg_regress suite (sql/setup.sql) and the reliability scripts
-- (test/reliability/lib.sh): an events layout, loading synthetic events, comparing a target with
-- a full rebuild, error capture and fingerprints. Needs the incmodel extension.
CREATE SCHEMA testkit;

-- The synthetic generator's column layout.
\set events_table testkit.event_layout
\ir ../tools/eventgen/events_table.sql

-- A fresh events table with the indexes a deployment would have.
CREATE FUNCTION testkit.make_events(tbl text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', tbl);
  EXECUTE format('CREATE TABLE %s (LIKE testkit.event_layout INCLUDING ALL)', tbl);
  EXECUTE format('CREATE INDEX ON %s (etl_tstamp)', tbl);
  EXECUTE format('CREATE INDEX ON %s (domain_sessionid)', tbl);
  EXECUTE format('CREATE INDEX ON %s (domain_userid)', tbl);
  EXECUTE format('CREATE INDEX ON %s (collector_tstamp)', tbl);
END $$;

-- Synthetic events from tools/eventgen into a table (server-side COPY FROM PROGRAM).
CREATE FUNCTION testkit.generate(tbl text, args text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('COPY %s FROM PROGRAM %L', tbl,
                 current_setting('incmodel_test.eventgen') || ' ' || args);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Rows of the target that a full rebuild of the model's query does not give, and the reverse
-- (EXCEPT ALL compares NULLs as equal). Zero both ways means the target equals a rebuild.
CREATE FUNCTION testkit.diff(model text, OUT extra bigint, OUT missing bigint)
LANGUAGE plpgsql AS $$
DECLARE q text; t regclass;
BEGIN
  SELECT m.query, m.target INTO q, t FROM incmodel.models m WHERE m.name = model;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL (%s)) x', t, q) INTO extra;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL SELECT * FROM %s) x', q, t) INTO missing;
END $$;

-- One refresh of a model and what it did: the kind:outcome of the runs it recorded (in order,
-- e.g. 'refresh:success' or 'rebuild:success') and the target's difference from a full rebuild.
-- Tests of load paths check outcomes through this, not through NOTICE wording.
CREATE FUNCTION testkit.refresh_outcome(model text, OUT runs text, OUT extra bigint,
                                        OUT missing bigint) LANGUAGE plpgsql AS $$
DECLARE r0 bigint;
BEGIN
  SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
  EXECUTE format('CALL incmodel.refresh(%L)', model);
  SELECT string_agg(kind || ':' || outcome, ', ' ORDER BY run_id) INTO runs
    FROM incmodel.runs WHERE run_id > r0 AND model_name = model;
  SELECT d.extra, d.missing INTO extra, missing FROM testkit.diff(model) d;
END $$;

-- Synthetic events of one collector day only (COPY FROM PROGRAM through a filter on
-- collector_tstamp, the 4th column): COPY straight into a daily partition.
CREATE FUNCTION testkit.generate_day(tbl text, args text, day date) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('COPY %s FROM PROGRAM %L', tbl,
                 format($p$%s %s | awk -F '\t' 'substr($4, 1, 10) == "%s"'$p$,
                        current_setting('incmodel_test.eventgen'), args, to_char(day, 'YYYY-MM-DD')));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE FUNCTION testkit.assert_equal(model text, context text DEFAULT '') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
  SELECT * INTO d FROM testkit.diff(model);
  IF d.extra <> 0 OR d.missing <> 0 THEN
    RAISE EXCEPTION 'model % differs from a full rebuild (%): % extra rows, % missing rows',
      model, context, d.extra, d.missing;
  END IF;
END $$;

-- The error a statement raises: SQLSTATE, message, detail and hint ('none' when it succeeds).
CREATE FUNCTION testkit.error_of(sql text, OUT state text, OUT message text, OUT detail text,
                                 OUT hint text) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  state := 'none';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END $$;

-- A checksum of a table's contents, to show that a failed run changed nothing.
CREATE FUNCTION testkit.fingerprint(tbl regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x',
                 ',', '', tbl) INTO r;
  RETURN r;
END $$;

CREATE FUNCTION testkit.manifest_fingerprint(model text) RETURNS text LANGUAGE sql AS $$
  SELECT md5(coalesce(string_agg(mf.batch_value || '=' || mf.event_count, ',' ORDER BY mf.batch_value), ''))
  FROM incmodel.manifest mf JOIN incmodel.models m USING (model_id) WHERE m.name = model
$$;

-- Dimension table for joined models.
CREATE TABLE testkit.countries (code text PRIMARY KEY, region text NOT NULL);
INSERT INTO testkit.countries VALUES
  ('US', 'Americas'), ('CA', 'Americas'), ('BR', 'Americas'), ('MX', 'Americas'),
  ('GB', 'Europe'), ('DE', 'Europe'), ('FR', 'Europe'), ('NL', 'Europe'), ('ES', 'Europe'),
  ('IT', 'Europe'), ('SE', 'Europe'), ('PL', 'Europe'),
  ('IN', 'Asia'), ('JP', 'Asia'), ('CN', 'Asia'), ('KR', 'Asia'), ('SG', 'Asia'),
  ('AU', 'Oceania'), ('NZ', 'Oceania');

-- Daily models (sql/daily.sql, sql/features.sql): loads into atomic.dev and the checks of a
-- daily model against a rebuild over the rows loaded up to its upper limit.
-- One load: n events of ~n/4 users, each late by a random number of days (mostly 0-1, a tail
-- up to 6), some without a user or an event time, a few duplicated; one transaction.
CREATE FUNCTION testkit.daily_load(n int, seed float8) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM setseed(seed);
  INSERT INTO atomic.dev
  SELECT md5(random()::text), CASE WHEN random() < 0.05 THEN NULL ELSE 'u' || (random() * n / 4)::int END,
         CASE WHEN random() < 0.03 THEN NULL
              -- anchored at noon of the load's day: which event day a row falls on depends on
              -- the random draw only, not on the time of day the test runs at
              ELSE date_trunc('day', clock_timestamp())::timestamp + interval '12 hours'
                   - (CASE WHEN random() < 0.7 THEN random()
                           ELSE random() * 6 END) * interval '1 day' END,
         clock_timestamp(), '/p' || (random() * 5)::int
  FROM generate_series(1, n);
  -- duplicates: a few rows loaded again in the same load
  INSERT INTO atomic.dev SELECT event_id, domain_userid, derived_tstamp, clock_timestamp(), page_url
  FROM atomic.dev ORDER BY load_tstamp DESC LIMIT n / 20;
END $$;

-- The model's query over another table (its source's name replaced; the tests write it qualified).
CREATE FUNCTION testkit.daily_query(model text, tbl text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(query, source::text, tbl) FROM incmodel.models WHERE name = model $$;

-- The checks described at the top; raises on the first difference, returns a summary.
CREATE FUNCTION testkit.daily_check(model text, context text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m record; bad bigint; t regclass;
BEGIN
  SELECT * INTO m FROM incmodel.models WHERE name = model;
  t := m.target;
  IF to_regclass('pg_temp.daily_loaded') IS NOT NULL THEN DROP TABLE pg_temp.daily_loaded; END IF;
  IF to_regclass('pg_temp.daily_rebuild') IS NOT NULL THEN DROP TABLE pg_temp.daily_rebuild; END IF;
  EXECUTE format('CREATE TEMP TABLE daily_loaded AS SELECT * FROM %s WHERE $1 IS NOT NULL '
                 'AND %I BETWEEN $2 AND $1', m.source, m.load_column)
    USING m.upper_limit::timestamp, m.start_date::timestamp;
  EXECUTE format('CREATE TEMP TABLE daily_rebuild AS %s',
                 testkit.daily_query(model, 'pg_temp.daily_loaded'));
  -- current days (no skipped rows, or no ledger row): equal to the rebuild
  EXECUTE format($q$
    SELECT count(*) FROM (
      (SELECT * FROM %1$s x WHERE NOT EXISTS (SELECT 1 FROM incmodel.daily_manifest d
         WHERE d.model = %2$L AND d.event_date = x.day AND d.skipped_events > 0)
       EXCEPT ALL
       SELECT * FROM pg_temp.daily_rebuild x WHERE NOT EXISTS (SELECT 1 FROM incmodel.daily_manifest d
         WHERE d.model = %2$L AND d.event_date = x.day AND d.skipped_events > 0))
      UNION ALL
      (SELECT * FROM pg_temp.daily_rebuild x WHERE NOT EXISTS (SELECT 1 FROM incmodel.daily_manifest d
         WHERE d.model = %2$L AND d.event_date = x.day AND d.skipped_events > 0)
       EXCEPT ALL
       SELECT * FROM %1$s x WHERE NOT EXISTS (SELECT 1 FROM incmodel.daily_manifest d
         WHERE d.model = %2$L AND d.event_date = x.day AND d.skipped_events > 0))) diff $q$,
    t, model) INTO bad;
  IF bad <> 0 THEN
    RAISE EXCEPTION '% (%): % rows differ from the rebuild on current days', model, context, bad;
  END IF;
  -- every day: rebuild events - model events = skipped; model events = processed
  EXECUTE format($q$
    SELECT count(*) FROM (
      SELECT coalesce(r.day, t.day) AS day, coalesce(r.n, 0) AS rebuilt, coalesce(t.n, 0) AS modelled
      FROM (SELECT day, sum(events) AS n FROM pg_temp.daily_rebuild WHERE day IS NOT NULL GROUP BY day) r
      FULL JOIN (SELECT day, sum(events) AS n FROM %1$s WHERE day IS NOT NULL GROUP BY day) t USING (day)
    ) c
    LEFT JOIN incmodel.daily_manifest d ON d.model = %2$L AND d.event_date = c.day
    WHERE c.rebuilt - c.modelled <> coalesce(d.skipped_events, 0)
       OR c.modelled <> coalesce(d.processed_events, 0) $q$, t, model) INTO bad;
  IF bad <> 0 THEN
    RAISE EXCEPTION '% (%): % days where the ledger does not account for the rows', model, context, bad;
  END IF;
  RETURN context || ': ok';
END $$;

