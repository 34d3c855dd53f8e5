#!/usr/bin/env bash
# The pending-batches benchmark: the keys and plan steps of a batch model on the two data
# distributions that used to defeat them, against a hand-written optimum.
#   bulk:          the history bulk-loaded under one etl_tstamp (statistics see one batch value
#                  at the whole table), then small batches of B events, one per refresh.
#   backlog_idx:   N pending batches holding E new events in all (a backlog after an outage),
#   backlog_noidx: with and without an index on the batch column.
# Each run loads new batches, then times, each from a fresh connection: CALL incmodel.refresh,
# and the hand-written optimum (hand_refresh below: keys of the new batches into a temp table,
# recompute by the key's index, DELETE + INSERT, one transaction) on its own copy of the target.
# For the backlog cells the old keys predicate (`= ANY ($1::text[]::timestamp[])`) is also timed
# once (run 1, statement_timeout 120 s, reported as 120000 ms when cancelled). Each cell ends with an oracle check (the target equals
# the model query over all events, EXCEPT ALL both ways; exit 1 otherwise). Timings are
# reported (medians and ratios in summary), never asserted.
#
#   bash bench/pending_batches.sh            H=1.2M (bulk: 500k), B=10k, E=200k, N=100,2000
#   bash bench/pending_batches.sh --quick    H=100k, B=2k (steered to the batch index), E=20k, N=20,200 (run-all keeps it working)
#   PB_PORT=P (first port to try)  BENCH_OUT=dir (pending_batches.csv, pending_batches.md)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/test/lib/cluster.sh"
hist=1200000 bulk_hist=500000 bsize=10000 backlog=200000 counts="100 2000" runs=3 old_timeout=120
[ "${1:-}" = "--quick" ] && hist=100000 bulk_hist=100000 bsize=2000 backlog=20000 counts="20 200"
out=${BENCH_OUT:-$repo/bench/out}
mkdir -p "$out"
csv=$out/pending_batches.csv
echo "cell,batches,run,measure,ms" > "$csv"
dir=$(cluster_dir pending)
cleanup() { cluster_stop "$dir" immediate; rm -rf "$dir"; }
trap cleanup EXIT
CLUSTER_PORT=${PB_PORT:-5541} cluster_init "$dir" "shared_preload_libraries = 'incmodel'" \
    "incmodel.maintenance_naptime = 0" "autovacuum = off" "shared_buffers = 512MB" "jit = off"
cluster_start "$dir"
export PGOPTIONS='-c client_min_messages=warning'
psql_q() { cluster_psql "$dir" -q -At -v ON_ERROR_STOP=1 "$@"; }
# The time of one statement from a fresh connection (psql's \timing, ms).
timed() { cluster_psql "$dir" -At -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }

psql_q <<'SQL'
SET client_min_messages = warning;
SET check_function_bodies = off;
CREATE EXTENSION incmodel;
-- The model query, the hand-written target's recompute and the oracle share it.
CREATE FUNCTION sessions_of(keys text[]) RETURNS TABLE (session_id text, first_ts timestamp,
  last_ts timestamp, events bigint, pages bigint) LANGUAGE sql STABLE AS $$
  SELECT sid, min(collector_tstamp), max(collector_tstamp), count(*), count(DISTINCT url)
  FROM events WHERE sid = ANY (keys) GROUP BY sid $$;
-- The hand-written optimum: it knows the new batches (etl_tstamp > last), so it has no plan.
CREATE FUNCTION hand_refresh(target regclass, last timestamp) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMP TABLE hk ON COMMIT DROP AS SELECT DISTINCT sid FROM events WHERE etl_tstamp > last;
  ANALYZE hk;
  EXECUTE format('DELETE FROM %s t USING hk WHERE t.session_id = hk.sid', target);
  EXECUTE format('INSERT INTO %s SELECT * FROM sessions_of(ARRAY(SELECT sid FROM hk))', target);
END $$;
SQL

# A fresh events table: $1 history rows in $2 batches (1: one bulk etl_tstamp), $3 'idx' for
# an index on etl_tstamp; then the model m (window 7 days) and its hand-written copy.
setup_cell() {
    psql_q <<SQL >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS hand; SELECT incmodel.drop_model('m') FROM incmodel.models WHERE name = 'm';
DROP TABLE IF EXISTS events, loaded;
CREATE TABLE events (etl_tstamp timestamp, collector_tstamp timestamp, sid text, url text);
INSERT INTO events SELECT timestamp '2026-01-01' + (i % $2) * interval '1 minute',
  localtimestamp - interval '30 days' + i * (interval '30 days' / $1), 's' || (i / 20), 'u' || (i % 50)
  FROM generate_series(0, $1 - 1) i ORDER BY 1;
CREATE INDEX ON events (sid); CREATE INDEX ON events (collector_tstamp);
$( [ "$3" = idx ] && echo "CREATE INDEX ON events (etl_tstamp);" )
VACUUM ANALYZE events;
CREATE TABLE loaded (n int, last timestamp); INSERT INTO loaded VALUES (0, (SELECT max(etl_tstamp) FROM events));
SELECT incmodel.create_model(name => 'm', query => \$q\$ SELECT sid AS session_id, min(collector_tstamp)
  AS first_ts, max(collector_tstamp) AS last_ts, count(*) AS events, count(DISTINCT url) AS pages
  FROM public.events GROUP BY 1 \$q\$, target => 'public.target', batch_column => 'etl_tstamp',
  window_column => 'collector_tstamp', lookback => interval '7 days');
CALL incmodel.refresh('m');
CREATE TABLE hand AS SELECT * FROM target; CREATE UNIQUE INDEX ON hand (session_id); VACUUM ANALYZE hand;
SQL
}

# Loads $1 events in $2 new batches (after every batch so far), one INSERT per batch as a
# loader catching up writes them; a third of their sessions continue sessions of the history's
# last day, the rest are new; collector time: the last hour.
load() {
    psql_q <<SQL >/dev/null
DO \$\$ DECLARE b int; BEGIN FOR b IN 0 .. $2 - 1 LOOP
INSERT INTO events SELECT l.last + (1 + b) * interval '1 second', localtimestamp - interval '1 hour' + i * (interval '1 hour' / $1),
  CASE WHEN i % 3 = 0 THEN 's' || (($hist_now - 1 - i % 1000) / 20) ELSE 'n' || l.n || '_' || (i / 20) END, 'u' || (i % 50)
  FROM loaded l, generate_series(0, $1 - 1) i WHERE i % $2 = b;
END LOOP; END \$\$;
SQL
}

# One cell: $1 name, $2 history, $3 history batches, $4 idx|noidx, $5 events per run, $6 batches per run.
cell() {
    local name=$1 h=$2 hb=$3 idx=$4 e=$5 n=$6 r last
    hist_now=$h
    setup_cell "$h" "$hb" "$idx"
    for r in $(seq 1 "$runs"); do
        last=$(psql_q -c "SELECT last FROM loaded")
        load "$e" "$n"
        if [ "$r" = 1 ] && [ "$n" -gt 1 ]; then
            local t
            t=$(timed "SET statement_timeout = '${old_timeout}s'; SELECT count(*) FROM (SELECT DISTINCT sid FROM events WHERE etl_tstamp = ANY ((SELECT array_agg(DISTINCT etl_tstamp::text) FROM events WHERE etl_tstamp > '$last')::text[]::timestamp[]) AND collector_tstamp >= now() - interval '7 days') k" 2>/dev/null || true)
            # a statement cancelled by the timeout is reported at the timeout
            echo "$name,$n,$r,old_keys_predicate,${t:-$((old_timeout * 1000))}" >> "$csv"
        fi
        echo "$name,$n,$r,refresh,$(timed "CALL incmodel.refresh('m')")" >> "$csv"
        psql_q -c "SELECT '$name,$n,$r,' || key || ',' || value FROM incmodel.runs, jsonb_each_text(step_ms) WHERE key IN ('plan', 'keys', 'recompute', 'commit') AND run_id = (SELECT max(run_id) FROM incmodel.runs)" >> "$csv"
        echo "$name,$n,$r,hand,$(timed "SELECT hand_refresh('hand', '$last')")" >> "$csv"
        psql_q -c "UPDATE loaded SET n = n + 1, last = (SELECT max(etl_tstamp) FROM events)"
    done
    local diff
    diff=$(psql_q -c "SELECT count(*) FROM ((SELECT * FROM target EXCEPT ALL SELECT * FROM sessions_of(ARRAY(SELECT DISTINCT sid FROM events))) UNION ALL (SELECT * FROM sessions_of(ARRAY(SELECT DISTINCT sid FROM events)) EXCEPT ALL SELECT * FROM target)) d")
    [ "$diff" = 0 ] || { echo "oracle: $name ($n batches): target differs from the model query ($diff rows)"; exit 1; }
}

cell bulk "$bulk_hist" 1 idx "$bsize" 1
for n in $counts; do
    cell backlog_idx "$hist" 100 idx "$backlog" "$n"
    cell backlog_noidx "$hist" 100 noidx "$backlog" "$n"
done

# Medians per cell and measure, and the refresh / hand-written ratio.
psql_q > "$out/pending_batches.md" <<SQL
CREATE TEMP TABLE r (cell text, batches int, run int, measure text, ms float8);
\copy r FROM '$csv' WITH (FORMAT csv, HEADER)
SELECT '| cell | pending batches | refresh ms | plan ms | keys ms | hand-written ms | refresh / hand | old keys predicate ms |';
SELECT '|---|---|---|---|---|---|---|---|';
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', cell, batches, round(m.refresh), round(m.plan),
  round(m.keys), round(m.hand), round((m.refresh / nullif(m.hand, 0))::numeric, 2), coalesce(round(m.old)::text, '-'))
FROM (SELECT cell, batches,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'refresh') AS refresh,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'plan') AS plan,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'keys') AS keys,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'hand') AS hand,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'old_keys_predicate') AS old
  FROM r GROUP BY 1, 2) m
ORDER BY cell, batches;
SQL
cat "$out/pending_batches.md"

# The plot of this distribution (gnuplot, when installed): per cell, the medians of the refresh,
# its plan and keys steps, and the hand-written optimum (ms, log scale): pending_batches.png.
if command -v gnuplot >/dev/null; then
    psql_q -F ' ' > "$dir/pb.dat" <<SQL
CREATE TEMP TABLE r (cell text, batches int, run int, measure text, ms float8);
\copy r FROM '$csv' WITH (FORMAT csv, HEADER)
SELECT '"' || cell || CASE WHEN cell = 'bulk' THEN '' ELSE ' ' || batches END || '"',
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'refresh'),
  coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'plan'), 0.01),
  coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'keys'), 0.01),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'hand')
FROM r GROUP BY cell, batches ORDER BY cell, batches;
SQL
    gnuplot <<GP
set terminal pngcairo noenhanced size 1000,600 font 'DejaVu Sans,11'
set output '$out/pending_batches.png'
set title 'bulk-loaded history and backlogs (bench/pending_batches.sh): medians, fresh connections'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set grid y
set ylabel 'ms (log scale)'
set key outside right top
set xtics rotate by -20
plot '$dir/pb.dat' using 2:xtic(1) title 'incmodel refresh', '' using 3 title 'plan step', \
     '' using 4 title 'keys step', '' using 5 title 'hand-written optimum'
GP
    echo "plot: $out/pending_batches.png"
fi
