-- incmodel package format 2: model "user_totals", dialect redshift, parts 17
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
-- @@incmodel step=6 part=ddl bytes=177
CREATE TABLE IF NOT EXISTS incmodel.manifest_user_totals (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (batch_value);
-- @@incmodel step=7 part=ddl bytes=169
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_totals_batches (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_count bigint) DISTSTYLE ALL;
-- @@incmodel step=8 part=ddl bytes=116
CREATE TABLE IF NOT EXISTS incmodel.touched_user_totals (run_no bigint NOT NULL, k1 VARCHAR(65535)) SORTKEY (run_no);
-- @@incmodel step=9 part=ddl bytes=100
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_totals_keys (k1 VARCHAR(65535)) DISTKEY (k1);
-- @@incmodel step=10 part=ddl bytes=158
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_totals_rows (domain_userid VARCHAR(65535), events BIGINT, last_seen TIMESTAMP) DISTKEY (domain_userid);
-- @@incmodel step=11 part=ddl bytes=170
CREATE TABLE IF NOT EXISTS derived.user_totals (domain_userid VARCHAR(65535), events BIGINT, last_seen TIMESTAMP) DISTKEY (domain_userid) COMPOUND SORTKEY (domain_userid);
-- @@incmodel step=12 part=ddl bytes=57
DELETE FROM incmodel.registry WHERE model = 'user_totals';
-- @@incmodel step=13 part=ddl bytes=3893
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('user_totals', 'incmodel.refresh_user_totals', 'derived.user_totals', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.user_totals'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_totals'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_user_totals'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_totals'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.user_totals TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_totals'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.user_totals PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_totals'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_user_totals TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_totals'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_user_totals PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_totals'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch.user_totals_batches TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_batches'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch.user_totals_batches PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_batches'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.user_totals_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_keys'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.user_totals_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_keys'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel_export_scratch.user_totals_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_rows'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel_export_scratch.user_totals_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_totals_rows'') UNION ALL SELECT 11 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 12 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=14 part=procedure bytes=5262
CREATE OR REPLACE PROCEDURE incmodel.refresh_user_totals()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_cutoff TIMESTAMP;
    v_model VARCHAR(256) := 'user_totals';
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
    LOCK incmodel.manifest_user_totals;
    SELECT INTO v_recorded COUNT(*) FROM incmodel.manifest_user_totals;
    DELETE FROM incmodel_export_scratch.user_totals_batches;
    DELETE FROM incmodel_export_scratch.user_totals_keys;
    DELETE FROM incmodel_export_scratch.user_totals_rows;
    INSERT INTO incmodel_export_scratch.user_totals_batches (batch_value, event_count, recorded_count)
    SELECT c.batch_value, c.event_count, m.event_count FROM (SELECT events.etl_tstamp AS batch_value, COUNT(*) AS event_count FROM atomic.events AS events WHERE events.etl_tstamp IS NOT NULL GROUP BY events.etl_tstamp) c LEFT JOIN incmodel.manifest_user_totals m ON m.batch_value = c.batch_value WHERE m.event_count IS NULL OR m.event_count < c.event_count;
    GET DIAGNOSTICS v_batches := ROW_COUNT;
    IF v_batches = 0 THEN
        INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('user_totals', v_started, GETDATE(), 'noop', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
        RAISE INFO 'incmodel-run model=% outcome=noop batches=% events=% keys=% deleted=% inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;
        RETURN;
    END IF;
    SELECT INTO v_events COALESCE(SUM(event_count - COALESCE(recorded_count, 0)), 0) FROM incmodel_export_scratch.user_totals_batches;
    INSERT INTO incmodel_export_scratch.user_totals_keys (k1)
    SELECT DISTINCT events.domain_userid FROM atomic.events AS events WHERE events.etl_tstamp IN (SELECT batch_value FROM incmodel_export_scratch.user_totals_batches);
    GET DIAGNOSTICS v_keys := ROW_COUNT;
    SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.user_totals_keys WHERE k1 IS NULL;
    IF v_null_keys > 0 THEN
        INSERT INTO incmodel_export_scratch.user_totals_rows (domain_userid, events, last_seen)
        SELECT domain_userid,
    count(*) AS events,
    max(collector_tstamp) AS last_seen
   FROM (SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_totals_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid) UNION ALL SELECT * FROM atomic.events AS events WHERE (events.domain_userid IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_totals_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = events.domain_userid OR (_incmodel_k.k1 IS NULL AND events.domain_userid IS NULL)))) AS events GROUP BY domain_userid;
    ELSE
        INSERT INTO incmodel_export_scratch.user_totals_rows (domain_userid, events, last_seen)
        SELECT domain_userid,
    count(*) AS events,
    max(collector_tstamp) AS last_seen
   FROM (SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_totals_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid)) AS events GROUP BY domain_userid;
    END IF;
    GET DIAGNOSTICS v_inserted := ROW_COUNT;
    LOCK derived.user_totals;
    DELETE FROM derived.user_totals USING incmodel_export_scratch.user_totals_keys AS _incmodel_k WHERE user_totals.domain_userid = _incmodel_k.k1;
    GET DIAGNOSTICS v_deleted := ROW_COUNT;
    IF v_null_keys > 0 THEN
        DELETE FROM derived.user_totals WHERE (user_totals.domain_userid IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_totals_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = user_totals.domain_userid OR (_incmodel_k.k1 IS NULL AND user_totals.domain_userid IS NULL)));
        GET DIAGNOSTICS v_n := ROW_COUNT;
        v_deleted := v_deleted + v_n;
    END IF;
    INSERT INTO derived.user_totals (domain_userid, events, last_seen) SELECT domain_userid, events, last_seen FROM incmodel_export_scratch.user_totals_rows;
    DELETE FROM incmodel.manifest_user_totals USING incmodel_export_scratch.user_totals_batches AS _incmodel_b WHERE manifest_user_totals.batch_value = _incmodel_b.batch_value;
    INSERT INTO incmodel.manifest_user_totals (batch_value, event_count, recorded_at) SELECT batch_value, event_count, v_started FROM incmodel_export_scratch.user_totals_batches;
    SELECT INTO v_n COALESCE(MAX(run_no), 0) + 1 FROM incmodel.touched_user_totals;
    INSERT INTO incmodel.touched_user_totals (run_no, k1) SELECT v_n, k1 FROM incmodel_export_scratch.user_totals_keys;
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('user_totals', v_started, GETDATE(), 'success', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=success batches=% events=% keys=% deleted=% inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=15 part=dispatcher bytes=443
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
-- @@incmodel step=16 part=post_commit bytes=469
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.user_totals' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_totals') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_user_totals' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_totals')) x ORDER BY ord;
-- @@incmodel step=17 part=maintenance bytes=3090
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.user_totals TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_totals') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.user_totals PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_totals') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_user_totals TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_totals') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_user_totals PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_totals') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch.user_totals_batches TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_batches') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch.user_totals_batches PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_batches') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.user_totals_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_keys') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.user_totals_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_keys') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel_export_scratch.user_totals_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_rows') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel_export_scratch.user_totals_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_totals_rows') UNION ALL SELECT 11 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 12 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
