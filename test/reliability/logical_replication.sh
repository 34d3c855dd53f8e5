#!/usr/bin/env bash
# Loads that arrive with the triggers "off" still reach a batch model.
#
# (1) Logical replication: a publisher cluster (wal_level = logical) publishes atomic.events; on
#     a second cluster a subscription applies it into an atomic.events over which incmodel has a
#     sessions model. The apply worker runs in session_replication_role = replica and fires row
#     triggers only, so incmodel's triggers must be ENABLE ALWAYS and its log written at commit.
#     Steps on the publisher: the initial table copy, INSERT ... SELECT, COPY, UPDATE, DELETE,
#     TRUNCATE and a reload. After each the test waits (bounded) until the subscriber's table has
#     the publisher's contents (same fingerprint), refreshes on the subscriber, and checks the
#     target equals a full rebuild: inserts are found by an ordinary refresh, changes to loaded
#     rows make the refresh rebuild (runs: refresh:success / rebuild:success).
# (2) pg_restore --data-only --disable-triggers of a dump into a source with a model (the restore
#     runs ALTER TABLE ... DISABLE TRIGGER ALL, COPY, ENABLE TRIGGER ALL): the next refresh must
#     rebuild; a restore without --disable-triggers is an ordinary load.
#
#   bash test/reliability/logical_replication.sh [--quick]     (as root or postgres)
TEST_NAME=logical_replication
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
EVENTS=$([ $QUICK = 1 ] && echo 4000 || echo 30000)
BATCHES=8
GEN="--seed 21 --events $EVENTS --users $((EVENTS / 40)) --batches $BATCHES --days 4 --dup-fraction 0"
APPLY_TIMEOUT=60

start_cluster "wal_level = logical" "max_wal_senders = 10" "max_replication_slots = 10"
PUB_DIR=$CLUSTER_DIR PUB_PORT=$PGPORT
SUB_DIR=$CLUSTER_DIR/sub SUB_PORT=
# Both clusters are stopped on exit, whatever happens (the subscriber lives inside the
# publisher's directory, which stop_cluster removes). The subscriber goes first: its apply worker
# would otherwise retry the publisher.
stop_both() {
    cluster_stop "$SUB_DIR" immediate
    export PGDATA=$PUB_DIR/data PGHOST=$PUB_DIR PGPORT=$PUB_PORT CLUSTER_DIR=$PUB_DIR
    stop_cluster
}
trap stop_both EXIT
pub() { PGHOST=$PUB_DIR PGPORT=$PUB_PORT "$@"; }
sub() { PGHOST=$SUB_DIR PGPORT=$SUB_PORT "$@"; }

# The events table of both sides: the generator's layout, a primary key (the replica identity
# of UPDATE and DELETE) and the indexes a deployment has.
EVENTS_DDL="CREATE TABLE atomic.events (LIKE testkit.event_layout, PRIMARY KEY (event_id));
CREATE INDEX ON atomic.events (etl_tstamp);
CREATE INDEX ON atomic.events (domain_sessionid);"
SESSIONS_MODEL="SELECT incmodel.create_model('sessions',
  \$\$ SELECT domain_sessionid AS session_id, count(*) AS events, count(DISTINCT page_url) AS pages,
            min(collector_tstamp) AS first_seen, max(collector_tstamp) AS last_seen,
            sum(tr_total) AS revenue
     FROM atomic.events GROUP BY 1 \$\$, 'derived.sessions', 'etl_tstamp') > 0;"

# outcome: one refresh of the sessions model: "<runs> <extra> <missing>", e.g.
# "refresh:success 0 0" (testkit.refresh_outcome; errors are shown, the rebuild NOTICE is not). A target that differs from a rebuild is
# rebuilt afterwards, so that each step fails on its own.
outcome() {
    local r
    r=$(PGOPTIONS="-c client_min_messages=warning" q "SELECT coalesce(runs, 'none') || ' ' || extra || ' ' || missing FROM testkit.refresh_outcome('sessions')" 2>&1)
    case $r in
        *" 0 0") ;;
        *) q "SELECT incmodel.rebuild('sessions')" >/dev/null 2>&1 || true ;;
    esac
    echo "$r"
}

# wait_applied CONTEXT: until the subscriber's atomic.events has the publisher's contents.
wait_applied() {
    local fp
    fp=$(pub q "SELECT testkit.fingerprint('atomic.events')")
    if ! sub wait_for "SELECT testkit.fingerprint('atomic.events') = '$fp'" $APPLY_TIMEOUT; then
        fail "$1: the subscriber did not apply the publisher's changes within ${APPLY_TIMEOUT}s ($(sub q "SELECT count(*) FROM atomic.events") rows there, $(pub q "SELECT count(*) FROM atomic.events") on the publisher; $(sub q "SELECT coalesce(string_agg(subname || ' pid ' || coalesce(pid::text, '-'), ', '), 'no workers') FROM pg_stat_subscription"))"
        return 1
    fi
}

# step CONTEXT EXPECTED_RUNS: wait for the apply, refresh on the subscriber, check.
step() {
    wait_applied "$1" || return 0
    check "$1: refresh on the subscriber (runs extra missing)" "$2 0 0" "$(sub outcome)"
}

log "publisher: events, batch 0, a publication"
pub install_testkit >/dev/null
pub qf >/dev/null <<SQL
$EVENTS_DDL
CREATE TABLE testkit.stage (LIKE testkit.event_layout);
SELECT testkit.generate('testkit.stage', '$GEN');
INSERT INTO atomic.events SELECT * FROM testkit.stage
 WHERE etl_tstamp = (SELECT min(etl_tstamp) FROM testkit.stage);
CREATE PUBLICATION events_pub FOR TABLE atomic.events;
SQL

log "subscriber: a second cluster with incmodel and a sessions model over atomic.events"
second_cluster "$SUB_DIR"
SUB_PORT=$(cluster_port "$SUB_DIR")
sub install_testkit >/dev/null
sub qf >/dev/null <<SQL
$EVENTS_DDL
$SESSIONS_MODEL
SQL
sub q "CREATE SUBSCRIPTION events_sub CONNECTION 'host=$PUB_DIR port=$PUB_PORT dbname=postgres user=postgres' PUBLICATION events_pub" 2>&1 | grep -v NOTICE || true

# The tablesync worker copies the publisher's rows (COPY in replica mode).
step "initial table copy" refresh:success
check "the initial copy brought rows" t "$(sub q "SELECT count(*) > 0 FROM atomic.events")"

pub q "INSERT INTO atomic.events SELECT * FROM testkit.stage
        WHERE etl_tstamp IN (SELECT DISTINCT etl_tstamp FROM testkit.stage ORDER BY 1 OFFSET 1 LIMIT 2)" >/dev/null
step "INSERT ... SELECT on the publisher" refresh:success

pub q "SELECT testkit.generate('atomic.events', '$GEN --batch-from 3 --batch-to 4')" >/dev/null
step "COPY on the publisher" refresh:success

pub q "UPDATE atomic.events SET page_url = page_url || '?u', tr_total = coalesce(tr_total, 0) + 1
        WHERE event_name = 'page_view' AND domain_sessionidx = 1" >/dev/null
step "UPDATE on the publisher" rebuild:success

pub q "DELETE FROM atomic.events WHERE event_name = 'page_ping' AND domain_sessionidx = 2" >/dev/null
step "DELETE on the publisher" rebuild:success

# A load and a correction in one publisher transaction.
pub qf >/dev/null <<'SQL'
BEGIN;
INSERT INTO atomic.events SELECT * FROM testkit.stage
 WHERE etl_tstamp = (SELECT DISTINCT etl_tstamp FROM testkit.stage ORDER BY 1 OFFSET 5 LIMIT 1);
UPDATE atomic.events SET domain_sessionid = 'moved' WHERE domain_sessionidx = 3 AND event_name = 'page_view';
COMMIT;
SQL
step "INSERT and UPDATE in one transaction on the publisher" rebuild:success

pub qf >/dev/null <<'SQL'
TRUNCATE atomic.events;
INSERT INTO atomic.events SELECT * FROM testkit.stage
 WHERE etl_tstamp <= (SELECT DISTINCT etl_tstamp FROM testkit.stage ORDER BY 1 OFFSET 2 LIMIT 1);
SQL
step "TRUNCATE and a reload on the publisher" rebuild:success

pub q "INSERT INTO atomic.events SELECT * FROM testkit.stage
        WHERE etl_tstamp > (SELECT DISTINCT etl_tstamp FROM testkit.stage ORDER BY 1 OFFSET 2 LIMIT 1)" >/dev/null
step "the remaining batches on the publisher" refresh:success
check "every generated event reached the subscriber" t \
    "$(sub q "SELECT count(*) = $(pub q "SELECT count(*) FROM testkit.stage") FROM atomic.events")"
check "no failed run on the subscriber" 0 "$(sub q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'failed'")"

# (2) pg_restore --disable-triggers of data-only dumps into a source with a model.
log "pg_restore --data-only into a source with a model, with and without --disable-triggers"
pub q "CREATE DATABASE restore_target" >/dev/null
# Two data-only dumps of atomic.events: batches 0-3, then batches 4-7 (a table of that name in
# another database, loaded for the dump).
pub q "CREATE DATABASE dump_source" >/dev/null
PGDATABASE=dump_source pub install_testkit >/dev/null
PGDATABASE=dump_source pub qf >/dev/null <<SQL
$EVENTS_DDL
SELECT testkit.generate('atomic.events', '$GEN --batch-from 0 --batch-to 3');
SQL
PGDATABASE=dump_source pub "$PGBIN/pg_dump" -Fc --data-only -t atomic.events -f "$PUB_DIR/first.dump" dump_source
PGDATABASE=dump_source pub q "TRUNCATE atomic.events; SELECT testkit.generate('atomic.events', '$GEN --batch-from 4 --batch-to 7')" >/dev/null
PGDATABASE=dump_source pub "$PGBIN/pg_dump" -Fc --data-only -t atomic.events -f "$PUB_DIR/second.dump" dump_source

PGDATABASE=restore_target pub install_testkit >/dev/null
PGDATABASE=restore_target pub qf >/dev/null <<SQL
$EVENTS_DDL
$SESSIONS_MODEL
SQL
if PGDATABASE=restore_target pub "$PGBIN/pg_restore" --exit-on-error --data-only -d restore_target \
        "$PUB_DIR/first.dump" 2>"$PUB_DIR/restore_1.err"; then
    check "data-only restore (triggers on): refresh (runs extra missing)" "refresh:success 0 0" \
        "$(PGDATABASE=restore_target pub outcome)"
else
    fail "pg_restore of the first dump failed: $(head -c 600 "$PUB_DIR/restore_1.err")"
fi
if PGDATABASE=restore_target pub "$PGBIN/pg_restore" --exit-on-error --data-only --disable-triggers \
        -d restore_target "$PUB_DIR/second.dump" 2>"$PUB_DIR/restore_2.err"; then
    check "data-only restore --disable-triggers: refresh (runs extra missing)" "rebuild:success 0 0" \
        "$(PGDATABASE=restore_target pub outcome)"
    check "data-only restore --disable-triggers: every event is in the source" t \
        "$(PGDATABASE=restore_target pub q "SELECT count(*) = $(pub q "SELECT count(*) FROM testkit.stage") FROM atomic.events")"
    check "after the restores, a second refresh is a no-op (runs extra missing)" "refresh:noop 0 0" \
        "$(PGDATABASE=restore_target pub outcome)"
else
    fail "pg_restore --disable-triggers of the second dump failed: $(head -c 600 "$PUB_DIR/restore_2.err")"
fi
finish
