-- A dimension read through a view, a FROM subquery or a CTE that is "simple" (one relation in its
-- FROM, no aggregation, DISTINCT, window functions, set operations, LIMIT/OFFSET, set-returning
-- or volatile functions; not a security_barrier view; a CTE neither recursive, MATERIALIZED nor
-- read twice) and whose column the equality reads is a plain column of that relation maps its
-- changes to keys as if the relation were joined directly: the changed rows' values on that
-- column select the source rows they join (a filter of the view only makes that a superset).
-- Nested views, a view with WHERE, a renamed and binary-coerced (text -> varchar) column, a FROM
-- subquery, a CTE, an equality over an expression of the view's column, and a view in the middle
-- of a chain (regions -> city_names -> events). Views that are not simple, or whose base table
-- the model's owner may not read itself, keep the full recompute. The oracle: randomized changes
-- of the base tables, each refresh compared with a full rebuild of the query
-- (testkit.assert_equal).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA dv;
CREATE TABLE dv.ev (event_id int PRIMARY KEY, duid text, city_id int, b int NOT NULL);
CREATE INDEX ON dv.ev (b);
CREATE INDEX ON dv.ev (duid);
CREATE INDEX ON dv.ev (city_id);
CREATE TABLE dv.user_map (domain_userid text PRIMARY KEY, user_id text, valid boolean NOT NULL);
CREATE TABLE dv.regions (region_id int PRIMARY KEY, name text);
CREATE TABLE dv.cities (city_id int PRIMARY KEY, region_id int, name varchar(20));
INSERT INTO dv.regions SELECT r, 'region ' || r FROM generate_series(1, 5) r;
INSERT INTO dv.cities SELECT c, 1 + c % 4, 'city ' || c FROM generate_series(1, 12) c;
INSERT INTO dv.user_map SELECT 'd' || g, 'user ' || (g % 23), g % 5 <> 0 FROM generate_series(0, 79) g;
-- 60 devices over 12 cities; device d's events are in cities 1 + d % 12 and 1 + (d + 5) % 12
INSERT INTO dv.ev SELECT g, 'd' || (g % 60), 1 + ((g % 60) + 5 * (g % 2)) % 12, 1
FROM generate_series(1, 600) g;

CREATE VIEW dv.current_users AS SELECT domain_userid, user_id FROM dv.user_map WHERE valid;
CREATE VIEW dv.current_users2 AS SELECT domain_userid::varchar AS duid, user_id
  FROM dv.current_users;
CREATE VIEW dv.city_names AS SELECT city_id, region_id, name::text AS name FROM dv.cities;

-- The bounded shapes.
SELECT incmodel.create_model(name => 'dv_users',
  query => 'SELECT e.duid, max(m.user_id) AS user_id, count(*) AS events
            FROM dv.ev e LEFT JOIN dv.current_users m ON m.domain_userid = e.duid GROUP BY e.duid',
  target => 'dv.t_users', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dv_nested',
  query => 'SELECT e.city_id, count(DISTINCT m.user_id) AS users, count(*) AS events
            FROM dv.ev e LEFT JOIN dv.current_users2 m ON m.duid = e.duid GROUP BY e.city_id',
  target => 'dv.t_nested', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dv_sub',
  query => 'SELECT e.city_id, count(*) AS events, max(m.user_id) AS last_user
            FROM dv.ev e JOIN (SELECT domain_userid, user_id FROM dv.user_map
                               WHERE user_id IS NOT NULL) m ON m.domain_userid = e.duid
            GROUP BY e.city_id',
  target => 'dv.t_sub', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dv_cte',
  query => 'WITH m AS (SELECT domain_userid, upper(user_id) AS uid, valid FROM dv.user_map)
            SELECT e.duid, max(m.uid) AS uid, bool_or(m.valid) AS valid, count(*) AS events
            FROM dv.ev e LEFT JOIN m ON m.domain_userid = e.duid GROUP BY e.duid',
  target => 'dv.t_cte', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dv_expr',
  query => 'SELECT e.city_id, count(m.user_id) AS mapped
            FROM dv.ev e LEFT JOIN dv.current_users m ON lower(m.domain_userid) = e.duid
            GROUP BY e.city_id',
  target => 'dv.t_expr', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dv_regions',
  query => 'SELECT e.duid, string_agg(DISTINCT r.name, '','' ORDER BY r.name) AS regions,
                   string_agg(DISTINCT c.name, '','' ORDER BY c.name) AS cities
            FROM dv.ev e JOIN dv.city_names c ON c.city_id = e.city_id
            LEFT JOIN dv.regions r ON r.region_id = c.region_id GROUP BY e.duid',
  target => 'dv.t_regions', batch_column => 'b') > 0 AS created;

-- What each model watches (the views resolved to their tables) and what a change does: the
-- plain columns are noted by the row triggers ('values', the base table's column), the
-- expression needs whole rows ('rows').
SELECT m.name, d.relation, d.watch, a.attname AS noted
FROM incmodel.model_dimensions d JOIN incmodel.models m USING (model_id)
LEFT JOIN pg_attribute a ON a.attrelid = d.relation AND a.attnum = d.noted_column
WHERE m.name LIKE 'dv\_%' ORDER BY 1, 2;
-- explain says which view, subquery or CTE the relation is read through, and the route.
SELECT m.name, e.detail, e.sql <> '' AS has_sql
FROM incmodel.models m, incmodel.explain(m.name) e
WHERE m.name LIKE 'dv\_%' AND e.step_name = 'dimension' ORDER BY 1, 2;

CREATE FUNCTION dv.last_keys(model text) RETURNS bigint LANGUAGE sql AS $$
  SELECT keys FROM incmodel.runs WHERE model_name = model ORDER BY run_id DESC LIMIT 1 $$;
CREATE FUNCTION dv.outcomes() RETURNS TABLE (model text, runs text, extra bigint, missing bigint)
LANGUAGE sql AS $$
  SELECT m, o.* FROM unnest(ARRAY['dv_users', 'dv_nested', 'dv_sub', 'dv_cte', 'dv_expr',
                                  'dv_regions']) m, testkit.refresh_outcome(m) o $$;

-- 1. One map row re-pointed, one invalidated (the view filters it out), one inserted: only the
-- keys of the devices they name are recomputed.
UPDATE dv.user_map SET user_id = 'someone else' WHERE domain_userid = 'd7';
UPDATE dv.user_map SET valid = false WHERE domain_userid = 'd8';
INSERT INTO dv.user_map VALUES ('d99', 'user 99', true);
UPDATE dv.ev SET duid = 'd99' WHERE event_id = 1;
SELECT * FROM dv.outcomes();
SELECT dv.last_keys('dv_users') AS keys,
       (SELECT count(DISTINCT duid) FROM dv.ev WHERE duid IN ('d7', 'd8', 'd99', 'd1')) AS expected;
SELECT dv.last_keys('dv_nested') AS keys,
       (SELECT count(DISTINCT city_id) FROM dv.ev WHERE duid IN ('d7', 'd8', 'd99', 'd1')
          OR event_id = 1) AS expected;

-- 2. The view in the middle of a chain: a region renamed reaches the devices with events in its
-- cities (through the view); a city moved to another region reaches its own devices.
UPDATE dv.regions SET name = 'north' WHERE region_id = 2;
SELECT * FROM testkit.refresh_outcome('dv_regions');
SELECT dv.last_keys('dv_regions') AS keys,
       (SELECT count(DISTINCT duid) FROM dv.ev e JOIN dv.cities c USING (city_id)
        WHERE c.region_id = 2) AS expected;
UPDATE dv.cities SET region_id = 5 WHERE city_id = 3;
SELECT * FROM testkit.refresh_outcome('dv_regions');
SELECT dv.last_keys('dv_regions') AS keys,
       (SELECT count(DISTINCT duid) FROM dv.ev WHERE city_id = 3) AS expected;

-- A view redefined (CREATE OR REPLACE VIEW) so that the joined column is another column of the
-- table than the row triggers note: the values queued since are of the old column, so the refresh
-- rebuilds and sets the watch up again at once (noting the new column); the next change is
-- mapped again.
CREATE VIEW dv.swap_users AS SELECT domain_userid AS x, user_id AS y FROM dv.user_map;
SELECT incmodel.create_model(name => 'dv_swap',
  query => 'SELECT e.duid, max(s.y) AS y FROM dv.ev e LEFT JOIN dv.swap_users s ON s.x = e.duid
            GROUP BY 1',
  target => 'dv.t_swap', batch_column => 'b') > 0 AS created;
CREATE OR REPLACE VIEW dv.swap_users AS SELECT user_id AS x, domain_userid AS y FROM dv.user_map;
UPDATE dv.user_map SET user_id = 'd3' WHERE domain_userid = 'd9';
SELECT * FROM testkit.refresh_outcome('dv_swap');
SELECT d.watch, a.attname AS noted FROM incmodel.model_dimensions d
JOIN incmodel.models m USING (model_id)
LEFT JOIN pg_attribute a ON a.attrelid = d.relation AND a.attnum = d.noted_column
WHERE m.name = 'dv_swap';
UPDATE dv.user_map SET user_id = 'd11' WHERE domain_userid = 'd10';
SELECT * FROM testkit.refresh_outcome('dv_swap');
SELECT dv.last_keys('dv_swap') AS keys,
       (SELECT count(DISTINCT duid) FROM dv.ev WHERE duid IN ('d11', 'user 10')) AS expected;
SELECT incmodel.drop_model('dv_swap', true);

-- 3. Not bounded: the view aggregates, has DISTINCT ON, is a security_barrier view, computes the
-- column the equality reads, joins two tables; a subquery with LIMIT; a MATERIALIZED CTE, a CTE
-- read twice. Refused by default, with the reason.
CREATE VIEW dv.user_counts AS SELECT domain_userid, count(*) AS n FROM dv.user_map GROUP BY 1;
CREATE VIEW dv.first_user AS SELECT DISTINCT ON (domain_userid) domain_userid, user_id
  FROM dv.user_map ORDER BY domain_userid, user_id;
CREATE VIEW dv.barrier_users WITH (security_barrier) AS
  SELECT domain_userid, user_id FROM dv.user_map WHERE valid;
CREATE VIEW dv.lower_users AS SELECT lower(domain_userid) AS d, user_id FROM dv.user_map;
CREATE VIEW dv.joined_users AS SELECT u.domain_userid, u.user_id
  FROM dv.user_map u JOIN dv.regions r ON r.region_id = length(u.user_id);
CREATE FUNCTION dv.refused(name text, query text) RETURNS TABLE (model text, detail text)
LANGUAGE sql AS $$
  SELECT name, regexp_replace(e.detail, '^.*; here ', '')
  FROM testkit.error_of(format('SELECT incmodel.create_model(name => %L, query => %L, '
                               'target => %L, batch_column => %L)',
                               name, query, 'dv.t_' || name, 'b')) e $$;
SELECT * FROM dv.refused('agg', 'SELECT e.duid, max(m.n) AS n FROM dv.ev e
  LEFT JOIN dv.user_counts m ON m.domain_userid = e.duid GROUP BY 1');
SELECT * FROM dv.refused('distinct_on', 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
  LEFT JOIN dv.first_user m ON m.domain_userid = e.duid GROUP BY 1');
SELECT * FROM dv.refused('barrier', 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
  LEFT JOIN dv.barrier_users m ON m.domain_userid = e.duid GROUP BY 1');
SELECT * FROM dv.refused('computed', 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
  LEFT JOIN dv.lower_users m ON m.d = e.duid GROUP BY 1');
SELECT * FROM dv.refused('joined', 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
  LEFT JOIN dv.joined_users m ON m.domain_userid = e.duid GROUP BY 1');
SELECT * FROM dv.refused('limited', 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
  LEFT JOIN (SELECT * FROM dv.user_map ORDER BY 1 LIMIT 30) m ON m.domain_userid = e.duid
  GROUP BY 1');
SELECT * FROM dv.refused('materialized', 'WITH m AS MATERIALIZED (SELECT * FROM dv.user_map)
  SELECT e.duid, max(m.user_id) AS u FROM dv.ev e LEFT JOIN m ON m.domain_userid = e.duid
  GROUP BY 1');
SELECT * FROM dv.refused('twice', 'WITH m AS (SELECT * FROM dv.user_map)
  SELECT e.duid, max(m.user_id) AS u, max(n.user_id) AS v FROM dv.ev e
  LEFT JOIN m ON m.domain_userid = e.duid LEFT JOIN m n ON n.user_id = e.duid GROUP BY 1');
-- With on_dimension_change => 'rebuild' such a model recomputes whole after a change.
SELECT incmodel.create_model(name => 'dv_barrier',
  query => 'SELECT e.duid, max(m.user_id) AS u FROM dv.ev e
            LEFT JOIN dv.barrier_users m ON m.domain_userid = e.duid GROUP BY 1',
  target => 'dv.t_barrier', batch_column => 'b', on_dimension_change => 'rebuild') > 0 AS created;
SELECT detail FROM incmodel.explain('dv_barrier') WHERE step_name = 'dimension';
UPDATE dv.user_map SET user_id = 'u2' WHERE domain_userid = 'd2';
SELECT * FROM testkit.refresh_outcome('dv_barrier');
SELECT incmodel.drop_model('dv_barrier', true);

-- 4. A view whose base table the model's owner may not read: the query reads it through the view
-- (with the view owner's rights), but mapping the changed rows' values would read the table as
-- the model's owner, so there is no route: refused by default, a full recompute with 'rebuild'.
CREATE ROLE dv_analyst;
CREATE SCHEMA dva AUTHORIZATION dv_analyst;
CREATE TABLE dv.secret_map (domain_userid text PRIMARY KEY, segment text);
INSERT INTO dv.secret_map SELECT 'd' || g, 'segment ' || (g % 3) FROM generate_series(0, 59) g;
CREATE VIEW dv.segments AS SELECT domain_userid, segment FROM dv.secret_map;
GRANT USAGE ON SCHEMA dv TO dv_analyst;
GRANT USAGE ON SCHEMA incmodel TO dv_analyst;
GRANT SELECT ON dv.segments TO dv_analyst;
GRANT TRIGGER ON dv.secret_map TO dv_analyst;
GRANT USAGE ON SCHEMA testkit TO dv_analyst;
SET ROLE dv_analyst;
CREATE TABLE dva.ev (event_id int PRIMARY KEY, duid text, b int NOT NULL);
INSERT INTO dva.ev SELECT g, 'd' || (g % 60), 1 FROM generate_series(1, 200) g;
SELECT regexp_replace(detail, '^.*; here ', '') AS detail FROM testkit.error_of(
  $$SELECT incmodel.create_model(name => 'dva_segments',
    query => 'SELECT e.duid, max(s.segment) AS segment FROM dva.ev e
              JOIN dv.segments s ON s.domain_userid = e.duid GROUP BY 1',
    target => 'dva.t_segments', batch_column => 'b')$$);
SELECT incmodel.create_model(name => 'dva_segments',
  query => 'SELECT e.duid, max(s.segment) AS segment FROM dva.ev e
            JOIN dv.segments s ON s.domain_userid = e.duid GROUP BY 1',
  target => 'dva.t_segments', batch_column => 'b', on_dimension_change => 'rebuild') > 0
  AS created;
SELECT detail FROM incmodel.explain('dva_segments') WHERE step_name = 'dimension';
RESET ROLE;
UPDATE dv.secret_map SET segment = 'vip' WHERE domain_userid = 'd4';
SELECT * FROM testkit.refresh_outcome('dva_segments');
-- Granted the column, the owner gets the route.
RESET ROLE;
GRANT SELECT (domain_userid) ON dv.secret_map TO dv_analyst;
SET ROLE dv_analyst;
SELECT incmodel.drop_model('dva_segments', true);
SELECT incmodel.create_model(name => 'dva_segments',
  query => 'SELECT e.duid, max(s.segment) AS segment FROM dva.ev e
            JOIN dv.segments s ON s.domain_userid = e.duid GROUP BY 1',
  target => 'dva.t_segments', batch_column => 'b') > 0 AS created;
SELECT detail FROM incmodel.explain('dva_segments') WHERE step_name = 'dimension';
RESET ROLE;
UPDATE dv.secret_map SET segment = 'vip' WHERE domain_userid IN ('d5', 'd6');
SELECT * FROM testkit.refresh_outcome('dva_segments');
SELECT dv.last_keys('dva_segments') AS keys;
SELECT incmodel.drop_model('dva_segments', true);

-- 5. The oracle: per seed, random inserts, updates (of the join column, of the filtered flag, of
-- other columns), deletes of the base tables and loads of events, each in its own transaction;
-- after a random share of them every model is refreshed and must equal a full rebuild.
CREATE TABLE dv.ops (seed int, step int, op text);
CREATE PROCEDURE dv.random_steps(seed int, steps int) LANGUAGE plpgsql AS $$
DECLARE
  r float8; op text; d text; d2 text; m text; nb int;
BEGIN
  PERFORM setseed(seed / 100.0);
  FOR step IN 1..steps LOOP
    r := random();
    d := 'd' || (random() * 80)::int;
    d2 := 'd' || (random() * 80)::int;
    IF r < 0.15 THEN
      op := 'insert ' || d;
      INSERT INTO dv.user_map VALUES (d, 'user ' || (random() * 30)::int, random() < 0.7)
      ON CONFLICT (domain_userid) DO UPDATE SET user_id = excluded.user_id;
    ELSIF r < 0.30 THEN
      op := 'update user_id ' || d;
      UPDATE dv.user_map SET user_id = CASE WHEN random() < 0.2 THEN NULL
                                            ELSE 'user ' || (random() * 30)::int END
      WHERE domain_userid = d;
    ELSIF r < 0.42 THEN
      op := 'flip valid ' || d;
      UPDATE dv.user_map SET valid = NOT valid WHERE domain_userid = d;
    ELSIF r < 0.54 THEN
      op := 'move ' || d || ' to ' || d2;
      UPDATE dv.user_map SET domain_userid = d2
      WHERE domain_userid = d AND NOT EXISTS (SELECT 1 FROM dv.user_map WHERE domain_userid = d2);
    ELSIF r < 0.64 THEN
      op := 'delete ' || d;
      DELETE FROM dv.user_map WHERE domain_userid = d;
    ELSIF r < 0.70 THEN
      op := 'update several';
      UPDATE dv.user_map SET user_id = user_id || '+' WHERE random() < 0.1;
    ELSIF r < 0.78 THEN
      op := 'city moved';
      UPDATE dv.cities SET region_id = 1 + (random() * 5)::int, name = 'city ' || (random() * 99)::int
      WHERE city_id = 1 + (random() * 11)::int;
    ELSIF r < 0.83 THEN
      op := 'city deleted or back';
      IF random() < 0.5 THEN
        DELETE FROM dv.cities WHERE city_id = 1 + (random() * 11)::int;
      ELSE
        INSERT INTO dv.cities SELECT c, 1 + c % 5, 'new ' || c FROM generate_series(1, 12) c
        ON CONFLICT DO NOTHING;
      END IF;
    ELSIF r < 0.88 THEN
      op := 'region renamed';
      UPDATE dv.regions SET name = 'region ' || (random() * 9)::int
      WHERE region_id = 1 + (random() * 4)::int;
    ELSE
      SELECT coalesce(max(b), 0) + 1 INTO nb FROM dv.ev;
      op := 'load ' || nb;
      INSERT INTO dv.ev SELECT max_id + g, 'd' || (random() * 70)::int, 1 + (random() * 12)::int, nb
      FROM (SELECT max(event_id) AS max_id FROM dv.ev) x, generate_series(1, 20) g;
    END IF;
    INSERT INTO dv.ops VALUES (seed, step, op);
    COMMIT;
    IF random() < 0.4 OR step = steps THEN
      FOREACH m IN ARRAY ARRAY['dv_users', 'dv_nested', 'dv_sub', 'dv_cte', 'dv_expr',
                               'dv_regions'] LOOP
        CALL incmodel.refresh(m);
        PERFORM testkit.assert_equal(m, format('seed %s step %s (%s)', seed, step, op));
      END LOOP;
      COMMIT;
    END IF;
  END LOOP;
END $$;
SELECT coalesce(max(run_id), 0) AS before_random FROM incmodel.runs \gset
CALL dv.random_steps(1, 60);
CALL dv.random_steps(2, 60);
CALL dv.random_steps(3, 60);
CALL dv.random_steps(4, 60);
CALL dv.random_steps(5, 60);
SELECT count(*) AS steps, count(DISTINCT split_part(op, ' ', 1)) > 6 AS varied FROM dv.ops;
-- Every change was mapped to keys: no refresh of these models rebuilt.
SELECT model_name, bool_or(kind = 'rebuild') AS rebuilt, count(*) > 10 AS refreshed
FROM incmodel.runs WHERE run_id > :before_random AND model_name LIKE 'dv\_%'
GROUP BY 1 ORDER BY 1;

SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['dv_users', 'dv_nested', 'dv_sub',
                                                       'dv_cte', 'dv_expr', 'dv_regions']) m;
SELECT count(*) AS watch_triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'dv'::regnamespace AND t.tgname LIKE 'incmodel_dim%';
DROP SCHEMA dva CASCADE;
DROP SCHEMA dv CASCADE;
REVOKE USAGE ON SCHEMA testkit, incmodel FROM dv_analyst;
DROP OWNED BY dv_analyst;
DROP ROLE dv_analyst;
