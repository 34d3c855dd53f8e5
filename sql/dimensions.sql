-- The relations a model reads besides its source (a joined dimension, a table in a subquery, a
-- table behind a view) are watched: a change to one changes the model's rows without a new event.
-- Before 0.4.0 such a change reached no target row and status showed 0 pending. A relation joined
-- to the source by an equality (dm_regions) has its changes mapped to the keys they reach (the
-- next refresh recomputes them: 'refresh:success'; sql/dimension_keys.sql tests the mapping);
-- so has one read through a simple view (dm_view; sql/dimension_views.sql tests those); one
-- without such a route (a sublink, a view that aggregates) is refused unless the model says
-- on_dimension_change => 'rebuild', and then a change queues a full recompute (the next refresh
-- rebuilds, 'rebuild:success'); time-based models reprocess. Every block ends equal to a full
-- rebuild (0, 0).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA dm;
CREATE TABLE dm.countries (code text PRIMARY KEY, region text NOT NULL);
INSERT INTO dm.countries VALUES ('US', 'Americas'), ('DE', 'Europe'), ('FR', 'Europe');
CREATE TABLE dm.bots (user_id text PRIMARY KEY);
CREATE VIEW dm.regions AS SELECT code, upper(region) AS region FROM dm.countries;
CREATE TABLE dm.ev (id int PRIMARY KEY, uid text, country text, amount numeric, b int,
                    load_tstamp timestamptz NOT NULL DEFAULT now());
INSERT INTO dm.ev SELECT g, 'u' || (g % 9), (ARRAY['US', 'DE', 'FR', 'JP'])[1 + g % 4], g, g / 10
FROM generate_series(1, 80) g;
SELECT incmodel.create_model(name => 'dm_regions',
  query => 'SELECT e.country, c.region, count(*) AS events, sum(e.amount) AS amount
            FROM dm.ev e JOIN dm.countries c ON c.code = e.country GROUP BY e.country, c.region',
  target => 'dm.t_regions', batch_column => 'b') > 0 AS created;
-- No route from dm.bots (a sublink) to the source: refused by default, with what to do.
-- dm.countries behind the simple view dm.regions maps as if joined directly (since 0.7.0).
SELECT incmodel.create_model(name => 'dm_humans',
  query => 'SELECT uid, count(*) AS events FROM dm.ev
            WHERE uid NOT IN (SELECT user_id FROM dm.bots) GROUP BY uid',
  target => 'dm.t_humans', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dm_view',
  query => 'SELECT e.uid, r.region, count(*) AS events
            FROM dm.ev e LEFT JOIN dm.regions r ON r.code = e.country GROUP BY e.uid, r.region',
  target => 'dm.t_view', batch_column => 'b') > 0 AS created;
SELECT incmodel.create_model(name => 'dm_humans', query => 'SELECT 1 AS one FROM dm.ev GROUP BY 1',
  target => 'dm.t_bad', batch_column => 'b', on_dimension_change => 'sometimes');
SELECT incmodel.create_model(name => 'dm_humans',
  query => 'SELECT uid, count(*) AS events FROM dm.ev
            WHERE uid NOT IN (SELECT user_id FROM dm.bots) GROUP BY uid',
  target => 'dm.t_humans', batch_column => 'b', on_dimension_change => 'rebuild') > 0 AS created;
SELECT incmodel.create_model(name => 'dm_daily',
  query => 'SELECT c.region, load_tstamp::date AS day, count(*) AS events
            FROM dm.ev e JOIN dm.countries c ON c.code = e.country GROUP BY 1, 2',
  target => 'dm.t_daily', load_column => 'load_tstamp', start_date => now() - interval '1 day',
  day_key => 'day') > 0 AS created;
-- What each model watches (the view resolved to its table), and the triggers on them.
SELECT m.name, d.relation FROM incmodel.model_dimensions d JOIN incmodel.models m USING (model_id)
ORDER BY 1, 2;
SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'dm'::regnamespace AND c.relname IN ('countries', 'bots')
ORDER BY 1, 2;

-- A dimension row updated: the region of every event in DE changes. status does not say 0.
UPDATE dm.countries SET region = 'EMEA' WHERE code = 'DE';
SELECT model, pending_events > 0 AS pending FROM incmodel.status
WHERE model IN ('dm_regions', 'dm_view', 'dm_humans') ORDER BY 1;
SELECT * FROM testkit.refresh_outcome('dm_regions');
SELECT * FROM testkit.refresh_outcome('dm_view');
-- A model that does not read the changed relation is not touched.
SELECT * FROM testkit.refresh_outcome('dm_humans');
-- A time-based model reprocesses what it holds.
SELECT * FROM testkit.refresh_outcome('dm_daily');

-- A row inserted (JP events now join), one deleted (FR events no longer do).
INSERT INTO dm.countries VALUES ('JP', 'Asia');
DELETE FROM dm.countries WHERE code = 'FR';
SELECT * FROM testkit.refresh_outcome('dm_regions');
SELECT * FROM testkit.refresh_outcome('dm_view');
SELECT * FROM testkit.refresh_outcome('dm_daily');

-- A table in a subquery: users become bots.
INSERT INTO dm.bots VALUES ('u1'), ('u2');
SELECT * FROM testkit.refresh_outcome('dm_humans');
SELECT * FROM testkit.refresh_outcome('dm_regions');

-- TRUNCATE of a dimension; in replica mode (logical replication's apply) an insert.
TRUNCATE dm.bots;
SELECT * FROM testkit.refresh_outcome('dm_humans');
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO dm.bots VALUES ('u3');
COMMIT;
SELECT * FROM testkit.refresh_outcome('dm_humans');

-- Rolled back: nothing queued.
BEGIN;
UPDATE dm.countries SET region = 'nowhere';
ROLLBACK;
SELECT * FROM testkit.refresh_outcome('dm_regions');

-- A relation the creator may not put triggers on is named in a NOTICE at create_model: its
-- changes are not seen (the model is still created).
CREATE ROLE dm_creator;
CREATE TABLE dm.foreign_dim (code text PRIMARY KEY, label text);
GRANT USAGE, CREATE ON SCHEMA dm TO dm_creator;
GRANT USAGE ON SCHEMA incmodel TO dm_creator;
GRANT SELECT, TRIGGER ON dm.ev TO dm_creator;
GRANT SELECT ON dm.foreign_dim TO dm_creator;
SET client_min_messages = notice;
SET ROLE dm_creator;
SELECT incmodel.create_model(name => 'dm_labels',
  query => 'SELECT e.uid, f.label, count(*) AS n FROM dm.ev e JOIN dm.foreign_dim f
            ON f.code = e.country GROUP BY 1, 2',
  target => 'dm.t_labels', batch_column => 'b') > 0 AS created;
SELECT incmodel.drop_model('dm_labels', true);
RESET ROLE;
SET client_min_messages = warning;

-- A view as the source is the source's data, not a dimension: only what the query joins to it is
-- watched.
CREATE VIEW dm.ev_view AS SELECT * FROM dm.ev;
SELECT incmodel.create_model(name => 'dm_viewsrc',
  query => 'SELECT e.country, c.region, count(*) AS events FROM dm.ev_view e
            JOIN dm.countries c ON c.code = e.country GROUP BY 1, 2',
  target => 'dm.t_viewsrc', batch_column => 'b') > 0 AS created;
SELECT d.relation FROM incmodel.model_dimensions d JOIN incmodel.models m USING (model_id)
WHERE m.name = 'dm_viewsrc';
UPDATE dm.countries SET region = 'Europe (central)' WHERE code = 'DE';
SELECT * FROM testkit.refresh_outcome('dm_viewsrc');
SELECT incmodel.drop_model('dm_viewsrc', true);

-- Dropping the models leaves no watch trigger behind.
SELECT incmodel.drop_model(m, true) FROM unnest(ARRAY['dm_regions', 'dm_humans', 'dm_view',
                                                       'dm_daily']) m;
SELECT count(*) AS watch_triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'dm'::regnamespace AND t.tgname LIKE 'incmodel_dim%';
DROP SCHEMA dm CASCADE;
REVOKE USAGE ON SCHEMA incmodel FROM dm_creator;
DROP ROLE dm_creator;
