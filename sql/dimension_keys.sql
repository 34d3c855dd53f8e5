-- A change to a relation joined to the source by an equality of the query recomputes only the
-- keys of the source rows it joins: the statement queues the changed rows' join values
-- (incmodel.key_queue rows with `dimension` set), the refresh follows the query's equalities from
-- them to the source (through other joined tables too) and recomputes those keys. Each block
-- checks the keys a refresh touched against the number computed independently here, and that
-- the target equals a full rebuild ('refresh:success', 0 extra, 0 missing).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA dk2;
-- Snowplow's shape: events, and a context table whose rows name their event (root_id).
CREATE TABLE dk2.events (event_id text PRIMARY KEY, sid text, uid text, city_id int,
                         etl int NOT NULL);
CREATE INDEX ON dk2.events (etl);
CREATE TABLE dk2.ctx (root_id varchar(36), page text);
CREATE TABLE dk2.regions (region_id int PRIMARY KEY, name text);
CREATE TABLE dk2.cities (city_id int PRIMARY KEY, region_id int);
INSERT INTO dk2.regions SELECT r, 'region ' || r FROM generate_series(1, 4) r;
INSERT INTO dk2.cities SELECT c, 1 + c % 4 FROM generate_series(1, 20) c;
INSERT INTO dk2.events SELECT 'e' || g, 's' || (g % 50), 'u' || (g % 17), 1 + g % 20, g / 100
FROM generate_series(1, 1000) g;
-- context rows for the first 600 events only: the rest arrive later
INSERT INTO dk2.ctx SELECT 'e' || g, '/p' || (g % 7) FROM generate_series(1, 600) g;

SELECT incmodel.create_model(name => 'dk2_sessions',
  query => 'SELECT e.sid, count(*) AS views, count(DISTINCT c.page) AS pages
            FROM dk2.events e JOIN dk2.ctx c ON c.root_id = e.event_id GROUP BY e.sid',
  target => 'dk2.t_sessions', batch_column => 'etl') > 0 AS created;
SELECT incmodel.create_model(name => 'dk2_users',
  query => 'SELECT e.uid, r.name AS region, count(*) AS events
            FROM dk2.events e JOIN dk2.cities ci ON ci.city_id = e.city_id
            LEFT JOIN dk2.regions r ON r.region_id = ci.region_id GROUP BY e.uid, r.name',
  target => 'dk2.t_users', batch_column => 'etl') > 0 AS created;
SELECT incmodel.create_model(name => 'dk2_ignoring',
  query => 'SELECT e.sid, count(*) AS views
            FROM dk2.events e JOIN dk2.ctx c ON c.root_id = e.event_id GROUP BY e.sid',
  target => 'dk2.t_ignoring', batch_column => 'etl', on_dimension_change => 'ignore') > 0
  AS created;

-- The touched keys of the last run of a model.
CREATE FUNCTION dk2.last_keys(model text) RETURNS bigint LANGUAGE sql AS $$
  SELECT keys FROM incmodel.runs WHERE model_name = model ORDER BY run_id DESC LIMIT 1 $$;

-- explain names each watched relation and what a change to it does.
SELECT step, step_name, detail, sql <> '' AS has_sql FROM incmodel.explain('dk2_users')
WHERE step_name = 'dimension';
SELECT step, step_name, detail FROM incmodel.explain('dk2_ignoring')
WHERE step_name = 'dimension';

-- 1. Late context rows: 100 events get theirs; the sessions of exactly those events recompute.
INSERT INTO dk2.ctx SELECT 'e' || g, '/late' FROM generate_series(601, 700) g;
SELECT sum(cardinality(incmodel.noted_values(q.packed_values))) AS queued_values,
       count(*) AS queue_rows
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id)
WHERE m.name = 'dk2_sessions' AND q.dimension = 'dk2.ctx'::regclass;
SELECT model, pending_events > 0 AS pending FROM incmodel.status WHERE model LIKE 'dk2%'
ORDER BY 1;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
SELECT dk2.last_keys('dk2_sessions') AS keys,
       (SELECT count(DISTINCT sid) FROM dk2.events WHERE event_id IN
          (SELECT 'e' || g FROM generate_series(601, 700) g)) AS expected;
-- 'ignore': the model never sees the change (its target keeps the old counts).
SELECT * FROM testkit.refresh_outcome('dk2_ignoring');

-- 2. A context row updated (its page changes) and one moved to another event, one deleted.
UPDATE dk2.ctx SET page = '/changed' WHERE root_id = 'e5';
UPDATE dk2.ctx SET root_id = 'e999' WHERE root_id = 'e6';
DELETE FROM dk2.ctx WHERE root_id = 'e7';
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
SELECT dk2.last_keys('dk2_sessions') AS keys,
       (SELECT count(DISTINCT sid) FROM dk2.events
        WHERE event_id IN ('e5', 'e6', 'e999', 'e7')) AS expected;

-- 3. Through a chain: a region renamed reaches the users with events in its cities.
UPDATE dk2.regions SET name = 'renamed' WHERE region_id = 2;
SELECT * FROM testkit.refresh_outcome('dk2_users');
SELECT dk2.last_keys('dk2_users') AS keys,
       (SELECT count(DISTINCT e.uid) FROM dk2.events e JOIN dk2.cities ci USING (city_id)
        WHERE ci.region_id = 2) AS expected;
-- A city moved to another region, a region deleted (its cities' users get a NULL region).
UPDATE dk2.cities SET region_id = 3 WHERE city_id = 5;
DELETE FROM dk2.regions WHERE region_id = 4;
SELECT * FROM testkit.refresh_outcome('dk2_users');

-- 4. Several statements in one transaction, new events in the same refresh, an upsert.
BEGIN;
INSERT INTO dk2.ctx VALUES ('e800', '/a'), ('e801', '/b'), (NULL, '/orphan');
UPDATE dk2.ctx SET page = '/c' WHERE root_id = 'e10';
INSERT INTO dk2.events VALUES ('e1001', 's1', 'u1', 3, 11), ('e1002', 's2', 'u2', 4, 11);
INSERT INTO dk2.ctx VALUES ('e1001', '/new');
COMMIT;
ALTER TABLE dk2.regions ADD UNIQUE (name);
INSERT INTO dk2.regions VALUES (1, 'upserted') ON CONFLICT (region_id) DO UPDATE SET name =
  EXCLUDED.name;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
SELECT * FROM testkit.refresh_outcome('dk2_users');

-- 5. Rolled back: nothing queued, nothing recomputed.
BEGIN;
UPDATE dk2.ctx SET page = '/never';
ROLLBACK;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');

-- 6. Rows written in replica mode are captured too (the triggers are enabled ALWAYS); a TRUNCATE,
-- which names no rows, rebuilds.
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO dk2.ctx VALUES ('e900', '/replicated');
COMMIT;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
CREATE TABLE dk2.ctx_copy AS SELECT * FROM dk2.ctx;
TRUNCATE dk2.ctx;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
INSERT INTO dk2.ctx SELECT * FROM dk2.ctx_copy;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');

-- 7. A partitioned dimension: a statement on the parent and one on a partition directly.
CREATE TABLE dk2.pctx (root_id text, page text) PARTITION BY HASH (root_id);
CREATE TABLE dk2.pctx0 PARTITION OF dk2.pctx FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE dk2.pctx1 PARTITION OF dk2.pctx FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO dk2.pctx SELECT 'e' || g, '/p' FROM generate_series(1, 300) g;
SELECT incmodel.create_model(name => 'dk2_part',
  query => 'SELECT e.sid, count(*) AS views FROM dk2.events e JOIN dk2.pctx c
            ON c.root_id = e.event_id GROUP BY e.sid',
  target => 'dk2.t_part', batch_column => 'etl') > 0 AS created;
INSERT INTO dk2.pctx SELECT 'e' || g, '/p' FROM generate_series(301, 320) g;
SELECT * FROM testkit.refresh_outcome('dk2_part');
INSERT INTO dk2.pctx0 SELECT root_id, page FROM (SELECT 'e' || g AS root_id, '/q' AS page
  FROM generate_series(321, 400) g) x WHERE satisfies_hash_partition('dk2.pctx'::regclass, 2, 0,
  root_id);
DELETE FROM dk2.pctx1 WHERE root_id IN ('e1', 'e2', 'e3', 'e4');
SELECT * FROM testkit.refresh_outcome('dk2_part');
-- A partition detached and attached again with its rows (no row trigger saw them: rebuilds),
-- then written to directly (its statement triggers came with the ATTACH: a refresh).
ALTER TABLE dk2.pctx DETACH PARTITION dk2.pctx1;
SELECT * FROM testkit.refresh_outcome('dk2_part');
ALTER TABLE dk2.pctx ATTACH PARTITION dk2.pctx1 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SELECT * FROM testkit.refresh_outcome('dk2_part');
INSERT INTO dk2.pctx1 SELECT root_id, page FROM (SELECT 'e' || g AS root_id, '/r' AS page
  FROM generate_series(401, 500) g) x WHERE satisfies_hash_partition('dk2.pctx'::regclass, 2, 1,
  root_id);
SELECT * FROM testkit.refresh_outcome('dk2_part');
SELECT count(*) AS dimension_triggers_on_reattached FROM pg_trigger
WHERE tgrelid = 'dk2.pctx1'::regclass AND tgname LIKE 'incmodel_dim%';

-- 8. The queued values are data: another role sees none of them.
INSERT INTO dk2.ctx VALUES ('e500', '/secret');
CREATE ROLE dk2_other;
GRANT USAGE ON SCHEMA incmodel TO dk2_other;
SET ROLE dk2_other;
SELECT count(*) AS values_seen_by_another_role FROM incmodel.key_queue;
RESET ROLE;
SELECT count(*) > 0 AS values_queued FROM incmodel.key_queue WHERE dimension IS NOT NULL;
SELECT * FROM testkit.refresh_outcome('dk2_sessions');
-- A model owner who lost SELECT on the dimension gets no values read for it from the changed
-- rows (a transition table checks no privilege): a full recompute is queued instead.
CREATE TABLE dk2.owned_dim (root_id text, tag text);
ALTER TABLE dk2.owned_dim OWNER TO dk2_other;
GRANT USAGE, CREATE ON SCHEMA dk2 TO dk2_other;
GRANT SELECT, TRIGGER ON dk2.events TO dk2_other;
SET ROLE dk2_other;
SELECT incmodel.create_model(name => 'dk2_owned',
  query => 'SELECT e.sid, count(*) AS n FROM dk2.events e JOIN dk2.owned_dim d
            ON d.root_id = e.event_id GROUP BY e.sid',
  target => 'dk2.t_owned', batch_column => 'etl') > 0 AS created;
RESET ROLE;
CREATE ROLE dk2_target_owner;
GRANT USAGE ON SCHEMA dk2 TO dk2_target_owner;
GRANT SELECT ON dk2.events TO dk2_target_owner;
ALTER TABLE dk2.t_owned OWNER TO dk2_target_owner;
INSERT INTO dk2.owned_dim VALUES ('e1', 'x');
SELECT count(*) FILTER (WHERE q.keys IS NULL AND q.packed_values IS NULL) AS full_recomputes,
       count(*) FILTER (WHERE q.dimension IS NOT NULL) AS values_read
FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id) WHERE m.name = 'dk2_owned';
SELECT incmodel.drop_model('dk2_owned', true);
REVOKE ALL ON dk2.events FROM dk2_other, dk2_target_owner;
REVOKE ALL ON SCHEMA dk2 FROM dk2_other, dk2_target_owner;
DROP TABLE dk2.owned_dim;
DROP ROLE dk2_target_owner;
REVOKE USAGE ON SCHEMA incmodel FROM dk2_other;
DROP ROLE dk2_other;

SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['dk2_sessions', 'dk2_users',
  'dk2_ignoring', 'dk2_part']) m;
SELECT count(*) AS watch_triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'dk2'::regnamespace AND t.tgname LIKE 'incmodel_dim%';
DROP SCHEMA dk2 CASCADE;
