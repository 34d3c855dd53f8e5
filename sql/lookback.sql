-- The lookback window: batches are found among events whose window column is recent; with
-- bounded_recompute, touched keys are recomputed from their recent events only and the run
-- reports how many keys had older events left out.
CREATE TABLE atomic.recent (LIKE testkit.event_layout);
CREATE INDEX ON atomic.recent (etl_tstamp);
CREATE INDEX ON atomic.recent (domain_sessionid);
-- s_old has an event 20 days ago and one today; s_new only today.
INSERT INTO atomic.recent (event_id, domain_sessionid, collector_tstamp, derived_tstamp, etl_tstamp, page_url)
VALUES (gen_random_uuid(), 's_old', now() - interval '20 days', now() - interval '20 days', now() - interval '20 days', '/a'),
       (gen_random_uuid(), 's_new', now() - interval '1 hour', now() - interval '1 hour', now() - interval '50 minutes', '/a');
SELECT incmodel.create_model('recent_exact',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.recent GROUP BY 1 $$,
  'derived.recent_exact', 'etl_tstamp', window_column => 'collector_tstamp', lookback => '7 days') > 0 AS created;
SELECT incmodel.create_model('recent_bounded',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.recent GROUP BY 1 $$,
  'derived.recent_bounded', 'etl_tstamp', window_column => 'collector_tstamp', lookback => '7 days',
  bounded_recompute => true) > 0 AS created;
INSERT INTO atomic.recent (event_id, domain_sessionid, collector_tstamp, derived_tstamp, etl_tstamp, page_url)
VALUES (gen_random_uuid(), 's_old', now() - interval '10 minutes', now() - interval '10 minutes', now() - interval '5 minutes', '/b');
CALL incmodel.refresh('recent_exact');
CALL incmodel.refresh('recent_bounded');
-- Exact (default): s_old counts both events, like a rebuild.
SELECT * FROM derived.recent_exact ORDER BY 1;
SELECT * FROM testkit.diff('recent_exact');
-- Bounded: s_old is recomputed from its recent event only, and the run says so.
SELECT * FROM derived.recent_bounded ORDER BY 1;
SELECT model_name, keys, keys_outside_window, window_start IS NOT NULL AS has_window
FROM incmodel.runs WHERE model_name LIKE 'recent_%' AND kind = 'refresh' ORDER BY run_id;
-- An event whose window column is older than the lookback is not processed (documented lookback
-- semantics) until a rebuild: its new batch is found (through the change log) and recorded, but
-- keys come only from events inside the window, so it touches none.
INSERT INTO atomic.recent (event_id, domain_sessionid, collector_tstamp, derived_tstamp, etl_tstamp, page_url)
VALUES (gen_random_uuid(), 's_ancient', now() - interval '30 days', now() - interval '30 days', now(), '/c');
CALL incmodel.refresh('recent_exact');
SELECT outcome, batches, keys FROM incmodel.runs WHERE model_name = 'recent_exact' ORDER BY run_id DESC LIMIT 1;
SELECT * FROM testkit.diff('recent_exact');
SELECT incmodel.rebuild('recent_exact') AS rows;
SELECT * FROM testkit.diff('recent_exact');
SELECT incmodel.drop_model('recent_exact', true);
SELECT incmodel.drop_model('recent_bounded', true);
