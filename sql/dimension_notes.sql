-- A watched relation's row triggers note the changed rows' values on the columns the models'
-- routes start from (no transition table), and the values are queued once per model as the
-- transaction commits; statement triggers reading whole rows exist only while a model needs them
-- (a route starting from an expression, a key read through the relation). The watch's shape
-- follows the models that read the relation as they come and go. Every refresh after a change
-- must equal a full rebuild ('refresh:success', 0 extra, 0 missing), touch exactly the keys
-- counted independently here, and rebuild only past the noted values' limit (section 8).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA dn;
CREATE TABLE dn.ev (event_id int PRIMARY KEY, uid int, code text, acct int, tag uuid,
                    b int NOT NULL);
CREATE INDEX ON dn.ev (b);
CREATE INDEX ON dn.ev (code);
CREATE INDEX ON dn.ev (acct);
CREATE INDEX ON dn.ev (tag);
CREATE TABLE dn.dim (code text PRIMARY KEY, acct int, label text);
CREATE TABLE dn.tags (tag_id uuid PRIMARY KEY, label text);
INSERT INTO dn.dim SELECT 'c' || g, g % 5, 'label ' || g FROM generate_series(1, 20) g;
INSERT INTO dn.tags SELECT md5('t' || g)::uuid, 'tag ' || g FROM generate_series(1, 6) g;
-- 40 users; user u's events have code c(1 + u % 20), account u % 7 (5 and 6 have no dim row) and
-- tag u % 8 (tags 7 and 0 have none; every 10th event has a NULL tag), so a change to one code,
-- account or tag reaches some users only
INSERT INTO dn.ev SELECT g, g % 40, 'c' || (1 + g % 20), (g % 40) % 7,
  CASE WHEN g % 10 = 0 THEN NULL ELSE md5('t' || (g % 8))::uuid END, 1
FROM generate_series(1, 800) g;

-- The watch triggers of a relation, with what their WHEN clauses note.
CREATE FUNCTION dn.watch(rel regclass) RETURNS TABLE (tgname name, fires text, notes text)
LANGUAGE sql AS $$
  SELECT t.tgname,
         substring(pg_get_triggerdef(t.oid) FROM 'AFTER (.*) ON '),
         coalesce(substring(pg_get_triggerdef(t.oid) FROM 'WHEN \((.*)\) EXECUTE'), '')
  FROM pg_trigger t WHERE t.tgrelid = rel AND t.tgname LIKE 'incmodel\_dim%' ORDER BY 1 $$;
-- The users whose events read the given codes / accounts / tags (what a change reaches).
CREATE FUNCTION dn.users_of_codes(codes text[]) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(DISTINCT uid) FROM dn.ev WHERE code = ANY (codes) $$;
CREATE FUNCTION dn.last_keys(model text) RETURNS bigint LANGUAGE sql AS $$
  SELECT keys FROM incmodel.runs WHERE model_name = model ORDER BY run_id DESC LIMIT 1 $$;

-- 1. One model whose route starts from dim.code: the row triggers note code, nothing else.
SELECT incmodel.create_model(name => 'dn_code',
  query => 'SELECT e.uid, max(d.label) AS label, count(*) AS events
            FROM dn.ev e JOIN dn.dim d ON d.code = e.code GROUP BY e.uid',
  target => 'dn.t_code', batch_column => 'b') > 0 AS created;
SELECT * FROM dn.watch('dn.dim');

-- 2. A second model from dim.acct: both columns are noted, by the same two triggers.
SELECT incmodel.create_model(name => 'dn_acct',
  query => 'SELECT e.uid, string_agg(DISTINCT d.label, '','' ORDER BY d.label) AS labels
            FROM dn.ev e JOIN dn.dim d ON d.acct = e.acct GROUP BY e.uid',
  target => 'dn.t_acct', batch_column => 'b') > 0 AS created;
SELECT * FROM dn.watch('dn.dim');

-- 3. A route starting from an expression needs whole rows: statement triggers join the watch.
SELECT incmodel.create_model(name => 'dn_expr',
  query => 'SELECT e.uid, count(*) AS events, max(d.acct) AS acct
            FROM dn.ev e JOIN dn.dim d ON upper(d.code) = upper(e.code) GROUP BY e.uid',
  target => 'dn.t_expr', batch_column => 'b') > 0 AS created;
SELECT * FROM dn.watch('dn.dim');

-- 4. A uuid column (its values queued through its output function), NULLs never queued.
SELECT incmodel.create_model(name => 'dn_tags',
  query => 'SELECT e.uid, count(t.label) AS tagged, max(t.label) AS tag
            FROM dn.ev e LEFT JOIN dn.tags t ON t.tag_id = e.tag GROUP BY e.uid',
  target => 'dn.t_tags', batch_column => 'b') > 0 AS created;
SELECT * FROM dn.watch('dn.tags');
-- What a change does for each model is recorded with its watch (a writer's commit reads it).
SELECT m.name, d.relation, d.watch, d.noted_column
FROM incmodel.model_dimensions d JOIN incmodel.models m USING (model_id)
WHERE m.name LIKE 'dn\_%' ORDER BY 1, 2;

-- The WHEN function is callable by anyone: a value not of its column's type is refused (the
-- refresh reads the values back as that type), never queued.
BEGIN;
SELECT incmodel.note_dimension_values('dn.dim'::regclass, '{2}', 'not an int'::text);
ROLLBACK;

-- 5. A transaction of several statements: an UPDATE of a value column, an UPDATE that moves a
-- row to another code, a DELETE, an upsert, and a statement rolled back to a savepoint. The
-- noted values are queued once per model, at commit (none before); the expression model's
-- statement triggers queue per statement.
BEGIN;
UPDATE dn.dim SET label = label || '!' WHERE code IN ('c1', 'c2');
UPDATE dn.dim SET code = 'c30' WHERE code = 'c3';
DELETE FROM dn.dim WHERE code = 'c4';
INSERT INTO dn.dim VALUES ('c5', 9, 'upserted'), ('c31', 1, 'new') ON CONFLICT (code) DO UPDATE
  SET acct = excluded.acct, label = excluded.label;
SAVEPOINT s;
UPDATE dn.dim SET label = 'rolled back' WHERE code = 'c6';
ROLLBACK TO SAVEPOINT s;
SELECT m.name, count(*) AS queued_before_commit
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id) GROUP BY 1 ORDER BY 1;
COMMIT;
-- (the row triggers' values are queued packed, the statement triggers' as text[])
SELECT m.name, count(*) AS queue_rows,
       sum(cardinality(COALESCE(q.keys, incmodel.noted_values(q.packed_values)))) AS values
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id) GROUP BY 1 ORDER BY 1;
SELECT * FROM testkit.refresh_outcome('dn_code');
-- c1 c2 c3 c4 c5 c6 (the rolled-back change is queued too: more, never fewer) and c30 c31 (no
-- event reads them)
SELECT dn.last_keys('dn_code') AS keys,
       dn.users_of_codes('{c1,c2,c3,c4,c5,c6}') AS expected;
SELECT * FROM testkit.refresh_outcome('dn_acct');
SELECT * FROM testkit.refresh_outcome('dn_expr');

-- A refresh in the transaction that changed the dimension sees the change (the values noted for
-- the commit are queued first).
BEGIN;
UPDATE dn.dim SET label = 'same transaction' WHERE code = 'c8';
SELECT * FROM testkit.refresh_outcome('dn_code');
COMMIT;
SELECT dn.last_keys('dn_code') AS keys, dn.users_of_codes('{c8}') AS expected;

-- 6. COPY into the dimension (the loaders' path), then a refresh of each model.
COPY dn.dim FROM stdin;
c40	6	copied
c41	5	copied too
\.
SELECT * FROM testkit.refresh_outcome('dn_code');
SELECT * FROM testkit.refresh_outcome('dn_acct');
-- (accounts 5 and 6 of the copied rows, and 3, c8's, whose label changed above)
SELECT dn.last_keys('dn_acct') AS keys,
       (SELECT count(DISTINCT uid) FROM dn.ev WHERE acct IN (3, 5, 6)) AS expected;
SELECT * FROM testkit.refresh_outcome('dn_expr');

-- 7. Tags: a late tag row, a changed label, a removed tag.
INSERT INTO dn.tags VALUES (md5('t7')::uuid, 'late tag');
UPDATE dn.tags SET label = 'renamed' WHERE tag_id = md5('t1')::uuid;
DELETE FROM dn.tags WHERE tag_id = md5('t2')::uuid;
SELECT * FROM testkit.refresh_outcome('dn_tags');
SELECT dn.last_keys('dn_tags') AS keys,
       (SELECT count(DISTINCT uid) FROM dn.ev
        WHERE tag IN (md5('t7')::uuid, md5('t1')::uuid, md5('t2')::uuid)) AS expected;

-- 8. Past incmodel.dimension_values_limit values noted for a relation in one transaction they
-- are not kept: the models that map its values recompute whole (the run says so), the expression
-- model (whole rows) is unaffected.
SET incmodel.dimension_values_limit = 5;
INSERT INTO dn.dim SELECT 'o' || g, 1, 'many' FROM generate_series(1, 10) g;
RESET incmodel.dimension_values_limit;
SELECT m.name, q.dimension, q.keys IS NULL AND q.packed_values IS NULL AS full_recompute
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id) ORDER BY 1;
SELECT * FROM testkit.refresh_outcome('dn_code');
SELECT * FROM testkit.refresh_outcome('dn_acct');
SELECT * FROM testkit.refresh_outcome('dn_expr');

-- 9. Dropping the models one by one shrinks the watch: the expression model's statement
-- triggers go, then acct stops being noted, then the watch goes.
SELECT incmodel.drop_model('dn_expr');
SELECT * FROM dn.watch('dn.dim');
SELECT incmodel.drop_model('dn_acct');
SELECT * FROM dn.watch('dn.dim');
UPDATE dn.dim SET label = 'after drops' WHERE code = 'c7';
SELECT * FROM testkit.refresh_outcome('dn_code');
SELECT incmodel.drop_model('dn_code');
SELECT count(*) AS triggers_left FROM dn.watch('dn.dim');

-- 10. A noted column's type cannot change under the watch (the trigger reads it): PostgreSQL
-- says so; the model is dropped (or re-created) to change it.
ALTER TABLE dn.tags ALTER COLUMN label TYPE varchar(100);
ALTER TABLE dn.tags ALTER COLUMN tag_id TYPE text;
SELECT incmodel.drop_model('dn_tags');
ALTER TABLE dn.tags ALTER COLUMN tag_id TYPE text;
SELECT count(*) AS triggers_left FROM dn.watch('dn.tags');
-- 11. A watch made by 0.5.0 (a row trigger that only counts, statement triggers reading the changed
-- rows, nothing recorded in model_dimensions.watch), as ALTER EXTENSION UPDATE leaves it until the
-- model's next run: a change meanwhile recomputes the model whole (its values were not noted),
-- never loses it; that run sets the watch up again, and the next change recomputes its keys only.
SELECT incmodel.create_model(name => 'dn_old',
  query => 'SELECT e.uid, max(d.label) AS label, count(*) AS events
            FROM dn.ev e JOIN dn.dim d ON d.code = e.code GROUP BY e.uid',
  target => 'dn.t_old', batch_column => 'b') > 0 AS created;
DROP TRIGGER incmodel_dim ON dn.dim;
DROP TRIGGER incmodel_dim_old ON dn.dim;
CREATE TRIGGER incmodel_dim AFTER INSERT OR UPDATE OR DELETE ON dn.dim FOR EACH ROW
  WHEN (incmodel.note_dimension_change('dn.dim'::regclass))
  EXECUTE FUNCTION incmodel.log_source_modification();
CREATE TRIGGER incmodel_dim_upd AFTER UPDATE ON dn.dim REFERENCING OLD TABLE AS incmodel_old
  NEW TABLE AS incmodel_new FOR EACH STATEMENT EXECUTE FUNCTION incmodel.queue_dimension_values();
UPDATE incmodel.model_dimensions SET watch = NULL, noted_column = NULL
WHERE model_id = (SELECT model_id FROM incmodel.models WHERE name = 'dn_old');
UPDATE incmodel.models SET dimensions_recorded = false WHERE name = 'dn_old';
UPDATE dn.dim SET label = 'under the old watch' WHERE code = 'c9';
SELECT * FROM testkit.refresh_outcome('dn_old');
SELECT * FROM dn.watch('dn.dim');
UPDATE dn.dim SET label = 'under the new watch' WHERE code = 'c9';
SELECT * FROM testkit.refresh_outcome('dn_old');
SELECT dn.last_keys('dn_old') AS keys, dn.users_of_codes('{c9}') AS expected;
SELECT incmodel.drop_model('dn_old');
-- 12. The packed form (0.7.0): the row triggers queue each value as the bytes it shares with the
-- value before and the rest, read back in order by incmodel.noted_values (consecutive repeats
-- once; empty, multibyte and long values, an unrelated value after a long shared run).
CREATE TABLE dn.words (w text, label text);
SELECT incmodel.create_model(name => 'dn_words',
  query => 'SELECT e.uid, max(w.label) AS label, count(*) AS events
            FROM dn.ev e JOIN dn.words w ON w.w = e.code GROUP BY e.uid',
  target => 'dn.t_words', batch_column => 'b') > 0 AS created;
CALL incmodel.refresh('dn_words');
BEGIN;
INSERT INTO dn.words VALUES ('c1', 'a'), ('c1', 'repeated'), ('c10', 'b'), ('c11', 'c'), ('', 'empty'),
  ('c2', 'd'), ('ça', 'e'), ('çb', 'f'), (repeat('x', 300), 'g'), (repeat('x', 300) || 'y', 'h'),
  ('c3', 'i'), (NULL, 'null');
COPY dn.words FROM stdin;
c3	repeated by the COPY
c4	copied
\.
COMMIT;
SELECT incmodel.noted_values(q.packed_values) =
       ARRAY['c1', 'c10', 'c11', '', 'c2', 'ça', 'çb', repeat('x', 300), repeat('x', 300) || 'y',
             'c3', 'c4'] AS in_order, octet_length(q.packed_values) < 700 AS packed
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id) WHERE m.name = 'dn_words';
SELECT * FROM testkit.refresh_outcome('dn_words');
SELECT dn.last_keys('dn_words') AS keys, dn.users_of_codes('{c1,c10,c11,c2,c3,c4}') AS expected;
-- Values queued by 0.6.0 (text[] in keys, as its row triggers wrote them) are still read after
-- the update: with a change noted now (c5), the refresh recomputes the users of both.
INSERT INTO incmodel.key_queue (model_id, dimension, keys)
SELECT model_id, 'dn.words'::regclass, '{c7,c8}' FROM incmodel.models WHERE name = 'dn_words';
INSERT INTO dn.words VALUES ('c5', 'late');
SELECT * FROM testkit.refresh_outcome('dn_words');
SELECT dn.last_keys('dn_words') AS keys, dn.users_of_codes('{c5,c7,c8}') AS expected;
-- Anything else is refused, never misread.
SELECT incmodel.noted_values('\x0100') AS no_values, incmodel.noted_values('\x010100026331') AS one;
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x02')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x0101')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x010100036331')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x010101016331')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x01020002633101ff')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.noted_values('\x0101000263310000')$$);
SELECT incmodel.drop_model('dn_words');
DROP SCHEMA dn CASCADE;
