#!/usr/bin/env bash
# The dimension benchmark: what watching a dimension costs its loaders, and what a dimension
# change costs the next refresh.
#   copy:     COPY of R rows into a dimension table read by a model (it carries incmodel's watch
#             triggers) and into an identical table no model reads, in interleaved rounds (the
#             order alternates), each into an emptied table from the same server-side file.
#             Wall time and the backend's on-CPU time (Linux /proc/<pid>/schedstat: what other
#             processes on a shared machine disturb least): medians, their ratio, the median of
#             the rounds' ratios, the fastest rounds (issue 15's target: watched / plain <= 1.05).
#   refresh:  a batch model keyed by user over E events of U users joined to accounts (10 users
#             an account); the refresh after a dimension change that reaches k keys (UPDATE of a
#             value column of k/10 accounts) against the refresh after a batch of events that
#             touches k keys (one new event for each of k users), k = 100, 1000, 10000, the two
#             interleaved. Each refresh's run kind (refresh / rebuild) and keys are recorded.
# Every timing is from a fresh connection (psql's \timing). The refresh cells end with an oracle
# check (the target equals the model query, EXCEPT ALL both ways; exit 1 otherwise). Timings are
# reported (medians in the summary), never asserted.
#
#   bash bench/dimension_ingest.sh           R=100k, 31 copy rounds; U=100k, E=2M, 3 rounds
#   bash bench/dimension_ingest.sh --quick   R=10k, 2 copy rounds; U=20k, E=100k, 1 round
#                                            (test/run-all keeps it working; nothing timed is checked)
#   DI_PORT=P (first port to try)  BENCH_OUT=dir (dimension_ingest.csv, dimension_ingest.md)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/test/lib/cluster.sh"
rows=100000 copy_rounds=31 users=100000 events=2000000 rounds=3 ks="100 1000 10000"
[ "${1:-}" = "--quick" ] && rows=10000 copy_rounds=2 users=20000 events=100000 rounds=1
out=${BENCH_OUT:-$repo/bench/out}
mkdir -p "$out"
csv=$out/dimension_ingest.csv
echo "cell,k,round,measure,ms,run_kind,keys" > "$csv"
dir=$(cluster_dir dimension)
cleanup() { cluster_stop "$dir" immediate; rm -rf "$dir"; }
trap cleanup EXIT
CLUSTER_PORT=${DI_PORT:-5591} cluster_init "$dir" "shared_preload_libraries = 'incmodel'" \
    "incmodel.maintenance_naptime = 0" "autovacuum = off" "shared_buffers = 512MB" "jit = off" \
    "max_wal_size = 4GB" "incmodel.progress_notices = off"
cluster_start "$dir"
export PGOPTIONS='-c client_min_messages=warning'
psql_q() { cluster_psql "$dir" -q -At -v ON_ERROR_STOP=1 "$@"; }
# The time of one statement from a fresh connection (psql's \timing, ms).
timed() { cluster_psql "$dir" -At -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
# The wall and on-CPU time (ms) of one COPY into dim_\$1 from a fresh connection: on-CPU from the
# backend's /proc/<pid>/schedstat (Linux; '' where unreadable), which other processes on a shared
# machine disturb far less than the wall clock.
copy_timed() {
    cluster_psql "$dir" -At -v ON_ERROR_STOP=1 <<SQL | tail -1
CREATE FUNCTION pg_temp.cpu_ns() RETURNS bigint LANGUAGE plpgsql AS \$f\$
BEGIN RETURN split_part(pg_read_file('/proc/' || pg_backend_pid() || '/schedstat'), ' ', 1)::bigint;
EXCEPTION WHEN OTHERS THEN RETURN NULL; END \$f\$;
SELECT clock_timestamp() AS t0, pg_temp.cpu_ns() AS c0 \gset
COPY dim_$1 FROM '$dir/dim.tsv';
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) || ',' || coalesce(round((pg_temp.cpu_ns() - :'c0'::bigint) / 1e6, 3)::text, '');
SQL
}
# The kind and keys of the last run of model m.
last_run() { psql_q -c "SELECT kind || ',' || coalesce(keys, 0) FROM incmodel.runs WHERE model_name = 'm' ORDER BY run_id DESC LIMIT 1"; }

# ---- copy: watched vs plain dimension ------------------------------------------------------
psql_q >/dev/null <<SQL
CREATE EXTENSION incmodel;
CREATE TABLE ev (etl_tstamp timestamp, uid int, code text);
INSERT INTO ev SELECT timestamp '2026-01-01', i, 'c' || (i % 1000) FROM generate_series(1, 1000) i;
CREATE TABLE dim_watched (code text PRIMARY KEY, label text, weight int, updated_at timestamp);
CREATE TABLE dim_plain (LIKE dim_watched INCLUDING ALL);
SELECT incmodel.create_model(name => 'reads_dim', query => \$q\$ SELECT e.uid, max(d.label) AS label,
  count(*) AS n FROM public.ev e JOIN public.dim_watched d ON d.code = e.code GROUP BY e.uid \$q\$,
  target => 'public.reads_dim', batch_column => 'etl_tstamp') > 0;
COPY (SELECT 'c' || i, 'label ' || md5(i::text), i % 97, timestamp '2026-01-01' + i * interval '1 s'
      FROM generate_series(1, $rows) i) TO '$dir/dim.tsv';
SQL
watched=$(psql_q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'dim_watched'::regclass AND tgname LIKE 'incmodel_dim%'")
[ "$watched" -ge 2 ] || { echo "dim_watched carries no watch triggers ($watched)"; exit 1; }
for r in $(seq 1 "$copy_rounds"); do
    psql_q -c "TRUNCATE dim_watched" -c "TRUNCATE dim_plain" -c "CHECKPOINT"
    order="watched plain"; [ $((r % 2)) = 0 ] && order="plain watched"
    for t in $order; do
        IFS=, read -r wall cpu <<< "$(copy_timed "$t")"
        echo "copy,$rows,$r,$t,$wall,," >> "$csv"
        [ -n "$cpu" ] && echo "copy,$rows,$r,${t}_cpu,$cpu,," >> "$csv"
    done
done

# ---- refresh: a dimension change reaching k keys vs a batch of events touching k keys --------
psql_q >/dev/null <<SQL
SELECT incmodel.drop_model('reads_dim', true);
CREATE TABLE accounts (acct_id int PRIMARY KEY, plan text, region text);
INSERT INTO accounts SELECT a, 'p0', 'r' || (a % 7) FROM generate_series(0, $users / 10 - 1) a;
CREATE TABLE events (etl_tstamp timestamp, collector_tstamp timestamp, uid int, acct_id int, amount numeric);
INSERT INTO events SELECT timestamp '2026-01-01' + (i % 20) * interval '1 minute',
  timestamp '2026-01-01' + i * interval '10 ms', i % $users, (i % $users) / 10, i % 100
  FROM generate_series(0, $events - 1) i ORDER BY 1;
CREATE INDEX ON events (uid); CREATE INDEX ON events (etl_tstamp);
-- The column the dimension's route ends on (create_model's NOTICE asks for it).
CREATE INDEX ON events (acct_id);
VACUUM ANALYZE events; VACUUM ANALYZE accounts;
SELECT incmodel.create_model(name => 'm', query => \$q\$ SELECT e.uid, max(a.plan) AS plan,
  max(a.region) AS region, count(*) AS events, sum(e.amount) AS amount,
  max(e.collector_tstamp) AS last_seen
  FROM public.events e JOIN public.accounts a ON a.acct_id = e.acct_id GROUP BY e.uid \$q\$,
  target => 'public.target', batch_column => 'etl_tstamp') > 0;
CALL incmodel.refresh('m');
CREATE TABLE loaded (n int); INSERT INTO loaded VALUES (0);
SQL
# k keys through the dimension: the plan of k/10 accounts (a window that moves each time).
dim_change() {
    psql_q -c "UPDATE accounts SET plan = 'p$2' WHERE acct_id >= ($2 * 7919) % ($users / 10 - $1 / 10 + 1) AND acct_id < ($2 * 7919) % ($users / 10 - $1 / 10 + 1) + $1 / 10"
}
# k keys through the events: a new batch with one event for each of k users.
event_batch() {
    psql_q -c "UPDATE loaded SET n = n + 1" -c "INSERT INTO events SELECT timestamp '2026-02-01' + n * interval '1 minute',
      timestamp '2026-02-01' + n * interval '1 minute', u, u / 10, 1 FROM loaded,
      generate_series(($2 * 7919) % ($users - $1 + 1), ($2 * 7919) % ($users - $1 + 1) + $1 - 1) u"
}
step=0
for r in $(seq 1 "$rounds"); do
    for k in $ks; do
        order="dimension events"; [ $((r % 2)) = 0 ] && order="events dimension"
        for what in $order; do
            step=$((step + 1))
            if [ "$what" = dimension ]; then dim_change "$k" "$step"; else event_batch "$k" "$step"; fi
            t=$(timed "CALL incmodel.refresh('m')")
            echo "refresh,$k,$r,$what,$t,$(last_run)" >> "$csv"
        done
    done
done
diff=$(psql_q -c "WITH q AS (SELECT e.uid, max(a.plan) AS plan, max(a.region) AS region, count(*) AS events,
  sum(e.amount) AS amount, max(e.collector_tstamp) AS last_seen
  FROM events e JOIN accounts a ON a.acct_id = e.acct_id GROUP BY e.uid)
  SELECT count(*) FROM ((SELECT * FROM target EXCEPT ALL SELECT * FROM q) UNION ALL (SELECT * FROM q EXCEPT ALL SELECT * FROM target)) d")
[ "$diff" = 0 ] || { echo "oracle: the target differs from the model query ($diff rows)"; exit 1; }

# ---- summary: medians ---------------------------------------------------------------------------
psql_q > "$out/dimension_ingest.md" <<SQL
CREATE TEMP TABLE r (cell text, k int, round int, measure text, ms float8, run_kind text, keys bigint);
\copy r FROM '$csv' WITH (FORMAT csv, HEADER)
SELECT format('COPY of %s rows into a dimension (%s rounds), median ms, watched / plain:', max(k), max(round)) FROM r WHERE cell = 'copy';
SELECT '| time | watched (read by a model) | plain | ratio of medians | median of the rounds'' ratios | fastest rounds | their ratio |';
SELECT '|---|---|---|---|---|---|---|';
SELECT format('| %s | %s | %s | %s | %s | %s / %s | %s |', c.clock,
  round(c.w), round(c.p), round((c.w / c.p)::numeric, 3),
  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY w.ms / p.ms)::numeric, 3)
     FROM r w JOIN r p USING (cell, k, round)
    WHERE w.cell = 'copy' AND w.measure = c.suffix_w AND p.measure = c.suffix_p),
  round(c.wmin), round(c.pmin), round((c.wmin / c.pmin)::numeric, 3))
FROM (SELECT CASE WHEN measure LIKE '%_cpu' THEN 'backend on-CPU' ELSE 'wall' END AS clock,
             min(measure) FILTER (WHERE measure LIKE 'watched%') AS suffix_w,
             min(measure) FILTER (WHERE measure LIKE 'plain%') AS suffix_p,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure LIKE 'watched%') AS w,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure LIKE 'plain%') AS p,
             min(ms) FILTER (WHERE measure LIKE 'watched%') AS wmin,
             min(ms) FILTER (WHERE measure LIKE 'plain%') AS pmin
      FROM r WHERE cell = 'copy' GROUP BY 1) c
ORDER BY c.clock DESC;
SELECT '';
SELECT format('Refresh of a batch model (%s users, %s events) after a change reaching k keys, median ms:', $users, $events);
SELECT '| k keys | after a dimension change | its runs | after a batch of events | its runs |';
SELECT '|---|---|---|---|---|';
SELECT format('| %s | %s | %s | %s | %s |', k,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'dimension')),
  string_agg(DISTINCT run_kind || ' (' || keys || ' keys)', ', ') FILTER (WHERE measure = 'dimension'),
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE measure = 'events')),
  string_agg(DISTINCT run_kind || ' (' || keys || ' keys)', ', ') FILTER (WHERE measure = 'events'))
FROM r WHERE cell = 'refresh' GROUP BY k ORDER BY k;
SQL
cat "$out/dimension_ingest.md"
