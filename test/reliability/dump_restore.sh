#!/usr/bin/env bash
# pg_dump / pg_restore keep models working (docs/security/dump_restore.md).
#
# A cluster whose xids are well above those of a fresh cluster holds four models: a sessions
# batch model (change log), a daily model and an append model (load-time ranges) and a features
# model over the daily one (key queue). After loads and refreshes, one more load is left pending, then the database is
# dumped (pg_dump -Fc) and restored
#   (a) into a new database of the same cluster,
#   (b) into a second, freshly initdb'd cluster (its xids far below the recorded plan snapshots),
#   (c) from a --schema filtered dump (the extension and its catalog are not in it) into a new
#       database where incmodel was created first; the models are created again over the
#       restored targets;
#   (d) from a full dump whose catalog rows are then removed (as a 0.2.0 dump, which had no
#       catalog data): create_model again over the orphaned scratch tables.
# In each: more loads, refresh_all, and every target must equal a full rebuild of its query
# (EXCEPT ALL both ways), with the sessions manifest accounting for every event. The original
# database must be unaffected by the restores.
#
#   bash test/reliability/dump_restore.sh [--quick]     (as root or postgres)
TEST_NAME=dump_restore
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
EVENTS=$([ $QUICK = 1 ] && echo 6000 || echo 40000)
DAILY=$([ $QUICK = 1 ] && echo 300 || echo 3000)
# Transactions burnt before the models exist, so that their snapshots' xids are far above those
# of the second cluster.
XIDS=$([ $QUICK = 1 ] && echo 3000 || echo 20000)
BATCHES=12

start_cluster
FIRST_DIR=$CLUSTER_DIR FIRST_PORT=$PGPORT
SECOND_DIR=$CLUSTER_DIR/second
# Both clusters are stopped on exit, whatever happens (the second lives inside the first's
# directory, which stop_cluster removes).
stop_both() {
    cluster_stop "$SECOND_DIR" immediate
    export PGDATA=$FIRST_DIR/data PGHOST=$FIRST_DIR PGPORT=$FIRST_PORT CLUSTER_DIR=$FIRST_DIR
    stop_cluster
}
trap stop_both EXIT
install_testkit >/dev/null

# One sessions load: batch index $1 of the generator's run (the same seed every time, so the
# batches are the consecutive loads of one stream).
load_sessions() {
    q "SELECT testkit.generate('atomic.ev', '--seed 8 --events $EVENTS --batches $BATCHES --batch-from $1 --batch-to $1')" >/dev/null
}
# One daily load (random lateness up to 6 days; the model reprocesses 8 days, so nothing is
# skipped and its target must equal a rebuild).
load_daily() { q "SELECT testkit.daily_load($DAILY, $1)" >/dev/null; }

create_models() {
    qf <<'SQL'
SELECT incmodel.create_model('sessions',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events, count(DISTINCT page_url) AS pages,
            min(collector_tstamp) AS first_seen, max(collector_tstamp) AS last_seen
     FROM atomic.ev GROUP BY 1 $$,
  'derived.sessions', 'etl_tstamp') > 0;
SELECT incmodel.create_model(name => 'user_days',
  query => $$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
                     count(DISTINCT page_url) AS pages FROM atomic.dev GROUP BY 1, 2 $$,
  target => 'derived.user_days', load_column => 'load_tstamp',
  start_date => now() - interval '10 days', day_key => 'day', reprocess_days => 8,
  min_rows_to_process => 1) > 0;
SELECT incmodel.create_model(name => 'dev_events',
  query => $$ SELECT event_id, domain_userid, page_url FROM atomic.dev $$,
  target => 'derived.dev_events', load_column => 'load_tstamp',
  start_date => now() - interval '10 days', strategy => 'append', event_key => 'event_id',
  min_rows_to_process => 1) > 0;
SELECT incmodel.create_model('user_features',
  $$ SELECT user_id, count(*) AS active_days, sum(events) AS lifetime_events,
            max(pages) AS max_daily_pages FROM derived.user_days GROUP BY user_id $$,
  'derived.user_features', depends_on => ARRAY['user_days']) > 0;
SQL
}

# check_models CONTEXT: every target equals a full rebuild; the sessions manifest accounts for
# every event of its source.
check_models() {
    local m
    for m in sessions user_days user_features ${EXTRA_MODELS:-}; do
        check "$1: $m equals a rebuild (extra missing)" "0 0" "$(diff_of "$m")"
    done
    # The append model keeps one row per event_id; the loads' duplicates are whole-row copies.
    check "$1: dev_events equals a deduplicated rebuild (extra missing)" "0 0" "$(q "
        SELECT (SELECT count(*) FROM (TABLE derived.dev_events EXCEPT ALL
                SELECT DISTINCT event_id, domain_userid, page_url FROM atomic.dev) x) || ' ' ||
               (SELECT count(*) FROM (SELECT DISTINCT event_id, domain_userid, page_url
                FROM atomic.dev EXCEPT ALL TABLE derived.dev_events) y)")"
    check "$1: the sessions manifest accounts for every event" t \
        "$(q "SELECT source_events = manifest_events FROM testkit.accounting('sessions')")"
}

# How the sessions model's next refresh found its batches: "log" (the change log) or "count".
sessions_plan() {
    PGOPTIONS="-c incmodel.progress_notices=on" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -c "CALL incmodel.refresh('sessions')" 2>&1 | grep "plan:" |
        sed -e 's/.*(from the change log).*/log/' -e 's/.*plan:.*/count/'
}

# after_restore CONTEXT SEED FIRST_PLAN: loads into a restored database, refreshes, checks; a new
# model gets an id of its own (the identity sequences came along). FIRST_PLAN: how the sessions
# model's first refresh must plan ("count" when its recorded snapshot came from the dump); the
# second one plans from the change log again.
after_restore() {
    local EXTRA_MODELS=pages
    check "$1: a new model can be created" t "$(q "SELECT incmodel.create_model('pages',
        'SELECT page_url, count(*) AS events FROM atomic.ev GROUP BY 1', 'derived.pages',
        'etl_tstamp') > 0" 2>&1)"
    load_sessions 6
    load_daily "$2"
    check "$1: the first refresh of sessions plans by $3" "$3" "$(sessions_plan)"
    q "CALL incmodel.refresh_all()" || fail "$1: refresh_all failed"
    check_models "$1, after a load and a refresh"
    load_sessions 7
    q "SELECT testkit.generate('atomic.ev', '--seed 8 --events $EVENTS --batches $BATCHES --batch-from 3 --batch-to 3')" >/dev/null
    load_daily "$2 + 0.01"
    check "$1: the next refresh of sessions plans by log" log "$(sessions_plan)"
    q "CALL incmodel.refresh_all()" || fail "$1: the second refresh_all failed"
    check_models "$1, after a second load (one into an old batch) and a refresh"
}

log "setup: $XIDS transactions to raise the xid counter, four models, loads, refreshes"
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<SQL || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
DO \$\$ BEGIN FOR i IN 1..$XIDS LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END \$\$;
SELECT testkit.make_events('atomic.ev');
CREATE INDEX ON atomic.ev (page_url);
CREATE TABLE atomic.dev (event_id text, domain_userid text, derived_tstamp timestamp,
                         load_tstamp timestamp NOT NULL, page_url text);
CREATE INDEX ON atomic.dev (load_tstamp);
CREATE INDEX ON atomic.dev (domain_userid);
SELECT testkit.daily_load($DAILY, 0.21);
SQL
load_sessions 0
load_sessions 1
create_models >/dev/null 2>"$CLUSTER_DIR/setup.err" || { cat "$CLUSTER_DIR/setup.err"; fail "create_model failed"; finish; }
for b in 2 3; do load_sessions $b; done
load_daily 0.22
q "CALL incmodel.refresh_all()"
check_models "before the dump"
# Left pending at the dump: the restored models must still pick these up.
load_sessions 4
load_sessions 5
load_daily 0.23
q "CALL incmodel.refresh('user_days')"
load_daily 0.24
check "the sessions model has pending batches at the dump" t \
    "$(q "SELECT pending_batches > 0 FROM incmodel.pending('sessions')")"
check "the features model has queued keys at the dump" t \
    "$(q "SELECT count(*) > 0 FROM incmodel.key_queue")"
FIRST_XID=$(q "SELECT pg_current_xact_id()")

DUMP=$CLUSTER_DIR/full.dump
"$PGBIN/pg_dump" -Fc -f "$DUMP" postgres
"$PGBIN/pg_dump" -Fc -f "$CLUSTER_DIR/schemas.dump" --schema=atomic --schema=derived \
    --schema=testkit postgres

# (a) a new database of the same cluster.
log "(a) restore into a new database of the same cluster"
q "CREATE DATABASE restored_a"
if PGDATABASE=restored_a "$PGBIN/pg_restore" --exit-on-error -d restored_a "$DUMP" \
        2>"$CLUSTER_DIR/restore_a.err"; then
    check "(a) the models came along" 4 "$(PGDATABASE=restored_a q "SELECT count(*) FROM incmodel.models")"
    PGDATABASE=restored_a after_restore "(a) same cluster" 0.31 count
else
    fail "(a) pg_restore failed: $(head -c 600 "$CLUSTER_DIR/restore_a.err")"
fi

# (b) a second cluster, initdb'd separately: its xids are far below the recorded snapshots.
log "(b) restore into a second cluster"
second_cluster "$SECOND_DIR"
SECOND_PORT=$(cluster_port "$SECOND_DIR")
SECOND_XID=$(PGHOST=$SECOND_DIR PGPORT=$SECOND_PORT q "SELECT pg_current_xact_id()")
check "the second cluster's xids are below the first's" t \
    "$([ "$SECOND_XID" -lt $((FIRST_XID - XIDS / 2)) ] && echo t || echo f)"
if PGHOST=$SECOND_DIR PGPORT=$SECOND_PORT "$PGBIN/pg_restore" --exit-on-error -d postgres "$DUMP" \
        2>"$CLUSTER_DIR/restore_b.err"; then
    PGHOST=$SECOND_DIR PGPORT=$SECOND_PORT after_restore "(b) second cluster" 0.41 count
else
    fail "(b) pg_restore failed: $(head -c 600 "$CLUSTER_DIR/restore_b.err")"
fi

# (c) a --schema filtered dump: no extension, no catalog. incmodel is created first (the source
# triggers call its functions), then the dump is restored, then the models are created again
# over the restored targets.
log "(c) restore a --schema filtered dump, then create the models over the restored targets"
q "CREATE DATABASE restored_c"
PGDATABASE=restored_c q "CREATE EXTENSION incmodel"
if PGDATABASE=restored_c "$PGBIN/pg_restore" --exit-on-error -d restored_c \
        "$CLUSTER_DIR/schemas.dump" 2>"$CLUSTER_DIR/restore_c.err"; then
    if PGDATABASE=restored_c create_models >/dev/null 2>"$CLUSTER_DIR/create_c.err"; then
        PGDATABASE=restored_c check_models "(c) --schema dump, models created again"
        PGDATABASE=restored_c after_restore "(c) --schema dump" 0.51 log
    else
        fail "(c) create_model over the restored targets failed: $(cat "$CLUSTER_DIR/create_c.err")"
    fi
else
    fail "(c) pg_restore failed: $(head -c 600 "$CLUSTER_DIR/restore_c.err")"
fi

# (d) a dump whose catalog did not come along (as 0.2.0's dumps): the scratch tables did, and the
# new catalog's identity sequence hands their model ids out again. create_model must replace
# those orphans, and the models equal a rebuild.
log "(d) restore without the catalog: create_model over orphaned scratch tables"
q "CREATE DATABASE restored_d"
if PGDATABASE=restored_d "$PGBIN/pg_restore" --exit-on-error -d restored_d "$DUMP" \
        2>"$CLUSTER_DIR/restore_d.err"; then
    PGDATABASE=restored_d q "DELETE FROM incmodel.models; ALTER SEQUENCE incmodel.models_model_id_seq RESTART" >/dev/null
    check "(d) orphaned scratch tables are there" t \
        "$(PGDATABASE=restored_d q "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = 'incmodel_scratch'")"
    if PGDATABASE=restored_d create_models >/dev/null 2>"$CLUSTER_DIR/create_d.err"; then
        PGDATABASE=restored_d check_models "(d) models created again over orphaned scratch tables"
    else
        fail "(d) create_model over orphaned scratch tables failed: $(cat "$CLUSTER_DIR/create_d.err")"
    fi
else
    fail "(d) pg_restore failed: $(head -c 600 "$CLUSTER_DIR/restore_d.err")"
fi

# The original database is unaffected by the restores next to it.
q "CALL incmodel.refresh_all()"
check_models "the original database after the restores"
finish
