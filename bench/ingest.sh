#!/usr/bin/env bash
# Ingest overhead of incmodel's change capture: COPY of N events into a source with models
# defined (the capture triggers) against an identical source without, in interleaved rounds, for
# a plain source and for a day-partitioned one (COPY through the parent, and straight into a
# partition, which the pre-commit flush logs); and the same N events streamed into a plain
# source as INSERT statements of 10 rows each, one transaction each (as streaming loaders write
# them; N/10 statements from one psql connection, timed as the wall time of that psql).
# Prints the median milliseconds and the ratios (reported, never asserted).
#
#   bash bench/ingest.sh                 100k events, 9 rounds
#   bash bench/ingest.sh --events N --rounds R --port P (the first port to try)
#
# Started as root it runs its throwaway cluster (test/lib/cluster.sh) as `postgres`; the cluster
# listens only on a Unix socket in its temp dir and is stopped at exit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/test/lib/cluster.sh"
events=100000 rounds=9 port=5537
while [ $# -gt 0 ]; do
    case $1 in
        --events) events=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --port) port=$2; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "bench/ingest.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
tmp=$(cluster_dir ingest)
cleanup() { cluster_stop "$tmp" immediate; rm -rf "$tmp"; }
trap cleanup EXIT
CLUSTER_PORT=$port cluster_init "$tmp" "incmodel.progress_notices = off" "autovacuum = off" \
    "shared_buffers = 1GB" "jit = off"
cluster_start "$tmp"
sql() { cluster_psql "$tmp" -q -At -v ON_ERROR_STOP=1 "$@"; }

"$repo/tools/eventgen/incmodel-eventgen" --seed 7 --events "$events" --batches 1 --days 1 \
    --start '2026-01-01' > "$tmp/events.tsv"
chmod a+r "$tmp/events.tsv"
# Sources: plain with and without models; partitioned by collector day with and without.
sql >/dev/null <<SQL
CREATE EXTENSION incmodel;
CREATE SCHEMA atomic; CREATE SCHEMA derived;
\set events_table atomic.layout
\ir $repo/tools/eventgen/events_table.sql
CREATE TABLE atomic.plain_off (LIKE atomic.layout);
CREATE TABLE atomic.plain_on (LIKE atomic.layout);
CREATE TABLE atomic.part_off (LIKE atomic.layout) PARTITION BY RANGE (collector_tstamp);
CREATE TABLE atomic.part_on (LIKE atomic.layout) PARTITION BY RANGE (collector_tstamp);
CREATE TABLE atomic.part_off_d PARTITION OF atomic.part_off FOR VALUES FROM ('2025-12-01') TO ('2026-03-01');
CREATE TABLE atomic.part_on_d PARTITION OF atomic.part_on FOR VALUES FROM ('2025-12-01') TO ('2026-03-01');
CREATE INDEX ON atomic.plain_off (etl_tstamp); CREATE INDEX ON atomic.plain_on (etl_tstamp);
CREATE INDEX ON atomic.part_off (etl_tstamp); CREATE INDEX ON atomic.part_on (etl_tstamp);
CREATE TABLE atomic.stream_off (LIKE atomic.layout);
CREATE TABLE atomic.stream_on (LIKE atomic.layout);
CREATE INDEX ON atomic.stream_off (etl_tstamp); CREATE INDEX ON atomic.stream_on (etl_tstamp);
SET client_min_messages = warning;
SELECT incmodel.create_model('plain_sessions', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.plain_on GROUP BY 1', 'derived.plain_sessions', 'etl_tstamp');
SELECT incmodel.create_model('stream_sessions', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.stream_on GROUP BY 1', 'derived.stream_sessions', 'etl_tstamp');
SELECT incmodel.create_model('part_sessions', 'SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.part_on GROUP BY 1', 'derived.part_sessions', 'etl_tstamp');
SQL
# The streamed form of the same events: INSERT ... VALUES of 10 rows each (literals, as a loader's
# driver sends them), into the table named TABLE (replaced per target).
sql >/dev/null <<SQL
CREATE TABLE atomic.src (LIKE atomic.layout);
COPY atomic.src FROM '$tmp/events.tsv';
COPY (SELECT 'INSERT INTO TABLE VALUES ' || string_agg(v, ', ' ORDER BY n) || ';'
      FROM (SELECT row_number() OVER () - 1 AS n, '(' || (SELECT string_agg(coalesce(quote_literal(e.value), 'NULL'), ', ' ORDER BY e.o)
              FROM json_each_text(row_to_json(s)) WITH ORDINALITY e(key, value, o)) || ')' AS v
            FROM atomic.src s) r
      GROUP BY n / 10 ORDER BY n / 10) TO '$tmp/stream.sql';
DROP TABLE atomic.src;
SQL
for t in stream_off stream_on; do
    sed "s/^INSERT INTO TABLE /INSERT INTO atomic.$t /" "$tmp/stream.sql" > "$tmp/$t.sql"
done
chmod a+r "$tmp"/*.sql

# One timed stream: every statement in its own transaction (psql's autocommit), wall time in ms;
# the table is emptied outside the timing.
timed_stream() {
    local table=$1 t0 t1
    t0=$(date +%s%N)
    sql -f "$tmp/$table.sql" >/dev/null
    t1=$(date +%s%N)
    sql -c "DELETE FROM atomic.$table" -c "VACUUM atomic.$table" >/dev/null 2>&1
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e6 }'
}

# One timed COPY; the table is emptied outside the timing (DELETE: TRUNCATE would be a logged
# modification, and the next COPY would then pay nothing different).
timed_copy() {
    local table=$1
    local ms
    ms=$(sql -c '\timing on' -c "COPY $table FROM '$tmp/events.tsv'" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    sql -c "DELETE FROM $table" -c "VACUUM $table" >/dev/null 2>&1
    echo "$ms"
}
declare -A samples
for r in $(seq 1 "$rounds"); do
    # Alternate which of a pair goes first, so that neither profits from a warmer cache.
    order="plain_off plain_on part_off part_on part_off_d part_on_d"
    [ $((r % 2)) = 0 ] && order="plain_on plain_off part_on part_off part_on_d part_off_d"
    for t in $order; do
        samples[$t]+="$(timed_copy atomic.$t) "
    done
    spair="stream_off stream_on"; [ $((r % 2)) = 0 ] && spair="stream_on stream_off"
    for t in $spair; do
        samples[$t]+="$(timed_stream "$t") "
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '| COPY of %s events into | without models (ms) | with models (ms) | ratio |\n|---|---|---|---|\n' "$events"
for pair in "plain:plain_off:plain_on" "partitioned, through the parent:part_off:part_on" \
            "a partition, directly:part_off_d:part_on_d"; do
    IFS=: read -r label off on <<<"$pair"
    a=$(echo "${samples[$off]}" | median); b=$(echo "${samples[$on]}" | median)
    printf '| %s | %s | %s | %.3f |\n' "$label" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
a=$(echo "${samples[stream_off]}" | median); b=$(echo "${samples[stream_on]}" | median)
printf '| plain, streamed as %s INSERTs of 10 rows | %s | %s | %.3f |\n' "$((events / 10))" "$a" "$b" "$(echo "$b / $a" | bc -l)"

# The captured loads were logged (a check, not a timing): every round's COPY left its log row.
logged=$(sql -c "SELECT count(*) FROM incmodel.source_changes WHERE kind = 'insert' AND source <> 'atomic.stream_on'::regclass")
echo "log rows of the captured COPYs: $logged (expected $((rounds * 3)))"
[ "$logged" -eq $((rounds * 3)) ]
# and every streamed row of every round (the log counts rows per statement)
srows=$(sql -c "SELECT coalesce(sum(rows), 0) FROM incmodel.source_changes WHERE kind = 'insert' AND source = 'atomic.stream_on'::regclass")
nrows=$(wc -l < "$tmp/events.tsv")
echo "rows logged of the streamed INSERTs: $srows (expected $((rounds * nrows)))"
[ "$srows" -eq $((rounds * nrows)) ]
