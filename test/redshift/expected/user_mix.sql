-- incmodel package format 2: model "user_mix", dialect redshift, parts 15
-- @@incmodel step=1 part=ddl bytes=36
CREATE SCHEMA IF NOT EXISTS incmodel;
-- @@incmodel step=2 part=ddl bytes=51
CREATE SCHEMA IF NOT EXISTS incmodel_export_scratch;
-- @@incmodel step=3 part=ddl bytes=35
CREATE SCHEMA IF NOT EXISTS derived;
-- @@incmodel step=4 part=ddl bytes=297
CREATE TABLE IF NOT EXISTS incmodel.registry (model VARCHAR(256) NOT NULL, procedure_name VARCHAR(65535) NOT NULL, target_table VARCHAR(65535) NOT NULL, dialect VARCHAR(256), version VARCHAR(256), post_commit_sql VARCHAR(65535), maintenance_sql VARCHAR(65535), deployed_at TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=5 part=ddl bytes=353
CREATE TABLE IF NOT EXISTS incmodel.run_log (model VARCHAR(256) NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, outcome VARCHAR(256) NOT NULL, batches bigint, events bigint, keys bigint, null_keys bigint, rows_deleted bigint, rows_inserted bigint, window_start TIMESTAMP, message VARCHAR(65535)) DISTSTYLE ALL SORTKEY (model, started_at);
-- @@incmodel step=6 part=ddl bytes=150
CREATE TABLE IF NOT EXISTS incmodel.manifest_user_mix (input VARCHAR(256) NOT NULL, consumed_run bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=7 part=ddl bytes=97
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_mix_keys (k1 VARCHAR(65535)) DISTKEY (k1);
-- @@incmodel step=8 part=ddl bytes=173
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_mix_rows (user_id VARCHAR(65535), active_days BIGINT, day_events NUMERIC(38,10), all_events BIGINT) DISTKEY (user_id);
-- @@incmodel step=9 part=ddl bytes=179
CREATE TABLE IF NOT EXISTS derived.user_mix (user_id VARCHAR(65535), active_days BIGINT, day_events NUMERIC(38,10), all_events BIGINT) DISTKEY (user_id) COMPOUND SORTKEY (user_id);
-- @@incmodel step=10 part=ddl bytes=54
DELETE FROM incmodel.registry WHERE model = 'user_mix';
-- @@incmodel step=11 part=ddl bytes=3252
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('user_mix', 'incmodel.refresh_user_mix', 'derived.user_mix', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.user_mix'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_mix'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_user_mix'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_mix'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.user_mix TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_mix'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.user_mix PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_mix'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_user_mix TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_mix'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_user_mix PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_mix'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch.user_mix_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_mix_keys'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch.user_mix_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_mix_keys'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.user_mix_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_mix_rows'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.user_mix_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_mix_rows'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=12 part=procedure bytes=5876
CREATE OR REPLACE PROCEDURE incmodel.refresh_user_mix()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_model VARCHAR(256) := 'user_mix';
    v_outcome VARCHAR(16) := 'noop';
    v_recorded BIGINT := 0;
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
    v_from_1 BIGINT := 0;
    v_to_1 BIGINT := 0;
    v_from_2 BIGINT := 0;
    v_to_2 BIGINT := 0;
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_user_mix;
    DELETE FROM incmodel_export_scratch.user_mix_keys;
    DELETE FROM incmodel_export_scratch.user_mix_rows;
    SELECT INTO v_recorded COUNT(*) FROM incmodel.manifest_user_mix;
    SELECT INTO v_from_1 COALESCE(MAX(consumed_run), 0) FROM incmodel.manifest_user_mix WHERE input = 'user_days';
    SELECT INTO v_to_1 COALESCE(MAX(run_no), 0) FROM incmodel.touched_user_days;
    v_batches := v_batches + v_to_1 - v_from_1;
    SELECT INTO v_from_2 COALESCE(MAX(consumed_run), 0) FROM incmodel.manifest_user_mix WHERE input = 'user_totals';
    SELECT INTO v_to_2 COALESCE(MAX(run_no), 0) FROM incmodel.touched_user_totals;
    v_batches := v_batches + v_to_2 - v_from_2;
    IF v_recorded = 0 THEN
        v_outcome := 'success';
        INSERT INTO incmodel_export_scratch.user_mix_rows (user_id, active_days, day_events, all_events)
        SELECT d.user_id,
    count(*) AS active_days,
    sum(d.events) AS day_events,
    max(t.events) AS all_events
   FROM ( derived.user_days d
     JOIN derived.user_totals t ON ((t.domain_userid = d.user_id)))
  GROUP BY d.user_id;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        INSERT INTO incmodel_export_scratch.user_mix_keys (k1) SELECT DISTINCT user_id FROM incmodel_export_scratch.user_mix_rows;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        LOCK derived.user_mix;
        DELETE FROM derived.user_mix;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        INSERT INTO derived.user_mix (user_id, active_days, day_events, all_events) SELECT user_id, active_days, day_events, all_events FROM incmodel_export_scratch.user_mix_rows;
    ELSIF v_to_1 > v_from_1 OR v_to_2 > v_from_2 THEN
        INSERT INTO incmodel_export_scratch.user_mix_keys (k1)
        SELECT _incmodel_input.user_id FROM (SELECT _incmodel_log.k1 AS user_id, _incmodel_log.k2 AS day FROM incmodel.touched_user_days AS _incmodel_log WHERE _incmodel_log.run_no > v_from_1 AND _incmodel_log.run_no <= v_to_1) AS _incmodel_input UNION SELECT _incmodel_input.domain_userid FROM (SELECT _incmodel_log.k1 AS domain_userid FROM incmodel.touched_user_totals AS _incmodel_log WHERE _incmodel_log.run_no > v_from_2 AND _incmodel_log.run_no <= v_to_2) AS _incmodel_input;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        v_events := v_keys;
        IF v_keys > 0 THEN
            v_outcome := 'success';
            SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.user_mix_keys WHERE k1 IS NULL;
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.user_mix_rows (user_id, active_days, day_events, all_events)
            SELECT d.user_id,
    count(*) AS active_days,
    sum(d.events) AS day_events,
    max(t.events) AS all_events
   FROM ( (SELECT d.* FROM derived.user_days AS d WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_mix_keys AS _incmodel_k WHERE _incmodel_k.k1 = d.user_id) UNION ALL SELECT d.* FROM derived.user_days AS d WHERE (d.user_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_mix_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = d.user_id OR (_incmodel_k.k1 IS NULL AND d.user_id IS NULL)))) d
     JOIN derived.user_totals t ON ((t.domain_userid = d.user_id)))
  GROUP BY d.user_id;
        ELSE
            INSERT INTO incmodel_export_scratch.user_mix_rows (user_id, active_days, day_events, all_events)
            SELECT d.user_id,
    count(*) AS active_days,
    sum(d.events) AS day_events,
    max(t.events) AS all_events
   FROM ( (SELECT d.* FROM derived.user_days AS d WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_mix_keys AS _incmodel_k WHERE _incmodel_k.k1 = d.user_id)) d
     JOIN derived.user_totals t ON ((t.domain_userid = d.user_id)))
  GROUP BY d.user_id;
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.user_mix;
        DELETE FROM derived.user_mix USING incmodel_export_scratch.user_mix_keys AS _incmodel_k WHERE user_mix.user_id = _incmodel_k.k1;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.user_mix WHERE (user_mix.user_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_mix_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = user_mix.user_id OR (_incmodel_k.k1 IS NULL AND user_mix.user_id IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.user_mix (user_id, active_days, day_events, all_events) SELECT user_id, active_days, day_events, all_events FROM incmodel_export_scratch.user_mix_rows;
        END IF;
    END IF;
    DELETE FROM incmodel.manifest_user_mix;
    INSERT INTO incmodel.manifest_user_mix (input, consumed_run, recorded_at) VALUES ('user_days', v_to_1, v_started), ('user_totals', v_to_2, v_started);
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, GETDATE(), v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=13 part=dispatcher bytes=443
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
-- @@incmodel step=14 part=post_commit bytes=457
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.user_mix' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_mix') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_user_mix' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_mix')) x ORDER BY ord;
-- @@incmodel step=15 part=maintenance bytes=2482
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.user_mix TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_mix') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.user_mix PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_mix') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_user_mix TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_mix') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_user_mix PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_mix') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch.user_mix_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_mix_keys') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch.user_mix_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_mix_keys') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.user_mix_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_mix_rows') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.user_mix_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_mix_rows') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
