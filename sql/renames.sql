-- Renames: a model keeps working after its source, the source's schema, a dimension, a column
-- its query uses, its target or a function its query calls is renamed (as a materialized view
-- does: the query is stored as an analyzed tree, names come from OIDs). After each rename and a
-- new load, a refresh equals the query written with the new names (the oracle below). A dropped
-- dimension makes every refresh fail with a clear error recorded as a run, which status shows;
-- refresh_all warns and refreshes the other models, at top level and in a transaction block.

-- Only this test's models take part in refresh_all here; the others are enabled again at the end.
CREATE TEMP TABLE ren_disabled AS SELECT name FROM incmodel.models WHERE enabled;
SELECT count(*) >= 0 AS disabled FROM ren_disabled, incmodel.alter_model(name, enabled => false);

CREATE SCHEMA ren_src;
SELECT testkit.make_events('ren_src.events');
SELECT testkit.generate('ren_src.events', '--seed 31 --events 1500 --batches 8 --batch-to 2') > 0 AS loaded;
CREATE TABLE ren_src.regions AS SELECT * FROM testkit.countries;
CREATE FUNCTION ren_src.label(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT lower($1) $$;

-- ren_a: source aliased, joined to a dimension, calls a function; ren_b: the source without an
-- alias (its references are qualified by the relation's name); ren_z sorts after them.
SELECT incmodel.create_model('ren_a',
  $$ SELECT e.domain_sessionid AS session_id, count(*) AS events, max(e.page_url) AS last_page,
            ren_src.label(min(c.region)) AS region
     FROM ren_src.events e LEFT JOIN ren_src.regions c ON c.code = e.geo_country
     GROUP BY e.domain_sessionid $$,
  'derived.ren_a', 'etl_tstamp') > 0 AS created;
SELECT incmodel.create_model('ren_b',
  $$ SELECT domain_userid, count(*) AS events, count(DISTINCT page_url) AS pages
     FROM ren_src.events GROUP BY domain_userid $$,
  'derived.ren_b', 'etl_tstamp') > 0 AS created;
SELECT incmodel.create_model('ren_z',
  $$ SELECT geo_country, count(*) AS events FROM ren_src.events GROUP BY geo_country $$,
  'derived.ren_z', 'etl_tstamp') > 0 AS created;

-- The oracle: each model's query written with the current names, compared with its target
-- (EXCEPT ALL both ways; 0/0 means equal to a full rebuild).
CREATE TEMP TABLE ren_oracle (model text PRIMARY KEY, query text NOT NULL);
CREATE FUNCTION pg_temp.ren_names(src text, dim text, col text, fn text) RETURNS void
LANGUAGE sql AS $f$
  DELETE FROM ren_oracle;
  INSERT INTO ren_oracle VALUES
    ('ren_a', format($q$ SELECT e.domain_sessionid AS session_id, count(*) AS events,
                            max(e.%s) AS last_page, %s(min(c.region)) AS region
                     FROM %s e LEFT JOIN %s c ON c.code = e.geo_country
                     GROUP BY e.domain_sessionid $q$, col, fn, src, dim)),
    ('ren_b', format($q$ SELECT domain_userid, count(*) AS events, count(DISTINCT %s) AS pages
                     FROM %s GROUP BY domain_userid $q$, col, src)),
    ('ren_z', format($q$ SELECT geo_country, count(*) AS events FROM %s GROUP BY geo_country $q$,
                     src));
$f$;
CREATE FUNCTION pg_temp.ren_check(m text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE q text; t regclass; extra bigint; missing bigint;
BEGIN
  SELECT o.query, x.target INTO q, t FROM ren_oracle o JOIN incmodel.models x ON x.name = o.model
  WHERE o.model = m;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL (%s)) x', t, q) INTO extra;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL SELECT * FROM %s) x', q, t) INTO missing;
  RETURN format('%s: %s extra, %s missing', m, extra, missing);
END $f$;
-- A new load into the source (whatever it is called now), then a refresh of each model.
CREATE FUNCTION pg_temp.ren_load(batch int) RETURNS bigint LANGUAGE sql AS $f$
  SELECT testkit.generate((SELECT source::text FROM incmodel.models WHERE name = 'ren_b'),
    format('--seed 31 --events 1500 --batches 8 --batch-from %s --batch-to %s', batch, batch))
$f$;
SELECT pg_temp.ren_names('ren_src.events', 'ren_src.regions', 'page_url', 'ren_src.label');
SELECT pg_temp.ren_check(model) FROM ren_oracle ORDER BY model;

-- A model without a tree (created by 0.2.0) or with one from another database (a restored dump:
-- its OIDs mean nothing here) takes it again from its canonical text at its next run.
UPDATE incmodel.models SET query_tree = NULL, query_origin = NULL WHERE name = 'ren_z';
UPDATE incmodel.models SET query_origin = 'another/database' WHERE name = 'ren_b';
CALL incmodel.refresh('ren_b');
CALL incmodel.refresh('ren_z');
SELECT name, query_tree IS NOT NULL AS has_tree,
       query_origin = (SELECT query_origin FROM incmodel.models WHERE name = 'ren_a') AS stored_here
FROM incmodel.models WHERE name LIKE 'ren\_%' ORDER BY name;

-- 1. The source table.
ALTER TABLE ren_src.events RENAME TO events_v2;
SELECT pg_temp.ren_load(3) > 0 AS loaded;
CALL incmodel.refresh('ren_a');
CALL incmodel.refresh('ren_b');
SELECT pg_temp.ren_names('ren_src.events_v2', 'ren_src.regions', 'page_url', 'ren_src.label');
SELECT pg_temp.ren_check(model) FROM ren_oracle WHERE model <> 'ren_z' ORDER BY model;

-- 2. The schema of the source, the dimension and the function.
ALTER SCHEMA ren_src RENAME TO ren_src2;
SELECT pg_temp.ren_load(4) > 0 AS loaded;
CALL incmodel.refresh('ren_a');
CALL incmodel.refresh('ren_b');
SELECT pg_temp.ren_names('ren_src2.events_v2', 'ren_src2.regions', 'page_url', 'ren_src2.label');
SELECT pg_temp.ren_check(model) FROM ren_oracle WHERE model <> 'ren_z' ORDER BY model;

-- 3. The dimension table, a column the queries read, the function, the target.
ALTER TABLE ren_src2.regions RENAME TO regions_v2;
ALTER TABLE ren_src2.events_v2 RENAME COLUMN page_url TO url;
ALTER FUNCTION ren_src2.label(text) RENAME TO label_v2;
ALTER TABLE derived.ren_a RENAME TO ren_a_v2;
SELECT pg_temp.ren_load(5) > 0 AS loaded;
CALL incmodel.refresh('ren_a');
CALL incmodel.refresh('ren_b');
SELECT pg_temp.ren_names('ren_src2.events_v2', 'ren_src2.regions_v2', 'url', 'ren_src2.label_v2');
SELECT pg_temp.ren_check(model) FROM ren_oracle WHERE model <> 'ren_z' ORDER BY model;
-- The stored texts (export and explain use them) name what the query reads now; ren_b's
-- source alias follows the table's new name. The output columns keep their names.
SELECT name, canonical_query LIKE '%ren_src2.events_v2 e%' AND canonical_query LIKE '%ren_src2.regions_v2 c%'
         AND canonical_query LIKE '%ren_src2.label_v2(%' AND canonical_query LIKE '%e.url) AS last_page%'
         AS names_current
FROM incmodel.models WHERE name = 'ren_a';
SELECT name, source_alias, query_head, query_tail FROM incmodel.models WHERE name = 'ren_b';
SELECT m.name, c.source_expr FROM incmodel.model_columns c JOIN incmodel.models m USING (model_id)
WHERE m.name IN ('ren_a', 'ren_b') AND c.kind = 'key' ORDER BY m.name, c.ord;
SELECT step, step_name FROM incmodel.explain('ren_b') ORDER BY step;
-- A rebuild gives the same target.
SELECT testkit.fingerprint('derived.ren_a_v2') AS before_rebuild \gset
SELECT incmodel.rebuild('ren_a') > 0 AS rebuilt;
SELECT testkit.fingerprint('derived.ren_a_v2') = :'before_rebuild' AS rebuild_same;

-- 4. A dropped dimension: the refresh fails with a clear error, recorded as a run at step
-- 'load'; status shows it while the events wait.
DROP TABLE ren_src2.regions_v2;
SELECT pg_temp.ren_load(6) > 0 AS loaded;
CALL incmodel.refresh('ren_a');
SELECT model, last_outcome, last_failed_step, last_error, pending_batches
FROM incmodel.status WHERE model = 'ren_a';
SELECT kind, outcome, failed_step, error_sqlstate FROM incmodel.runs
WHERE model_name = 'ren_a' ORDER BY run_id DESC LIMIT 1;

-- refresh_all at top level: a WARNING for ren_a, ren_b and ren_z (after it in name order) are
-- refreshed.
CALL incmodel.refresh_all();
SELECT pg_temp.ren_check(model) FROM ren_oracle WHERE model <> 'ren_a' ORDER BY model;
SELECT model, last_outcome, last_failed_step FROM incmodel.status WHERE model LIKE 'ren\_%' ORDER BY model;

-- ... and in a transaction block (atomic): the caller's transaction stays usable, the failure
-- is recorded in it.
SELECT pg_temp.ren_load(7) > 0 AS loaded;
BEGIN;
CALL incmodel.refresh_all();
SELECT pg_temp.ren_check(model) FROM ren_oracle WHERE model <> 'ren_a' ORDER BY model;
SELECT count(*) AS failed_runs_of_ren_a FROM incmodel.runs WHERE model_name = 'ren_a' AND outcome = 'failed';
COMMIT;
SELECT model, last_outcome, last_failed_step FROM incmodel.status WHERE model LIKE 'ren\_%' ORDER BY model;
-- rebuild fails the same way (a function: its failed run rolls back with the statement).
SELECT incmodel.rebuild('ren_a');

-- Clean up: this test's models go, the others are enabled again.
SELECT incmodel.drop_model(name, drop_target => true) FROM incmodel.models WHERE name LIKE 'ren\_%' ORDER BY name;
SELECT count(*) >= 0 AS enabled FROM ren_disabled, incmodel.alter_model(name, enabled => true);
DROP SCHEMA ren_src2 CASCADE;
