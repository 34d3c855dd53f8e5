#!/usr/bin/env bash
# Randomized soak of the load paths under concurrency, TimeZones and time-based models.
#
# One day-partitioned events source (partitions created as event days arrive) feeds three models
# at once: a batch sessions model (batch column etl_tstamp), a daily model (load_column
# load_tstamp, reprocess_days 1, min_rows_to_process 10, so late rows are skipped and their days
# reprocessed) and an append model (event_key event_id). The models are created in a TimeZone
# drawn from the seed. Several loader clients, each a session with its own TimeZone (the first in
# the models' zone, the others drawn from the seed), stamp load_tstamp (a `timestamp` column) with
# now() or clock_timestamp() as loaders in other zones do: rows of zones west of the models' are
# committed behind the limit (the change log brings them in), rows of zones east of it lie beyond
# the limit until the clock gets there (the oracles stop at the limit too). Each loader runs a
# random mix of transactions:
#   parent     multi-row INSERT through the parent, in two statements with a pause between (in flight)
#   partition  INSERT straight into the day partitions
#   copy       COPY into the parent (a file the same transaction wrote, stamps taken inside it)
#   large      one INSERT ... SELECT of tens of thousands of rows stamped with now() after a pause
#              (its stamps are older than its lock on the source)
#   replica    a load in session_replication_role = replica (through the parent or the partitions)
#   dups       copies of loaded rows (same event_id, later stamp) into their old batch
#   nulls      a load whose batch values are all NULL (every load has ~3% NULL batch values)
#   modify     an UPDATE or a DELETE of a few rows
# Meanwhile a refresh_all loop and a single-refresh loop (skip_locked, each call in a random
# TimeZone) run all along, and the batch model is rebuilt once mid-way. At the end (loaders
# stopped, a last refresh_all): the batch model equals a rebuild (testkit.diff) and accounts for
# every event, the daily model passes testkit.daily_check (the inclusion rule and the ledger), and
# every model's verify() is 'equal'; no run failed; no run is left running; every path was taken.
#
#   bash test/reliability/soak_paths.sh [--quick] [--seed N]   (--quick: 35 s of load; default 180 s,
#                                                               at a slower pace)
# Environment: SOAK_PATHS_SECONDS (load duration), SOAK_PATHS_SEED (default 1).
TEST_NAME=soak_paths
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; SEED=${SOAK_PATHS_SEED:-1}
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1 ;;
        --seed) SEED=$2; shift ;;
        *) echo "usage: soak_paths.sh [--quick] [--seed N]" >&2; exit 2 ;;
    esac
    shift
done
DURATION=${SOAK_PATHS_SECONDS:-$([ $QUICK = 1 ] && echo 35 || echo 180)}
CLIENTS=4
LARGE_ROWS=$([ $QUICK = 1 ] && echo 20000 || echo 40000)
PACE=$([ $QUICK = 1 ] && echo 0 || echo 1)   # seconds (plus a fraction) between a loader's transactions
MODELS="sp_sessions sp_user_days sp_page_views"
# Zones of loaders and refresh sessions: east and west of UTC, half hours, DST and none.
ZONES=(UTC Asia/Tokyo America/Los_Angeles Pacific/Pago_Pago Pacific/Kiritimati Asia/Kolkata
       Europe/Berlin America/St_Johns)
RANDOM=$SEED
MODEL_TZ=${ZONES[RANDOM % 3]}   # UTC, Asia/Tokyo or America/Los_Angeles

start_cluster "timezone = 'UTC'" "max_locks_per_transaction = 256"
log "seed $SEED (re-run with --seed $SEED); models created in TimeZone $MODEL_TZ; ${DURATION}s of load"
install_testkit >/dev/null
q "ALTER DATABASE postgres SET DateStyle = 'ISO'" >/dev/null
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<SQL || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
SET TimeZone = '$MODEL_TZ';
CREATE TABLE atomic.sp_events (LIKE testkit.event_layout) PARTITION BY RANGE (collector_tstamp);
CREATE INDEX ON atomic.sp_events (etl_tstamp);
CREATE INDEX ON atomic.sp_events (load_tstamp);
CREATE INDEX ON atomic.sp_events (domain_sessionid);
CREATE INDEX ON atomic.sp_events (domain_userid);
CREATE INDEX ON atomic.sp_events (event_id);
CREATE SEQUENCE testkit.sp_batch;

-- Partitions of atomic.sp_events for the days of the staged rows that have none yet. Loaders call
-- it in its own transaction before their load (as a loader that creates partitions as days
-- arrive would); the advisory lock serializes concurrent creators.
CREATE FUNCTION testkit.sp_ensure() RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE d date; k int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7313);
  FOR d IN SELECT DISTINCT collector_tstamp::date FROM pg_temp.sp_stage ORDER BY 1 LOOP
    IF to_regclass(format('atomic.%I', 'sp_events_' || to_char(d, 'YYYYMMDD'))) IS NULL THEN
      EXECUTE format('CREATE TABLE atomic.%I PARTITION OF atomic.sp_events FOR VALUES FROM (%L) TO (%L)',
                     'sp_events_' || to_char(d, 'YYYYMMDD'), d, d + 1);
      k := k + 1;
    END IF;
  END LOOP;
  RETURN k;
END \$\$;

-- Stages n generated events of one load (a new batch value; load_tstamp left NULL: the load
-- stamps it) in pg_temp.sp_stage. Event times go back from now (UTC): most within hours, a
-- tail up to 6 days (late rows for reprocess_days 1). Ids are derived from tag (deterministic).
CREATE FUNCTION testkit.sp_gen(tag text, n int, null_batch float8) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE etl timestamp := timestamp '2026-01-01' + nextval('testkit.sp_batch') * interval '1 second';
BEGIN
  IF to_regclass('pg_temp.sp_stage') IS NOT NULL THEN DROP TABLE pg_temp.sp_stage; END IF;
  CREATE TEMP TABLE sp_stage AS
  SELECT i AS ord, 'web'::text AS app_id, 'web'::text AS platform,
         CASE WHEN random() < null_batch THEN NULL ELSE etl END AS etl_tstamp,
         t + random() * interval '10 s' AS collector_tstamp, t - random() * interval '5 s' AS dvce_created_tstamp,
         t AS dvce_sent_tstamp, t AS derived_tstamp, NULL::timestamp AS load_tstamp,
         CASE WHEN random() < 0.7 THEN 'page_view' ELSE 'page_ping' END AS event,
         'e'::text AS event_name, md5(tag || ':' || i)::uuid AS event_id, u AS domain_userid,
         CASE WHEN random() < 0.02 THEN NULL ELSE u || '.' || (random() * 3)::int END AS domain_sessionid,
         1 AS domain_sessionidx, NULL::text AS user_id, NULL::text AS network_userid,
         '/p' || (random() * 20)::int AS page_url, NULL::text AS page_title, NULL::text AS page_referrer,
         NULL::text AS refr_medium, 'US'::text AS geo_country, NULL::text AS br_family,
         NULL::text AS os_family, NULL::text AS dvce_type,
         CASE WHEN random() < 0.2 THEN round((random() * 100)::numeric, 2) END::numeric(18,2) AS tr_total
  FROM (SELECT i, 'u' || (random() * 300)::int AS u,
               (now() AT TIME ZONE 'UTC') - CASE WHEN random() < 0.75 THEN random() * interval '8 hours'
                                               ELSE random() * interval '6 days' END AS t
        FROM generate_series(1, n) i) g;
  RETURN n;
END \$\$;

-- The staged rows ord in [lo, hi) (of day d when given), stamped the way the loader stamps:
-- now() or clock_timestamp() cast to timestamp in the session's TimeZone.
CREATE FUNCTION testkit.sp_take(mode text, lo int DEFAULT 0, hi int DEFAULT 2147483647, d date DEFAULT NULL)
RETURNS SETOF testkit.event_layout LANGUAGE plpgsql AS \$\$
BEGIN
  RETURN QUERY SELECT s.app_id, s.platform, s.etl_tstamp, s.collector_tstamp, s.dvce_created_tstamp,
    s.dvce_sent_tstamp, s.derived_tstamp,
    CASE mode WHEN 'now' THEN now()::timestamp ELSE clock_timestamp()::timestamp END,
    s.event, s.event_name, s.event_id, s.domain_userid, s.domain_sessionid, s.domain_sessionidx,
    s.user_id, s.network_userid, s.page_url, s.page_title, s.page_referrer, s.refr_medium,
    s.geo_country, s.br_family, s.os_family, s.dvce_type, s.tr_total
  FROM pg_temp.sp_stage s WHERE s.ord >= lo AND s.ord < hi AND (d IS NULL OR s.collector_tstamp::date = d);
END \$\$;

-- The staged rows straight into their day partitions, one INSERT per partition.
CREATE FUNCTION testkit.sp_into_partitions(mode text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE d date;
BEGIN
  FOR d IN SELECT DISTINCT collector_tstamp::date FROM pg_temp.sp_stage ORDER BY 1 LOOP
    EXECUTE format('INSERT INTO atomic.%I SELECT * FROM testkit.sp_take(\$1, 0, 2147483647, \$2)',
                   'sp_events_' || to_char(d, 'YYYYMMDD')) USING mode, d;
  END LOOP;
END \$\$;

-- A loaded batch drawn at random (its rows may have been deleted or rolled back: then none).
CREATE FUNCTION testkit.sp_some_batch() RETURNS timestamp LANGUAGE sql AS \$\$
  SELECT timestamp '2026-01-01' + (1 + floor(random() * last_value))::int * interval '1 second'
  FROM testkit.sp_batch \$\$;

-- Copies of up to k rows of a loaded batch, loaded again into that batch (the batch grows, the
-- events get later duplicates with another page_url and device time).
CREATE FUNCTION testkit.sp_dups(mode text, k int) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
  INSERT INTO atomic.sp_events
  SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp + interval '1 ms',
    dvce_sent_tstamp, derived_tstamp,
    CASE mode WHEN 'now' THEN now()::timestamp ELSE clock_timestamp()::timestamp END,
    event, event_name, event_id, domain_userid, domain_sessionid, domain_sessionidx, user_id,
    network_userid, page_url || '?dup', page_title, page_referrer, refr_medium, geo_country,
    br_family, os_family, dvce_type, tr_total
  FROM atomic.sp_events WHERE etl_tstamp = testkit.sp_some_batch() LIMIT k;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END \$\$;

-- A few rows of a loaded batch changed (UPDATE of metrics) or deleted.
CREATE FUNCTION testkit.sp_modify(del boolean) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE b timestamp := testkit.sp_some_batch(); n bigint;
BEGIN
  IF del THEN
    DELETE FROM atomic.sp_events WHERE etl_tstamp = b AND abs(hashtext(event_id::text)) % 7 = 0;
  ELSE
    UPDATE atomic.sp_events SET tr_total = coalesce(tr_total, 0) + 1, page_url = page_url || '#u'
     WHERE etl_tstamp = b AND abs(hashtext(event_id::text)) % 7 = 0;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END \$\$;

-- The three models, created over a first load.
SELECT setseed(0.5);
SELECT testkit.sp_gen('init', 500, 0.03);
SELECT testkit.sp_ensure();
INSERT INTO atomic.sp_events SELECT * FROM testkit.sp_take('now');
SELECT incmodel.create_model('sp_sessions', \$q\$
  SELECT domain_sessionid AS session_id, count(*) AS events, min(derived_tstamp) AS start_tstamp,
         max(derived_tstamp) AS end_tstamp, count(DISTINCT page_url) AS pages, sum(tr_total) AS revenue
  FROM atomic.sp_events GROUP BY 1 \$q\$, 'derived.sp_sessions', 'etl_tstamp') > 0;
SELECT incmodel.create_model(name => 'sp_user_days', query => \$q\$
  SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events,
         count(DISTINCT page_url) AS pages, sum(tr_total) AS revenue
  FROM atomic.sp_events GROUP BY 1, 2 \$q\$, target => 'derived.sp_user_days',
  load_column => 'load_tstamp', start_date => now() - interval '3 days', day_key => 'day',
  reprocess_days => 1, min_rows_to_process => 10) > 0;
SELECT incmodel.create_model(name => 'sp_page_views', query => \$q\$
  SELECT event_id, domain_userid, domain_sessionid, page_url, derived_tstamp
  FROM atomic.sp_events WHERE event = 'page_view' \$q\$, target => 'derived.sp_page_views',
  load_column => 'load_tstamp', start_date => now() - interval '3 days', strategy => 'append',
  event_key => 'event_id') > 0;
SQL

STOP=$CLUSTER_DIR/stop
END_AT=$(( $(date +%s) + DURATION ))
OPS=(parent partition copy large replica dups nulls modify)

# psql with a bound on every call (a hung call ends the test instead of hanging it).
bq() { timeout 300 "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# The SQL of one loader transaction: OP, its stamp mode, its random numbers.
load_sql() {  # load_sql OP MODE TAG SEEDVAL R1 R2
    local op=$1 mode=$2 tag=$3 sd=$4 r1=$5 r2=$6 n=$(( 50 + $5 % 350 ))
    echo "SELECT setseed($sd);"
    case $op in
        large) echo "SELECT testkit.sp_gen('$tag', $LARGE_ROWS, 0.03);" ;;
        nulls) echo "SELECT testkit.sp_gen('$tag', $n, 1);" ;;
        dups|modify) ;;
        *) echo "SELECT testkit.sp_gen('$tag', $n, 0.03);" ;;
    esac
    case $op in dups|modify) ;; *) echo "SELECT testkit.sp_ensure();" ;; esac
    echo "BEGIN;"
    case $op in
        parent|nulls)
            echo "INSERT INTO atomic.sp_events SELECT * FROM testkit.sp_take('$mode', 0, $((n / 2)));"
            echo "SELECT pg_sleep(0.$((r2 % 4)));"
            echo "INSERT INTO atomic.sp_events SELECT * FROM testkit.sp_take('$mode', $((n / 2)));" ;;
        partition) echo "SELECT testkit.sp_into_partitions('$mode');" ;;
        copy)
            echo "COPY (SELECT * FROM testkit.sp_take('$mode')) TO '$CLUSTER_DIR/copy_$tag.tsv';"
            echo "COPY atomic.sp_events FROM '$CLUSTER_DIR/copy_$tag.tsv';" ;;
        large)
            echo "SELECT pg_sleep(0.$((2 + r2 % 5)));"
            echo "INSERT INTO atomic.sp_events SELECT * FROM testkit.sp_take('now');" ;;
        replica)
            echo "SET LOCAL session_replication_role = replica;"
            if [ $((r2 % 2)) = 0 ]; then echo "INSERT INTO atomic.sp_events SELECT * FROM testkit.sp_take('$mode');"
            else echo "SELECT testkit.sp_into_partitions('$mode');"; fi ;;
        dups) echo "SELECT testkit.sp_dups('$mode', $(( 5 + r2 % 40 )));" ;;
        modify) echo "SELECT testkit.sp_modify($([ $((r2 % 2)) = 0 ] && echo true || echo false));" ;;
    esac
    echo "COMMIT;"
}

# loader CLIENT: random transactions until the load time is over; counts per op and errors.
loader() {
    local c=$1 tx=0 errors=0 op mode r1 r2 w
    RANDOM=$((SEED * 1000 + c))
    local tz=${ZONES[RANDOM % ${#ZONES[@]}]}
    [ "$c" = 1 ] && tz=$MODEL_TZ   # one loader in the models' zone: its rows take the in-limit path
    declare -A done=()
    echo "$tz" >"$CLUSTER_DIR/loader_$c.tz"
    while [ ! -e "$STOP" ] && [ "$(date +%s)" -lt "$END_AT" ]; do
        tx=$((tx + 1)); w=$((RANDOM % 100)); r1=$RANDOM; r2=$RANDOM
        # weights: parent 26, partition 16, copy 16, large 3, replica 13, dups 16, nulls 7, modify 3
        if   [ $w -lt 26 ]; then op=parent; elif [ $w -lt 42 ]; then op=partition
        elif [ $w -lt 58 ]; then op=copy;   elif [ $w -lt 61 ]; then op=large
        elif [ $w -lt 74 ]; then op=replica; elif [ $w -lt 90 ]; then op=dups
        elif [ $w -lt 97 ]; then op=nulls;  else op=modify; fi
        mode=$([ $((r1 % 2)) = 0 ] && echo now || echo clock)
        if { echo "SET TimeZone = '$tz';"; load_sql $op $mode "c${c}t$tx" "0.$((SEED % 1000))$c$((tx % 97))" $r1 $r2; } \
            | bq -f - >>"$CLUSTER_DIR/loader_$c.log" 2>&1; then
            rm -f "$CLUSTER_DIR/copy_c${c}t$tx.tsv"
            done[$op]=$(( ${done[$op]:-0} + 1 ))
        else
            errors=$((errors + 1)); echo "(client $c tx $tx op $op failed)" >>"$CLUSTER_DIR/loader_$c.log"
        fi
        sleep "$PACE.$((2 + RANDOM % 5))"
    done
    { echo "$tx $errors"; for op in "${!done[@]}"; do echo "$op ${done[$op]}"; done; } >"$CLUSTER_DIR/loader_$c.count"
}

# refresher KIND: refresh_all (with or without skip_locked) or single refreshes of random models
# with skip_locked, each call in a random TimeZone, until the loaders are done.
refresher() {
    local kind=$1 n=0 errors=0 tz sql m
    RANDOM=$((SEED * 1000 + 900 + ${#kind}))
    local models=($MODELS)
    while [ ! -e "$STOP" ]; do
        tz=${ZONES[RANDOM % ${#ZONES[@]}]}
        if [ "$kind" = all ]; then
            sql="CALL incmodel.refresh_all(skip_locked => $([ $((RANDOM % 2)) = 0 ] && echo true || echo false))"
        else
            m=${models[RANDOM % 3]}; sql="CALL incmodel.refresh('$m', skip_locked => true)"
        fi
        if bq -c "SET TimeZone = '$tz'" -c "$sql" >>"$CLUSTER_DIR/refresh_$kind.log" 2>&1; then n=$((n + 1))
        else errors=$((errors + 1)); echo "($sql in $tz failed)" >>"$CLUSTER_DIR/refresh_$kind.log"; fi
        sleep "0.$((3 + RANDOM % 7))"
    done
    echo "$n $errors" >"$CLUSTER_DIR/refresh_$kind.count"
}

log "loading with $CLIENTS clients (zones drawn from the seed) while refresh_all and single refreshes run"
pids=()
for c in $(seq 1 $CLIENTS); do loader "$c" & pids+=($!); done
refresher all & rall=$!
refresher one & rone=$!
rebuilt=0
for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null; do
        if [ $rebuilt = 0 ] && [ "$(date +%s)" -ge $((END_AT - DURATION / 2)) ]; then
            bq -c "SELECT incmodel.rebuild('sp_sessions')" >/dev/null 2>>"$CLUSTER_DIR/rebuild.log" \
                && log "rebuilt sp_sessions mid-run" || fail "the mid-run rebuild of sp_sessions failed"
            rebuilt=1
        fi
        sleep 1
    done
done
wait "${pids[@]}"
touch "$STOP"; wait $rall $rone

# What ran: per client its zone, transactions, failures and ops; per refresher its calls.
declare -A total=()
for c in $(seq 1 $CLIENTS); do
    { read -r tx errors; while read -r op k; do total[$op]=$(( ${total[$op]:-0} + k )); done; } <"$CLUSTER_DIR/loader_$c.count"
    log "loader $c (TimeZone $(cat "$CLUSTER_DIR/loader_$c.tz")): $tx transactions, $errors failed"
    check "loader $c: no load transaction failed" 0 "$errors"
done
log "load paths taken: $(for op in "${OPS[@]}"; do printf '%s=%s ' "$op" "${total[$op]:-0}"; done)"
for op in "${OPS[@]}"; do [ "${total[$op]:-0}" -gt 0 ] || fail "load path $op was never taken (seed $SEED)"; done
for kind in all one; do
    read -r n errors <"$CLUSTER_DIR/refresh_$kind.count"
    log "refresher $kind: $n calls, $errors failed"
    check "refresher $kind: no refresh call failed" 0 "$errors"
    [ "$n" -gt 3 ] || fail "refresher $kind: only $n refresh calls ran"
done

# The final state: one last refresh_all, then every target against its oracle, in the models'
# TimeZone (daily_check converts the model's upper limit to the load column's type).
bq -c "CALL incmodel.refresh_all()" >/dev/null 2>"$CLUSTER_DIR/final_refresh.log" \
    || { cat "$CLUSTER_DIR/final_refresh.log"; fail "the last refresh_all failed"; }
check "sp_sessions: target equals a full rebuild (extra missing)" "0 0" "$(diff_of sp_sessions)"
# Every loaded event is in the manifest once: per batch value (the NULL batch too), the manifest
# count equals the source's rows; the first few differences are named.
check "sp_sessions: every batch's manifest count equals its rows in the source" none "$(q "
    SELECT coalesce(string_agg(b || ': source ' || sc || ', manifest ' || mc, '; '), 'none')
    FROM (SELECT coalesce(s.b, mf.batch_value) AS b, coalesce(s.c, 0) AS sc, coalesce(mf.event_count, 0) AS mc
          FROM (SELECT coalesce(etl_tstamp::text, '(null)') AS b, count(*) AS c FROM atomic.sp_events GROUP BY 1) s
          FULL JOIN (SELECT coalesce(mf.batch_value, '(null)') AS batch_value, mf.event_count FROM incmodel.manifest mf
                     JOIN incmodel.models m USING (model_id) WHERE m.name = 'sp_sessions') mf
            ON mf.batch_value = s.b
          WHERE coalesce(s.c, 0) <> coalesce(mf.event_count, 0) LIMIT 5) d")"
daily=$(qf -c "SET TimeZone = '$MODEL_TZ'" -c "SELECT testkit.daily_check('sp_user_days', 'final')" 2>&1) || true
check "sp_user_days: testkit.daily_check (inclusion rule and ledger)" "final: ok" "$daily"
for m in $MODELS; do
    check "$m: verify() after the last refresh" equal \
        "$(qf -c "SET client_min_messages = warning" -c "SELECT result FROM incmodel.verify('$m')" 2>&1)"
done
log "loaded: $(q "SELECT count(*) || ' events, ' || count(DISTINCT etl_tstamp) || ' batches, ' ||
                          count(*) FILTER (WHERE etl_tstamp IS NULL) || ' with a NULL batch value' FROM atomic.sp_events"), $(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'atomic.sp_events'::regclass") partitions"
log "runs: $(q "SELECT string_agg(model_name || ' ' || kind || ':' || outcome || '=' || n, ', ' ORDER BY 1)
                FROM (SELECT model_name, kind, outcome, count(*) n FROM incmodel.runs GROUP BY 1, 2, 3) r")"
log "time-based runs: $(q "SELECT string_agg(model_name || ': rows behind the limit ' || b || ', late rows ' || l ||
                                   ', days reprocessed ' || d, '; ' ORDER BY model_name)
    FROM (SELECT model_name, coalesce(sum(rows_behind_limit), 0) b, coalesce(sum(late_rows), 0) l,
                 coalesce(sum(days_reprocessed), 0) d FROM incmodel.runs
          WHERE model_name IN ('sp_user_days', 'sp_page_views') GROUP BY 1) r")"
# The daily model's late-row rule was exercised by the loads, not only by the first run.
check "sp_user_days: refreshes after creation skipped late rows" t \
    "$(q "SELECT coalesce(sum(late_rows), 0) > 0 FROM incmodel.runs WHERE model_name = 'sp_user_days'
            AND kind = 'refresh' AND run_id > (SELECT min(run_id) FROM incmodel.runs WHERE model_name = 'sp_user_days')")"
check "no run failed" "" "$(q "SELECT string_agg(model_name || ' ' || kind || ': ' || coalesce(error_sqlstate || ' ' || error_message, '?'), '; ')
                               FROM incmodel.runs WHERE outcome = 'failed'")"
check "no run left running" 0 "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'running'")"
check "refreshes ran incrementally (success runs of kind refresh for every model)" 3 \
    "$(q "SELECT count(DISTINCT model_name) FROM incmodel.runs WHERE kind = 'refresh' AND outcome = 'success'")"
[ "$FAILURES" -gt 0 ] && { tail -n 15 "$CLUSTER_DIR"/loader_*.log "$CLUSTER_DIR"/refresh_*.log; log "seed was $SEED"; }
finish
