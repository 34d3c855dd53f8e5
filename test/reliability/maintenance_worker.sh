#!/usr/bin/env bash
# The maintenance worker can never take the cluster down, and acts as the table owner.
#
# An unprivileged role owns three models. The target of mw_crash has an expression index over a
# LANGUAGE sql function PostgreSQL cannot inline (it has a SET clause), so ANALYZE runs the
# function through the SQL-function executor, which needs an active snapshot: the 0.2.0 worker
# ran a lone ANALYZE without one and crashed with SIGSEGV, and the postmaster restarted every
# backend. The target of mw_raise has an expression index whose function raises (naming
# current_user) once a flag row exists. mw_ok is a plain target. Autovacuum is off and the
# thresholds ask for ANALYZE only (the path that crashed). With the worker on, each of the three
# targets gets its log row: mw_crash and mw_ok analyzed, mw_raise failed with the error raised as
# the owner; no crash restart happened and no process died of a signal.
#
#   bash test/reliability/maintenance_worker.sh [--quick]    (the same in both modes)
TEST_NAME=maintenance_worker
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"

PRELOAD=incmodel
start_cluster "autovacuum = off" "incmodel.maintenance_database = 'postgres'" \
    "incmodel.maintenance_naptime = 0"
install_testkit >/dev/null
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<'SQL' || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
CREATE ROLE mw_tenant;
GRANT USAGE ON SCHEMA incmodel, atomic TO mw_tenant;
GRANT CREATE, USAGE ON SCHEMA derived TO mw_tenant;
CREATE TABLE atomic.mw (sid text, v int, etl timestamp);
INSERT INTO atomic.mw SELECT 's' || g, g, now() FROM generate_series(1, 2000) g;
GRANT SELECT ON atomic.mw TO mw_tenant;
SET ROLE mw_tenant;
-- Not inlinable (a SET clause): executed by the SQL-function executor, which needs a snapshot.
CREATE FUNCTION derived.mw_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog AS $$ SELECT lower(t) $$;
CREATE TABLE derived.mw_boom (on_ boolean);
-- Raises, naming the role it runs as, once derived.mw_boom has a row.
CREATE FUNCTION derived.mw_fragile(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM derived.mw_boom) THEN
    RAISE EXCEPTION 'mw_fragile evaluated as %', current_user;
  END IF;
  RETURN t;
END $$;
SELECT incmodel.create_model('mw_crash', 'SELECT sid, sum(v) AS v FROM atomic.mw GROUP BY 1',
                             'derived.mw_crash', 'etl');
SELECT incmodel.create_model('mw_raise', 'SELECT sid, sum(v) AS v FROM atomic.mw GROUP BY 1',
                             'derived.mw_raise', 'etl');
SELECT incmodel.create_model('mw_ok', 'SELECT sid, sum(v) AS v FROM atomic.mw GROUP BY 1',
                             'derived.mw_ok', 'etl');
CREATE INDEX ON derived.mw_crash (derived.mw_norm(sid));
CREATE INDEX ON derived.mw_raise (derived.mw_fragile(sid));
INSERT INTO derived.mw_boom VALUES (true);
RESET ROLE;
SQL

# A crash restart replaces every child of the postmaster (pg_postmaster_start_time() stays).
checkpointer="SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
started=$(q "$checkpointer")
# Rows inserted since the last ANALYZE: the plan asks for ANALYZE (and no VACUUM) of each target.
plan=$(q "SET incmodel.analyze_mod_min = 1; SET incmodel.analyze_mod_ratio = 0;
          SET incmodel.vacuum_dead_min = 1000000000;
          SELECT string_agg(relation::text || ':' || needs_vacuum || needs_analyze, ' ' ORDER BY relation::text)
          FROM incmodel.maintenance_plan() WHERE kind = 'target'")
check "the plan asks for ANALYZE only" \
    "derived.mw_crash:falsetrue derived.mw_ok:falsetrue derived.mw_raise:falsetrue" "$plan"

qf >/dev/null <<'SQL'
ALTER SYSTEM SET incmodel.analyze_mod_min = 1;
ALTER SYSTEM SET incmodel.analyze_mod_ratio = 0;
ALTER SYSTEM SET incmodel.vacuum_dead_min = 1000000000;
ALTER SYSTEM SET incmodel.maintenance_naptime = 1;
SELECT pg_reload_conf();
SQL
log "worker on; waiting for its log rows of the three targets"
# Bounded: a crash loop (0.2.0) never writes them. A connection refused during a crash restart
# counts as "not yet".
logged="SELECT count(DISTINCT relation) = 3 FROM incmodel.maintenance_log
         WHERE runner = 'worker' AND relation IN ('derived.mw_crash', 'derived.mw_raise', 'derived.mw_ok')"
i=0
until [ "$(q "$logged" 2>/dev/null)" = t ]; do
    i=$((i + 1)); [ $i -gt 1200 ] && break
    sleep 0.05
done
[ $i -le 1200 ] || fail "the worker did not log all three targets within 60 s"
q "ALTER SYSTEM SET incmodel.maintenance_naptime = 0; SELECT pg_reload_conf()" >/dev/null 2>&1 || true

check "no crash restart (the same checkpointer)" "$started" "$(q "$checkpointer" 2>/dev/null)"
check "no process died of a signal" 0 "$(grep -c 'terminated by signal' "$CLUSTER_DIR/server.log")"
first="SELECT coalesce(error, 'ok') FROM incmodel.maintenance_log WHERE runner = 'worker' AND relation = '%s' ORDER BY id LIMIT 1"
check "mw_crash analyzed (the SQL function ran with a snapshot)" ok \
    "$(q "$(printf "$first" derived.mw_crash)")"
check "mw_ok analyzed" ok "$(q "$(printf "$first" derived.mw_ok)")"
check "mw_raise failed as its owner, and was logged" \
    "mw_fragile evaluated as mw_tenant (SQLSTATE P0001)" "$(q "$(printf "$first" derived.mw_raise)")"
check "the actions were ANALYZE" "ANALYZE" \
    "$(q "SELECT string_agg(DISTINCT action, ',') FROM incmodel.maintenance_log WHERE runner = 'worker' AND relation LIKE 'derived.mw_%'")"
check "statistics of mw_crash's index expression were gathered" t \
    "$(q "SELECT count(*) > 0 FROM pg_stats WHERE schemaname = 'derived' AND tablename LIKE 'mw_crash_%'")"
check "the failure is in the server log" 1 \
    "$(grep -c 'incmodel maintenance: ANALYZE derived.mw_raise failed: mw_fragile evaluated as mw_tenant' "$CLUSTER_DIR/server.log" | sed 's/^[1-9][0-9]*$/1/')"
finish
