# Shared helpers of the reliability tests (sourced by crash_and_kill.sh, soak.sh, scheduler.sh).
#
# Each test starts its own throwaway cluster (test/lib/cluster.sh) in a temporary directory, as
# the unprivileged `postgres` account (PostgreSQL refuses root), listening only on a Unix socket
# in that directory (listen_addresses = ''), so tests never collide with another cluster.
# The cluster is always stopped on exit (trap), whatever happens.

set -euo pipefail

REL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$REL_DIR/../.." && pwd)
source "$REPO/test/lib/cluster.sh"
EVENTGEN=${EVENTGEN:-$REPO/tools/eventgen/incmodel-eventgen}

# Re-runs the calling script as `postgres` when started as root: as_postgres "$@".
as_postgres() { rerun_as_server "$@"; }

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${TEST_NAME:-reliability}" "$*"; }

FAILURES=0
fail() { log "FAILURE: $*"; FAILURES=$((FAILURES + 1)); }
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then log "ok: $1"; else fail "$1: expected [$2], got [$3]"; fi
}

# start_cluster [extra postgresql.conf lines...]: initdb + start on a free port; sets CLUSTER_DIR,
# PGDATA, PGHOST, PGPORT.
start_cluster() {
    CLUSTER_DIR=$(cluster_dir "rel-${TEST_NAME:-x}")
    # Libraries to preload: the test's own (PRELOAD) and any the caller adds (RELIABILITY_PRELOAD).
    local preload="${PRELOAD:-}${PRELOAD:+${RELIABILITY_PRELOAD:+,}}${RELIABILITY_PRELOAD:-}"
    trap stop_cluster EXIT
    cluster_init "$CLUSTER_DIR" \
        "max_connections = 60" \
        "shared_buffers = 128MB" \
        "fsync = off" \
        "synchronous_commit = off" \
        "full_page_writes = off" \
        "log_min_messages = warning" \
        "log_line_prefix = '%m [%p] %q%a '" \
        "incmodel.progress_notices = off" \
        "incmodel_test.eventgen = '$EVENTGEN'" \
        "$@" \
        ${preload:+"shared_preload_libraries = '$preload'"} \
        ${RELIABILITY_EXTRA_CONF:+"$RELIABILITY_EXTRA_CONF"}
    # Extra settings for every test cluster come last, e.g.
    # RELIABILITY_EXTRA_CONF="log_min_messages = debug1".
    export PGDATA=$CLUSTER_DIR/data PGHOST=$CLUSTER_DIR PGPORT=$(cluster_port "$CLUSTER_DIR")
    export PGDATABASE=postgres
    pg_start
}

# (Re)starts the test's cluster, e.g. after a crash or a settings change that needs a restart.
pg_start() { cluster_start "$CLUSTER_DIR"; }

# Stops the test's cluster and removes its directory (unless KEEP_CLUSTER is set); the end of the
# server log is shown first when the test failed.
stop_cluster() {
    if [ -n "${CLUSTER_DIR:-}" ]; then cluster_stop "$CLUSTER_DIR" immediate; fi
    if [ -n "${CLUSTER_DIR:-}" ] && [ -z "${KEEP_CLUSTER:-}" ]; then
        if [ "${FAILURES:-0}" -gt 0 ] && [ -f "$CLUSTER_DIR/server.log" ]; then
            echo "----- last lines of the server log"; tail -n 40 "$CLUSTER_DIR/server.log"
        fi
        rm -rf "$CLUSTER_DIR"
    fi
}

# second_cluster DIR: another cluster for the test in DIR (under CLUSTER_DIR, so stop_cluster's
# removal covers it) with the first one's server settings, started; stop it with cluster_stop.
second_cluster() {
    local dir=$1
    mkdir -p "$dir"
    cluster_init "$dir" "$(grep -E "^(fsync|synchronous_commit|full_page_writes|incmodel|log_)" \
        "$CLUSTER_DIR/data/postgresql.conf")"
    cluster_start "$dir"
}

# q SQL: one value (unaligned, tuples only), stops on error.
q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -c "$1"; }
# qf: run SQL from stdin, stops on error.
qf() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# The same fixtures as sql/setup.sql: an events table, a generator helper, and diff() comparing a
# model's target with a full rebuild of its query (EXCEPT ALL both ways; "0 0" means equal).
install_testkit() {
    qf -c 'CREATE EXTENSION incmodel' -c 'CREATE SCHEMA atomic' -c 'CREATE SCHEMA derived'
    qf -f "$REPO/test/testkit.sql" >/dev/null
    qf <<'SQL'
-- Events of the model's source with a batch value, and events its manifest accounts for.
CREATE FUNCTION testkit.accounting(model text, OUT source_events bigint, OUT manifest_events bigint)
LANGUAGE plpgsql AS $$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM incmodel.models WHERE name = model;
  EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NOT NULL', m.source, m.batch_column)
    INTO source_events;
  SELECT coalesce(sum(event_count), 0) INTO manifest_events FROM incmodel.manifest
   WHERE model_id = m.model_id;
END $$;
SQL
}

# diff_of MODEL: "extra missing" of the target against a full rebuild.
diff_of() { q "SELECT extra || ' ' || missing FROM testkit.diff('$1')"; }

# wait_for SQL [TIMEOUT_S]: polls until SQL returns 't'; returns 1 on timeout.
wait_for() {
    local sql=$1 timeout=${2:-30} i=0
    while [ "$(q "$sql")" != t ]; do
        i=$((i + 1)); [ $i -gt $((timeout * 20)) ] && return 1
        sleep 0.05
    done
}

finish() {
    if [ "$FAILURES" -eq 0 ]; then log "PASS"; exit 0; else log "FAIL ($FAILURES failures)"; exit 1; fi
}
