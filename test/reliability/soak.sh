#!/usr/bin/env bash
# Bounded soak: no event is lost or counted twice while loads and refreshes run continuously.
#
# Several pgbench clients load synthetic batches (tools/eventgen through COPY FROM PROGRAM) into
# one source: most transactions load a new batch, sleep, then add more rows to the same batch
# before committing (so refreshes plan while batches are in flight); some append late rows to an
# existing batch (so batches already in a manifest grow). Meanwhile three models over that source
# are refreshed on a short interval by three independent loops, and one full rebuild runs in the
# middle. While it runs, a checker verifies in REPEATABLE READ snapshots that no manifest ever
# claims more events of a batch than the source holds. At the end, after one final refresh per
# model: every target equals a full rebuild, sum(manifest event_count) = count(*) of the source
# with a batch value for every model, no run failed and none is left running.
#
#   bash test/reliability/soak.sh [--quick]     (--quick: 45 s of load; default: 240 s)
TEST_NAME=soak
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
as_postgres "$@"
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
DURATION=${SOAK_SECONDS:-$([ $QUICK = 1 ] && echo 45 || echo 240)}
CLIENTS=4
RATE=$([ $QUICK = 1 ] && echo 8 || echo 6)    # load transactions per second, all clients together
MODELS="soak_sessions soak_countries soak_pages"

start_cluster
install_testkit >/dev/null
qf >/dev/null 2>"$CLUSTER_DIR/setup.err" <<'SQL' || { cat "$CLUSTER_DIR/setup.err"; fail "setup failed"; finish; }
SELECT testkit.make_events('atomic.soak');
CREATE INDEX ON atomic.soak (geo_country);
CREATE INDEX ON atomic.soak (page_url);
CREATE SEQUENCE testkit.batch_seq;
-- Loads one new batch (a distinct etl_tstamp) of generated events; returns its etl_tstamp.
CREATE FUNCTION testkit.load_batch(events int) RETURNS timestamp LANGUAGE plpgsql AS $$
DECLARE n bigint := nextval('testkit.batch_seq'); etl timestamp;
BEGIN
  PERFORM testkit.generate('atomic.soak', format(
    '--seed %s --events %s --batches 1 --days 0.01 --start %L --late-fraction 0 --dup-fraction 0.02',
    n, events, to_char(timestamp '2026-01-01' + n * interval '1 hour', 'YYYY-MM-DD HH24:MI:SS')));
  SELECT max(etl_tstamp) INTO etl FROM atomic.soak
   WHERE collector_tstamp >= timestamp '2026-01-01' + n * interval '1 hour'
     AND collector_tstamp < timestamp '2026-01-01' + (n + 1) * interval '1 hour';
  RETURN etl;
END $$;
-- Appends copies (new event ids) of some rows of a batch: the batch grows.
CREATE FUNCTION testkit.grow_batch(etl timestamp, rows int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE k bigint;
BEGIN
  INSERT INTO atomic.soak SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp,
    dvce_sent_tstamp, derived_tstamp, load_tstamp, event, event_name, gen_random_uuid(), domain_userid,
    domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer,
    refr_medium, geo_country, br_family, os_family, dvce_type, tr_total
  FROM atomic.soak WHERE etl_tstamp = etl LIMIT rows;
  GET DIAGNOSTICS k = ROW_COUNT;
  RETURN k;
END $$;
CREATE FUNCTION testkit.grow_random_batch(rows int) RETURNS bigint LANGUAGE sql AS $$
  SELECT testkit.grow_batch((SELECT etl_tstamp FROM atomic.soak TABLESAMPLE SYSTEM (5)
                             WHERE etl_tstamp IS NOT NULL LIMIT 1), rows) $$;
-- A manifest never claims more events of a batch than the source holds (in one snapshot).
CREATE FUNCTION testkit.over_claims() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM incmodel.manifest mf
  LEFT JOIN (SELECT etl_tstamp::text AS b, count(*) AS c FROM atomic.soak
             WHERE etl_tstamp IS NOT NULL GROUP BY 1) s ON s.b = mf.batch_value
  WHERE mf.event_count > coalesce(s.c, 0) $$;
SET DateStyle = 'ISO';
SELECT testkit.load_batch(500) IS NOT NULL;
SELECT incmodel.create_model('soak_sessions',
  $$ SELECT domain_sessionid AS session_id, count(*) AS events, min(derived_tstamp) AS start_tstamp,
            max(derived_tstamp) AS end_tstamp, count(DISTINCT page_url) AS pages
     FROM atomic.soak GROUP BY 1 $$, 'derived.soak_sessions', 'etl_tstamp') > 0;
SELECT incmodel.create_model('soak_countries',
  $$ SELECT geo_country, count(*) AS events, count(DISTINCT domain_userid) AS users,
            sum(tr_total) AS revenue
     FROM atomic.soak GROUP BY 1 $$, 'derived.soak_countries', 'etl_tstamp') > 0;
SELECT incmodel.create_model('soak_pages',
  $$ SELECT page_url, count(*) AS views, count(DISTINCT domain_sessionid) AS sessions
     FROM atomic.soak GROUP BY 1 $$, 'derived.soak_pages', 'etl_tstamp') > 0;
SQL
q "ALTER DATABASE postgres SET DateStyle = 'ISO'" >/dev/null

# pgbench scripts: an in-flight load (batch loaded, sleep, the same batch grows, commit) and a
# late append to an existing batch.
cat >"$CLUSTER_DIR/load.sql" <<'SQL'
BEGIN;
SELECT extract(epoch FROM testkit.load_batch(200)) AS etl \gset
SELECT pg_sleep(random() * 0.5);
SELECT testkit.grow_batch(timestamp 'epoch' + :etl * interval '1 second', 20);
COMMIT;
SQL
cat >"$CLUSTER_DIR/late.sql" <<'SQL'
SELECT testkit.grow_random_batch(10);
SQL

log "loading for ${DURATION}s with $CLIENTS clients at $RATE tx/s; refreshing $MODELS every ~1 s"
"$PGBIN/pgbench" -n -c $CLIENTS -j 2 -R $RATE -T "$DURATION" \
    -f "$CLUSTER_DIR/load.sql@4" -f "$CLUSTER_DIR/late.sql@1" >"$CLUSTER_DIR/pgbench.out" 2>&1 &
PGBENCH=$!

STOP=$CLUSTER_DIR/stop
refresh_loop() {  # refresh_loop MODEL
    local n=0 errors=0
    while [ ! -e "$STOP" ]; do
        if "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CALL incmodel.refresh('$1')" \
               >>"$CLUSTER_DIR/refresh_$1.log" 2>&1; then n=$((n + 1)); else errors=$((errors + 1)); fi
        sleep 1
    done
    echo "$n $errors" >"$CLUSTER_DIR/refresh_$1.count"
}
for m in $MODELS; do refresh_loop "$m" & done

checks=0; bad_claims=0; rebuilt=0; start=$(date +%s)
while kill -0 $PGBENCH 2>/dev/null; do
    sleep 2
    c=$(qf -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT testkit.over_claims()" -c "COMMIT")
    checks=$((checks + 1))
    [ "$c" = 0 ] || { bad_claims=$((bad_claims + 1)); log "a manifest claims more events than the source holds ($c batches)"; }
    if [ $rebuilt = 0 ] && [ $(( $(date +%s) - start )) -ge $((DURATION / 2)) ]; then
        q "SELECT incmodel.rebuild('soak_countries')" >/dev/null && log "rebuilt soak_countries mid-soak"
        rebuilt=1
    fi
done
wait $PGBENCH && pgbench_ok=0 || pgbench_ok=$?
touch "$STOP"; wait
check "pgbench load ran without errors" 0 "$pgbench_ok"
grep -E "^(number of transactions actually processed|number of failed|tps)" "$CLUSTER_DIR/pgbench.out" | sed 's/^/    pgbench: /' || true
check "no manifest ever claimed events the source did not hold ($checks snapshots)" 0 "$bad_claims"

for m in $MODELS; do
    read -r n errors <"$CLUSTER_DIR/refresh_$m.count"
    log "$m: $n refreshes during the soak, $errors failed"
    check "$m: no refresh failed during the soak" 0 "$errors"
    [ "$n" -gt 3 ] || fail "$m: only $n refreshes ran during the soak"
    q "CALL incmodel.refresh('$m')"
    check "$m: target equals a full rebuild" "0 0" "$(diff_of "$m")"
    check "$m: every loaded event is accounted for in the manifest" t \
        "$(q "SELECT source_events = manifest_events FROM testkit.accounting('$m')")"
done
log "loaded: $(q "SELECT count(DISTINCT etl_tstamp) || ' batches, ' || count(*) || ' events' FROM atomic.soak")"
check "no run failed" 0 "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'failed'")"
check "no run left running" 0 "$(q "SELECT count(*) FROM incmodel.runs WHERE outcome = 'running'")"
log "runs: $(q "SELECT string_agg(outcome || '=' || n, ', ' ORDER BY outcome) FROM (SELECT outcome, count(*) n FROM incmodel.runs GROUP BY 1) r")"
[ "$FAILURES" -gt 0 ] && tail -n 20 "$CLUSTER_DIR"/refresh_*.log
finish
