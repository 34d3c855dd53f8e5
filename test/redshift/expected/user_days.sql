-- incmodel package format 2: model "user_days", dialect redshift, parts 21
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
-- @@incmodel step=6 part=ddl bytes=268
CREATE TABLE IF NOT EXISTS incmodel.manifest_user_days (lower_limit TIMESTAMP NOT NULL, upper_limit TIMESTAMP NOT NULL, reprocess_days integer, rows_processed bigint, rows_late bigint, days_reprocessed bigint, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (upper_limit);
-- @@incmodel step=7 part=ddl bytes=123
CREATE TABLE IF NOT EXISTS incmodel.touched_user_days (run_no bigint NOT NULL, k1 VARCHAR(65535), k2 DATE) SORTKEY (run_no);
-- @@incmodel step=8 part=ddl bytes=256
CREATE TABLE IF NOT EXISTS incmodel.ledger_user_days (event_date date NOT NULL, processed_events bigint NOT NULL, skipped_events bigint NOT NULL, max_load_tstamp TIMESTAMP, last_updated_at TIMESTAMP, full_upper TIMESTAMP) DISTSTYLE ALL SORTKEY (event_date);
-- @@incmodel step=9 part=ddl bytes=195
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_days_days (event_date date, new_rows bigint, late_rows bigint, max_load TIMESTAMP, full_rows bigint, full_max_load TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=10 part=ddl bytes=97
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_days_full (event_date date) DISTSTYLE ALL;
-- @@incmodel step=11 part=ddl bytes=171
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_days_ledger (event_date date, full_day boolean, processed bigint, skipped bigint, max_load TIMESTAMP) DISTSTYLE ALL;
-- @@incmodel step=12 part=ddl bytes=107
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_days_keys (k1 VARCHAR(65535), k2 DATE) DISTKEY (k1);
-- @@incmodel step=13 part=ddl bytes=207
CREATE TABLE IF NOT EXISTS incmodel_export_scratch.user_days_rows (user_id VARCHAR(65535), day DATE, events BIGINT, views BIGINT, pages BIGINT, revenue NUMERIC(38,10), first_seen TIMESTAMP) DISTKEY (user_id);
-- @@incmodel step=14 part=ddl bytes=218
CREATE TABLE IF NOT EXISTS derived.user_days (user_id VARCHAR(65535), day DATE, events BIGINT, views BIGINT, pages BIGINT, revenue NUMERIC(38,10), first_seen TIMESTAMP) DISTKEY (user_id) COMPOUND SORTKEY (user_id, day);
-- @@incmodel step=15 part=ddl bytes=55
DELETE FROM incmodel.registry WHERE model = 'user_days';
-- @@incmodel step=16 part=ddl bytes=5439
INSERT INTO incmodel.registry (model, procedure_name, target_table, dialect, version, post_commit_sql, maintenance_sql, deployed_at) VALUES ('user_days', 'incmodel.refresh_user_days', 'derived.user_days', 'redshift', '0.7.0', 'SELECT stmt FROM (SELECT 1 AS ord, ''ANALYZE derived.user_days'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_days'') UNION ALL SELECT 2 AS ord, ''ANALYZE incmodel.manifest_user_days'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_days'')) x ORDER BY ord', 'SELECT stmt FROM (SELECT 1 AS ord, ''VACUUM FULL derived.user_days TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_days'') UNION ALL SELECT 2 AS ord, ''ANALYZE derived.user_days PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''derived'') AND LOWER(c.relname) = LOWER(''user_days'') UNION ALL SELECT 3 AS ord, ''VACUUM FULL incmodel.manifest_user_days TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_days'') UNION ALL SELECT 4 AS ord, ''ANALYZE incmodel.manifest_user_days PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''manifest_user_days'') UNION ALL SELECT 5 AS ord, ''VACUUM FULL incmodel.ledger_user_days TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''ledger_user_days'') UNION ALL SELECT 6 AS ord, ''ANALYZE incmodel.ledger_user_days PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''ledger_user_days'') UNION ALL SELECT 7 AS ord, ''VACUUM FULL incmodel_export_scratch.user_days_days TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_days'') UNION ALL SELECT 8 AS ord, ''ANALYZE incmodel_export_scratch.user_days_days PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_days'') UNION ALL SELECT 9 AS ord, ''VACUUM FULL incmodel_export_scratch.user_days_full TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_full'') UNION ALL SELECT 10 AS ord, ''ANALYZE incmodel_export_scratch.user_days_full PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_full'') UNION ALL SELECT 11 AS ord, ''VACUUM FULL incmodel_export_scratch.user_days_ledger TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_ledger'') UNION ALL SELECT 12 AS ord, ''ANALYZE incmodel_export_scratch.user_days_ledger PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_ledger'') UNION ALL SELECT 13 AS ord, ''VACUUM FULL incmodel_export_scratch.user_days_keys TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_keys'') UNION ALL SELECT 14 AS ord, ''ANALYZE incmodel_export_scratch.user_days_keys PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_keys'') UNION ALL SELECT 15 AS ord, ''VACUUM FULL incmodel_export_scratch.user_days_rows TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_rows'') UNION ALL SELECT 16 AS ord, ''ANALYZE incmodel_export_scratch.user_days_rows PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel_export_scratch'') AND LOWER(c.relname) = LOWER(''user_days_rows'') UNION ALL SELECT 17 AS ord, ''VACUUM FULL incmodel.run_log TO 95 PERCENT'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'') UNION ALL SELECT 18 AS ord, ''ANALYZE incmodel.run_log PREDICATE COLUMNS'' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER(''incmodel'') AND LOWER(c.relname) = LOWER(''run_log'')) x ORDER BY ord', GETDATE());
-- @@incmodel step=17 part=ddl bytes=11438
CREATE OR REPLACE PROCEDURE incmodel.backfill_user_days(range_start TIMESTAMP, range_end TIMESTAMP)
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_lower TIMESTAMP;
    v_upper TIMESTAMP;
    v_limit TIMESTAMP;
    v_inflight TIMESTAMP;
    v_model VARCHAR(256) := 'user_days';
    v_outcome VARCHAR(16) := 'noop';
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
    v_reprocess_days INTEGER := 0;
    v_min_rows BIGINT := 25;
    v_late BIGINT := 0;
    v_full BIGINT := 0;
    v_from TIMESTAMP;
    v_to TIMESTAMP;
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_user_days;
    v_from := range_start;
    v_to := range_end;
    IF v_from IS NULL OR v_to IS NULL OR v_from >= v_to THEN
        RAISE EXCEPTION 'incmodel: backfill range is empty: range_start must be before range_end';
    END IF;
    SELECT INTO v_lower MAX(upper_limit) FROM incmodel.manifest_user_days;
    IF v_lower IS NULL THEN
        RAISE EXCEPTION 'incmodel: model "%" has not run yet: refresh it first (a backfill rebuilds up to the upper limit)', v_model;
    END IF;
    v_upper := v_lower;
    DELETE FROM incmodel_export_scratch.user_days_days;
    DELETE FROM incmodel_export_scratch.user_days_full;
    DELETE FROM incmodel_export_scratch.user_days_ledger;
    DELETE FROM incmodel_export_scratch.user_days_keys;
    DELETE FROM incmodel_export_scratch.user_days_rows;
    INSERT INTO incmodel_export_scratch.user_days_full (event_date)
    SELECT DISTINCT ((events.derived_tstamp)::date)::DATE FROM atomic.events AS events WHERE ((events.derived_tstamp)::date)::DATE >= (v_from)::DATE AND ((events.derived_tstamp)::date)::DATE < (v_to)::DATE AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper;
    GET DIAGNOSTICS v_full := ROW_COUNT;
    IF v_full > 0 THEN
        INSERT INTO incmodel_export_scratch.user_days_days (event_date, full_rows, full_max_load)
        SELECT ((events.derived_tstamp)::date)::DATE, COUNT(*), MAX(events.load_tstamp) FROM atomic.events AS events WHERE ((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper GROUP BY 1;
    END IF;
    SELECT INTO v_events, v_late, v_batches COALESCE(SUM(new_rows), 0), COALESCE(SUM(late_rows), 0), COUNT(DISTINCT event_date) FROM incmodel_export_scratch.user_days_days;
    IF v_events > v_late OR v_full > 0 THEN
        v_outcome := 'success';
        INSERT INTO incmodel_export_scratch.user_days_keys (k1, k2)
        SELECT events.domain_userid, (events.derived_tstamp)::date FROM atomic.events AS events WHERE events.load_tstamp > v_lower AND events.load_tstamp <= v_upper AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE) UNION SELECT events.domain_userid, (events.derived_tstamp)::date FROM atomic.events AS events WHERE ((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.user_days_keys WHERE k1 IS NULL OR k2 IS NULL;
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.user_days_rows (user_id, day, events, views, pages, revenue, first_seen)
            SELECT domain_userid AS user_id,
    (derived_tstamp)::date AS day,
    count(*) AS events,
    count(CASE WHEN (event = 'page_view'::text) THEN 1 END) AS views,
    count(DISTINCT page_url) AS pages,
    sum(tr_total) AS revenue,
    min(derived_tstamp) AS first_seen
   FROM (SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid AND _incmodel_k.k2 = (events.derived_tstamp)::date) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE))) UNION ALL SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE (events.domain_userid IS NULL OR (events.derived_tstamp)::date IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = events.domain_userid OR (_incmodel_k.k1 IS NULL AND events.domain_userid IS NULL)) AND (_incmodel_k.k2 = (events.derived_tstamp)::date OR (_incmodel_k.k2 IS NULL AND (events.derived_tstamp)::date IS NULL))) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE)))) AS events GROUP BY domain_userid, ((derived_tstamp)::date);
        ELSE
            INSERT INTO incmodel_export_scratch.user_days_rows (user_id, day, events, views, pages, revenue, first_seen)
            SELECT domain_userid AS user_id,
    (derived_tstamp)::date AS day,
    count(*) AS events,
    count(CASE WHEN (event = 'page_view'::text) THEN 1 END) AS views,
    count(DISTINCT page_url) AS pages,
    sum(tr_total) AS revenue,
    min(derived_tstamp) AS first_seen
   FROM (SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid AND _incmodel_k.k2 = (events.derived_tstamp)::date) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE)))) AS events GROUP BY domain_userid, ((derived_tstamp)::date);
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.user_days;
        DELETE FROM derived.user_days USING incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE user_days.user_id = _incmodel_k.k1 AND user_days.day = _incmodel_k.k2;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.user_days WHERE (user_days.user_id IS NULL OR user_days.day IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = user_days.user_id OR (_incmodel_k.k1 IS NULL AND user_days.user_id IS NULL)) AND (_incmodel_k.k2 = user_days.day OR (_incmodel_k.k2 IS NULL AND user_days.day IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.user_days (user_id, day, events, views, pages, revenue, first_seen) SELECT user_id, day, events, views, pages, revenue, first_seen FROM incmodel_export_scratch.user_days_rows;
        SELECT INTO v_n COALESCE(MAX(run_no), 0) + 1 FROM incmodel.touched_user_days;
        INSERT INTO incmodel.touched_user_days (run_no, k1, k2) SELECT v_n, k1, k2 FROM incmodel_export_scratch.user_days_keys;
    END IF;
    INSERT INTO incmodel_export_scratch.user_days_ledger (event_date, full_day, processed, skipped, max_load)
    SELECT event_date, full_day, CASE WHEN full_day THEN SUM(full_rows) ELSE SUM(new_rows - late_rows) END, CASE WHEN full_day THEN 0 ELSE SUM(late_rows) END, MAX(COALESCE(max_load, full_max_load)) FROM (SELECT d.event_date, d.new_rows, d.late_rows, d.max_load, d.full_rows, d.full_max_load, f.event_date IS NOT NULL AS full_day FROM incmodel_export_scratch.user_days_days d LEFT JOIN incmodel_export_scratch.user_days_full f ON f.event_date = d.event_date WHERE d.event_date IS NOT NULL) x GROUP BY event_date, full_day;
    UPDATE incmodel.ledger_user_days SET processed_events = CASE WHEN u.full_day THEN u.processed ELSE ledger_user_days.processed_events + u.processed END, skipped_events = CASE WHEN u.full_day THEN 0 ELSE ledger_user_days.skipped_events + u.skipped END, max_load_tstamp = CASE WHEN ledger_user_days.max_load_tstamp IS NULL OR u.max_load > ledger_user_days.max_load_tstamp THEN u.max_load ELSE ledger_user_days.max_load_tstamp END, last_updated_at = v_started, full_upper = CASE WHEN u.full_day THEN v_upper ELSE ledger_user_days.full_upper END FROM incmodel_export_scratch.user_days_ledger u WHERE ledger_user_days.event_date = u.event_date;
    INSERT INTO incmodel.ledger_user_days (event_date, processed_events, skipped_events, max_load_tstamp, last_updated_at, full_upper)
    SELECT u.event_date, u.processed, u.skipped, u.max_load, v_started, CASE WHEN u.full_day THEN v_upper END FROM incmodel_export_scratch.user_days_ledger u WHERE NOT EXISTS (SELECT 1 FROM incmodel.ledger_user_days AS _incmodel_l WHERE _incmodel_l.event_date = u.event_date);
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, GETDATE(), v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=18 part=procedure bytes=12365
CREATE OR REPLACE PROCEDURE incmodel.refresh_user_days()
AS $incmodel$
DECLARE
    v_started TIMESTAMP;
    v_lower TIMESTAMP;
    v_upper TIMESTAMP;
    v_limit TIMESTAMP;
    v_inflight TIMESTAMP;
    v_model VARCHAR(256) := 'user_days';
    v_outcome VARCHAR(16) := 'noop';
    v_batches BIGINT := 0;
    v_events BIGINT := 0;
    v_keys BIGINT := 0;
    v_null_keys BIGINT := 0;
    v_deleted BIGINT := 0;
    v_n BIGINT := 0;
    v_inserted BIGINT := 0;
    v_reprocess_days INTEGER := 0;
    v_min_rows BIGINT := 25;
    v_late BIGINT := 0;
    v_full BIGINT := 0;
BEGIN
    v_started := GETDATE();
    LOCK incmodel.manifest_user_days;
    SELECT INTO v_lower MAX(upper_limit) FROM incmodel.manifest_user_days;
    IF v_lower IS NULL THEN
        v_lower := DATEADD(microsecond, -1, '2026-01-01 00:00:00'::TIMESTAMP);
    END IF;
    SELECT INTO v_inflight MIN(t.txn_start) FROM svv_transactions t JOIN pg_class c ON c.oid = t.relation JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('atomic') AND LOWER(c.relname) = LOWER('events') AND t.lock_mode IN ('ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') AND t.pid <> PG_BACKEND_PID();
    v_limit := DATEADD(microsecond, -1, LEAST(GETDATE(), COALESCE(v_inflight, GETDATE())));
    v_upper := GREATEST(v_lower, LEAST(DATEADD(second, 7200, v_lower), v_limit));
    DELETE FROM incmodel_export_scratch.user_days_days;
    DELETE FROM incmodel_export_scratch.user_days_full;
    DELETE FROM incmodel_export_scratch.user_days_ledger;
    DELETE FROM incmodel_export_scratch.user_days_keys;
    DELETE FROM incmodel_export_scratch.user_days_rows;
    IF v_lower <> v_upper THEN
        INSERT INTO incmodel_export_scratch.user_days_days (event_date, new_rows, late_rows, max_load)
        SELECT ((events.derived_tstamp)::date)::DATE, COUNT(*), COUNT(CASE WHEN NOT (NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) THEN 1 END), MAX(events.load_tstamp) FROM atomic.events AS events WHERE events.load_tstamp > v_lower AND events.load_tstamp <= v_upper GROUP BY 1;
    END IF;
    INSERT INTO incmodel_export_scratch.user_days_full (event_date)
    SELECT event_date FROM (SELECT event_date, SUM(n) AS n FROM (SELECT event_date, late_rows AS n FROM incmodel_export_scratch.user_days_days WHERE event_date IS NOT NULL UNION ALL SELECT event_date, skipped_events FROM incmodel.ledger_user_days) u GROUP BY event_date) x WHERE n > 0 AND n >= v_min_rows;
    GET DIAGNOSTICS v_full := ROW_COUNT;
    IF v_full > 0 THEN
        INSERT INTO incmodel_export_scratch.user_days_days (event_date, full_rows, full_max_load)
        SELECT ((events.derived_tstamp)::date)::DATE, COUNT(*), MAX(events.load_tstamp) FROM atomic.events AS events WHERE ((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper GROUP BY 1;
    END IF;
    SELECT INTO v_events, v_late, v_batches COALESCE(SUM(new_rows), 0), COALESCE(SUM(late_rows), 0), COUNT(DISTINCT event_date) FROM incmodel_export_scratch.user_days_days;
    IF v_events > v_late OR v_full > 0 THEN
        v_outcome := 'success';
        INSERT INTO incmodel_export_scratch.user_days_keys (k1, k2)
        SELECT events.domain_userid, (events.derived_tstamp)::date FROM atomic.events AS events WHERE events.load_tstamp > v_lower AND events.load_tstamp <= v_upper AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE) UNION SELECT events.domain_userid, (events.derived_tstamp)::date FROM atomic.events AS events WHERE ((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper;
        GET DIAGNOSTICS v_keys := ROW_COUNT;
        SELECT INTO v_null_keys COUNT(*) FROM incmodel_export_scratch.user_days_keys WHERE k1 IS NULL OR k2 IS NULL;
        IF v_null_keys > 0 THEN
            INSERT INTO incmodel_export_scratch.user_days_rows (user_id, day, events, views, pages, revenue, first_seen)
            SELECT domain_userid AS user_id,
    (derived_tstamp)::date AS day,
    count(*) AS events,
    count(CASE WHEN (event = 'page_view'::text) THEN 1 END) AS views,
    count(DISTINCT page_url) AS pages,
    sum(tr_total) AS revenue,
    min(derived_tstamp) AS first_seen
   FROM (SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid AND _incmodel_k.k2 = (events.derived_tstamp)::date) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE))) UNION ALL SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE (events.domain_userid IS NULL OR (events.derived_tstamp)::date IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = events.domain_userid OR (_incmodel_k.k1 IS NULL AND events.domain_userid IS NULL)) AND (_incmodel_k.k2 = (events.derived_tstamp)::date OR (_incmodel_k.k2 IS NULL AND (events.derived_tstamp)::date IS NULL))) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE)))) AS events GROUP BY domain_userid, ((derived_tstamp)::date);
        ELSE
            INSERT INTO incmodel_export_scratch.user_days_rows (user_id, day, events, views, pages, revenue, first_seen)
            SELECT domain_userid AS user_id,
    (derived_tstamp)::date AS day,
    count(*) AS events,
    count(CASE WHEN (event = 'page_view'::text) THEN 1 END) AS views,
    count(DISTINCT page_url) AS pages,
    sum(tr_total) AS revenue,
    min(derived_tstamp) AS first_seen
   FROM (SELECT events.* FROM atomic.events AS events LEFT JOIN incmodel.ledger_user_days AS _incmodel_l ON _incmodel_l.event_date = ((events.derived_tstamp)::date)::DATE LEFT JOIN incmodel.manifest_user_days AS _incmodel_m ON events.load_tstamp > _incmodel_m.lower_limit AND events.load_tstamp <= _incmodel_m.upper_limit WHERE EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE _incmodel_k.k1 = events.domain_userid AND _incmodel_k.k2 = (events.derived_tstamp)::date) AND events.load_tstamp >= '2026-01-01 00:00:00'::TIMESTAMP AND events.load_tstamp <= v_upper AND (((events.derived_tstamp)::date)::DATE IN (SELECT event_date FROM incmodel_export_scratch.user_days_full) OR (events.load_tstamp > v_lower AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE), FALSE)) OR events.load_tstamp <= _incmodel_l.full_upper OR (_incmodel_m.upper_limit IS NOT NULL AND NOT COALESCE(((events.derived_tstamp)::date)::DATE < DATEADD(day, -(_incmodel_m.reprocess_days), (events.load_tstamp)::DATE), FALSE)))) AS events GROUP BY domain_userid, ((derived_tstamp)::date);
        END IF;
        GET DIAGNOSTICS v_inserted := ROW_COUNT;
        LOCK derived.user_days;
        DELETE FROM derived.user_days USING incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE user_days.user_id = _incmodel_k.k1 AND user_days.day = _incmodel_k.k2;
        GET DIAGNOSTICS v_deleted := ROW_COUNT;
        IF v_null_keys > 0 THEN
            DELETE FROM derived.user_days WHERE (user_days.user_id IS NULL OR user_days.day IS NULL) AND EXISTS (SELECT 1 FROM incmodel_export_scratch.user_days_keys AS _incmodel_k WHERE (_incmodel_k.k1 IS NULL OR _incmodel_k.k2 IS NULL) AND (_incmodel_k.k1 = user_days.user_id OR (_incmodel_k.k1 IS NULL AND user_days.user_id IS NULL)) AND (_incmodel_k.k2 = user_days.day OR (_incmodel_k.k2 IS NULL AND user_days.day IS NULL)));
            GET DIAGNOSTICS v_n := ROW_COUNT;
            v_deleted := v_deleted + v_n;
        END IF;
        INSERT INTO derived.user_days (user_id, day, events, views, pages, revenue, first_seen) SELECT user_id, day, events, views, pages, revenue, first_seen FROM incmodel_export_scratch.user_days_rows;
        SELECT INTO v_n COALESCE(MAX(run_no), 0) + 1 FROM incmodel.touched_user_days;
        INSERT INTO incmodel.touched_user_days (run_no, k1, k2) SELECT v_n, k1, k2 FROM incmodel_export_scratch.user_days_keys;
    END IF;
    INSERT INTO incmodel_export_scratch.user_days_ledger (event_date, full_day, processed, skipped, max_load)
    SELECT event_date, full_day, CASE WHEN full_day THEN SUM(full_rows) ELSE SUM(new_rows - late_rows) END, CASE WHEN full_day THEN 0 ELSE SUM(late_rows) END, MAX(COALESCE(max_load, full_max_load)) FROM (SELECT d.event_date, d.new_rows, d.late_rows, d.max_load, d.full_rows, d.full_max_load, f.event_date IS NOT NULL AS full_day FROM incmodel_export_scratch.user_days_days d LEFT JOIN incmodel_export_scratch.user_days_full f ON f.event_date = d.event_date WHERE d.event_date IS NOT NULL) x GROUP BY event_date, full_day;
    UPDATE incmodel.ledger_user_days SET processed_events = CASE WHEN u.full_day THEN u.processed ELSE ledger_user_days.processed_events + u.processed END, skipped_events = CASE WHEN u.full_day THEN 0 ELSE ledger_user_days.skipped_events + u.skipped END, max_load_tstamp = CASE WHEN ledger_user_days.max_load_tstamp IS NULL OR u.max_load > ledger_user_days.max_load_tstamp THEN u.max_load ELSE ledger_user_days.max_load_tstamp END, last_updated_at = v_started, full_upper = CASE WHEN u.full_day THEN v_upper ELSE ledger_user_days.full_upper END FROM incmodel_export_scratch.user_days_ledger u WHERE ledger_user_days.event_date = u.event_date;
    INSERT INTO incmodel.ledger_user_days (event_date, processed_events, skipped_events, max_load_tstamp, last_updated_at, full_upper)
    SELECT u.event_date, u.processed, u.skipped, u.max_load, v_started, CASE WHEN u.full_day THEN v_upper END FROM incmodel_export_scratch.user_days_ledger u WHERE NOT EXISTS (SELECT 1 FROM incmodel.ledger_user_days AS _incmodel_l WHERE _incmodel_l.event_date = u.event_date);
    IF v_lower <> v_upper THEN
        INSERT INTO incmodel.manifest_user_days (lower_limit, upper_limit, reprocess_days, rows_processed, rows_late, days_reprocessed, recorded_at) VALUES (v_lower, v_upper, v_reprocess_days, v_events - v_late, v_late, v_full, v_started);
    END IF;
    INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, batches, events, keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, GETDATE(), v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, NULL);
    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, v_inserted;
END;
$incmodel$ LANGUAGE plpgsql;
-- @@incmodel step=19 part=dispatcher bytes=443
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
-- @@incmodel step=20 part=post_commit bytes=461
SELECT stmt FROM (SELECT 1 AS ord, 'ANALYZE derived.user_days' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_days') UNION ALL SELECT 2 AS ord, 'ANALYZE incmodel.manifest_user_days' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_days')) x ORDER BY ord;
-- @@incmodel step=21 part=maintenance bytes=4614
SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.user_days TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_days') UNION ALL SELECT 2 AS ord, 'ANALYZE derived.user_days PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('derived') AND LOWER(c.relname) = LOWER('user_days') UNION ALL SELECT 3 AS ord, 'VACUUM FULL incmodel.manifest_user_days TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_days') UNION ALL SELECT 4 AS ord, 'ANALYZE incmodel.manifest_user_days PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('manifest_user_days') UNION ALL SELECT 5 AS ord, 'VACUUM FULL incmodel.ledger_user_days TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('ledger_user_days') UNION ALL SELECT 6 AS ord, 'ANALYZE incmodel.ledger_user_days PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('ledger_user_days') UNION ALL SELECT 7 AS ord, 'VACUUM FULL incmodel_export_scratch.user_days_days TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_days') UNION ALL SELECT 8 AS ord, 'ANALYZE incmodel_export_scratch.user_days_days PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_days') UNION ALL SELECT 9 AS ord, 'VACUUM FULL incmodel_export_scratch.user_days_full TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_full') UNION ALL SELECT 10 AS ord, 'ANALYZE incmodel_export_scratch.user_days_full PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_full') UNION ALL SELECT 11 AS ord, 'VACUUM FULL incmodel_export_scratch.user_days_ledger TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_ledger') UNION ALL SELECT 12 AS ord, 'ANALYZE incmodel_export_scratch.user_days_ledger PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_ledger') UNION ALL SELECT 13 AS ord, 'VACUUM FULL incmodel_export_scratch.user_days_keys TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_keys') UNION ALL SELECT 14 AS ord, 'ANALYZE incmodel_export_scratch.user_days_keys PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_keys') UNION ALL SELECT 15 AS ord, 'VACUUM FULL incmodel_export_scratch.user_days_rows TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_rows') UNION ALL SELECT 16 AS ord, 'ANALYZE incmodel_export_scratch.user_days_rows PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel_export_scratch') AND LOWER(c.relname) = LOWER('user_days_rows') UNION ALL SELECT 17 AS ord, 'VACUUM FULL incmodel.run_log TO 95 PERCENT' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log') UNION ALL SELECT 18 AS ord, 'ANALYZE incmodel.run_log PREDICATE COLUMNS' AS stmt FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE LOWER(n.nspname) = LOWER('incmodel') AND LOWER(c.relname) = LOWER('run_log')) x ORDER BY ord;
