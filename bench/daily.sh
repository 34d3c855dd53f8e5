#!/usr/bin/env bash
# The daily-model benchmark: a time-based model (load_column + day_key: events, users and revenue
# per event day and country) against the hand-written equivalent, in two cells:
#   catchup: a model created over D days of history with backfill_limit '1 day' catches up by
#            bounded runs (CALL incmodel.refresh until its upper limit reaches now()); the
#            hand-written equivalent processes the same one-day load ranges.
#   day:     then, R times, a new event day of E events is loaded (one INSERT, load_tstamp =
#            now(); 1% of them belong to the day before) and processed by one run.
# The hand-written equivalent is what a skilled engineer writes: one transaction from a fresh
# connection that finds the event days of the new load range by the load_tstamp index, DELETEs
# those days from its own copy of the target and INSERTs their aggregate read by the
# derived_tstamp (day) index (hand_step below). Every refresh and hand-written step runs in a new
# connection and is timed by psql's \timing; the order of the two alternates between steps.
# Both targets end with an oracle check (EXCEPT ALL both ways against the model query over all
# events; exit 1 if either differs). Timings are reported (daily.csv, daily.md), never asserted.
#
#   bash bench/daily.sh           D=30 days of 100k events (3M), E=1M, R=3
#   bash bench/daily.sh --quick   D=3 days of 20k events, E=20k, R=2 (test/run-all keeps it working)
#   --days D --day-events N --events E --runs R     DAILY_PORT=P (first port to try)
#   --date-index  also an index on the day key's expression ((derived_tstamp::date)); the
#                 refresh's recompute, like the hand-written step, reads derived_tstamp ranges
#   BENCH_OUT=dir (daily.csv, daily.md)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/test/lib/cluster.sh"
days=30 per_day=100000 events=1000000 runs=3 mode=full date_index=0
while [ $# -gt 0 ]; do
    case $1 in
        --quick) days=3 per_day=20000 events=20000 runs=2 mode=quick ;;
        --days) days=$2; shift ;;
        --day-events) per_day=$2; shift ;;
        --events) events=$2; shift ;;
        --runs) runs=$2; shift ;;
        --date-index) date_index=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "bench/daily.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
out=${BENCH_OUT:-$repo/bench/out}
mkdir -p "$out"
csv=$out/daily.csv
echo "cell,step,measure,ms,rows" > "$csv"
: > "$out/daily_steps.txt"   # runs.step_ms of every timed refresh
dir=$(cluster_dir daily)
cleanup() { cluster_stop "$dir" immediate; rm -rf "$dir"; }
trap cleanup EXIT
CLUSTER_PORT=${DAILY_PORT:-5551} cluster_init "$dir" "shared_preload_libraries = 'incmodel'" \
    "incmodel.maintenance_naptime = 0" "incmodel.progress_notices = off" "autovacuum = off" \
    "shared_buffers = 1GB" "jit = off" "max_wal_size = 8GB" "checkpoint_timeout = 30min"
cluster_start "$dir"
export PGOPTIONS='-c client_min_messages=warning'
psql_q() { cluster_psql "$dir" -q -At -v ON_ERROR_STOP=1 "$@"; }
# The time of one statement from a fresh connection (psql's \timing, ms).
timed() { cluster_psql "$dir" -At -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
t0=$(date +%s)
say() { printf '[daily %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

# History: D event days ending 5 days ago (the day cell loads the 4 days after it, and today),
# per_day events a day, each loaded 5 minutes after its event time (so a load range of one day
# also touches the last minutes of the day before).
say "history: $days days of $per_day events"
psql_q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION incmodel;
CREATE TABLE events (load_tstamp timestamptz, derived_tstamp timestamp, user_id text,
  country text, revenue numeric);
CREATE TABLE countries AS SELECT i, 'c' || i AS c FROM generate_series(0, 49) i;
-- The model query (the oracle and the hand-written step use it over a day range).
CREATE FUNCTION days_of(lo timestamp, hi timestamp) RETURNS TABLE (day date, country text,
  events bigint, users bigint, revenue numeric) LANGUAGE sql STABLE AS \$\$
  SELECT derived_tstamp::date, country, count(*), count(DISTINCT user_id), sum(revenue)
  FROM events WHERE derived_tstamp >= lo AND derived_tstamp < hi GROUP BY 1, 2 \$\$;
-- n events of event times spread over [first, first + span), user ids offset by u, loaded at
-- load (NULL: 5 minutes after the event time).
CREATE PROCEDURE gen(n bigint, first timestamp, span interval, u bigint, load timestamptz)
LANGUAGE sql AS \$\$
  INSERT INTO events SELECT coalesce(load, (first + i * (span / n)) + interval '5 min'), first + i * (span / n),
    'u' || (u + (i * 7919) % (n / 4 + 1)), 'c' || (i % 50), (i % 100) / 10.0
  FROM generate_series(0, n - 1) i \$\$;
CREATE TABLE bounds AS SELECT date_trunc('day', localtimestamp) - ($days + 4) * interval '1 day' AS first;
SELECT first FROM bounds \\gset
CALL gen($days::bigint * $per_day, :'first', $days * interval '1 day', 0, NULL);
CREATE INDEX ON events (load_tstamp); CREATE INDEX ON events (derived_tstamp);
$( [ $date_index = 1 ] && echo "CREATE INDEX ON events ((derived_tstamp::date));" )
VACUUM ANALYZE events;
-- The hand-written equivalent's target and state (the upper end of the load range it has done).
CREATE TABLE hand (day date, country text, events bigint, users bigint, revenue numeric,
  PRIMARY KEY (day, country));
CREATE TABLE hand_state AS SELECT first::timestamptz - interval '1 microsecond' AS last FROM bounds;
-- One step of the hand-written equivalent: the load range (last, least(last + step, now())],
-- its event days by the load_tstamp index, DELETE of those days, INSERT of their aggregate read
-- by the derived_tstamp index, one transaction. Returns the days it rewrote.
CREATE FUNCTION hand_step(step interval) RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE lo timestamptz; hi timestamptz; n int;
BEGIN
  SELECT last, least(last + step, now()) INTO lo, hi FROM hand_state;
  CREATE TEMP TABLE hd ON COMMIT DROP AS SELECT DISTINCT derived_tstamp::date AS day FROM events
    WHERE load_tstamp > lo AND load_tstamp <= hi;
  DELETE FROM hand USING hd WHERE hand.day = hd.day;
  INSERT INTO hand SELECT x.* FROM hd, days_of(hd.day, hd.day + 1) x;
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE hand_state SET last = hi;
  RETURN (SELECT count(*) FROM hd);
END \$\$;
SQL
rows=$(psql_q -c "SELECT count(*) FROM events")
say "  $rows events; catch-up: create_model (its first bounded run), then bounded runs"

# catchup: the first run is create_model's (timed with the hand-written first step); then one
# refresh and one hand-written step per one-day range until the model's limit reaches now().
create="SELECT incmodel.create_model(name => 'daily', query => \$q\$ SELECT derived_tstamp::date AS day,
  country, count(*) AS events, count(DISTINCT user_id) AS users, sum(revenue) AS revenue
  FROM public.events GROUP BY 1, 2 \$q\$, target => 'public.target', load_column => 'load_tstamp',
  start_date => (SELECT first FROM bounds), backfill_limit => interval '1 day', day_key => 'day',
  reprocess_days => 7)"
echo "catchup,1,refresh,$(timed "$create"),$(psql_q -c "SELECT coalesce(sum(rows_processed), 0) FROM incmodel.range_manifest")" >> "$csv"
# One refresh and one hand-written step of a cell (CELL, run N), their order alternating with N:
# times and rows into the CSV, the refresh's step_ms into daily_steps.txt.
timed_pair() {
    local cell=$1 i=$2 pair="refresh hand" m ms n
    [ $((i % 2)) = 0 ] && pair="hand refresh"
    for m in $pair; do
        if [ $m = refresh ]; then
            ms=$(timed "CALL incmodel.refresh('daily')")
            n=$(psql_q -c "SELECT rows_processed FROM incmodel.range_manifest ORDER BY upper_limit DESC LIMIT 1")
            psql_q -c "SELECT '$cell,$i,' || step_ms::text FROM incmodel.runs ORDER BY run_id DESC LIMIT 1" >> "$out/daily_steps.txt"
        else
            ms=$(timed "SELECT hand_step('1 day')"); n=0
        fi
        echo "$cell,$i,$m,$ms,$n" >> "$csv"
    done
}

echo "catchup,1,hand,$(timed "SELECT hand_step('1 day')"),0" >> "$csv"
step=1
while psql_q -c "SELECT max(upper_limit) < now() - interval '1 minute' FROM incmodel.range_manifest" | grep -q t; do
    step=$((step + 1))
    [ $step -le $((days + 10)) ] || { echo "daily: catch-up did not finish in $step runs"; exit 1; }
    timed_pair catchup "$step"
done
say "  caught up in $step runs"
# a hand-written step may still lag the model's last limit by the time between them: align it
psql_q -c "SELECT hand_step('1 day')" >/dev/null

# day: a new event day of E events per run (days after the history), loaded in one INSERT
# stamped now(), 1% of them in the last hour of the day before; one run each.
for r in $(seq 1 "$runs"); do
    say "  day cell run $r: loading $events events"
    day=$(psql_q -c "SELECT first + ($days + $r - 1) * interval '1 day' FROM bounds")
    psql_q -c "BEGIN" \
        -c "CALL gen($events - $events / 100, '$day', interval '1 day', 10000000 * $r, now())" \
        -c "CALL gen($events / 100, timestamp '$day' - interval '1 hour', interval '1 hour', 10000000 * $r + 5000000, now())" \
        -c "COMMIT" -c "VACUUM ANALYZE events"
    timed_pair day "$r"
done

# Oracle: the target and the hand-written copy equal the model query over all events.
for t in target hand; do
    diff=$(psql_q -c "SELECT count(*) FROM ((SELECT * FROM $t EXCEPT ALL SELECT * FROM days_of('-infinity', 'infinity')) UNION ALL (SELECT * FROM days_of('-infinity', 'infinity') EXCEPT ALL SELECT * FROM $t)) d")
    [ "$diff" = 0 ] || { echo "oracle: daily $t differs from the model query over all events ($diff rows)"; exit 1; }
done
say "oracle: target and hand-written copy equal the model query ($(psql_q -c 'SELECT count(*) FROM target') rows)"

psql_q > "$out/daily.md" <<SQL
CREATE TEMP TABLE r (cell text, step int, measure text, ms float8, rows bigint);
\copy r FROM '$csv' WITH (FORMAT csv, HEADER)
SELECT format('Daily model (%s mode): catch-up of %s days of %s events by one-day bounded runs; then %s runs of a new day of %s events. Each refresh and hand-written step from a fresh connection (ms).', '$mode', $days, $per_day, $runs, $events);
SELECT '';
SELECT '| cell | runs | refresh median | hand-written median | ratio | refresh total | hand-written total | total ratio |';
SELECT '|---|---:|---:|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', label, n, round(rm::numeric, 1), round(hm::numeric, 1),
  round((rm / nullif(hm, 0))::numeric, 2) || 'x', round(rt), round(ht), round((rt / nullif(ht, 0))::numeric, 2) || 'x')
FROM (SELECT label, ord, count(*) FILTER (WHERE measure = 'refresh') AS n,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'refresh') AS rm,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'hand') AS hm,
        sum(ms) FILTER (WHERE measure = 'refresh') AS rt, sum(ms) FILTER (WHERE measure = 'hand') AS ht
      FROM (SELECT *, CASE WHEN cell = 'day' THEN 'day: a run over one new day' WHEN step = 1
              THEN 'catch-up: create_model (first run) / first step'
              ELSE 'catch-up: bounded runs 2..N' END AS label,
              CASE WHEN cell = 'day' THEN 3 WHEN step = 1 THEN 1 ELSE 2 END AS ord FROM r) x
      GROUP BY label, ord) m
ORDER BY ord;
SQL
cat "$out/daily.md"
