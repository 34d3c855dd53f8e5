-- incmodel in a database several teams share (docs/SECURITY.md). Roles: a tenant that owns its
-- source and targets, a loader with INSERT on the source only, a reader with SELECT on one
-- target, another role with no rights at all, and the superuser as the scheduler. Every block
-- is an attack or a guarantee from the threat model; each failed on 0.2.0.
\set SHOW_CONTEXT never
CREATE ROLE im_tenant;
CREATE ROLE im_loader;
CREATE ROLE im_reader2;
CREATE ROLE im_other;
GRANT USAGE ON SCHEMA incmodel TO im_tenant, im_reader2, im_other;
GRANT USAGE ON SCHEMA testkit TO im_tenant, im_loader, im_reader2, im_other;
CREATE SCHEMA tenant AUTHORIZATION im_tenant;
CREATE SCHEMA reader AUTHORIZATION im_reader2;
GRANT USAGE ON SCHEMA tenant TO im_loader, im_reader2;
-- Something only a superuser may read.
CREATE SCHEMA secret;
CREATE TABLE secret.data (v text);
INSERT INTO secret.data VALUES ('the crown jewels');

SET ROLE im_tenant;
CREATE TABLE tenant.events (event_id text, domain_sessionid text, domain_userid text,
                            etl_tstamp timestamp NOT NULL, load_tstamp timestamptz NOT NULL,
                            derived_tstamp timestamptz);
CREATE INDEX ON tenant.events (etl_tstamp);
-- The tenant's code: who runs it, and what can it read? Declared IMMUTABLE (a lie the tenant
-- may tell) so that models accept it; it refuses to run with a superuser's rights, so a step
-- that runs it elevated fails.
CREATE FUNCTION tenant.ran_as() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE seen text;
BEGIN
  BEGIN
    SELECT v INTO seen FROM secret.data;
  EXCEPTION WHEN insufficient_privilege THEN seen := 'denied';
  END;
  RETURN current_user || ' / secret: ' || seen;
END $$;
CREATE FUNCTION tenant.key_of(v text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'tenant code ran as superuser %', current_user;
  END IF;
  RETURN v;
END $$;
CREATE FUNCTION tenant.load(n int, batch timestamp) RETURNS void LANGUAGE sql AS $$
  INSERT INTO tenant.events
  SELECT 'e' || g || '-' || extract(epoch FROM batch), 's' || (g % 7), 'u' || (g % 3), batch,
         now(), timestamptz '2026-11-20 00:00+00' + (g % 5) * interval '1 day'
  FROM generate_series(1, n) g $$;
SELECT tenant.load(30, '2026-11-21 10:00');
SELECT now() - interval '1 hour' AS start_date \gset
SELECT incmodel.create_model(name => 'tenant_sessions',
  query => $$ SELECT tenant.key_of(domain_sessionid) AS session_id, count(*) AS events,
                     max(tenant.ran_as()) AS ran_as
              FROM tenant.events GROUP BY 1 $$,
  target => 'tenant.sessions', batch_column => 'etl_tstamp') > 0 AS created;
SELECT incmodel.create_model(name => 'tenant_days',
  query => $$ SELECT tenant.key_of(domain_userid) AS user_id, derived_tstamp::date AS day,
                     count(*) AS events, max(tenant.ran_as()) AS ran_as
              FROM tenant.events GROUP BY 1, 2 $$,
  target => 'tenant.days', load_column => 'load_tstamp', start_date => :'start_date',
  day_key => 'day', reprocess_days => 400, min_rows_to_process => 1) > 0 AS created;
SELECT DISTINCT ran_as FROM tenant.sessions;
RESET ROLE;
GRANT INSERT ON tenant.events TO im_loader;
GRANT SELECT ON tenant.sessions TO im_reader2;

-- 1. A model's SQL runs as its target's owner, never as the caller: the superuser's scheduled
--    refresh_all, refresh, rebuild, explain and backfill lend the tenant's code no rights.
SELECT tenant.load(20, '2026-11-22 10:00');
CALL incmodel.refresh_all();
SELECT DISTINCT ran_as FROM tenant.sessions;
SELECT DISTINCT ran_as FROM tenant.days;
SELECT tenant.load(5, '2026-11-23 10:00');
CALL incmodel.refresh('tenant_sessions');
SELECT incmodel.rebuild('tenant_sessions') > 0 AS rebuilt;
SELECT step_name, detail FROM incmodel.explain('tenant_sessions') WHERE step = 2;
SELECT incmodel.backfill('tenant_days', '2026-11-20', '2026-11-22') > 0 AS backfilled;
SELECT DISTINCT ran_as FROM tenant.sessions UNION SELECT DISTINCT ran_as FROM tenant.days;
SELECT outcome, count(*) FROM incmodel.runs WHERE model_name LIKE 'tenant\_%' GROUP BY 1 ORDER BY 1;
SET ROLE im_tenant;
SELECT * FROM testkit.diff('tenant_sessions');
RESET ROLE;

-- 2. SQL run as the catalog owner resolves no name through the caller's search_path and reads
--    nothing another role can write.
-- 2a. An operator placed before pg_catalog: incmodel's catalog lookups must not call it.
GRANT CREATE ON DATABASE contrib_regression TO im_other;
SET ROLE im_other;
CREATE SCHEMA evil;
CREATE FUNCTION evil.escalate() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'ALTER ROLE im_other SUPERUSER';
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$;
CREATE FUNCTION evil.texteq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM evil.escalate(); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
SET search_path = evil, pg_catalog;
SELECT * FROM testkit.error_of($$CALL incmodel.refresh('tenant_sessions')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel.explain('tenant_sessions')$$);
RESET search_path;
-- 2b. A temporary domain named like a built-in type (temporary types are found first unless
--     pg_temp is listed in search_path).
CREATE FUNCTION pg_temp.escalate_check(v bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM evil.escalate(); RETURN true; END $$;
CREATE DOMAIN pg_temp.int8 AS pg_catalog.int8 CHECK (pg_temp.escalate_check(VALUE));
SELECT * FROM testkit.error_of($$CALL incmodel.refresh('tenant_sessions')$$);
DROP DOMAIN pg_temp.int8;
DROP FUNCTION pg_temp.escalate_check(bigint);
RESET ROLE;
SELECT rolsuper AS other_became_superuser FROM pg_roles WHERE rolname = 'im_other';
ALTER ROLE im_other NOSUPERUSER;
-- 2c. The tenant owns its scratch tables and retypes one to a type of its own, with implicit
--     casts whose function escalates when a superuser runs it. The commit must not read the
--     scratch table with the catalog owner's rights (the tenant's own refresh then fails on
--     its own sabotage, as the tenant, and nothing is escalated).
SELECT format('incmodel_scratch.m%s_batches', model_id) AS batches_scratch,
       format('m%s\_%%', model_id) AS batches_scratch_prefix
FROM incmodel.models WHERE name = 'tenant_sessions' \gset
SET ROLE im_tenant;
CREATE TYPE tenant.ct AS (v bigint);
CREATE FUNCTION tenant.ct_in(n bigint) RETURNS tenant.ct LANGUAGE sql IMMUTABLE
  AS 'SELECT ROW(n)::tenant.ct';
CREATE FUNCTION tenant.ct_out(c tenant.ct) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE 'ALTER ROLE im_tenant SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN c.v;
END $$;
CREATE CAST (bigint AS tenant.ct) WITH FUNCTION tenant.ct_in(bigint) AS IMPLICIT;
CREATE CAST (tenant.ct AS bigint) WITH FUNCTION tenant.ct_out(tenant.ct) AS IMPLICIT;
ALTER TABLE :batches_scratch ALTER COLUMN event_count TYPE tenant.ct USING ROW(event_count)::tenant.ct;
SELECT tenant.load(4, '2026-11-24 10:00');
SELECT state, message FROM testkit.error_of($$CALL incmodel.refresh('tenant_sessions')$$);
RESET ROLE;
SELECT rolsuper AS tenant_became_superuser FROM pg_roles WHERE rolname = 'im_tenant';
ALTER ROLE im_tenant NOSUPERUSER;
SET ROLE im_tenant;
ALTER TABLE :batches_scratch ALTER COLUMN event_count TYPE bigint USING (event_count).v;
CALL incmodel.refresh('tenant_sessions');
SELECT * FROM testkit.diff('tenant_sessions');
RESET ROLE;

-- 3. The catalog shows a model's data (batch values, errors, queued keys, ledgers) only to the
--    roles that have its target owner's rights; status stays useful to each owner.
SET ROLE im_other;
SELECT count(*) AS manifest_rows FROM incmodel.manifest;
SELECT count(*) AS run_rows FROM incmodel.runs;
SELECT count(*) AS ledger_rows FROM incmodel.daily_manifest;
SELECT count(*) AS range_rows FROM incmodel.range_manifest;
SELECT count(*) AS queued FROM incmodel.key_queue;
SELECT * FROM testkit.error_of($$SELECT count(*) FROM incmodel.source_changes$$);
SELECT * FROM testkit.error_of($$SELECT * FROM incmodel.explain('tenant_sessions')$$);
SELECT model, last_outcome, pending_batches, pending_events FROM incmodel.status
WHERE model LIKE 'tenant\_%' ORDER BY model;
RESET ROLE;
SET ROLE im_tenant;
SELECT count(*) > 0 AS manifest_rows FROM incmodel.manifest;
SELECT count(*) > 0 AS ledger_rows FROM incmodel.daily_manifest;
SELECT model, last_outcome, pending_batches, pending_events FROM incmodel.status
WHERE model LIKE 'tenant\_%' ORDER BY model;
RESET ROLE;

-- 4. The change log works with a loader's rights alone (no right on schema incmodel) and
--    cannot be forged.
SET ROLE im_loader;
INSERT INTO tenant.events VALUES ('l1', 'loader-session', 'u9', '2026-11-25 10:00', now(), now());
COPY tenant.events FROM STDIN;
l2	loader-session	u9	2026-11-25 10:00:00	2026-11-25 10:00:00+00	2026-11-25 10:00:00+00
\.
SELECT * FROM testkit.error_of($$INSERT INTO incmodel.source_changes VALUES (1, 'etl_tstamp', '99999999', 'x', 'y', 1)$$);
RESET ROLE;
-- A value of another type noted by hand for a logged column would log a bound no plan can read.
SET ROLE im_tenant;
SELECT * FROM testkit.error_of($$SELECT incmodel.note_source_row('tenant.events'::regclass, 'etl_tstamp', 'not a timestamp'::text)$$);
RESET ROLE;
SET ROLE im_other;
SELECT * FROM testkit.error_of($$INSERT INTO incmodel.source_changes VALUES (1, 'etl_tstamp', '99999999', 'x', 'y', 1)$$);
RESET ROLE;
SELECT count(*) AS log_rows_of_the_loads FROM incmodel.source_changes
WHERE source = 'tenant.events'::regclass AND lo = '2026-11-25 10:00:00';
SET ROLE im_tenant;
CALL incmodel.refresh('tenant_sessions');
SELECT events FROM tenant.sessions WHERE session_id = 'loader-session';
SELECT * FROM testkit.diff('tenant_sessions');
RESET ROLE;

-- The target changes owner: the next run hands the scratch tables to the new owner and runs the
-- model's SQL as the new owner.
CREATE ROLE im_heir;
GRANT USAGE ON SCHEMA incmodel, tenant, testkit TO im_heir;
GRANT SELECT ON tenant.events TO im_heir;
ALTER TABLE tenant.sessions OWNER TO im_heir;
SELECT tenant.load(3, '2026-11-26 10:00');
SET ROLE im_heir;
CALL incmodel.refresh('tenant_sessions');
-- (the sessions of the new load were recomputed by the heir, the others stay as they were)
SELECT ran_as, count(*) FROM tenant.sessions GROUP BY 1 ORDER BY 1;
RESET ROLE;
SELECT DISTINCT tableowner FROM pg_tables
WHERE schemaname = 'incmodel_scratch' AND tablename LIKE :'batches_scratch_prefix';
ALTER TABLE tenant.sessions OWNER TO im_tenant;
SET ROLE im_tenant;
CALL incmodel.refresh('tenant_sessions');
RESET ROLE;
SELECT DISTINCT tableowner FROM pg_tables
WHERE schemaname = 'incmodel_scratch' AND tablename LIKE :'batches_scratch_prefix';

-- 9. A reader cannot pin another owner's model: the reader's features model over the tenant's
--    target does not stop the tenant from dropping its model (cascade, as DROP TABLE does past
--    other roles' views).
SET ROLE im_reader2;
SELECT incmodel.create_model(name => 'reader_features',
  query => $$ SELECT session_id, sum(events) AS events FROM tenant.sessions GROUP BY session_id $$,
  target => 'reader.features', depends_on => ARRAY['tenant_sessions']) > 0 AS created;
RESET ROLE;
SET ROLE im_tenant;
SELECT * FROM testkit.error_of($$SELECT incmodel.drop_model('tenant_sessions')$$);
SELECT incmodel.drop_model('tenant_sessions', cascade => true);
SELECT name FROM incmodel.models WHERE name IN ('tenant_sessions', 'reader_features');
SELECT incmodel.drop_model('tenant_days');
RESET ROLE;
SELECT count(*) > 0 AS reader_target_kept FROM reader.features;

DROP SCHEMA tenant, reader, secret, evil CASCADE;
REVOKE ALL ON SCHEMA incmodel, testkit FROM im_tenant, im_loader, im_reader2, im_other;
REVOKE CREATE ON DATABASE contrib_regression FROM im_other;
REVOKE ALL ON SCHEMA incmodel, testkit FROM im_heir;
DROP ROLE im_tenant, im_loader, im_reader2, im_other, im_heir;
