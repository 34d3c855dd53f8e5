#!/usr/bin/env bash
# Recoverable under kills and crashes: for each refresh step (plan, keys, recompute, commit) a
# refresh is held inside that step by a lock another session holds, then either its backend is
# killed (pg_terminate_backend) or the whole cluster crashes (pg_ctl stop -m immediate) and
# restarts. After each:
#   - target and manifest are consistent: the target equals the model's query over exactly the
#     batches the manifest claims, and both are unchanged from before the dead run;
#   - the next refresh marks the dead run failed ("ended without finishing") and succeeds (a
#     run killed inside plan, its first unit, left no row: its row commits with that unit);
#   - the target then equals a full rebuild and the manifest accounts for every event.
#
# How a refresh is held inside a step (volatile functions are rejected in model queries, so the
# gates are IMMUTABLE-declared PL/pgSQL functions that wait on an advisory lock when it is held):
#   plan      another session holds ACCESS EXCLUSIVE on the model's scratch batches table
#             (plan begins by emptying the scratch tables: DELETE, or TRUNCATE once grown)
#   keys      advisory lock 1 held: the key expression gate(domain_sessionid, 1) is first
#             evaluated when the keys of the new batches are collected
#   recompute advisory lock 2 held: only the aggregate argument gate_num(tr_total, 2) waits
#   commit    another session holds LOCK TABLE target IN SHARE MODE (blocks the DELETE)
#
#   bash test/reliability/crash_and_kill.sh [--quick]     (as root or postgres)
TEST_NAME=crash_and_kill
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
EVENTS=$([ $QUICK = 1 ] && echo 4000 || echo 20000)

# synchronous_commit = on: an immediate stop must not lose commits the test already saw (with
# fsync = off the WAL still reaches the OS at commit, which survives a server crash).
start_cluster "synchronous_commit = on"
install_testkit >/dev/null
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<SQL || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
SELECT testkit.make_events('atomic.ck');
SELECT testkit.generate('atomic.ck', '--seed 11 --events $EVENTS --batches 12 --batch-to 1');
CREATE FUNCTION testkit.gate(x text, k int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN
  PERFORM pg_advisory_lock_shared(k); PERFORM pg_advisory_unlock_shared(k); RETURN x;
END \$\$;
CREATE FUNCTION testkit.gate_num(x numeric, k int) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN
  PERFORM pg_advisory_lock_shared(k); PERFORM pg_advisory_unlock_shared(k); RETURN x;
END \$\$;
SELECT incmodel.create_model('ck',
  \$\$ SELECT testkit.gate(domain_sessionid, 1) AS session_id, count(*) AS events,
            count(DISTINCT page_url) AS pages, min(collector_tstamp) AS first_seen,
            sum(testkit.gate_num(tr_total, 2)) AS revenue
     FROM atomic.ck GROUP BY 1 \$\$,
  'derived.ck', 'etl_tstamp') > 0;
-- The model's query over only the batches its manifest claims, compared with the target.
CREATE FUNCTION testkit.claimed_diff(OUT extra bigint, OUT missing bigint) LANGUAGE sql AS \$\$
  WITH claimed AS (
    SELECT testkit.gate(domain_sessionid, 1) AS session_id, count(*) AS events,
           count(DISTINCT page_url) AS pages, min(collector_tstamp) AS first_seen,
           sum(testkit.gate_num(tr_total, 2)) AS revenue
    FROM atomic.ck
    WHERE etl_tstamp IN (SELECT mf.batch_value::timestamp FROM incmodel.manifest mf
                               JOIN incmodel.models m USING (model_id) WHERE m.name = 'ck')
    GROUP BY 1)
  SELECT (SELECT count(*) FROM (SELECT * FROM derived.ck EXCEPT ALL SELECT * FROM claimed) x),
         (SELECT count(*) FROM (SELECT * FROM claimed EXCEPT ALL SELECT * FROM derived.ck) y) \$\$;
CREATE TABLE testkit.flushed (at timestamptz);
CREATE FUNCTION testkit.state() RETURNS text LANGUAGE sql AS \$\$
  SELECT md5((SELECT coalesce(string_agg(t::text, ',' ORDER BY t::text), '') FROM derived.ck t) || '|' ||
             (SELECT coalesce(string_agg(batch_value || '=' || event_count, ',' ORDER BY batch_value), '')
                FROM incmodel.manifest)) \$\$;
SQL
check "model built equal to a full rebuild" "0 0" "$(diff_of ck)"
SCRATCH=$(q "SELECT format('incmodel_scratch.m%s_batches', model_id) FROM incmodel.models WHERE name = 'ck'")

holder_sql() {
    case $1 in
        plan) echo "BEGIN; LOCK TABLE $SCRATCH IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);" ;;
        keys) echo "SELECT pg_advisory_lock(1); SELECT pg_sleep(600);" ;;
        recompute) echo "SELECT pg_advisory_lock(2); SELECT pg_sleep(600);" ;;
        commit) echo "BEGIN; LOCK TABLE derived.ck IN SHARE MODE; SELECT pg_sleep(600);" ;;
    esac
}

batch=2
run_case() {  # run_case STEP kill|crash
    local step=$1 how=$2
    if [ "$how" = kill ]; then log "--- kill the refreshing backend inside step $step"
    else log "--- crash the cluster while a refresh is inside step $step"; fi
    q "SELECT testkit.generate('atomic.ck', '--seed 11 --events $EVENTS --batches 12 --batch-from $batch --batch-to $batch')" >/dev/null
    batch=$((batch + 1))
    local before; before=$(q "SELECT testkit.state()")
    local runs_before; runs_before=$(q "SELECT count(*) FROM incmodel.runs WHERE model_name = 'ck'")
    local unfinished_before; unfinished_before=$(q "SELECT count(*) FROM incmodel.runs WHERE model_name = 'ck' AND outcome IN ('running', 'failed')")

    PGAPPNAME=rel_holder "$PGBIN/psql" -X -q -c "$(holder_sql "$step")" >/dev/null 2>&1 &
    local holder_client=$!
    wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rel_holder' AND wait_event = 'PgSleep'" \
        || fail "$step/$how: the lock holder did not start"
    PGAPPNAME=rel_refresher "$PGBIN/psql" -X -q -c "CALL incmodel.refresh('ck')" >"$CLUSTER_DIR/refresher.out" 2>&1 &
    local refresher_client=$!
    if wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rel_refresher'
                 AND wait_event_type IN ('Lock') AND query = 'incmodel refresh ck: $step ...'" 30; then
        log "ok: refresh is waiting inside step $step"
    else
        fail "$step/$how: the refresh did not block inside step $step: $(q "SELECT query || ' / ' || coalesce(wait_event, '-') FROM pg_stat_activity WHERE application_name = 'rel_refresher'")"
    fi
    # The run's row commits with its first unit (plan): inside plan it is not visible yet.
    if [ "$step" = plan ]; then
        check "$step/$how: the run's row is not committed before its plan" "$runs_before" \
            "$(q "SELECT count(*) FROM incmodel.runs WHERE model_name = 'ck'")"
    else
        check "$step/$how: the run is recorded as running" "running" \
            "$(q "SELECT outcome FROM incmodel.runs WHERE model_name = 'ck' ORDER BY run_id DESC LIMIT 1")"
    fi
    local dead_run; dead_run=$(q "SELECT max(run_id) FROM incmodel.runs WHERE model_name = 'ck'")

    if [ "$how" = kill ]; then
        q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_refresher'" >/dev/null
        wait "$refresher_client" 2>/dev/null || true
        q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_holder'" >/dev/null
        wait "$holder_client" 2>/dev/null || true
    else
        # Units before a run's last commit without waiting for the WAL flush; a durable commit
        # of another session flushes the WAL in order, the run's plan commit included.
        [ "$step" = plan ] || q "INSERT INTO testkit.flushed VALUES (now())" >/dev/null
        cluster_stop "$CLUSTER_DIR" immediate
        wait "$refresher_client" 2>/dev/null || true
        wait "$holder_client" 2>/dev/null || true
        pg_start
        log "ok: cluster crashed and restarted"
    fi

    check "$step/$how: the model lock was released" "0" \
        "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'494E434D'::int::oid")"
    check "$step/$how: target and manifest unchanged by the dead run" "$before" "$(q "SELECT testkit.state()")"
    check "$step/$how: target equals the query over the batches the manifest claims" "0 0" \
        "$(q "SELECT extra || ' ' || missing FROM testkit.claimed_diff()")"
    if [ "$step" = plan ]; then
        check "$step/$how: a run dead before its plan committed left no row" "$runs_before" \
            "$(q "SELECT count(*) FROM incmodel.runs WHERE model_name = 'ck'")"
        q "CALL incmodel.refresh('ck')"
        check "$step/$how: no run is left running or failed" "$unfinished_before" \
            "$(q "SELECT count(*) FROM incmodel.runs WHERE model_name = 'ck' AND outcome IN ('running', 'failed')")"
    else
        check "$step/$how: the dead run is still 'running' before the next refresh" "running" \
            "$(q "SELECT outcome FROM incmodel.runs WHERE run_id = $dead_run")"
        q "CALL incmodel.refresh('ck')"
        check "$step/$how: the next refresh marks the dead run failed" \
            "failed|the run ended without finishing (its backend exited or the server restarted)" \
            "$(q "SELECT outcome || '|' || error_message FROM incmodel.runs WHERE run_id = $dead_run")"
    fi
    check "$step/$how: the next refresh succeeds" "success" \
        "$(q "SELECT outcome FROM incmodel.runs WHERE model_name = 'ck' ORDER BY run_id DESC LIMIT 1")"
    check "$step/$how: target equals a full rebuild" "0 0" "$(diff_of ck)"
    check "$step/$how: manifest accounts for every event" "t" \
        "$(q "SELECT source_events = manifest_events FROM testkit.accounting('ck')")"
    check "$step/$how: nothing pending" "0" "$(q "SELECT pending_batches FROM incmodel.pending('ck')")"
}

for how in kill crash; do
    for step in plan keys recompute commit; do run_case "$step" "$how"; done
done

# A rebuild killed in its commit step leaves the target as it was; the next refresh recovers.
log "--- kill a rebuild inside its commit step"
q "SELECT testkit.generate('atomic.ck', '--seed 11 --events $EVENTS --batches 12 --batch-from $batch --batch-to $batch')" >/dev/null
before=$(q "SELECT testkit.state()")
PGAPPNAME=rel_holder "$PGBIN/psql" -X -q -c "$(holder_sql commit)" >/dev/null 2>&1 &
holder_client=$!
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rel_holder' AND wait_event = 'PgSleep'"
PGAPPNAME=rel_refresher "$PGBIN/psql" -X -q -c "SELECT incmodel.rebuild('ck')" >/dev/null 2>&1 &
refresher_client=$!
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rel_refresher' AND wait_event_type = 'Lock'" 30 \
    || fail "rebuild did not block"
# The rebuild first, and only once it is gone the holder: ended together, the holder could go
# first and let the rebuild commit before its own termination arrived.
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_refresher'" >/dev/null
wait "$refresher_client" 2>/dev/null || true
wait_for "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'rel_refresher'" 60 \
    || fail "the rebuild's backend did not exit"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rel_holder'" >/dev/null
wait "$holder_client" 2>/dev/null || true
check "rebuild/kill: target and manifest unchanged" "$before" "$(q "SELECT testkit.state()")"
q "CALL incmodel.refresh('ck')"
check "rebuild/kill: target equals a full rebuild after the next refresh" "0 0" "$(diff_of ck)"
check "rebuild/kill: no run left running" "0" \
    "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'running'")"
finish
