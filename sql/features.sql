-- Features models (depends_on): per-user lifetime metrics over a daily aggregate model. The
-- daily model's runs queue the users they touched; a features run recomputes exactly those
-- from the daily target. After every refresh_all (inputs first) the features target equals its
-- query over the daily target, and the daily model equals its rebuild (testkit.daily_check).
CREATE TABLE atomic.dev (event_id text, domain_userid text, derived_tstamp timestamp,
                         load_tstamp timestamp NOT NULL, page_url text);
CREATE INDEX ON atomic.dev (load_tstamp);
CREATE INDEX ON atomic.dev (domain_userid);
SELECT testkit.daily_load(300, 0.12);
SELECT now() - interval '7 days' AS start_date \gset
SELECT incmodel.create_model(
  name => 'f_user_days',
  query => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
                     count(DISTINCT page_url) AS pages
              FROM atomic.dev GROUP BY 1, 2 $$,
  target => 'derived.f_user_days', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 3, min_rows_to_process => 10) > 0 AS created;
CREATE INDEX ON derived.f_user_days (user_id);
SELECT incmodel.create_model(
  name => 'f_user_features',
  query => $$ SELECT user_id, count(*) AS active_days, sum(events) AS lifetime_events,
                     max(pages) AS max_daily_pages, min(day) AS first_day, max(day) AS last_day
              FROM derived.f_user_days GROUP BY user_id $$,
  target => 'derived.f_user_features', depends_on => ARRAY['f_user_days']) > 0 AS created;
SELECT name, depends_on, feature_keys FROM incmodel.models WHERE name LIKE 'f\_%' ORDER BY name;
SELECT * FROM testkit.diff('f_user_features');

DO $$
DECLARE i int;
BEGIN
  FOR i IN 1..8 LOOP
    PERFORM testkit.daily_load(80 + i * 10, 0.2 + i / 100.0);
    COMMIT;
    CALL incmodel.refresh_all();
    PERFORM testkit.daily_check('f_user_days', 'load ' || i);
    PERFORM testkit.assert_equal('f_user_features', 'load ' || i);
  END LOOP;
END $$;
-- refresh_all ran the input before the features model every time; each features run consumed
-- the queue and recomputed only the users the daily runs touched.
SELECT bool_and(f.run_id > d.run_id) AS input_first
FROM (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM incmodel.runs
      WHERE model_name = 'f_user_features' AND kind = 'refresh') f
JOIN (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM incmodel.runs
      WHERE model_name = 'f_user_days' AND kind = 'refresh' AND run_id > (
        SELECT min(run_id) FROM incmodel.runs WHERE model_name = 'f_user_features')) d USING (n);
SELECT count(*) AS queued_left FROM incmodel.key_queue;
SELECT max(keys) < (SELECT count(*) FROM derived.f_user_features) AS fewer_keys_than_users
FROM incmodel.runs WHERE model_name = 'f_user_features' AND kind = 'refresh';

-- Queued keys show in status and explain; a refresh of the input alone queues, the features
-- refresh consumes.
SELECT testkit.daily_load(60, 0.33);
CALL incmodel.refresh('f_user_days');
SELECT pending_events > 0 AS keys_queued FROM incmodel.status WHERE model = 'f_user_features';
SELECT step, step_name, detail ~ '^\d+ queued key sets from model f_user_days$' OR step > 1 AS described
FROM incmodel.explain('f_user_features') ORDER BY step;
CALL incmodel.refresh('f_user_features');
SELECT * FROM testkit.diff('f_user_features');
SELECT pending_events FROM incmodel.status WHERE model = 'f_user_features';
CALL incmodel.refresh('f_user_features');
SELECT outcome FROM incmodel.runs WHERE model_name = 'f_user_features' ORDER BY run_id DESC LIMIT 1;

-- A backfill of the input queues its keys; a rebuild of the input queues a full recompute.
SELECT incmodel.backfill('f_user_days', now() - interval '6 days', now()) > 0 AS backfilled;
CALL incmodel.refresh('f_user_features');
SELECT * FROM testkit.diff('f_user_features');
SELECT incmodel.rebuild('f_user_days') > 0 AS input_rebuilt;
SELECT count(*) AS full_recompute_queued FROM incmodel.key_queue WHERE keys IS NULL;
CALL incmodel.refresh('f_user_features');
SELECT * FROM testkit.diff('f_user_features');
SELECT incmodel.rebuild('f_user_features') > 0 AS rebuilt;
SELECT * FROM testkit.diff('f_user_features');

-- A features model may group by any key columns of its input, e.g. the day.
SELECT incmodel.create_model('f_day_users', 'SELECT day, count(*) AS users, sum(events) AS events FROM derived.f_user_days GROUP BY day',
  'derived.f_day_users', depends_on => ARRAY['f_user_days']) > 0 AS created;
SELECT testkit.daily_load(60, 0.44);
CALL incmodel.refresh_all();
SELECT * FROM testkit.diff('f_day_users');
SELECT incmodel.drop_model('f_day_users', true);

-- Bad input.
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f_bad', 'SELECT pages, count(*) AS n FROM derived.f_user_days GROUP BY pages', 'derived.f_bad', depends_on => ARRAY['f_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f_bad', 'SELECT domain_userid, count(*) FROM atomic.dev GROUP BY 1', 'derived.f_bad', depends_on => ARRAY['f_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f_bad', 'SELECT user_id, count(*) FROM derived.f_user_days GROUP BY 1', 'derived.f_bad', depends_on => ARRAY['f_user_days', 'f_user_features'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.create_model('f_bad', 'SELECT user_id, count(*) FROM derived.f_user_days GROUP BY 1', 'derived.f_bad', 'load_tstamp', depends_on => ARRAY['f_user_days'])$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.drop_model('f_user_days')$$);
-- A features model exports; its input's package logs the keys it touched (test/redshift/time_models.sh).
SELECT part, count(*) FROM incmodel.export('f_user_features', 'redshift') GROUP BY part ORDER BY part;
SELECT count(*) AS logs_touched_keys FROM incmodel.export('f_user_days', 'postgres') WHERE sql LIKE '%touched_f_user_days%';

SELECT incmodel.drop_model('f_user_features', true);
SELECT incmodel.drop_model('f_user_days', true);
SELECT count(*) AS queue_left FROM incmodel.key_queue;
DROP TABLE atomic.dev;
