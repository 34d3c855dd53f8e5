-- incmodel package format 2: model "sessions", dialect redshift, parts 16
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
-- @@incmodel step=6 part=ddl bytes=174
CREATE TABLE IF NOT EXISTS incmodel.manifest_sessions (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (batch_value);
-- @@incmodel step=7 part=ddl bytes=166
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.sessions_batches (batch_value TIMESTAMP NOT NULL, event_count bigint NOT NULL, recorded_count bigint) DISTSTYLE ALL;
-- @@incmodel step=8 part=ddl bytes=97
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.sessions_keys (k1 VARCHAR(65535)) DISTKEY (k1);
-- @@incmodel step=9 part=ddl bytes=197
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.sessions_rows (session_id VARCHAR(65535), start_tstamp TIMESTAMP, end_tstamp TIMESTAMP, events BIGINT, distinct_pages BIGINT) DISTKEY (session_id);
-- @@incmodel step=10 part=ddl bytes=206
CREATE TABLE IF NOT EXISTS derived.sessions (session_id VARCHAR(65535), start_tstamp TIMESTAMP, end_tstamp TIMESTAMP, events BIGINT, distinct_pages BIGINT) DISTKEY (session_id) COMPOUND SORTKEY (session_id);
-- @@incmodel step=11 part=ddl bytes=54
DELETE FROM incmodel.registry WHERE model = 'sessions';
-- @@incmodel step=12 part=ddl bytes=3812
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('sessions', 'incmodel.refresh_sessions', 'derived.sessions', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.sessions'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''sessions'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_sessions'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_sessions'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.sessions TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''sessions'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.sessions PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''sessions'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_sessions TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_sessions'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_sessions PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_sessions'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch.sessions_batches TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_batches'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch.sessions_batches PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_batches'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.sessions_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_keys'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.sessions_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_keys'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel_export_scratch.sessions_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_rows'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel_export_scratch.sessions_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''sessions_rows'') UNION ALL SELECT 11 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 12 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=13 part=procedure bytes=5764
CREATE OR REPLACE PROCEDURE incmodel.refresh_sessions()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_cutoff TIMESTAMP;
    v_model VARCHAR(256) := 'sessions';
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
    LOCK incmodel.manifest_sessions;
    SELECT INTO v_recorded COUNT(*) FROM incmodel.manifest_sessions;
    IF v_recorded = 0 THEN
        v_cutoff := '0001-01-01 00:00:00'::TIMESTAMP;
    ELSE
        v_cutoff := DATEADD(day, -7, GETDATE());
    END IF;
    DELETE FROM incmodel_export_scratch.sessions_batches;
    DELETE FROM incmodel_export_scratch.sessions_keys;
    DELETE FROM incmodel_export_scratch.sessions_rows;
    INSERT INTO incmodel_export_scratch.sessions_batches (batch_value, event_count, recorded_count)
    SELECT c.batch_value, c.event_count, m.event_count FROM (SELECT events.etl_tstamp AS batch_value, COUNT(*) AS event_count FROM atomic.events AS events WHERE events.etl_tstamp IS NOT NULL AND events.etl_tstamp >= (SELECT MIN(_incmodel_w.etl_tstamp) FROM atomic.events AS _incmodel_w WHERE _incmodel_w.collector_tstamp >= v_cutoff) AND events.etl_tstamp IN (SELECT _incmodel_w.etl_tstamp FROM atomic.events AS _incmodel_w WHERE _incmodel_w.collector_tstamp >= v_cutoff) GROUP BY events.etl_tstamp) c LEFT JOIN incmodel.manifest_sessions m ON m.batch_value = c.batch_value WHERE m.event_count IS NULL OR m.event_count < c.event_count;
    GET DIAGNOSTICS v_batches := ROW_COUNT;
    IF v_batches = 0 THEN
        INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('sessions', v_started, GETDATE(), 'noop', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, v_cutoff);
        RAISE INFO 'incmodel-run model=% outcome=noop batches=% events=% keys=% deleted=% inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;
        RETURN;
    END IF;
    SELECT INTO v_events COALESCE(SUM(event_count - COALESCE(recorded_count, 0)), 0) FROM incmodel_export_scratch.sessions_batches;
    INSERT INTO incmodel_export_scratch.sessions_keys (k1)
    SELECT DISTINCT events.domain_sessionid FROM atomic.events AS events WHERE events.etl_tstamp IN (SELECT batch_value FROM incmodel_export_scratch.sessions_batches) AND events.collector_tstamp >= v_cutoff;
    GET DIAGNOSTICS v_keys := ROW_COUNT;
    SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.sessions_keys WHERE k1 IS NULL;
    IF v_null_keys > 0 THEN
        INSERT INTO incmodel_export_scratch.sessions_rows (session_id, start_tstamp, end_tstamp, events, distinct_pages)
        SELECT domain_sessionid AS session_id,
    min(derived_tstamp) AS start_tstamp,
    max(derived_tstamp) AS end_tstamp,
    count(*) AS events,
    count(DISTINCT page_url) AS distinct_pages
   FROM (SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_sessionid) UNION ALL SELECT * FROM atomic.events AS events WHERE (events.domain_sessionid IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = events.domain_sessionid OR (_incmodel_k.k1 IS NULL AND events.domain_sessionid IS NULL)))) AS events GROUP BY domain_sessionid;
    ELSE
        INSERT INTO incmodel_export_scratch.sessions_rows (session_id, start_tstamp, end_tstamp, events, distinct_pages)
        SELECT domain_sessionid AS session_id,
    min(derived_tstamp) AS start_tstamp,
    max(derived_tstamp) AS end_tstamp,
    count(*) AS events,
    count(DISTINCT page_url) AS distinct_pages
   FROM (SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_sessionid)) AS events GROUP BY domain_sessionid;
    END IF;
    GET DIAGNOSTICS v_inserted := ROW_COUNT;
    LOCK derived.sessions;
    DELETE FROM derived.sessions USING incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE sessions.session_id = _incmodel_k.k1;
    GET DIAGNOSTICS v_deleted := ROW_COUNT;
    IF v_null_keys > 0 THEN
        DELETE FROM derived.sessions WHERE (sessions.session_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = sessions.session_id OR (_incmodel_k.k1 IS NULL AND sessions.session_id IS NULL)));
        GET DIAGNOSTICS v_n := ROW_COUNT;
        v_deleted := v_deleted + v_n;
    END IF;
    INSERT INTO derived.sessions (session_id, start_tstamp, end_tstamp, events, distinct_pages) SELECT session_id, start_tstamp, end_tstamp, events, distinct_pages FROM incmodel_export_scratch.sessions_rows;
    DELETE FROM incmodel.manifest_sessions USING incmodel_export_scratch.sessions_batches AS _incmodel_b WHERE manifest_sessions.batch_value = _incmodel_b.batch_value;
    INSERT INTO incmodel.manifest_sessions (batch_value, event_count, recorded_at) SELECT batch_value, event_count, v_started FROM incmodel_export_scratch.sessions_batches;
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ('sessions', v_started, GETDATE(), 'success', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, v_cutoff);
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
-- @@incmodel step=15 part=post_commit bytes=457
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.sessions' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('sessions') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_sessions' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_sessions')) x ORDER BY ord;
-- @@incmodel step=16 part=maintenance bytes=3030
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.sessions TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('sessions') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.sessions PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('sessions') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_sessions TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_sessions') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_sessions PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_sessions') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch.sessions_batches TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_batches') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch.sessions_batches PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_batches') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.sessions_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_keys') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.sessions_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_keys') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel_export_scratch.sessions_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_rows') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel_export_scratch.sessions_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('sessions_rows') UNION ALL SELECT 11 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 12 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
