-- incmodel package format 2: model "Quoted Model", dialect redshift, parts 16
-- @@incmodel step=1 part=ddl bytes=36
CREATE SCHEMA IF NOT EXISTS incmodel;
-- @@incmodel step=2 part=ddl bytes=51
CREATE SCHEMA IF NOT EXISTS incmodel_export_scratch;
-- @@incmodel step=3 part=ddl bytes=39
CREATE SCHEMA IF NOT EXISTS "Reporting";
-- @@incmodel step=4 part=ddl bytes=297
CREATE TABLE IF NOT EXISTS incmodel.registry (model VARCHAR(256) NOT NULL, procedure_name VARCHAR(65535) NOT NULL, target_table VARCHAR(65535) NOT NULL, dialect VARCHAR(256), version VARCHAR(256), post_commit_sql VARCHAR(65535), maintenance_sql VARCHAR(65535), deployed_at TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=5 part=ddl bytes=353
CREATE TABLE IF NOT EXISTS incmodel.run_log (model VARCHAR(256) NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, outcome VARCHAR(256) NOT NULL, batches bigint, events bigint, keys bigint, null_keys bigint, rows_deleted bigint, rows_inserted bigint, window_start TIMESTAMP, message VARCHAR(65535)) DISTSTYLE ALL SORTKEY (model, started_at);
-- @@incmodel step=6 part=ddl bytes=180
CREATE TABLE IF NOT EXISTS incmodel."manifest_Quoted Model" (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (batch_value);
-- @@incmodel step=7 part=ddl bytes=172
CREATE TABLE IF NOT EXISTS incmodel_export_scratch."Quoted Model_batches" (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_count bigint) DISTSTYLE ALL;
-- @@incmodel step=8 part=ddl bytes=122
CREATE TABLE IF NOT EXISTS incmodel_export_scratch."Quoted Model_keys" (k1 VARCHAR(65535), k2 VARCHAR(65535)) DISTKEY (k1);
-- @@incmodel step=9 part=ddl bytes=182
CREATE TABLE IF NOT EXISTS incmodel_export_scratch."Quoted Model_rows" ("Country" VARCHAR(65535), "select" VARCHAR(65535), "Event Count" BIGINT, "percent" BIGINT) DISTKEY ("Country");
-- @@incmodel step=10 part=ddl bytes=205
CREATE TABLE IF NOT EXISTS "Reporting"."Country Stats" ("Country" VARCHAR(65535), "select" VARCHAR(65535), "Event Count" BIGINT, "percent" BIGINT) DISTKEY ("Country") COMPOUND SORTKEY ("Country", "select");
-- @@incmodel step=11 part=ddl bytes=58
DELETE FROM incmodel.registry WHERE model = 'Quoted Model';
-- @@incmodel step=12 part=ddl bytes=3977
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('Quoted Model', 'incmodel."refresh_Quoted Model"', '"Reporting"."Country Stats"', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE "Reporting"."Country Stats"'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''Reporting'') AND LOWER(c.relname) = LOWER(''Country Stats'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel."manifest_Quoted Model"'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_Quoted Model'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL "Reporting"."Country Stats" TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''Reporting'') AND LOWER(c.relname) = LOWER(''Country Stats'') UNION ALL SELECT 2 AS ord, ''ANALYZE "Reporting"."Country Stats" PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''Reporting'') AND LOWER(c.relname) = LOWER(''Country Stats'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel."manifest_Quoted Model" TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_Quoted Model'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel."manifest_Quoted Model" PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_Quoted Model'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch."Quoted Model_batches" TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_batches'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch."Quoted Model_batches" PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_batches'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch."Quoted Model_keys" TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_keys'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch."Quoted Model_keys" PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_keys'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel_export_scratch."Quoted Model_rows" TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_rows'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel_export_scratch."Quoted Model_rows" PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''Quoted Model_rows'') UNION ALL SELECT 11 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 12 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=13 part=procedure bytes=5712
CREATE OR REPLACE PROCEDURE incmodel."refresh_Quoted Model"()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_cutoff TIMESTAMP;
    v_model VARCHAR(256) := 'Quoted Model';
    v_recorded BIGINT := 0;
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
BEGIN
    v_started := GETDATE();
    LOCK incmodel."manifest_Quoted Model";
    SELECT INTO v_recorded COUNT(*) FROM incmodel."manifest_Quoted Model";
    DELETE FROM incmodel_export_scratch."Quoted Model_batches";
    DELETE FROM incmodel_export_scratch."Quoted Model_keys";
    DELETE FROM incmodel_export_scratch."Quoted Model_rows";
    INSERT INTO incmodel_export_scratch."Quoted Model_batches" (batch_value, event_count, recorded_count)
    SELECT c.batch_value, c.event_count, m.event_count FROM (SELECT ev.etl_tstamp AS batch_value, COUNT(*) AS event_count FROM atomic.events AS ev WHERE ev.etl_tstamp IS NOT NULL GROUP BY ev.etl_tstamp) c LEFT JOIN incmodel."manifest_Quoted Model" m ON m.batch_value = c.batch_value WHERE m.event_count IS NULL OR m.event_count < c.event_count;
    GET DIAGNOSTICS v_batches := ROW_COUNT;
    IF v_batches = 0 THEN
        INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('Quoted Model', v_started, GETDATE(), 'noop', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
        RAISE INFO 'incmodel-run model=% outcome=noop batches=% events=% keys=% deleted=% inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;
        RETURN;
    END IF;
    SELECT INTO v_events COALESCE(SUM(event_count - COALESCE(recorded_count, 0)), 0) FROM incmodel_export_scratch."Quoted Model_batches";
    INSERT INTO incmodel_export_scratch."Quoted Model_keys" (k1, k2)
    SELECT DISTINCT ev.geo_country, ev.br_family FROM atomic.events AS ev WHERE ev.etl_tstamp IN (SELECT batch_value FROM incmodel_export_scratch."Quoted Model_batches");
    GET DIAGNOSTICS v_keys := ROW_COUNT;
    SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch."Quoted Model_keys" WHERE k1 IS NULL OR k2 IS NULL;
    IF v_null_keys > 0 THEN
        INSERT INTO incmodel_export_scratch."Quoted Model_rows" ("Country", "select", "Event Count", "percent")
        SELECT geo_country AS "Country",
    br_family AS "select",
    count(*) AS "Event Count",
    count(DISTINCT page_url) AS "percent"
   FROM (SELECT * FROM atomic.events AS ev WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch."Quoted Model_keys" AS _incmodel_k WHERE _incmodel_k.k1 = ev.geo_country AND _incmodel_k.k2 = ev.br_family) UNION ALL SELECT * FROM atomic.events AS ev WHERE (ev.geo_country IS NULL OR ev.br_family IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch."Quoted Model_keys" AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = ev.geo_country OR (_incmodel_k.k1 IS NULL AND ev.geo_country IS NULL)) AND (_incmodel_k.k2 = ev.br_family OR (_incmodel_k.k2 IS NULL AND ev.br_family IS NULL)))) ev
  GROUP BY geo_country, br_family;
    ELSE
        INSERT INTO incmodel_export_scratch."Quoted Model_rows" ("Country", "select", "Event Count", "percent")
        SELECT geo_country AS "Country",
    br_family AS "select",
    count(*) AS "Event Count",
    count(DISTINCT page_url) AS "percent"
   FROM (SELECT * FROM atomic.events AS ev WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch."Quoted Model_keys" AS _incmodel_k WHERE _incmodel_k.k1 = ev.geo_country AND _incmodel_k.k2 = ev.br_family)) ev
  GROUP BY geo_country, br_family;
    END IF;
    GET DIAGNOSTICS v_inserted := ROW_COUNT;
    LOCK "Reporting"."Country Stats";
    DELETE FROM "Reporting"."Country Stats" USING incmodel_export_scratch."Quoted Model_keys" AS _incmodel_k WHERE "Country Stats"."Country" = _incmodel_k.k1 AND "Country Stats"."select" = _incmodel_k.k2;
    GET DIAGNOSTICS v_deleted := ROW_COUNT;
    IF v_null_keys > 0 THEN
        DELETE FROM "Reporting"."Country Stats" WHERE ("Country Stats"."Country" IS NULL OR "Country Stats"."select" IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch."Quoted Model_keys" AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = "Country Stats"."Country" OR (_incmodel_k.k1 IS NULL AND "Country Stats"."Country" IS NULL)) AND (_incmodel_k.k2 = "Country Stats"."select" OR (_incmodel_k.k2 IS NULL AND "Country Stats"."select" IS NULL)));
        GET DIAGNOSTICS v_n := ROW_COUNT;
        v_deleted := v_deleted + v_n;
    END IF;
    INSERT INTO "Reporting"."Country Stats" ("Country", "select", "Event Count", "percent") SELECT "Country", "select", "Event Count", "percent" FROM incmodel_export_scratch."Quoted Model_rows";
    DELETE FROM incmodel."manifest_Quoted Model" USING incmodel_export_scratch."Quoted Model_batches" AS _incmodel_b WHERE "manifest_Quoted Model".batch_value = _incmodel_b.batch_value;
    INSERT INTO incmodel."manifest_Quoted Model" (batch_value, event_count, recorded_at) SELECT batch_value, event_count, v_started FROM incmodel_export_scratch."Quoted Model_batches";
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('Quoted Model', v_started, GETDATE(), 'success', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=success batches=% events=% keys=% deleted=% inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=14 part=dispatcher bytes=443
CREATE OR REPLACE PROCEDURE incmodel.refresh(p_model VARCHAR(256))
AS $incmodel$
DECLARE
    v_procedure VARCHAR(65535);
BEGIN
    SELECT INTO v_procedure r.procedure_name FROM incmodel.registry r WHERE r.model = p_model;
    IF v_procedure IS NULL THEN
        RAISE EXCEPTION 'incmodel: model "%" is not deployed here (see incmodel.registry)', p_model;
    END IF;
    EXECUTE 'CALL ' || v_procedure || '()';
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=15 part=post_commit bytes=485
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE "Reporting"."Country Stats"' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('Reporting') AND LOWER(c.relname) = LOWER('Country Stats') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel."manifest_Quoted Model"' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_Quoted Model')) x ORDER BY ord;
-- @@incmodel step=16 part=maintenance bytes=3146
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL "Reporting"."Country Stats" TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('Reporting') AND LOWER(c.relname) = LOWER('Country Stats') UNION ALL SELECT 2 AS ord, 'ANALYZE "Reporting"."Country Stats" PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('Reporting') AND LOWER(c.relname) = LOWER('Country Stats') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel."manifest_Quoted Model" TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_Quoted Model') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel."manifest_Quoted Model" PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_Quoted Model') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch."Quoted Model_batches" TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_batches') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch."Quoted Model_batches" PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_batches') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch."Quoted Model_keys" TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_keys') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch."Quoted Model_keys" PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_keys') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel_export_scratch."Quoted Model_rows" TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_rows') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel_export_scratch."Quoted Model_rows" PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('Quoted Model_rows') UNION ALL SELECT 11 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 12 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
