-- Shared fixtures for the regression suite: the extension, an events table like atomic.events,
-- and testkit helpers (loading synthetic events, comparing a target with a full rebuild).
CREATE EXTENSION incmodel;
SELECT incmodel.version();

CREATE SCHEMA atomic;
CREATE SCHEMA derived;
\i test/testkit.sql

SELECT testkit.make_events('atomic.events');
SELECT testkit.generate('atomic.events', '--seed 1 --events 2000 --batches 4') AS loaded;
SELECT count(DISTINCT etl_tstamp) AS batches, count(*) > 1900 AS enough FROM atomic.events;
