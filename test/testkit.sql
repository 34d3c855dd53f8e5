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

