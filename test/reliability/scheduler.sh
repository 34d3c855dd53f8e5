#!/usr/bin/env bash
# pg_cron drives refreshes: overlapping runs are safe, nothing is corrupted, no backlog piles up.
#
# A deliberately slow model (its recompute sleeps SLOW_SECONDS whenever the key holding a
# sentinel row is touched, and every load touches it) is refreshed by three pg_cron jobs at once
# (two plain, one with skip_locked), a fast model over the same source by a fourth, while a fifth
# job loads a batch. Runs of the slow model overlap: the plain ones wait on the model lock, the
# skip_locked one records a skipped run. At the end: no job run failed, no incmodel run failed or
# was left running, all jobs go quiet soon after they are unscheduled (no backlog), and after a
# final refresh both models equal a full rebuild with every event in their manifests.
#
# pg_cron >= 1.5 accepts '5 seconds' schedules; the Debian package of PostgreSQL 15 may ship an
# older pg_cron (1.4) whose finest schedule is one minute. The test uses second schedules when
# available (runs ~35 s) and otherwise '* * * * *' (waits for 1 minute boundary with --quick,
# 3 without), where every job fires at the same instant, which is the worst case for overlap.
#
#   bash test/reliability/scheduler.sh [--quick]
TEST_NAME=scheduler
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
SLOW_SECONDS=${SLOW_SECONDS:-4}

PRELOAD=pg_cron
start_cluster "cron.database_name = 'postgres'" "cron.host = '$(mktemp -u)'" "max_worker_processes = 16"
# pg_cron connects over libpq: point it at this cluster's socket directory.
q "ALTER SYSTEM SET cron.host = '$CLUSTER_DIR'" >/dev/null
cluster_stop "$CLUSTER_DIR"; pg_start
install_testkit >/dev/null
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<SQL || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
CREATE EXTENSION pg_cron;
CREATE TABLE atomic.sched (sid text, country text, v int, etl timestamp);
CREATE INDEX ON atomic.sched (etl);
CREATE INDEX ON atomic.sched (country);
-- IMMUTABLE as declared (volatile functions are rejected in model queries); sleeps on the sentinel.
CREATE FUNCTION testkit.slow_num(x int, sid text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN IF sid = 'SENTINEL' THEN PERFORM pg_sleep($SLOW_SECONDS); END IF; RETURN x; END \$\$;
CREATE FUNCTION testkit.load() RETURNS void LANGUAGE sql AS \$\$
  INSERT INTO atomic.sched SELECT 's' || (g % 97), (ARRAY['US', 'GB', 'DE', 'FR'])[1 + g % 4], g, now()
  FROM generate_series(1, 200) g \$\$;
INSERT INTO atomic.sched VALUES ('SENTINEL', 'US', 0, now());
SELECT testkit.load();
SELECT incmodel.create_model('slow',
  \$\$ SELECT country, count(*) AS n, sum(testkit.slow_num(v, sid)) AS total FROM atomic.sched GROUP BY 1 \$\$,
  'derived.slow', 'etl');
SELECT incmodel.create_model('fast',
  \$\$ SELECT sid, count(*) AS n, sum(v) AS total FROM atomic.sched GROUP BY 1 \$\$,
  'derived.fast', 'etl');
SQL

if q "SELECT cron.schedule('probe', '5 seconds', 'SELECT 1')" >/dev/null 2>&1; then
    q "SELECT cron.unschedule('probe')" >/dev/null
    MODE=seconds; SLOW='5 seconds'; SKIP='3 seconds'; FAST='2 seconds'; LOAD='2 seconds'
    WINDOW=$([ $QUICK = 1 ] && echo 35 || echo 90)
else
    MODE=minutes; SLOW='* * * * *'; SKIP='* * * * *'; FAST='* * * * *'; LOAD='* * * * *'
    BOUNDARIES=$([ $QUICK = 1 ] && echo 1 || echo 3)
    # until just after the BOUNDARIES-th minute boundary from now, plus time for that firing to start
    # (a boundary less than 5 s away may pass before pg_cron has loaded the jobs: skip it)
    # A skipped boundary may still fire (pg_cron can be quicker than 5 s), so it is allowed once.
    ALLOWED=$BOUNDARIES
    left=$(( 60 - $(date +%-S) )); [ $left -ge 5 ] || { left=$((left + 60)); ALLOWED=$((BOUNDARIES + 1)); }
    WINDOW=$(( left + (BOUNDARIES - 1) * 60 + 3 ))
fi
log "pg_cron $(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'"): $MODE schedules, watching for ${WINDOW}s"
qf >/dev/null <<SQL
SELECT cron.schedule('slow_a', '$SLOW', \$\$CALL incmodel.refresh('slow')\$\$);
SELECT cron.schedule('slow_b', '$SLOW', \$\$CALL incmodel.refresh('slow')\$\$);
SELECT cron.schedule('slow_skip', '$SKIP', \$\$CALL incmodel.refresh('slow', skip_locked => true)\$\$);
SELECT cron.schedule('fast', '$FAST', \$\$CALL incmodel.refresh('fast')\$\$);
SELECT cron.schedule('load', '$LOAD', 'SELECT testkit.load()');
SQL

# Watch: how often a refresh of 'slow' waits on its model lock while another holds it.
waits=0; samples=0; end=$(( $(date +%s) + WINDOW ))
while [ "$(date +%s)" -lt $end ]; do
    w=$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'494E434D'::int::oid AND NOT granted")
    [ "$w" -gt 0 ] && waits=$((waits + 1))
    samples=$((samples + 1)); sleep 0.5
done
# Stop new firings without cancelling running jobs (cron.unschedule cancels them): with minute
# schedules the window ends right after a firing, so the drain below ends before the next one.
if [ $MODE = seconds ]; then q "UPDATE cron.job SET active = false" >/dev/null; fi
log "window over; a refresh was seen waiting on the model lock in $waits of $samples samples"

# No backlog: once unscheduled, whatever runs drains within a bounded time (each slow run
# takes about SLOW_SECONDS; at most the jobs of one firing can still be queued on the lock).
# Minute schedules: the next firing is ~55 s away, so the drain must end before it.
drain=$(( 4 * (SLOW_SECONDS + 2) + 10 ))
# (a running refresh shows "incmodel refresh <model>: <step> ..." in pg_stat_activity)
if wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid <> pg_backend_pid()
                                AND (query LIKE 'incmodel %' OR query LIKE '%incmodel.refresh%'))
             AND NOT EXISTS (SELECT FROM cron.job_run_details WHERE status IN ('starting', 'running'))
             AND NOT EXISTS (SELECT FROM incmodel.runs WHERE outcome = 'running')" $drain; then
    log "ok: all runs finished within ${drain}s of the end of the window"
else
    fail "runs still active ${drain}s after the end of the window (backlog)"
fi
q "SELECT cron.unschedule(jobname) FROM cron.job" >/dev/null
log "job runs: $(q "SELECT string_agg(j, ', ' ORDER BY j) FROM (SELECT d.command || ': ' || string_agg(DISTINCT d.status, '/') || ' x' || count(*) AS j FROM cron.job_run_details d GROUP BY d.command) x")"
log "refresh runs: $(q "SELECT string_agg(model_name || ' ' || outcome || '=' || n, ', ' ORDER BY model_name, outcome) FROM (SELECT model_name, outcome, count(*) n FROM incmodel.runs GROUP BY 1, 2) r")"
check "every pg_cron job run succeeded" 0 \
    "$(q "SELECT count(*) FROM cron.job_run_details WHERE status <> 'succeeded'")"
check "pg_cron ran the slow model's jobs" t \
    "$(q "SELECT count(*) >= 3 FROM cron.job_run_details WHERE command LIKE '%refresh(''slow''%'")"
check "refresh runs of the slow model overlapped (waited on its lock or skipped)" t \
    "$( [ $waits -gt 0 ] && echo t || q "SELECT count(*) > 0 FROM incmodel.runs WHERE outcome = 'skipped'")"
check "no incmodel run failed" 0 "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'failed'")"
check "no incmodel run left running" 0 "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'running'")"
# No backlog: no job ran more often than it was scheduled to fire.
if [ $MODE = minutes ]; then
    check "no job ran more often than it fired" 0 \
        "$(q "SELECT count(*) FROM (SELECT jobid FROM cron.job_run_details GROUP BY 1 HAVING count(*) > $ALLOWED) x")"
fi
for m in slow fast; do
    q "CALL incmodel.refresh('$m')"
    check "$m: target equals a full rebuild" "0 0" "$(diff_of $m)"
    check "$m: every event is accounted for in the manifest" t \
        "$(q "SELECT source_events = manifest_events FROM testkit.accounting('$m')")"
done
finish
