-- Features models keyed by an expression of their input's key: monthly roll-ups of a daily
-- aggregate keyed by (user_id, day). The input's commit projects its touched keys through the
-- features model's key expressions (evaluated as the features model's owner) and queues the
-- results, so each month touched is recomputed. After every refresh every target equals a full
-- rebuild of its query ((0, 0) and testkit.assert_equal), including months touched by UPDATE and
-- DELETE of the source and months a row moved out of.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA f2;
CREATE TABLE f2.ev (id int PRIMARY KEY, uid text, ts timestamp, amount numeric, b int);
CREATE INDEX ON f2.ev (b);
-- n events from id first on, batch b, over about five months of 2026.
CREATE FUNCTION f2.load(first int, n int, b int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO f2.ev SELECT g, 'u' || (g % 6), timestamp '2026-01-01' + ((g * 37) % 150) * interval '1 day'
                              + (g % 24) * interval '1 hour', g % 50, b
  FROM generate_series(first, first + n - 1) g $$;
SELECT f2.load(1, 120, 1);
SELECT incmodel.create_model(name => 'f2_user_days',
  query => $$ SELECT uid AS user_id, ts::date AS day, count(*) AS events, sum(amount) AS amount
              FROM f2.ev GROUP BY 1, 2 $$,
  target => 'f2.user_days', batch_column => 'b') > 0 AS created;
-- by month alone, and by user and month (a plain copy and an expression)
SELECT incmodel.create_model(name => 'f2_months',
  query => $$ SELECT date_trunc('month', d.day::timestamp)::date AS month, sum(d.events) AS events,
                     count(DISTINCT d.user_id) AS users FROM f2.user_days d GROUP BY 1 $$,
  target => 'f2.months', depends_on => ARRAY['f2_user_days']) > 0 AS created;
SELECT incmodel.create_model(name => 'f2_user_months',
  query => $$ SELECT user_id, date_trunc('month', day::timestamp)::date AS month,
                     sum(amount) AS amount, count(*) AS active_days
              FROM f2.user_days GROUP BY 1, 2 $$,
  target => 'f2.user_months', depends_on => ARRAY['f2_user_days']) > 0 AS created;
SELECT m.name, fi.input, fi.feature_keys, fi.feature_key_exprs
FROM incmodel.feature_inputs fi JOIN incmodel.models m USING (model_id)
WHERE m.name LIKE 'f2\_%' ORDER BY 1;
SELECT * FROM testkit.diff('f2_months');
SELECT * FROM testkit.diff('f2_user_months');

-- Loads in batches; the input refreshes, then refresh_all (inputs first).
DO $$
DECLARE i int;
BEGIN
  FOR i IN 2..6 LOOP
    PERFORM f2.load(i * 100, 40 + i * 5, i);
    COMMIT;
    CALL incmodel.refresh('f2_user_days');
    CALL incmodel.refresh_all();
    PERFORM testkit.assert_equal('f2_user_days', 'load ' || i);
    PERFORM testkit.assert_equal('f2_months', 'load ' || i);
    PERFORM testkit.assert_equal('f2_user_months', 'load ' || i);
  END LOOP;
END $$;

-- A batch within one month: the input's run queues that month only (projected by the features
-- model's expression), and the features run recomputes one key.
INSERT INTO f2.ev VALUES (5001, 'u1', '2026-03-05 10:00', 7, 9), (5002, 'u2', '2026-03-20', 8, 9);
CALL incmodel.refresh('f2_user_days');
SELECT m.name, q.keys FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id)
ORDER BY 1, 2;
SELECT pending_events FROM incmodel.status WHERE model = 'f2_months';
SELECT step, step_name FROM incmodel.explain('f2_months') ORDER BY step;
SELECT * FROM testkit.refresh_outcome('f2_months');
SELECT keys FROM incmodel.runs WHERE model_name = 'f2_months' ORDER BY run_id DESC LIMIT 1;
SELECT * FROM testkit.refresh_outcome('f2_user_months');

-- UPDATE moves events to another month (both months recomputed) and to another user; DELETE
-- empties a day.
UPDATE f2.ev SET ts = ts + interval '40 days' WHERE id IN (3, 4, 5);
UPDATE f2.ev SET uid = 'moved' WHERE id BETWEEN 10 AND 14;
DELETE FROM f2.ev WHERE id IN (20, 21, 5001);
SELECT * FROM testkit.refresh_outcome('f2_user_days');
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f2_months');
SELECT * FROM testkit.diff('f2_user_months');
SELECT count(*) AS queue_left FROM incmodel.key_queue;
-- a rebuild of the input queues a full recompute
SELECT incmodel.rebuild('f2_user_days') > 0 AS input_rebuilt;
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f2_months');
SELECT * FROM testkit.diff('f2_user_months');

-- Refused: a key part reading a column that is not the input's key (alone or with a key
-- column), a stable expression (date_trunc over timestamptz depends on TimeZone), a volatile one.
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT events % 2 AS parity, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT day + events::int AS shifted, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT date_trunc(''month'', day)::date AS month, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT day + (random() * 0)::int AS d, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days'])$$);
SELECT count(*) AS no_bad_model FROM incmodel.models WHERE name = 'f2_bad';

-- Several inputs: per-user days and users (signups) feeding one user-features table, the two
-- targets joined on the features key. Each input's commit queues its touched keys projected on
-- the features key (a day of the first, a user of the second); refresh_all runs both inputs
-- before the features model.
CREATE TABLE f2.signups (id int PRIMARY KEY, uid text, country text, b int);
CREATE INDEX ON f2.signups (b);
INSERT INTO f2.signups SELECT g, 'u' || (g % 6), CASE WHEN g % 2 = 0 THEN 'FR' ELSE 'US' END, 1
FROM generate_series(1, 5) g;
SELECT incmodel.create_model(name => 'f2_users',
  query => $$ SELECT uid AS user_id, max(country) AS country, count(*) AS signups
              FROM f2.signups GROUP BY uid $$,
  target => 'f2.users', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'f2_user_features',
  query => $$ SELECT d.user_id, max(u.country) AS country, max(u.signups) AS signups,
                     sum(d.events) AS events, count(*) AS active_days
              FROM f2.user_days d JOIN f2.users u ON u.user_id = d.user_id
              GROUP BY d.user_id $$,
  target => 'f2.user_features', depends_on => ARRAY['f2_user_days', 'f2_users']) > 0 AS created;
SELECT m.name, m.depends_on, fi.input, fi.ord, fi.feature_keys, fi.feature_key_exprs
FROM incmodel.feature_inputs fi JOIN incmodel.models m USING (model_id)
WHERE m.name = 'f2_user_features' ORDER BY fi.ord;
SELECT * FROM testkit.diff('f2_user_features');

DO $$
DECLARE i int;
BEGIN
  FOR i IN 11..14 LOOP
    PERFORM f2.load(i * 100, 30, i);
    INSERT INTO f2.signups VALUES (i, 'u' || (i % 7), 'DE', i);
    COMMIT;
    CALL incmodel.refresh('f2_user_days');
    CALL incmodel.refresh('f2_users');
    CALL incmodel.refresh_all();
    PERFORM testkit.assert_equal('f2_users', 'signups ' || i);
    PERFORM testkit.assert_equal('f2_user_features', 'load ' || i);
  END LOOP;
END $$;
-- refresh_all orders the features model after both of its inputs
SELECT bool_and(f.run_id > d.run_id AND f.run_id > u.run_id) AS inputs_first
FROM (SELECT max(run_id) AS run_id FROM incmodel.runs WHERE model_name = 'f2_user_features') f,
     (SELECT max(run_id) AS run_id FROM incmodel.runs WHERE model_name = 'f2_user_days') d,
     (SELECT max(run_id) AS run_id FROM incmodel.runs WHERE model_name = 'f2_users') u;

-- A change of the users' side alone: its commit queues that user for the features model.
UPDATE f2.signups SET country = 'JP' WHERE uid = 'u2';
SELECT * FROM testkit.refresh_outcome('f2_users');
SELECT m.name, q.keys FROM incmodel.key_queue q JOIN incmodel.models m USING (model_id)
WHERE m.name = 'f2_user_features' ORDER BY 2;
SELECT pending_events FROM incmodel.status WHERE model = 'f2_user_features';
SELECT step, detail FROM incmodel.explain('f2_user_features') WHERE step = 1;
SELECT * FROM testkit.refresh_outcome('f2_user_features');
SELECT keys FROM incmodel.runs WHERE model_name = 'f2_user_features' ORDER BY run_id DESC LIMIT 1;
-- A user deleted from the users' side leaves the features table; events moved to a new user
-- appear there only once that user signs up.
DELETE FROM f2.signups WHERE uid = 'u3';
UPDATE f2.ev SET uid = 'late' WHERE id IN (30, 31);
CALL incmodel.refresh('f2_users');
CALL incmodel.refresh('f2_user_days');
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f2_user_features');
SELECT count(*) AS u3_rows FROM f2.user_features WHERE user_id = 'u3';
INSERT INTO f2.signups VALUES (100, 'late', 'BR', 20);
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f2_user_features');
SELECT country, active_days FROM f2.user_features WHERE user_id = 'late';
-- a rebuild of either input queues a full recompute
SELECT incmodel.rebuild('f2_users') > 0 AS input_rebuilt;
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f2_user_features');
SELECT count(*) AS queue_left FROM incmodel.key_queue;

-- Refused: an input whose key does not give the features key (months are not users), an input
-- the query does not read, an input on the nullable side of an outer join, an input named twice.
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT d.user_id, sum(m.events) AS n FROM f2.user_days d JOIN f2.months m ON m.month = d.day GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days', 'f2_months'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT user_id, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days', 'f2_users'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT d.user_id, max(u.country) AS c FROM f2.user_days d LEFT JOIN f2.users u ON u.user_id = d.user_id GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days', 'f2_users'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f2_bad', 'SELECT user_id, count(*) AS n FROM f2.user_days GROUP BY 1', 'f2.bad', depends_on => ARRAY['f2_user_days', 'f2_user_days'])$$);
SELECT count(*) AS no_bad_model FROM incmodel.models WHERE name = 'f2_bad';

-- Dropping either input cascades to the features model (its target stays a table).
SELECT * FROM testkit.error_of($$SELECT incmodel.drop_model('f2_users')$$);
SELECT incmodel.drop_model('f2_users', cascade => true);
SELECT name FROM incmodel.models WHERE name LIKE 'f2\_%' ORDER BY 1;
SELECT count(*) AS feature_inputs_left FROM incmodel.feature_inputs fi
WHERE NOT EXISTS (SELECT 1 FROM incmodel.models m WHERE m.model_id = fi.model_id);

SELECT incmodel.drop_model('f2_user_days', cascade => true);
SELECT count(*) AS models_left FROM incmodel.models WHERE name LIKE 'f2\_%';
SELECT count(*) AS queue_left FROM incmodel.key_queue;
DROP SCHEMA f2 CASCADE;
