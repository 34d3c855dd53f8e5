-- Identity stitching: a users model keyed by coalesce(m.user_id, e.duid) over events LEFT JOIN a
-- user map unique on duid. A visitor's key is the user its map row names, or its own id: a map
-- row that arrives, changes or goes re-keys every event of that visitor. The refresh key is read
-- through the map (model_columns shows the per-row lookup); a map change recomputes exactly the
-- keys of its old and new rows and the visitor's own id; a batch recomputes its events' keys.
-- After every step the target equals a full rebuild (0 extra, 0 missing) and the keys a run
-- touched are checked against those computed here.
SET client_min_messages = warning;
CREATE SCHEMA st;
CREATE TABLE st.events (event_id text, duid text, etl int NOT NULL, v int);
CREATE INDEX ON st.events (etl);
CREATE INDEX ON st.events (duid);
CREATE TABLE st.user_map (duid text PRIMARY KEY, user_id text);
INSERT INTO st.events SELECT 'e' || g, 'd' || (g % 20), g / 50, g FROM generate_series(1, 200) g;
INSERT INTO st.events VALUES ('e-null', NULL, 4, 1);
INSERT INTO st.user_map VALUES ('d1', 'alice'), ('d2', 'alice'), ('d3', 'bob');
SELECT incmodel.create_model(name => 'st_users',
  query => 'SELECT coalesce(m.user_id, e.duid) AS user_key, count(*) AS events, sum(e.v) AS v,
                   count(DISTINCT e.duid) AS visitors
            FROM st.events e LEFT JOIN st.user_map m ON m.duid = e.duid GROUP BY 1',
  target => 'st.t_users', batch_column => 'etl') > 0 AS created;
-- An inner join keys the mapped visitors only, by the map's column.
SELECT incmodel.create_model(name => 'st_known',
  query => 'SELECT m.user_id, count(*) AS events FROM st.events e
            JOIN st.user_map m ON m.duid = e.duid GROUP BY m.user_id',
  target => 'st.t_known', batch_column => 'etl') > 0 AS created;
SELECT m.name, c.source_expr FROM incmodel.model_columns c JOIN incmodel.models m USING (model_id)
WHERE m.name LIKE 'st\_%' AND c.kind = 'key' ORDER BY 1;
SELECT user_key, events, visitors FROM st.t_users WHERE user_key IN ('alice', 'bob', 'd1', 'd4')
ORDER BY 1;
SELECT detail FROM incmodel.explain('st_users') WHERE step_name = 'dimension';

CREATE FUNCTION st.step(label text, expected_keys bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r0 bigint; out text := label || ':';
BEGIN
  SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
  CALL incmodel.refresh('st_users');
  CALL incmodel.refresh('st_known');
  PERFORM testkit.assert_equal('st_users', label);
  PERFORM testkit.assert_equal('st_known', label);
  SELECT out || ' ' || string_agg(kind || ':' || outcome || ' keys=' || coalesce(keys, 0),
                                  ', ' ORDER BY model_name)
    INTO out FROM incmodel.runs WHERE run_id > r0 AND model_name = 'st_users';
  IF expected_keys IS NOT NULL AND (SELECT keys FROM incmodel.runs WHERE run_id > r0
       AND model_name = 'st_users') <> expected_keys THEN
    RAISE EXCEPTION '%: % keys touched, expected %', label, out, expected_keys;
  END IF;
  RETURN out;
END $$;

-- A map row arrives late: visitor d4 becomes bob. Old key d4 goes, bob is recomputed (2 keys).
INSERT INTO st.user_map VALUES ('d4', 'bob');
SELECT st.step('late map row', 2);
SELECT user_key, events, visitors FROM st.t_users WHERE user_key IN ('alice', 'bob', 'd1', 'd4')
ORDER BY 1;
-- Re-pointed (alice -> carol for d1: alice, carol, d1), removed (d3: bob, d3), one transaction.
BEGIN;
UPDATE st.user_map SET user_id = 'carol' WHERE duid = 'd1';
DELETE FROM st.user_map WHERE duid = 'd3';
COMMIT;
SELECT st.step('re-pointed and removed', 5);
-- An upsert moves d2 to carol; new events of mapped and unmapped visitors in the same run.
INSERT INTO st.user_map VALUES ('d2', 'carol'), ('d5', 'dave')
ON CONFLICT (duid) DO UPDATE SET user_id = EXCLUDED.user_id;
INSERT INTO st.events SELECT 'n' || g, 'd' || (g % 7), 10, g FROM generate_series(1, 30) g;
SELECT st.step('upsert and a batch', NULL);
-- A map row whose user is NULL (the visitor keeps its own key) and a NULL visitor id.
UPDATE st.user_map SET user_id = NULL WHERE duid = 'd5';
INSERT INTO st.events VALUES ('n-null', NULL, 11, 5);
SELECT st.step('NULL user and visitor', NULL);
-- Events updated and deleted (their keys are read through the map as well).
UPDATE st.events SET duid = 'd2' WHERE event_id IN ('e6', 'e7');
DELETE FROM st.events WHERE duid = 'd4' AND etl = 0;
SELECT st.step('events changed', NULL);
-- The map emptied and reloaded: TRUNCATE cannot name its rows, the next refresh rebuilds.
CREATE TABLE st.map_copy AS SELECT * FROM st.user_map;
TRUNCATE st.user_map;
SELECT st.step('map truncated', NULL);
INSERT INTO st.user_map SELECT * FROM st.map_copy;
SELECT st.step('map reloaded', NULL);

-- Randomized: map rows arrive, move and go between batches; every step equals a rebuild.
DO $$
DECLARE i int; d text; d2 text;
BEGIN
  PERFORM setseed(0.42);
  FOR i IN 1..40 LOOP
    d := 'd' || floor(random() * 25)::int;
    d2 := 'd' || floor(random() * 25)::int;
    CASE floor(random() * 4)::int
      WHEN 0 THEN INSERT INTO st.user_map VALUES (d, 'u' || floor(random() * 6)::int)
                  ON CONFLICT (duid) DO UPDATE SET user_id = EXCLUDED.user_id;
      WHEN 1 THEN DELETE FROM st.user_map WHERE duid = d;
      WHEN 2 THEN UPDATE st.user_map SET duid = d WHERE duid = d2
                  AND NOT EXISTS (SELECT 1 FROM st.user_map WHERE duid = d);
      ELSE INSERT INTO st.events SELECT 'r' || i || '.' || g, 'd' || floor(random() * 25)::int,
                  100 + i, g FROM generate_series(1, 5) g;
    END CASE;
    IF random() < 0.6 THEN PERFORM st.step('random ' || i, NULL); END IF;
  END LOOP;
  PERFORM st.step('random end', NULL);
END $$;
SELECT count(*) > 0 AS some_users_merged FROM st.t_users WHERE visitors > 1;

-- Not keys through a dimension: the map not unique on its join column, and a key that reads
-- another column of the event than the joined one.
CREATE TABLE st.loose_map (duid text, user_id text);
SELECT state, message FROM testkit.error_of($$SELECT incmodel.create_model(name => 'st_loose',
  query => 'SELECT coalesce(m.user_id, e.duid) AS user_key, count(*) AS n FROM st.events e
            LEFT JOIN st.loose_map m ON m.duid = e.duid GROUP BY 1',
  target => 'st.t_loose', batch_column => 'etl')$$);
SELECT state, message FROM testkit.error_of($$SELECT incmodel.create_model(name => 'st_mixed',
  query => 'SELECT coalesce(m.user_id, e.event_id) AS user_key, count(*) AS n FROM st.events e
            LEFT JOIN st.user_map m ON m.duid = e.duid GROUP BY 1',
  target => 'st.t_mixed', batch_column => 'etl')$$);

SELECT incmodel.drop_model('st_users', true), incmodel.drop_model('st_known', true);
DROP SCHEMA st CASCADE;
