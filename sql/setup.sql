-- Shared fixtures for the regression suite: the extension, an events table like atomic.events,
-- and testkit helpers (loading synthetic events, comparing a target with a full rebuild).
CREATE EXTENSION incmodel;
SELECT incmodel.version();

-- Nothing test-only ships: a fresh install (the 0.1.0 script and every upgrade after it) leaves
-- no schema incmodel_test, and incmodel defines no test or fault setting.
SELECT count(*) AS test_schemas FROM pg_namespace WHERE nspname = 'incmodel_test';
SELECT count(*) AS test_functions FROM pg_proc WHERE probin = '$libdir/incmodel' AND prosrc LIKE 'incmodel\_test\_%';
SELECT count(*) AS test_settings FROM pg_settings
WHERE name LIKE 'incmodel.%' AND name ~ '(test|fail|fault|hook)';
SHOW incmodel.fail_at_step;
SHOW incmodel.test_hooks;
SET incmodel.fail_at_step = 'plan';
-- The test suite's own extension (test/ext): the test functions in schema incmodel_test. Its
-- library, preloaded by test/regress.conf, defines incmodel_test.fail_at_step.
CREATE EXTENSION incmodel_test;
SELECT extversion FROM pg_extension WHERE extname = 'incmodel_test';

CREATE SCHEMA atomic;
CREATE SCHEMA derived;
\i test/testkit.sql

SELECT testkit.make_events('atomic.events');
SELECT testkit.generate('atomic.events', '--seed 1 --events 2000 --batches 4') AS loaded;
SELECT count(DISTINCT etl_tstamp) AS batches, count(*) > 1900 AS enough FROM atomic.events;
