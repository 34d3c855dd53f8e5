-- UPDATE, DELETE and upserts of a batch model's source: incmodel_upd / incmodel_del queue the
-- keys of the old and new rows (evaluated as the model's owner, on the rows the query's filters
-- keep) and log their batch ranges for a recount; an ordinary refresh recomputes those keys
-- ('refresh:success', no rebuild) and the target equals a full rebuild ((0, 0) below).
-- What the capture cannot describe still rebuilds: TRUNCATE, a key that cannot be computed, rows
-- changed where no statement trigger fires.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA kc;
CREATE TABLE kc.ev (id int PRIMARY KEY, uid text, kind text, payload text, amount numeric,
                    b int);
CREATE INDEX ON kc.ev (b);
INSERT INTO kc.ev SELECT g, 'u' || (g % 7), CASE WHEN g % 3 = 0 THEN 'login' ELSE 'view' END,
  CASE WHEN g % 3 = 0 THEN '{"user": "p' || (g % 5) || '"}' ELSE 'not json' END, g, g / 10
FROM generate_series(1, 60) g;
-- Per user; and per user named in the payload, a key only login events can compute.
SELECT incmodel.create_model(name => 'kc_users',
  query => 'SELECT uid, count(*) AS n, sum(amount) AS total FROM kc.ev GROUP BY uid',
  target => 'kc.users', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'kc_logins',
  query => $q$SELECT (payload::jsonb ->> 'user') AS who, count(*) AS n FROM kc.ev
              WHERE kind = 'login' GROUP BY 1$q$,
  target => 'kc.logins', batch_column => 'b') > 0 AS created;

-- An UPDATE of a metric and of a key: both models refresh without rebuilding.
UPDATE kc.ev SET amount = amount + 100 WHERE id IN (3, 4);
UPDATE kc.ev SET uid = 'moved' WHERE id BETWEEN 10 AND 12;
SELECT m.name, count(*) AS key_sets FROM incmodel.key_queue q JOIN incmodel.models m
  USING (model_id) GROUP BY 1 ORDER BY 1;
SELECT model, pending_events > 0 AS pending FROM incmodel.status WHERE model LIKE 'kc%' ORDER BY 1;
SELECT * FROM testkit.refresh_outcome('kc_users');
SELECT * FROM testkit.refresh_outcome('kc_logins');
SELECT count(*) AS queue_left FROM incmodel.key_queue;

-- A DELETE of part of a batch, and of a whole batch: the manifest follows (the emptied batch
-- leaves it), so a reload of that batch with as many rows is processed.
DELETE FROM kc.ev WHERE id IN (21, 24);
DELETE FROM kc.ev WHERE b = 4;
SELECT * FROM testkit.refresh_outcome('kc_users');
SELECT * FROM testkit.refresh_outcome('kc_logins');
SELECT m.batch_value, m.event_count FROM incmodel.manifest m JOIN incmodel.models USING (model_id)
WHERE name = 'kc_users' AND m.batch_value IN ('2', '4') ORDER BY 1;
INSERT INTO kc.ev SELECT g, 'back' || (g % 2), 'login', '{"user": "r"}', 1, 4
FROM generate_series(40, 49) g;
SELECT * FROM testkit.refresh_outcome('kc_users');
SELECT * FROM testkit.refresh_outcome('kc_logins');

-- Deleted and reloaded with the same count in one transaction, with other keys.
BEGIN;
DELETE FROM kc.ev WHERE b = 5;
INSERT INTO kc.ev SELECT g, 'again', 'view', 'x', 2, 5 FROM generate_series(50, 59) g;
COMMIT;
SELECT * FROM testkit.refresh_outcome('kc_users');

-- An upsert: new rows and corrected rows in one statement.
INSERT INTO kc.ev VALUES (1, 'u1', 'view', 'x', 1000, 0), (200, 'new', 'login', '{"user": "n"}', 5, 20)
ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, uid = 'upserted';
SELECT * FROM testkit.refresh_outcome('kc_users');
SELECT * FROM testkit.refresh_outcome('kc_logins');

-- A changed row's batch value moves it to another batch; a NULL key and a NULL batch.
UPDATE kc.ev SET b = 30 WHERE id = 2;
UPDATE kc.ev SET uid = NULL WHERE id = 5;
UPDATE kc.ev SET b = NULL WHERE id = 6;
SELECT * FROM testkit.refresh_outcome('kc_users');
UPDATE kc.ev SET b = 0 WHERE id = 6;
SELECT * FROM testkit.refresh_outcome('kc_users');

-- explain and status announce the queued keys before the refresh.
UPDATE kc.ev SET amount = 0 WHERE id = 7;
SELECT step_name, detail FROM incmodel.explain('kc_users') WHERE step_name = 'keys';
SELECT pending_events > 0 AS pending FROM incmodel.status WHERE model = 'kc_users';
SELECT * FROM testkit.refresh_outcome('kc_users');

-- Rows the filters drop: their payload is not JSON, and the key is never evaluated on them.
UPDATE kc.ev SET payload = 'still not json', amount = amount + 1 WHERE kind = 'view';
SELECT * FROM testkit.refresh_outcome('kc_logins');

-- A key that cannot be computed for a changed row (a login event whose payload is not JSON; the
-- model's own query fails on it too): the loader's statements succeed, a WARNING names the model,
-- the other model refreshes as usual, and once the row is fixed the model rebuilds.
UPDATE kc.ev SET payload = 'broken' WHERE id = 3;
SELECT * FROM testkit.refresh_outcome('kc_users');
UPDATE kc.ev SET payload = '{"user": "fixed"}' WHERE id = 3;
SELECT * FROM testkit.refresh_outcome('kc_logins');

-- TRUNCATE still rebuilds.
TRUNCATE kc.ev;
INSERT INTO kc.ev VALUES (1, 'a', 'view', 'x', 1, 1);
SELECT * FROM testkit.refresh_outcome('kc_users');

-- Rolled back: nothing queued, nothing to do.
BEGIN;
UPDATE kc.ev SET amount = 5;
ROLLBACK;
SELECT * FROM testkit.refresh_outcome('kc_users');

-- incmodel's own refresh and the queue: a key set queued by a transaction that commits after
-- the refresh's plan waits for the next refresh (it is consumed by id, never by range).
SELECT count(*) AS queue_left FROM incmodel.key_queue;

-- =============================================================================================
-- Whose rights compute the keys: the model's owner, never the loader or a superuser
-- =============================================================================================
CREATE ROLE kc_owner;
CREATE ROLE kc_loader;
GRANT USAGE ON SCHEMA kc TO kc_owner, kc_loader;
GRANT CREATE ON SCHEMA kc TO kc_owner;
GRANT USAGE ON SCHEMA incmodel TO kc_owner;
SET ROLE kc_owner;
CREATE TABLE kc.owned (id int PRIMARY KEY, uid text, b int);
-- The owner's key function says who runs it (IMMUTABLE, as models require of keys).
CREATE FUNCTION kc.who(v text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE NOTICE 'key of % computed as %', v, current_user;
  RETURN v;
END $$;
INSERT INTO kc.owned VALUES (1, 'a', 1), (2, 'b', 1);
SELECT incmodel.create_model(name => 'kc_owned',
  query => 'SELECT kc.who(uid) AS who, count(*) AS n FROM kc.owned GROUP BY 1',
  target => 'kc.owned_counts', batch_column => 'b') > 0 AS created;
GRANT SELECT, UPDATE, DELETE ON kc.owned TO kc_loader;
RESET ROLE;
SET client_min_messages = notice;
-- The loader (no right on schema incmodel) and the superuser change rows.
SET ROLE kc_loader;
UPDATE kc.owned SET uid = 'c' WHERE id = 1;
RESET ROLE;
DELETE FROM kc.owned WHERE id = 2;
SET client_min_messages = warning;
SELECT * FROM testkit.refresh_outcome('kc_owned');
SELECT incmodel.drop_model('kc_owned');

-- =============================================================================================
-- Partitioned source: statements on the parent, on a partition, rows moving between partitions
-- =============================================================================================
CREATE TABLE kc.pev (id int, uid text, amount numeric, b int, day date) PARTITION BY RANGE (day);
CREATE TABLE kc.pev_1 PARTITION OF kc.pev FOR VALUES FROM ('2026-01-01') TO ('2026-01-02');
CREATE TABLE kc.pev_2 PARTITION OF kc.pev FOR VALUES FROM ('2026-01-02') TO ('2026-01-03');
INSERT INTO kc.pev SELECT g, 'u' || (g % 4), g, g / 5, '2026-01-01'::date + (g % 2)
FROM generate_series(1, 20) g;
SELECT incmodel.create_model(name => 'kc_part',
  query => 'SELECT uid, count(*) AS n, sum(amount) AS total FROM kc.pev GROUP BY uid',
  target => 'kc.part', batch_column => 'b') > 0 AS created;
-- A partition created after the model gets the capture triggers too.
CREATE TABLE kc.pev_3 PARTITION OF kc.pev FOR VALUES FROM ('2026-01-03') TO ('2026-01-04');
SELECT c.relname, count(*) FILTER (WHERE t.tgname IN ('incmodel_upd', 'incmodel_del')) AS capture
FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid
WHERE c.relname LIKE 'pev%' GROUP BY 1 ORDER BY 1;
UPDATE kc.pev SET amount = amount * 2 WHERE id < 5;
SELECT * FROM testkit.refresh_outcome('kc_part');
-- Statements naming a partition (even ids are in pev_1, odd ones in pev_2).
UPDATE kc.pev_2 SET uid = 'p2' WHERE id = 3;
DELETE FROM kc.pev_1 WHERE id = 4;
SELECT * FROM testkit.refresh_outcome('kc_part');
-- A row moved to another partition by an UPDATE of the parent.
UPDATE kc.pev SET day = '2026-01-03', uid = 'moved' WHERE id = 5;
SELECT * FROM testkit.refresh_outcome('kc_part');
-- Rows changed where no statement trigger fires (logical replication's apply fires row triggers
-- only; here incmodel_upd is disabled for one statement, which the DDL capture itself also
-- reports): the row trigger's note makes the next refresh rebuild.
ALTER TABLE kc.pev_1 DISABLE TRIGGER incmodel_upd;
UPDATE kc.pev_1 SET amount = -1 WHERE id = 7;
ALTER TABLE kc.pev_1 ENABLE ALWAYS TRIGGER incmodel_upd;
SELECT * FROM testkit.refresh_outcome('kc_part');
-- =============================================================================================
-- A key whose equality is not text equality (citext), changed by UPDATE
-- =============================================================================================
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE kc.mail (id int PRIMARY KEY, email citext, b int);
INSERT INTO kc.mail VALUES (1, 'Alice@X.com', 1), (2, 'bob@x.com', 1);
SELECT incmodel.create_model(name => 'kc_mail',
  query => 'SELECT email, count(*) AS n FROM kc.mail GROUP BY email',
  target => 'kc.mail_counts', batch_column => 'b') > 0 AS created;
UPDATE kc.mail SET email = 'alice@x.com' WHERE id = 1;
INSERT INTO kc.mail VALUES (3, 'ALICE@x.com', 2);
SELECT * FROM testkit.refresh_outcome('kc_mail');
DELETE FROM kc.mail WHERE email = 'alice@x.com';
SELECT * FROM testkit.refresh_outcome('kc_mail');

SELECT incmodel.drop_model(m) FROM unnest(ARRAY['kc_users', 'kc_logins', 'kc_part', 'kc_mail']) m;
DROP SCHEMA kc CASCADE;
REVOKE USAGE ON SCHEMA incmodel FROM kc_owner;
DROP ROLE kc_owner;
DROP ROLE kc_loader;
