-- Query shapes, part 2: batch columns of types without min/max (uuid,
-- bytea), keys longer than a btree index can hold, helper functions under the pinned
-- search_path. The oracle is testkit.diff (0 extra, 0 missing = equal to a rebuild).
SET client_min_messages = warning;
CREATE SCHEMA qs2;
-- Only this test's models take part in refresh_all here; the others are enabled again at the end.
CREATE TEMP TABLE qs2_disabled AS SELECT name FROM incmodel.models WHERE enabled;
SELECT count(*) >= 0 AS disabled FROM qs2_disabled, incmodel.alter_model(name, enabled => false);

-- 1. A uuid batch column: the change log's ranges are merged with uuid's ordering (uuid has no
-- min/max). Loads by INSERT (several statements, overlapping ranges, out of order) and COPY.
CREATE TABLE qs2.ev (k text NOT NULL, load_id uuid NOT NULL, n int NOT NULL);
CREATE INDEX ON qs2.ev (load_id);
CREATE INDEX ON qs2.ev (k);
INSERT INTO qs2.ev SELECT 'k' || (i % 5), ('00000000-0000-0000-0000-' || lpad((i % 4)::text, 12, '0'))::uuid, i
FROM generate_series(1, 40) i;
SELECT incmodel.create_model('qs2_uuid',
  $$ SELECT e.k, count(*) AS events, sum(e.n) AS total, count(DISTINCT e.load_id) AS loads FROM qs2.ev e GROUP BY e.k $$,
  'qs2.by_k', 'load_id') > 0 AS created;
SELECT setseed(0.14);
BEGIN;
INSERT INTO qs2.ev SELECT 'k' || (i % 7), ('00000000-0000-0000-0000-' || lpad((10 + i % 3)::text, 12, '0'))::uuid, i
FROM generate_series(1, 30) i;
INSERT INTO qs2.ev VALUES ('k1', '00000000-0000-0000-0000-000000000002', 1000),
  ('k9', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 5), ('k8', '00000000-0000-0000-0000-000000000011', 7);
COMMIT;
INSERT INTO qs2.ev SELECT 'k' || (i % 3), ('7' || substr(md5(random()::text), 2, 7) || '-0000-0000-0000-000000000000')::uuid, i
FROM generate_series(1, 20) i;
COPY qs2.ev (k, load_id, n) FROM stdin;
k2	55555555-0000-0000-0000-000000000000	11
k3	00000000-0000-0000-0000-000000000010	12
k10	aaaaaaaa-0000-0000-0000-000000000000	13
\.
SELECT * FROM testkit.refresh_outcome('qs2_uuid');
INSERT INTO qs2.ev VALUES ('k4', '00000000-0000-0000-0000-000000000001', 1), ('k11', '10000000-0000-0000-0000-000000000000', 2);
SELECT * FROM testkit.refresh_outcome('qs2_uuid');
SELECT k, events, total, loads FROM qs2.by_k ORDER BY k;
SELECT count(*) AS manifest_batches, count(DISTINCT m.batch_value::uuid) AS distinct_loads
FROM incmodel.manifest m WHERE m.model_id = (SELECT model_id FROM incmodel.runs WHERE model_name = 'qs2_uuid' LIMIT 1);
SELECT count(DISTINCT load_id) AS loads FROM qs2.ev;

-- Randomized (fixed seed): 40 transactions of 3 statements each load random uuid batches from a
-- small domain (ranges overlap, nest and repeat); every 8th transaction a refresh, compared with
-- a rebuild each time.
CREATE TABLE qs2.ev2 (k text NOT NULL, load_id uuid NOT NULL, n int NOT NULL);
CREATE INDEX ON qs2.ev2 (load_id);
INSERT INTO qs2.ev2 VALUES ('k0', '00000000-0000-0000-0000-000000000000', 1);
SELECT incmodel.create_model('qs2_uuid_rand',
  $$ SELECT e.k, count(*) AS events, sum(e.n) AS total FROM qs2.ev2 e GROUP BY e.k $$,
  'qs2.by_k2', 'load_id') > 0 AS created;
CREATE TABLE qs2.rand_checks (t int, extra bigint, missing bigint);
DO $$
DECLARE d record;
BEGIN
  PERFORM setseed(0.3);
  FOR t IN 1..40 LOOP
    FOR s IN 1..3 LOOP
      INSERT INTO qs2.ev2 SELECT 'k' || floor(random() * 20)::int,
        (lpad(to_hex(floor(random() * 64)::int), 8, '0') || '-0000-0000-0000-000000000000')::uuid,
        floor(random() * 100)::int
      FROM generate_series(1, 1 + floor(random() * 5)::int);
    END LOOP;
    COMMIT;
    IF t % 8 = 0 THEN
      CALL incmodel.refresh('qs2_uuid_rand');
      SELECT * INTO d FROM testkit.diff('qs2_uuid_rand');
      INSERT INTO qs2.rand_checks VALUES (t, d.extra, d.missing);
      COMMIT;
    END IF;
  END LOOP;
END $$;
SELECT count(*) AS checks, sum(extra) AS extra, sum(missing) AS missing FROM qs2.rand_checks;
SELECT kind, outcome, count(*) FROM incmodel.runs WHERE model_name = 'qs2_uuid_rand'
GROUP BY kind, outcome ORDER BY 1, 2;

-- 2. A bytea batch column (no min/max either): the same.
CREATE TABLE qs2.blobs (k int NOT NULL, tag bytea NOT NULL);
CREATE INDEX ON qs2.blobs (tag);
INSERT INTO qs2.blobs VALUES (1, '\x01'), (2, '\x0102'), (1, '\xff');
SELECT incmodel.create_model('qs2_bytea',
  $$ SELECT b.k, count(*) AS n FROM qs2.blobs b GROUP BY b.k $$, 'qs2.by_tag', 'tag') > 0 AS created;
INSERT INTO qs2.blobs VALUES (3, '\x00'), (1, '\x0101');
INSERT INTO qs2.blobs VALUES (2, '\x0103'), (4, '\xfe00');
SELECT * FROM testkit.refresh_outcome('qs2_bytea');
SELECT k, n FROM qs2.by_tag ORDER BY k;

-- 3. A helper function whose body names another function unqualified: the model's SQL runs with
-- search_path = pg_catalog, pg_temp, and so does the body; the error says how to pin its path.
CREATE TABLE qs2.visits (url text NOT NULL, batch int NOT NULL);
INSERT INTO qs2.visits VALUES ('https://a.example/x', 1), ('https://b.example/y', 1);
CREATE FUNCTION qs2.host(u text) RETURNS text IMMUTABLE LANGUAGE sql
  AS $$ SELECT split_part(split_part(u, '://', 2), '/', 1) $$;
CREATE FUNCTION qs2.site(u text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT qs2.host(u) $$;
SELECT incmodel.create_model('qs2_sites',
  $$ SELECT qs2.site(v.url) AS site, count(*) AS visits FROM qs2.visits v GROUP BY qs2.site(v.url) $$,
  'qs2.by_site', 'batch') > 0 AS created;
-- The body now names host() unqualified (it was found when the function was created).
SET search_path = qs2, public;
CREATE OR REPLACE FUNCTION qs2.site(u text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT host(u) $$;
RESET search_path;
INSERT INTO qs2.visits VALUES ('https://a.example/z', 2);
-- the raised ERROR carries the hint ...
SELECT state, message, hint FROM testkit.error_of($q$ CALL incmodel.refresh('qs2_sites') $q$);
-- ... and so does the run log (a CALL outside a transaction block records the failure)
\set VERBOSITY terse
CALL incmodel.refresh('qs2_sites');
\set VERBOSITY default
SELECT failed_step, error_sqlstate, error_message FROM incmodel.runs
WHERE model_name = 'qs2_sites' AND outcome = 'failed' ORDER BY run_id DESC LIMIT 1;
-- The same from a PL/pgSQL body.
CREATE OR REPLACE FUNCTION qs2.site(u text) RETURNS text IMMUTABLE LANGUAGE plpgsql
  AS $$ BEGIN RETURN host(u); END $$;
SELECT state, message, hint FROM testkit.error_of($q$ CALL incmodel.refresh('qs2_sites') $q$);
-- Pinning the function's path, as the hint says, fixes it.
ALTER FUNCTION qs2.site(text) SET search_path = qs2, pg_temp;
SELECT * FROM testkit.refresh_outcome('qs2_sites');
-- An undefined name in the query itself (not in a function body) gets no such hint.
SELECT state, message, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs2_nosuch', 'SELECT v.url, count(*) AS n FROM qs2.nosuch v GROUP BY v.url', 'qs2.t_nosuch', 'batch') $q$);

-- 4. Keys longer than a btree index can hold (about 2.7 kB, incompressible): the target's unique
-- index refuses them. At create_model the model is refused; at a refresh the commit fails and
-- is recorded, the target unchanged; both say what to do.
CREATE TABLE qs2.docs (body text NOT NULL, batch int NOT NULL);
INSERT INTO qs2.docs VALUES ('short', 1);
INSERT INTO qs2.docs SELECT string_agg(md5(i::text), ''), 2 FROM generate_series(1, 200) i;
SELECT state, message, hint FROM testkit.error_of($q$
  SELECT incmodel.create_model('qs2_long', 'SELECT d.body, count(*) AS n FROM qs2.docs d GROUP BY d.body', 'qs2.by_body', 'batch') $q$);
SELECT count(*) AS models FROM incmodel.models WHERE name = 'qs2_long';
-- A shorter expression of the key, as the hint says, works.
SELECT incmodel.create_model('qs2_long',
  $$ SELECT md5(d.body) AS body_md5, count(*) AS n FROM qs2.docs d GROUP BY md5(d.body) $$,
  'qs2.by_body', 'batch') > 0 AS created;
SELECT * FROM testkit.refresh_outcome('qs2_long');
-- A model whose keys are short so far: a long one fails the commit.
CREATE TABLE qs2.notes (body text NOT NULL, batch int NOT NULL);
INSERT INTO qs2.notes VALUES ('a', 1), ('b', 1);
SELECT incmodel.create_model('qs2_notes',
  $$ SELECT t.body, count(*) AS n FROM qs2.notes t GROUP BY t.body $$, 'qs2.by_note', 'batch') > 0 AS created;
INSERT INTO qs2.notes SELECT string_agg(md5(i::text), ''), 2 FROM generate_series(1, 200) i;
INSERT INTO qs2.notes VALUES ('a', 2);
SELECT state, message, hint FROM testkit.error_of($q$ CALL incmodel.refresh('qs2_notes') $q$);
\set VERBOSITY terse
CALL incmodel.refresh('qs2_notes');
\set VERBOSITY default
SELECT failed_step, error_sqlstate, error_message FROM incmodel.runs
WHERE model_name = 'qs2_notes' AND outcome = 'failed' ORDER BY run_id DESC LIMIT 1;
SELECT body, n FROM qs2.by_note ORDER BY body;

SELECT incmodel.drop_model(name) FROM incmodel.models WHERE name LIKE 'qs2\_%' ORDER BY name;
SELECT count(*) >= 0 AS enabled FROM qs2_disabled, incmodel.alter_model(name, enabled => true);
DROP SCHEMA qs2 CASCADE;
RESET client_min_messages;
