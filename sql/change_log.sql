-- The change log's trigger pair: a row trigger whose WHEN clause notes each inserted batch value
-- in backend memory (and never fires), and a statement trigger that keeps the statement's range
-- for the commit, which writes one log row per distinct range. Checked
-- here for each comparison path (int64, int32, btree with collation, by-reference values) and for
-- the statements that could lose or mix a range: COPY, INSERT ... SELECT, an empty insert, a
-- rolled-back savepoint, an insert nested in another insert into the same source, two sources
-- in one transaction. After each, the model equals a full rebuild.
CREATE TABLE atomic.cl (
  k text, v int, ts timestamptz NOT NULL, d date NOT NULL, label text COLLATE "C" NOT NULL,
  amount numeric NOT NULL);
CREATE TABLE atomic.cl_other (k text, v int, ts timestamptz NOT NULL);
CREATE FUNCTION testkit.cl_model(name text, col text, tbl text DEFAULT 'atomic.cl') RETURNS bigint
LANGUAGE sql AS $$
  SELECT incmodel.create_model(name => name,
    query => format('SELECT k, count(*) AS n, sum(v) AS total FROM %s GROUP BY k', tbl),
    target => 'derived.' || name, batch_column => col) $$;
SELECT testkit.cl_model('cl_ts', 'ts') > 0, testkit.cl_model('cl_d', 'd') > 0,
       testkit.cl_model('cl_label', 'label') > 0, testkit.cl_model('cl_amount', 'amount') > 0,
       testkit.cl_model('cl_other', 'ts', 'atomic.cl_other') > 0;
-- One pair per batch column, and one UPDATE/DELETE row trigger, one UPDATE, one DELETE and one
-- TRUNCATE statement trigger per source; the row triggers never fire (WHEN is always false); all
-- fire ALWAYS (in replica mode too).
SELECT regexp_replace(tgname, '_[0-9a-f]{12}$', '') AS trigger, count(*),
       bool_and(tgenabled = 'A') AS enabled_always
FROM pg_trigger WHERE tgrelid = 'atomic.cl'::regclass GROUP BY 1 ORDER BY 1;
-- INSERT and COPY copy no row into a transition table (COPY keeps its multi-insert path); only
-- UPDATE and DELETE statements hand their old (and new) rows to incmodel_upd / incmodel_del.
SELECT tgname, tgoldtable IS NOT NULL AS old_rows, tgnewtable IS NOT NULL AS new_rows
FROM pg_trigger WHERE tgrelid = 'atomic.cl'::regclass
  AND (tgoldtable IS NOT NULL OR tgnewtable IS NOT NULL) ORDER BY 1;

CREATE FUNCTION testkit.cl_check(context text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOREACH m IN ARRAY ARRAY['cl_ts', 'cl_d', 'cl_label', 'cl_amount', 'cl_other'] LOOP
    EXECUTE format('CALL incmodel.refresh(%L)', m);
    PERFORM testkit.assert_equal(m, context);
  END LOOP;
  RETURN context || ': equal';
END $$;

SET TimeZone = 'UTC';
-- A multi-row INSERT: one log row per batch column with the smallest and largest value.
INSERT INTO atomic.cl VALUES
  ('a', 1, '2026-01-02 10:00+00', '2026-01-02', 'm', 10.5),
  ('b', 2, '2026-01-01 09:00+00', '2026-01-05', 'zz', 2.25),
  ('a', 3, '2026-01-03 11:00+00', '2026-01-01', 'B', 100),
  ('c', 4, '2026-01-02 12:00+00', '2026-01-03', 'a', -1);
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes
WHERE source = 'atomic.cl'::regclass ORDER BY batch_column;
SELECT testkit.cl_check('multi-row insert');

-- COPY (multi-insert path) and INSERT ... SELECT.
COPY atomic.cl FROM STDIN;
d	5	2026-01-04 00:00:00+00	2026-01-06	q	7
a	6	2025-12-31 23:00:00+00	2025-12-30	A	0.001
\.
INSERT INTO atomic.cl SELECT 'e', g, '2026-01-05'::timestamptz + g * interval '1 min',
  '2026-01-07'::date + g, 'x' || g, g / 3.0 FROM generate_series(1, 50) g;
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes
WHERE source = 'atomic.cl'::regclass AND batch_column = 'label' ORDER BY txid, lo;
SELECT testkit.cl_check('copy and insert-select');

-- An insert of no rows logs nothing; NULL-free columns cannot give NULL bounds.
SELECT count(*) AS log_rows_before FROM incmodel.source_changes WHERE source = 'atomic.cl'::regclass \gset
INSERT INTO atomic.cl SELECT * FROM atomic.cl WHERE false;
SELECT count(*) - :log_rows_before AS new_log_rows FROM incmodel.source_changes
WHERE source = 'atomic.cl'::regclass;

-- A savepoint rolled back after noting values: the transaction may still log the rolled-back
-- statement's range (its batches are recounted, finding nothing new), never less, and the
-- rolled-back rows are not counted by a refresh. The ranges of a transaction's statements are
-- written as it commits, one row per distinct range.
BEGIN;
SAVEPOINT s;
INSERT INTO atomic.cl VALUES ('f', 1, '2020-01-01+00', '2020-01-01', 'AAA', 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO atomic.cl VALUES ('f', 2, '2026-02-01+00', '2026-02-01', 'n', 2);
INSERT INTO atomic.cl VALUES ('f', 3, '2026-02-01+00', '2026-02-01', 'n', 3);
COMMIT;
SELECT batch_column, lo, hi, rows FROM incmodel.source_changes
WHERE source = 'atomic.cl'::regclass AND batch_column IN ('ts', 'd')
  AND txid = (SELECT max(txid) FROM incmodel.source_changes) ORDER BY batch_column, lo;
SELECT testkit.cl_check('savepoint');

-- An insert nested inside another insert into the same source: a BEFORE trigger on atomic.cl
-- loads atomic.cl again while the outer statement is half done; the inner statement's log row
-- takes what was noted so far, the outer one the rest.
CREATE FUNCTION testkit.cl_nest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.k = 'nest' THEN
    INSERT INTO atomic.cl VALUES ('nested', NEW.v, NEW.ts - interval '10 years', NEW.d - 3650,
                                  'nested', NEW.amount);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER nest BEFORE INSERT ON atomic.cl FOR EACH ROW EXECUTE FUNCTION testkit.cl_nest();
INSERT INTO atomic.cl VALUES ('p', 1, '2030-01-01+00', '2030-01-01', 'p', 1),
                             ('nest', 2, '2031-01-01+00', '2031-01-01', 'nest', 2),
                             ('q', 3, '2032-01-01+00', '2032-01-01', 'q', 3);
DROP TRIGGER nest ON atomic.cl;
SELECT lo, hi, rows FROM incmodel.source_changes
WHERE source = 'atomic.cl'::regclass AND batch_column = 'ts'
  AND txid = (SELECT max(txid) FROM incmodel.source_changes) ORDER BY lo;
SELECT testkit.cl_check('nested insert');

-- Two sources in one transaction, one loaded from a trigger on a staging table.
CREATE TABLE atomic.cl_stage (LIKE atomic.cl);
CREATE FUNCTION testkit.cl_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO atomic.cl VALUES (NEW.*);
  INSERT INTO atomic.cl_other VALUES (NEW.k, NEW.v, NEW.ts);
  RETURN NEW;
END $$;
CREATE TRIGGER forward AFTER INSERT ON atomic.cl_stage FOR EACH ROW EXECUTE FUNCTION testkit.cl_forward();
BEGIN;
INSERT INTO atomic.cl SELECT 'g', g, '2026-03-01'::timestamptz + g * interval '1 day',
  '2026-03-01'::date + g, 'g' || g, g FROM generate_series(1, 3) g;
INSERT INTO atomic.cl_stage VALUES ('h', 9, '2027-01-01+00', '2027-01-01', 'zzz', 9),
                                   ('h', 8, '2019-01-01+00', '2019-01-01', '0', 8);
COMMIT;
SELECT count(*) AS rows_outside_every_logged_range
FROM atomic.cl c
WHERE c.k IN ('g', 'h') AND NOT EXISTS (
  SELECT 1 FROM incmodel.source_changes s
  WHERE s.source = 'atomic.cl'::regclass AND s.batch_column = 'ts'
    AND s.txid = (SELECT max(txid) FROM incmodel.source_changes)
    AND c.ts BETWEEN s.lo::timestamptz AND s.hi::timestamptz);
SELECT source::regclass, lo, hi, rows FROM incmodel.source_changes
WHERE txid = (SELECT max(txid) FROM incmodel.source_changes) AND batch_column = 'ts' ORDER BY 1, 2;
SELECT testkit.cl_check('two sources');

-- Disabling the row trigger by hand is logged (the event trigger): the next refresh rebuilds.
-- While it stays disabled the log is not trusted: refreshes count the source's batches (still
-- exact) and say so; enabled again (a logged change too), the log takes over.
DO $$ BEGIN EXECUTE format('ALTER TABLE atomic.cl DISABLE TRIGGER %I', 'incmodel_rows_' || left(md5('ts'), 12)); END $$;
INSERT INTO atomic.cl VALUES ('i', 1, '2026-01-02 10:00+00', '2026-01-02', 'm', 1);
SELECT testkit.cl_check('row trigger disabled');
INSERT INTO atomic.cl VALUES ('i', 3, '2026-01-02 11:00+00', '2026-01-02', 'm', 1);
SELECT testkit.cl_check('row trigger still disabled');
DO $$ BEGIN EXECUTE format('ALTER TABLE atomic.cl ENABLE TRIGGER %I', 'incmodel_rows_' || left(md5('ts'), 12)); END $$;
INSERT INTO atomic.cl VALUES ('i', 2, '2026-01-02 10:00+00', '2026-01-02', 'm', 1);
SELECT testkit.cl_check('row trigger enabled again');

-- The WHEN function on its own: misuse is a clear error, NULLs are ignored.
SELECT incmodel.note_source_row(NULL, 'ts', now()) AS null_source,
       incmodel.note_source_row('atomic.cl'::regclass, 'ts', NULL::timestamptz) AS null_value;
SELECT * FROM testkit.error_of($$SELECT incmodel.note_source_row('atomic.cl'::regclass, 'x', 1::int4), incmodel.note_source_row('atomic.cl'::regclass, 'x', 'a'::text)$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.log_source_change()$$);

-- The last model of a batch column takes its trigger pair with it.
SELECT incmodel.drop_model('cl_label', true);
SELECT count(*) AS label_triggers FROM pg_trigger
WHERE tgrelid = 'atomic.cl'::regclass AND tgname LIKE '%' || left(md5('label'), 12);
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['cl_ts', 'cl_d', 'cl_amount', 'cl_other']) m;
SELECT count(*) AS triggers_left FROM pg_trigger
WHERE tgrelid IN ('atomic.cl'::regclass, 'atomic.cl_other'::regclass) AND tgname LIKE 'incmodel%';
RESET TimeZone;
DROP TABLE atomic.cl, atomic.cl_other, atomic.cl_stage;
