-- incmodel package format 2: model "page_views", dialect redshift, parts 16
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
-- @@incmodel step=6 part=ddl bytes=269
CREATE TABLE IF NOT EXISTS incmodel.manifest_page_views (lower_limit TIMESTAMP NOT NULL, upper_limit TIMESTAMP NOT NULL, reprocess_days integer, rows_processed bigint, rows_late bigint, days_reprocessed bigint, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (upper_limit);
-- @@incmodel step=7 part=ddl bytes=93
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.page_views_keys (k1 CHAR(36)) DISTKEY (k1);
-- @@incmodel step=8 part=ddl bytes=237
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.page_views_rows (event_id CHAR(36), domain_userid VARCHAR(65535), page_url VARCHAR(65535), derived_tstamp TIMESTAMP, load_tstamp TIMESTAMP, collector_tstamp TIMESTAMP) DISTKEY (event_id);
-- @@incmodel step=9 part=ddl bytes=244
CREATE TABLE IF NOT EXISTS derived.page_views (event_id CHAR(36), domain_userid VARCHAR(65535), page_url VARCHAR(65535), derived_tstamp TIMESTAMP, load_tstamp TIMESTAMP, collector_tstamp TIMESTAMP) DISTKEY (event_id) COMPOUND SORTKEY (event_id);
-- @@incmodel step=10 part=ddl bytes=56
DELETE FROM incmodel.registry WHERE model = 'page_views';
-- @@incmodel step=11 part=ddl bytes=3298
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('page_views', 'incmodel.refresh_page_views', 'derived.page_views', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.page_views'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''page_views'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_page_views'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_page_views'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.page_views TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''page_views'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.page_views PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''page_views'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_page_views TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_page_views'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_page_views PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_page_views'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel_export_scratch.page_views_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''page_views_keys'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel_export_scratch.page_views_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''page_views_keys'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.page_views_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''page_views_rows'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.page_views_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''page_views_rows'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=12 part=ddl bytes=5930
CREATE OR REPLACE PROCEDURE incmodel.backfill_page_views(range_start TIMESTAMP, range_end TIMESTAMP)
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_lower TIMESTAMP;
    v_upper TIMESTAMP;
    v_limit TIMESTAMP;
    v_inflight TIMESTAMP;
    v_model VARCHAR(256) := 'page_views';
    v_outcome VARCHAR(16) := 'noop';
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
    v_from TIMESTAMP;
    v_to TIMESTAMP;
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_page_views;
    v_from := range_start;
    v_to := range_end;
    IF v_from IS NULL OR v_to IS NULL OR v_from >= v_to THEN
        RAISE EXCEPTION 'incmodel: backfill range is empty: range_start must be before range_end';
    END IF;
    SELECT INTO v_lower MAX(upper_limit) FROM incmodel.manifest_page_views;
    IF v_lower IS NULL THEN
        RAISE EXCEPTION 'incmodel: model "%" has not run yet: refresh it first (a backfill rebuilds up to the upper limit)', v_model;
    END IF;
    v_upper := v_lower;
    DELETE FROM incmodel_export_scratch.page_views_keys;
    DELETE FROM incmodel_export_scratch.page_views_rows;
    v_outcome := 'success';
    INSERT INTO incmodel_export_scratch.page_views_keys (k1)
    SELECT DISTINCT e.event_id FROM atomic.events AS e WHERE e.load_tstamp >= v_from AND e.load_tstamp < v_to AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper;
    GET DIAGNOSTICS v_keys := ROW_COUNT;
    SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.page_views_keys WHERE k1 IS NULL;
    IF v_keys > 0 THEN
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.page_views_rows (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp)
            SELECT event_id,
    domain_userid,
    page_url,
    derived_tstamp,
    load_tstamp,
    collector_tstamp
   FROM (SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total FROM (SELECT _incmodel_d.*, ROW_NUMBER() OVER (PARTITION BY _incmodel_d.event_id ORDER BY _incmodel_d.load_tstamp ASC NULLS LAST, _incmodel_d.dvce_created_tstamp ASC NULLS LAST) AS _incmodel_rn FROM (SELECT e.* FROM atomic.events AS e WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE _incmodel_k.k1 = e.event_id) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper UNION ALL SELECT e.* FROM atomic.events AS e WHERE (e.event_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = e.event_id OR (_incmodel_k.k1 IS NULL AND e.event_id IS NULL))) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper) AS _incmodel_d) AS _incmodel_d2 WHERE _incmodel_rn = 1) e
  WHERE (event = 'page_view'::text);
        ELSE
            INSERT INTO incmodel_export_scratch.page_views_rows (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp)
            SELECT event_id,
    domain_userid,
    page_url,
    derived_tstamp,
    load_tstamp,
    collector_tstamp
   FROM (SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total FROM (SELECT _incmodel_d.*, ROW_NUMBER() OVER (PARTITION BY _incmodel_d.event_id ORDER BY _incmodel_d.load_tstamp ASC NULLS LAST, _incmodel_d.dvce_created_tstamp ASC NULLS LAST) AS _incmodel_rn FROM (SELECT e.* FROM atomic.events AS e WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE _incmodel_k.k1 = e.event_id) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper) AS _incmodel_d) AS _incmodel_d2 WHERE _incmodel_rn = 1) e
  WHERE (event = 'page_view'::text);
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.page_views;
        DELETE FROM derived.page_views USING incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE page_views.event_id = _incmodel_k.k1;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.page_views WHERE (page_views.event_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = page_views.event_id OR (_incmodel_k.k1 IS NULL AND page_views.event_id IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.page_views (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp) SELECT event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp FROM incmodel_export_scratch.page_views_rows;
    END IF;
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, GETDATE(), v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=13 part=procedure bytes=6684
CREATE OR REPLACE PROCEDURE incmodel.refresh_page_views()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_lower TIMESTAMP;
    v_upper TIMESTAMP;
    v_limit TIMESTAMP;
    v_inflight TIMESTAMP;
    v_model VARCHAR(256) := 'page_views';
    v_outcome VARCHAR(16) := 'noop';
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_page_views;
    SELECT INTO v_lower MAX(upper_limit) FROM incmodel.manifest_page_views;
    IF v_lower IS NULL THEN
        v_lower := DATEADD(microsecond, -1, '2026-01-01 00:00:00'::TIMESTAMP);
    END IF;
    SELECT INTO v_inflight MIN(t.txn_start) FROM svv_transactions t JOIN pg_class c ON c.oid = t.relation JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('atomic') AND LOWER(c.relname) = LOWER('events') AND t.lock_mode IN ('ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') AND t.pid <> PG_BACKEND_PID();
    v_limit := DATEADD(microsecond, -1, LEAST(GETDATE(), COALESCE(v_inflight, GETDATE())));
    v_upper := GREATEST(v_lower, LEAST(DATEADD(second, 9000, v_lower), v_limit));
    DELETE FROM incmodel_export_scratch.page_views_keys;
    DELETE FROM incmodel_export_scratch.page_views_rows;
    IF v_lower <> v_upper THEN
        SELECT INTO v_events COUNT(*) FROM atomic.events AS e WHERE e.load_tstamp > v_lower AND e.load_tstamp <= v_upper;
    END IF;
    IF v_events > 0 THEN
        v_outcome := 'success';
        v_batches := 1;
        INSERT INTO incmodel_export_scratch.page_views_keys (k1)
        SELECT DISTINCT e.event_id FROM atomic.events AS e WHERE e.load_tstamp > v_lower AND e.load_tstamp <= v_upper AND NOT EXISTS (SELECT 1 FROM derived.page_views AS _incmodel_t WHERE _incmodel_t.event_id = e.event_id) AND (e.event_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM derived.page_views AS _incmodel_t WHERE _incmodel_t.event_id IS NULL));
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.page_views_keys WHERE k1 IS NULL;
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.page_views_rows (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp)
            SELECT event_id,
    domain_userid,
    page_url,
    derived_tstamp,
    load_tstamp,
    collector_tstamp
   FROM (SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total FROM (SELECT _incmodel_d.*, ROW_NUMBER() OVER (PARTITION BY _incmodel_d.event_id ORDER BY _incmodel_d.load_tstamp ASC NULLS LAST, _incmodel_d.dvce_created_tstamp ASC NULLS LAST) AS _incmodel_rn FROM (SELECT e.* FROM atomic.events AS e WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE _incmodel_k.k1 = e.event_id) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper UNION ALL SELECT e.* FROM atomic.events AS e WHERE (e.event_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = e.event_id OR (_incmodel_k.k1 IS NULL AND e.event_id IS NULL))) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper) AS _incmodel_d) AS _incmodel_d2 WHERE _incmodel_rn = 1) e
  WHERE (event = 'page_view'::text);
        ELSE
            INSERT INTO incmodel_export_scratch.page_views_rows (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp)
            SELECT event_id,
    domain_userid,
    page_url,
    derived_tstamp,
    load_tstamp,
    collector_tstamp
   FROM (SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer, refr_medium, geo_country, br_family, os_family, dvce_type, tr_total FROM (SELECT _incmodel_d.*, ROW_NUMBER() OVER (PARTITION BY _incmodel_d.event_id ORDER BY _incmodel_d.load_tstamp ASC NULLS LAST, _incmodel_d.dvce_created_tstamp ASC NULLS LAST) AS _incmodel_rn FROM (SELECT e.* FROM atomic.events AS e WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE _incmodel_k.k1 = e.event_id) AND ((e.event = 'page_view'::text)) AND e.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND e.load_tstamp <= v_upper) AS _incmodel_d) AS _incmodel_d2 WHERE _incmodel_rn = 1) e
  WHERE (event = 'page_view'::text);
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.page_views;
        DELETE FROM derived.page_views USING incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE page_views.event_id = _incmodel_k.k1;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.page_views WHERE (page_views.event_id IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.page_views_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL) AND (_incmodel_k.k1 = page_views.event_id OR (_incmodel_k.k1 IS NULL AND page_views.event_id IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.page_views (event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp) SELECT event_id, domain_userid, page_url, derived_tstamp, load_tstamp, collector_tstamp FROM incmodel_export_scratch.page_views_rows;
    END IF;
    IF v_lower <> v_upper THEN
        INSERT INTO incmodel.manifest_page_views (lower_limit, upper_limit, reprocess_days, rows_processed, rows_late, days_reprocessed, recorded_at) VALUES (v_lower, v_upper, NULL, v_events, 0, 0, v_started);
    END IF;
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, GETDATE(), v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, v_inserted;
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
-- @@incmodel step=15 part=post_commit bytes=465
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.page_views' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('page_views') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_page_views' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_page_views')) x ORDER BY ord;
-- @@incmodel step=16 part=maintenance bytes=2514
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.page_views TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('page_views') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.page_views PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('page_views') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_page_views TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_page_views') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_page_views PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_page_views') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel_export_scratch.page_views_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('page_views_keys') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel_export_scratch.page_views_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('page_views_keys') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.page_views_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('page_views_rows') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.page_views_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('page_views_rows') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
