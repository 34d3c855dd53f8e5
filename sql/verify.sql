-- incmodel.verify(): compares a target with a recomputation of all its keys or a random sample,
-- records a run of kind 'verify', and status shows the last result. The oracle for what it
-- reports is testkit.diff (a full rebuild of the query): verify's missing + differ keys are the
-- rebuild's rows the target lacks, its extra + differ keys the target's rows the rebuild lacks.

-- A batch model whose key can be NULL (events without a user).
SELECT testkit.make_events('atomic.vev');
SELECT testkit.generate('atomic.vev', '--seed 7 --events 1500 --batches 3') > 0 AS loaded;
INSERT INTO atomic.vev (collector_tstamp, etl_tstamp, event_id, domain_userid, page_url)
SELECT collector_tstamp, etl_tstamp, gen_random_uuid(), NULL, '/nobody' FROM atomic.vev LIMIT 3;
SELECT incmodel.create_model('v_users',
  $$ SELECT domain_userid AS user_id, count(*) AS events, count(DISTINCT page_url) AS pages,
            min(collector_tstamp) AS first_seen
     FROM atomic.vev GROUP BY domain_userid $$,
  'derived.v_users', 'etl_tstamp') > 0 AS created;

-- A correct model verifies equal: all keys, a sample, and a sample of everything.
SELECT keys_checked = (SELECT count(*) FROM derived.v_users) AS all_keys, missing, extra, differ,
       missing_keys, extra_keys, differ_keys, result
FROM incmodel.verify('v_users');
SELECT setseed(0.25);
SELECT keys_checked > 0 AND keys_checked < (SELECT count(*) FROM derived.v_users) AS some_keys,
       missing, extra, differ, result
FROM incmodel.verify('v_users', sample => 0.3);
SELECT keys_checked = (SELECT count(*) FROM derived.v_users) AS all_keys, result
FROM incmodel.verify('v_users', 1.0);
SELECT kind, outcome, rows_missing, rows_extra, rows_differ, verify_examples->'sample' AS sample
FROM incmodel.runs WHERE model_name = 'v_users' AND kind = 'verify' ORDER BY run_id;
SELECT last_outcome, last_verified IS NOT NULL AS verified, last_verify_result
FROM incmodel.status WHERE model = 'v_users';

-- Corrupt the target by hand: delete a row, change a metric (of the NULL key), add a row.
SELECT user_id AS deleted_user FROM derived.v_users WHERE user_id IS NOT NULL
ORDER BY user_id LIMIT 1 \gset
DELETE FROM derived.v_users WHERE user_id = :'deleted_user';
UPDATE derived.v_users SET events = events + 1 WHERE user_id IS NULL;
INSERT INTO derived.v_users VALUES ('no such user', 1, 1, now());
SELECT * FROM testkit.diff('v_users');
-- verify reports exactly those, with their keys (NULL's text form is empty).
SELECT v.missing, v.extra, v.differ,
       v.missing + v.differ = d.missing AND v.extra + v.differ = d.extra AS agrees_with_rebuild,
       v.missing_keys = ARRAY[:'deleted_user'] AS missing_key_reported, v.extra_keys,
       v.differ_keys, v.result
FROM incmodel.verify('v_users') v, testkit.diff('v_users') d;
-- A sample of every key takes the sampled path (keys scratch, NULL keys matched) and agrees.
SELECT missing, extra, differ, differ_keys, result FROM incmodel.verify('v_users', 1);
-- Recorded: the run, and status (whose last_* columns still describe the last refresh/rebuild).
SELECT outcome, keys > 0 AS keys_recorded, rows_missing, rows_extra, rows_differ,
       verify_examples->'extra' AS extra_examples
FROM incmodel.runs WHERE model_name = 'v_users' AND kind = 'verify' ORDER BY run_id DESC LIMIT 1;
SELECT last_outcome, last_verify_result FROM incmodel.status WHERE model = 'v_users';
-- verify changed nothing: the target still differs; a rebuild repairs it, verify agrees.
SELECT * FROM testkit.diff('v_users');
SELECT incmodel.rebuild('v_users') > 0 AS rebuilt;
SELECT result FROM incmodel.verify('v_users');
SELECT last_verify_result FROM incmodel.status WHERE model = 'v_users';

-- Work not refreshed yet shows as differences, with a NOTICE saying so.
SELECT testkit.generate('atomic.vev', '--seed 8 --events 300 --batches 1') > 0 AS loaded;
SELECT missing + differ > 0 AS pending_shows FROM incmodel.verify('v_users');
CALL incmodel.refresh('v_users');
SELECT result FROM incmodel.verify('v_users');

-- Bad input; a role without the owner's rights gets 42501 and no run is recorded.
SELECT * FROM testkit.error_of($$SELECT incmodel.verify('v_users', 0)$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.verify('v_users', 1.5)$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.verify('no_such_model')$$);
CREATE ROLE im_verifier;
GRANT USAGE ON SCHEMA incmodel, testkit TO im_verifier;
GRANT USAGE ON SCHEMA derived, atomic TO im_verifier;
GRANT SELECT ON derived.v_users, atomic.vev TO im_verifier;
SELECT count(*) AS verify_runs FROM incmodel.runs WHERE kind = 'verify' \gset before_
SET ROLE im_verifier;
SELECT state, message FROM testkit.error_of($$SELECT incmodel.verify('v_users')$$);
SELECT last_verified, last_verify_result FROM incmodel.status WHERE model = 'v_users';
RESET ROLE;
SELECT count(*) - :before_verify_runs AS new_runs FROM incmodel.runs WHERE kind = 'verify';
-- A verify that fails raises its error; its transaction, run record included, rolls back.
SET incmodel_test.fail_at_step = 'compare';
SELECT state, message FROM testkit.error_of($$SELECT incmodel.verify('v_users')$$);
RESET incmodel_test.fail_at_step;
SELECT count(*) - :before_verify_runs AS new_runs FROM incmodel.runs WHERE kind = 'verify';

-- A daily model (late rows skipped until a day is reprocessed in full) and a features model
-- over it verify equal after refreshes: verify follows the inclusion rules, not a plain rebuild.
CREATE TABLE atomic.dev (event_id text, domain_userid text, derived_tstamp timestamp,
                         load_tstamp timestamp NOT NULL, page_url text);
SELECT testkit.daily_load(300, 0.5);
SELECT now() - interval '7 days' AS start_date \gset
SELECT incmodel.create_model(
  name => 'v_user_days',
  query => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
                     count(DISTINCT page_url) AS pages
              FROM atomic.dev GROUP BY 1, 2 $$,
  target => 'derived.v_user_days', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 1, min_rows_to_process => 1000) > 0 AS created;
SELECT incmodel.create_model(
  name => 'v_user_features',
  query => $$ SELECT user_id, count(*) AS active_days, sum(events) AS lifetime_events
              FROM derived.v_user_days GROUP BY user_id $$,
  target => 'derived.v_user_features', depends_on => ARRAY['v_user_days']) > 0 AS created;
SELECT testkit.daily_load(200, 0.6);
CALL incmodel.refresh_all();
SELECT testkit.daily_load(200, 0.7);
CALL incmodel.refresh_all();
SELECT skipped_late_rows > 0 AS some_rows_skipped FROM incmodel.status WHERE model = 'v_user_days';
SELECT result FROM incmodel.verify('v_user_days');
SELECT extra + missing > 0 AS plain_rebuild_differs FROM testkit.diff('v_user_days');
SELECT setseed(0.5);
SELECT result FROM incmodel.verify('v_user_days', 0.5);
SELECT result FROM incmodel.verify('v_user_features');
SELECT result FROM incmodel.verify('v_user_features', 0.5);
-- ... and catch a corrupted daily row.
UPDATE derived.v_user_days SET pages = pages + 1
WHERE (user_id, day) = (SELECT user_id, day FROM derived.v_user_days
                        WHERE user_id IS NOT NULL AND day IS NOT NULL ORDER BY 1, 2 LIMIT 1);
SELECT missing, extra, differ, result FROM incmodel.verify('v_user_days');
SELECT model, last_verify_result FROM incmodel.status WHERE model LIKE 'v\_user\_%' ORDER BY 1;

-- An append (event-level) model: the first duplicate of every event loaded up to its limit.
CREATE TABLE atomic.vaev (event_id text, page_url text, dvce_created_tstamp timestamp,
                          load_tstamp timestamp NOT NULL);
INSERT INTO atomic.vaev
SELECT 'e' || (g % 40), '/p' || g, clock_timestamp(), clock_timestamp()
FROM generate_series(1, 100) g;
SELECT incmodel.create_model('v_events', 'SELECT event_id, page_url FROM atomic.vaev',
  'derived.v_events', load_column => 'load_tstamp', start_date => :'start_date',
  strategy => 'append', event_key => 'event_id') > 0 AS created;
INSERT INTO atomic.vaev
SELECT 'e' || (g % 60), '/q' || g, clock_timestamp(), clock_timestamp()
FROM generate_series(1, 100) g;
CALL incmodel.refresh('v_events');
SELECT count(*) AS events FROM derived.v_events;
SELECT result FROM incmodel.verify('v_events');
SELECT result FROM incmodel.verify('v_events', 0.5);
UPDATE derived.v_events SET page_url = '/changed' WHERE event_id = 'e1';
SELECT differ_keys, result FROM incmodel.verify('v_events');

SELECT incmodel.drop_model('v_events', true);
SELECT incmodel.drop_model('v_user_features', true);
SELECT incmodel.drop_model('v_user_days', true);
SELECT incmodel.drop_model('v_users', true);
DROP TABLE atomic.dev, atomic.vaev, atomic.vev;
REVOKE USAGE ON SCHEMA derived, atomic, incmodel, testkit FROM im_verifier;
DROP ROLE im_verifier;
