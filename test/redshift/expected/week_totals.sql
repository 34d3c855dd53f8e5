-- incmodel package format 2: model "week_totals", dialect redshift, parts 15
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
-- @@incmodel step=6 part=ddl bytes=153
CREATE TABLE IF NOT EXISTS incmodel.manifest_week_totals (input VARCHAR(256) NOT NULL, consumed_run bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=7 part=ddl bytes=92
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.week_totals_keys (k1 DATE) DISTSTYLE EVEN;
-- @@incmodel step=8 part=ddl bytes=159
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.week_totals_rows (week DATE, user_days BIGINT, events NUMERIC(38,10), revenue NUMERIC(38,10)) DISTSTYLE EVEN;
-- @@incmodel step=9 part=ddl bytes=162
CREATE TABLE IF NOT EXISTS derived.week_totals (week DATE, user_days BIGINT, events NUMERIC(38,10), revenue NUMERIC(38,10)) DISTSTYLE EVEN COMPOUND SORTKEY (week);
-- @@incmodel step=10 part=ddl bytes=57
DELETE FROM incmodel.registry WHERE model = 'week_totals';
-- @@incmodel step=11 part=ddl bytes=3321
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('week_totals', 'incmodel.refresh_week_totals', 'derived.week_totals', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.week_totals'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''week_totals'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_week_totals'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_week_totals'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.week_totals TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''week_totals'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.week_totals PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''week_totals'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_week_totals TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_week_totals'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_week_totals PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_week_totals'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch.week_totals_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''week_totals_keys'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch.week_totals_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''week_totals_keys'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.week_totals_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''week_totals_rows'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.week_totals_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''week_totals_rows'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=12 part=procedure bytes=5911
CREATE OR REPLACE PROCEDURE incmodel.refresh_week_totals()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_model VARCHAR(256) := 'week_totals';
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
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_week_totals;
    DELETE FROM incmodel_export_scratch.week_totals_keys;
    DELETE FROM incmodel_export_scratch.week_totals_rows;
    SELECT INTO v_recorded COUNT(*) FROM incmodel.manifest_week_totals;
    SELECT INTO v_from_1 COALESCE(MAX(consumed_run), 0) FROM incmodel.manifest_week_totals WHERE input = 'user_days';
    SELECT INTO v_to_1 COALESCE(MAX(run_no), 0) FROM incmodel.touched_user_days;
    v_batches := v_batches + v_to_1 - v_from_1;
    IF v_recorded = 0 THEN
        v_outcome := 'success';
        INSERT INTO incmodel_export_scratch.week_totals_rows (week, user_days, events, revenue)
        SELECT (date_trunc('week'::text, (day)::timestamp without time zone))::date AS week,
    count(*) AS user_days,
    sum(events) AS events,
    sum(revenue) AS revenue
   FROM derived.user_days AS user_days GROUP BY ((date_trunc('week'::text, (day)::timestamp without time zone))::date);
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        INSERT INTO incmodel_export_scratch.week_totals_keys (k1) SELECT DISTINCT week FROM incmodel_export_scratch.week_totals_rows;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        LOCK derived.week_totals;
        DELETE FROM derived.week_totals;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        INSERT INTO derived.week_totals (week, user_days, events, revenue) SELECT week, user_days, events, revenue FROM incmodel_export_scratch.week_totals_rows;
    ELSIF v_to_1 > v_from_1 THEN
        INSERT INTO incmodel_export_scratch.week_totals_keys (k1)
        SELECT ((date_trunc('week'::text, (_incmodel_input.day)::timestamp without time zone))::date) FROM (SELECT _incmodel_log.k1 AS user_id, _incmodel_log.k2 AS day FROM incmodel.touched_user_days AS _incmodel_log WHERE _incmodel_log.run_no > v_from_1 AND _incmodel_log.run_no <= v_to_1) AS _incmodel_input;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        v_events := v_keys;
        IF v_keys > 0 THEN
            v_outcome := 'success';
            SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.week_totals_keys WHERE k1 IS NULL;
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.week_totals_rows (week, user_days, events, revenue)
            SELECT (date_trunc('week'::text, (day)::timestamp without time zone))::date AS week,
    count(*) AS user_days,
    sum(events) AS events,
    sum(revenue) AS revenue
   FROM (SELECT user_days.* FROM derived.user_days AS user_days WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.week_totals_keys AS _incmodel_k WHERE _incmodel_k.k1 = (date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date) UNION ALL SELECT user_days.* FROM derived.user_days AS user_days WHERE ((date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.week_totals_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = (date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date OR (_incmodel_k.k1 IS NULL AND (date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date IS NULL)))) AS user_days GROUP BY ((date_trunc('week'::text, (day)::timestamp without time zone))::date);
        ELSE
            INSERT INTO incmodel_export_scratch.week_totals_rows (week, user_days, events, revenue)
            SELECT (date_trunc('week'::text, (day)::timestamp without time zone))::date AS week,
    count(*) AS user_days,
    sum(events) AS events,
    sum(revenue) AS revenue
   FROM (SELECT user_days.* FROM derived.user_days AS user_days WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.week_totals_keys AS _incmodel_k WHERE _incmodel_k.k1 = (date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date)) AS user_days GROUP BY ((date_trunc('week'::text, (day)::timestamp without time zone))::date);
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.week_totals;
        DELETE FROM derived.week_totals USING incmodel_export_scratch.week_totals_keys AS _incmodel_k WHERE week_totals.week = _incmodel_k.k1;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.week_totals WHERE (week_totals.week IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.week_totals_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = week_totals.week OR (_incmodel_k.k1 IS NULL AND week_totals.week IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.week_totals (week, user_days, events, revenue) SELECT week, user_days, events, revenue FROM incmodel_export_scratch.week_totals_rows;
        END IF;
    END IF;
    DELETE FROM incmodel.manifest_week_totals;
    INSERT INTO incmodel.manifest_week_totals (input, consumed_run, recorded_at) VALUES ('user_days', v_to_1, v_started);
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
-- @@incmodel step=14 part=post_commit bytes=469
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.week_totals' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('week_totals') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_week_totals' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_week_totals')) x ORDER BY ord;
-- @@incmodel step=15 part=maintenance bytes=2530
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.week_totals TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('week_totals') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.week_totals PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('week_totals') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_week_totals TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_week_totals') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_week_totals PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_week_totals') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch.week_totals_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('week_totals_keys') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch.week_totals_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('week_totals_keys') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.week_totals_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('week_totals_rows') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.week_totals_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('week_totals_rows') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
