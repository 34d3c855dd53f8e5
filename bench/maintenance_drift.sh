#!/usr/bin/env bash
# The maintenance drift benchmark: with the maintenance worker on, 200 refreshes (each a new
# batch of continuing and new sessions) must leave the target's size bounded and refresh time
# flat. Autovacuum runs for the source (so it stays analyzed) but is off for the target.
# Prints a CSV of (refresh, target bytes, dead tuples, refresh ms, worker actions so far) every
# 10 refreshes and a summary; the same run with the worker off is the comparison. The one check
# (exit status) is that the worker acted on the target: after the refreshes it waits for the
# worker's row in incmodel.maintenance_log, an observed event, for up to DRIFT_WORKER_WAIT seconds
# (300), so a slow machine or a late worker cycle cannot fail it. Sizes and timings are reported,
# never asserted.
#
#   bash bench/maintenance_drift.sh            200 refreshes, worker on and off
#   bash bench/maintenance_drift.sh --quick    40 refreshes (CI keeps it working)
#   DRIFT_PORT=P (the first port to try)  DRIFT_KEEP=1 (leave the cluster running in its dir)
#   DRIFT_WORKER_WAIT=S (how long to wait for the worker's first action on the target; 300)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/test/lib/cluster.sh"
refreshes=200
[ "${1:-}" = "--quick" ] && refreshes=40
out=${BENCH_OUT:-$repo/bench/out}
mkdir -p "$out"
dir=$(cluster_dir drift)
cleanup() { cluster_stop "$dir" immediate; rm -rf "$dir"; }
trap cleanup EXIT
[ -n "${DRIFT_KEEP:-}" ] && trap - EXIT
CLUSTER_PORT=${DRIFT_PORT:-5533} cluster_init "$dir" \
    "shared_preload_libraries = 'incmodel'" \
    "incmodel.maintenance_database = 'postgres'" \
    "incmodel.maintenance_naptime = 0" \
    "incmodel.vacuum_dead_min = 200" \
    "incmodel.vacuum_dead_ratio = 0.05" \
    "autovacuum_naptime = 5" \
    "fsync = off"
cluster_start "$dir"
psql_q() { cluster_psql "$dir" -q -At -v ON_ERROR_STOP=1 "$@"; }

"$repo/tools/eventgen/incmodel-eventgen" --seed 5 --events $((500 * (refreshes + 1) * 2)) \
    --batches $((refreshes * 2 + 2)) --days 20 > "$dir/events.tsv"
chmod a+r "$dir/events.tsv"
psql_q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION incmodel;
CREATE TABLE events (app_id text, platform text, etl_tstamp timestamp, collector_tstamp timestamp NOT NULL,
  dvce_created_tstamp timestamp, dvce_sent_tstamp timestamp, derived_tstamp timestamp, load_tstamp timestamp,
  event text, event_name text, event_id uuid NOT NULL, domain_userid text, domain_sessionid text,
  domain_sessionidx integer, user_id text, network_userid text, page_url text, page_title text,
  page_referrer text, refr_medium text, geo_country text, br_family text, os_family text, dvce_type text,
  tr_total numeric(18,2));
CREATE UNLOGGED TABLE staging (LIKE events);
COPY staging FROM '$dir/events.tsv';
CREATE INDEX ON events (etl_tstamp); CREATE INDEX ON events (domain_sessionid);
CREATE TABLE batches AS SELECT etl_tstamp, row_number() OVER (ORDER BY etl_tstamp) AS n
  FROM (SELECT DISTINCT etl_tstamp FROM staging) b;
SQL

# The worker's logged actions on a run's target.
worker_actions_sql() {
    echo "(SELECT count(*) FROM incmodel.maintenance_log WHERE relid = 'sessions_$1'::regclass AND runner = 'worker')"
}
# One CSV line: the target's size and dead tuples, the last refresh's time, the worker's actions.
sample() {
    psql_q -c "SELECT '$1', $2, pg_relation_size('sessions_$1'), pg_stat_get_dead_tuples('sessions_$1'::regclass),
        (SELECT round(extract(epoch FROM finished_at - started_at) * 1000, 1) FROM incmodel.runs WHERE model_name = 's_$1' ORDER BY run_id DESC LIMIT 1),
        $(worker_actions_sql "$1")" | tr '|' ','
}
# Waits for the worker's first logged action on the run's target: the refreshes left it enough
# dead tuples to be over the thresholds, so the worker's next cycle (naptime 1 s) must act on it.
# The bound is generous and only ends a wait that would otherwise never end; on timeout the plan,
# the worker's process and the server log say why (stderr), and the summary reports FAIL.
wait_for_worker() {
    local label=$1 start=$SECONDS deadline=$((SECONDS + ${DRIFT_WORKER_WAIT:-300}))
    while [ "$(psql_q -c "SELECT $(worker_actions_sql "$label") > 0")" != t ]; do
        if [ $SECONDS -ge $deadline ]; then
            {
                echo "the worker logged no action on sessions_$label in ${DRIFT_WORKER_WAIT:-300} s"
                psql_q -c "SELECT * FROM incmodel.maintenance_plan() WHERE relation = 'sessions_$label'::regclass"
                psql_q -c "SELECT pid, state, wait_event, query FROM pg_stat_activity WHERE backend_type = 'incmodel maintenance'"
                tail -n 20 "$dir/server.log"
            } >&2
            return 0
        fi
        sleep 0.5
    done
    echo "the worker's first action on sessions_$label came $((SECONDS - start)) s after the last refresh" >&2
}

# One run: the two halves of the batches; worker on (naptime 1 s) or off.
run() {
    local label=$1 first=$2 naptime=$3
    psql_q -c "ALTER SYSTEM SET incmodel.maintenance_naptime = $naptime" -c 'SELECT pg_reload_conf()' >/dev/null
    psql_q <<SQL >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS sessions_$label;
TRUNCATE events;
INSERT INTO events SELECT s.* FROM staging s JOIN batches b USING (etl_tstamp) WHERE b.n = $first;
SELECT incmodel.create_model('s_$label', \$\$ SELECT domain_sessionid AS session_id, min(derived_tstamp) AS start_tstamp,
  max(derived_tstamp) AS end_tstamp, count(*) AS events, count(DISTINCT page_url) AS pages FROM public.events GROUP BY 1 \$\$,
  'sessions_$label', 'etl_tstamp');
-- Autovacuum keeps the source analyzed, as in production; the target is left to incmodel's
-- worker (or to nobody, in the worker-off run).
ALTER TABLE sessions_$label SET (autovacuum_enabled = off);
SQL
    for i in $(seq 1 "$refreshes"); do
        psql_q -c "INSERT INTO events SELECT s.* FROM staging s JOIN batches b USING (etl_tstamp) WHERE b.n = $((first + i))" \
               -c "SET incmodel.progress_notices = off" -c "CALL incmodel.refresh('s_$label')" >/dev/null
        if [ $((i % 10)) -eq 0 ]; then sample "$label" "$i"; fi
    done
    # With the worker on, the summary's check reads an observed event (the worker's log row), not
    # whether its naptime happened to fit into the refreshes.
    if [ "$naptime" -gt 0 ]; then
        wait_for_worker "$label"
        sample "$label" "$refreshes"
    fi
    psql_q -c "SELECT incmodel.drop_model('s_$label', true)" >/dev/null
}
{
    echo "run,refreshes,target_bytes,dead_tuples,refresh_ms,worker_actions"
    run worker_on 1 1
    run worker_off 1 0
} | tee "$out/maintenance_drift.csv"

python3 - "$out/maintenance_drift.csv" "$refreshes" <<'PY' | tee "$out/maintenance_drift.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n = int(sys.argv[2])
print(f"# Maintenance drift: {n} refreshes\n")
print("| run | target size first -> last (bytes) | dead tuples last | refresh ms, first 3 samples (median) | last 3 samples (median) | worker actions |")
print("|---|---|---|---|---|---|")
ok = True
for run in ("worker_on", "worker_off"):
    r = [x for x in rows if x["run"] == run]
    ms = [float(x["refresh_ms"]) for x in r]
    first, last = statistics.median(ms[:3]), statistics.median(ms[-3:])
    print(f"| {run} | {r[0]['target_bytes']} -> {r[-1]['target_bytes']} | {r[-1]['dead_tuples']} | {first} | {last} | {r[-1]['worker_actions']} |")
on = [x for x in rows if x["run"] == "worker_on"]
if int(on[-1]["worker_actions"]) == 0:
    print("\nFAIL: the worker never ran"); ok = False
sys.exit(0 if ok else 1)
PY
