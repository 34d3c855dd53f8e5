#!/usr/bin/env bash
# Round trip of the packages of daily aggregate, append and features models, as run.sh does for
# batch models:
#
#   bash test/redshift/time_models.sh          after `make && make install` (as root: the server
#                                              runs as postgres, test/lib/cluster.sh)
#   INCMODEL_UPDATE_GOLDEN=1 bash ...          rewrite test/redshift/expected/<model>.sql
#   INCMODEL_RS_PORT=5571 INCMODEL_RS_SEED=42  first port to try; data seed
#
# A throwaway cluster with one database WITH the extension and one WITHOUT it. The extension's
# models: a daily aggregate (late rows under reprocess_days 0, days reprocessed in full once
# min_rows_to_process skipped rows gather, a backfill_limit shorter than the time one load
# covers, so runs lag behind and catch up), an append model (duplicates of an event in the same
# and in later loads), a batch model of totals per user, and four features models: two over the
# daily one (per user: a key part copied; per week: a key expression), one over the daily and the
# batch model joined on the user, and one over the per-user features model (a chain: a features
# package logs its keys too). Their postgres-dialect packages are exported and deployed with
# the `incmodel` CLI into the database without the extension; randomized loads (events late by up
# to six loads, duplicates, some loads split in two) go into both and both refresh after every
# load: each package target must equal the extension's target, and the daily package's ledger
# the extension's daily_manifest. Then the Redshift golden files of the four models and checks
# of their procedures (forbidden statements, RAISE arguments, the target locked for the commit
# only, reserved words quoted). Last line: "N passed, M failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/test/redshift
source "$repo/test/lib/cluster.sh"
export PATH="$PGBIN:$PATH"
cli=$PGBIN/incmodel
[ -x "$cli" ] || cli=$repo/cli/incmodel
eventgen=$repo/tools/eventgen/incmodel-eventgen
seed=${INCMODEL_RS_SEED:-$(( $(date +%s) % 100000 ))}
start_ts=$(date +%s)

passed=0
failed=0
ok() { passed=$((passed + 1)); [ -n "${VERBOSE:-}" ] && echo "ok: $1"; return 0; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; [ -n "${2:-}" ] && echo "$2" | head -40; return 0; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
for f in "$cli" "$eventgen" "$PGBIN/initdb" "$PGBIN/pg_ctl"; do
    [ -x "$f" ] || { echo "missing $f (run make && make install first)"; failed=1; finish; }
done

tmp=$(cluster_dir redshift-time)
stop() { cluster_stop "$tmp" immediate; rm -rf "$tmp"; }
trap stop EXIT
CLUSTER_PORT=${INCMODEL_RS_PORT:-5571} cluster_init "$tmp" "shared_preload_libraries = 'incmodel'" \
    "incmodel.maintenance_naptime = 0" "fsync = off" "synchronous_commit = off" \
    "full_page_writes = off" "TimeZone = 'UTC'" || { fail "initdb"; finish; }
port=$(cluster_port "$tmp")
echo "cluster in $tmp, port $port, seed $seed"
cluster_start "$tmp" || { fail "server start"; finish; }

export PGHOST=$tmp PGPORT=$port PGUSER=postgres
ext_dsn="host=$tmp port=$port user=postgres dbname=with_ext"
pkg_dsn="host=$tmp port=$port user=postgres dbname=without_ext"
psql_ext=(psql -X -q -v ON_ERROR_STOP=1 -d with_ext)
q_ext() { psql -X -q -v ON_ERROR_STOP=1 -d with_ext -Atc "$1"; }
q_pkg() { psql -X -q -v ON_ERROR_STOP=1 -d without_ext -Atc "$1"; }
psql -X -q -d postgres -c 'CREATE DATABASE with_ext' -c 'CREATE DATABASE without_ext' ||
    { fail "create databases"; finish; }

layout="CREATE SCHEMA atomic; CREATE SCHEMA derived;
CREATE TABLE atomic.events (
  app_id text, platform text, etl_tstamp timestamp, collector_tstamp timestamp NOT NULL,
  dvce_created_tstamp timestamp, dvce_sent_tstamp timestamp, derived_tstamp timestamp,
  load_tstamp timestamp, event text, event_name text, event_id uuid NOT NULL,
  domain_userid text, domain_sessionid text, domain_sessionidx integer, user_id text,
  network_userid text, page_url text, page_title text, page_referrer text, refr_medium text,
  geo_country text, br_family text, os_family text, dvce_type text, tr_total numeric(18,2));
CREATE INDEX ON atomic.events (load_tstamp); CREATE INDEX ON atomic.events (domain_userid);
CREATE INDEX ON atomic.events (event_id);"
q_pkg "$layout" >/dev/null || fail "events table (without_ext)"
q_ext "$layout" >/dev/null || fail "events table (with_ext)"

# 16 loads of 6 hours each from a fixed start (the golden files do not depend on the day the test
# runs). The loads' stamps are synthetic, so no run may pass a stamp before its load is done (a
# package, unlike the extension's change log, does not see rows committed behind its limit): a
# run covers at most 2 hours (user_days) or 150 minutes (page_views), two runs per load at most
# stay behind a load's 6 hours, and a load split in two is split in load_tstamp order.
start='2026-01-01 00:00:00'
gen=("$eventgen" --seed "$seed" --events 16000 --batches 16 --days 4 --start "$start"
     --session-events 30 --late-fraction 0.12 --max-late-batches 6 --dup-fraction 0.05
     --null-session-fraction 0.02)
"${gen[@]}" >"$tmp/all.tsv" || fail "eventgen"
daily_q="SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS events, count(*) FILTER (WHERE event = 'page_view') AS views, count(DISTINCT page_url) AS pages, sum(tr_total) AS revenue, min(derived_tstamp) AS first_seen FROM atomic.events GROUP BY 1, 2"
append_q="SELECT e.event_id, e.domain_userid, e.page_url, e.derived_tstamp, e.load_tstamp, e.collector_tstamp FROM atomic.events e WHERE e.event = 'page_view'"
features_q="SELECT user_id, count(*) AS active_days, sum(events) AS lifetime_events, max(pages) AS max_daily_pages, min(day) AS first_day, max(day) AS last_day FROM derived.user_days GROUP BY user_id"
rollup_q="SELECT date_trunc('week', day::timestamp)::date AS week, count(*) AS user_days, sum(events) AS events, sum(revenue) AS revenue FROM derived.user_days GROUP BY 1"
batch_q="SELECT domain_userid, count(*) AS events, max(collector_tstamp) AS last_seen FROM atomic.events GROUP BY 1"
mix_q="SELECT d.user_id, count(*) AS active_days, sum(d.events) AS day_events, max(t.events) AS all_events FROM derived.user_days d JOIN derived.user_totals t ON t.domain_userid = d.user_id GROUP BY d.user_id"
chain_q="SELECT user_id, max(active_days) * 2 AS double_days, sum(lifetime_events) AS events FROM derived.user_features GROUP BY user_id"
models="user_days page_views user_totals user_features week_totals user_mix user_chain"
create_models() {
    "${psql_ext[@]}" >"$tmp/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
SET incmodel.progress_notices = off;
CREATE EXTENSION IF NOT EXISTS incmodel;
SELECT incmodel.create_model(name => 'user_days', query => \$q\$ $daily_q \$q\$,
  target => 'derived.user_days', load_column => 'load_tstamp', start_date => '$start+00',
  backfill_limit => '2 hours', day_key => 'day', reprocess_days => 0, min_rows_to_process => 25);
SELECT incmodel.create_model(name => 'page_views', query => \$q\$ $append_q \$q\$,
  target => 'derived.page_views', load_column => 'load_tstamp', start_date => '$start+00',
  backfill_limit => '150 minutes', strategy => 'append', event_key => 'event_id');
SELECT incmodel.create_model('user_totals', \$q\$ $batch_q \$q\$, 'derived.user_totals', 'etl_tstamp');
SELECT incmodel.create_model(name => 'user_mix', query => \$q\$ $mix_q \$q\$,
  target => 'derived.user_mix', depends_on => ARRAY['user_days', 'user_totals']);
SELECT incmodel.create_model(name => 'user_features', query => \$q\$ $features_q \$q\$,
  target => 'derived.user_features', depends_on => ARRAY['user_days']);
SELECT incmodel.create_model(name => 'user_chain', query => \$q\$ $chain_q \$q\$,
  target => 'derived.user_chain', depends_on => ARRAY['user_features']);
SELECT incmodel.create_model(name => 'week_totals', query => \$q\$ $rollup_q \$q\$,
  target => 'derived.week_totals', depends_on => ARRAY['user_days']);
SQL
}

load() {  # file -> both databases
    q_pkg "COPY atomic.events FROM STDIN" <"$1" && q_ext "COPY atomic.events FROM STDIN" <"$1" ||
        fail "load $1"
}
fingerprint() {
    psql -X -q -d "$1" -Atc "SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $2 x"
}
refresh_pkg() {
    local label=$1 m out rc
    for m in $models; do
        out=$("$cli" refresh $m --dsn "$pkg_dsn" 2>&1); rc=$?
        [ $rc = 0 ] && ok "$label refresh $m" || fail "$label: incmodel refresh $m exited $rc" "$out"
        [ -n "${VERBOSE:-}" ] && echo "  $out"
    done
}
refresh_ext() {
    q_ext "SET incmodel.progress_notices = off; SET client_min_messages = warning; CALL incmodel.refresh('user_days'); CALL incmodel.refresh('page_views'); CALL incmodel.refresh('user_features'); CALL incmodel.refresh('user_totals'); CALL incmodel.refresh('week_totals'); CALL incmodel.refresh('user_mix'); CALL incmodel.refresh('user_chain')" >/dev/null ||
        fail "$1: extension refresh"
}
check_round() {
    local label=$1 m f1 f2 l1 l2
    for m in $models; do
        f1=$(fingerprint without_ext derived.$m)
        f2=$(fingerprint with_ext derived.$m)
        [ "$f1" = "$f2" ] && ok "$label $m package = extension" ||
            fail "$label: $m package ($f1) != extension ($f2)"
    done
    l1=$(q_pkg "SELECT count(*) || ':' || md5(coalesce(string_agg(event_date || '/' || processed_events || '/' || skipped_events || '/' || coalesce(max_load_tstamp::text, '-'), ',' ORDER BY event_date), '')) FROM incmodel.ledger_user_days")
    l2=$(q_ext "SELECT count(*) || ':' || md5(coalesce(string_agg(event_date || '/' || processed_events || '/' || skipped_events || '/' || coalesce(max_load_tstamp::text, '-'), ',' ORDER BY event_date), '')) FROM incmodel.daily_manifest WHERE model = 'user_days'")
    [ "$l1" = "$l2" ] && ok "$label ledger = extension's daily_manifest" ||
        fail "$label: ledger ($l1) != daily_manifest ($l2)"
}

# ---- the first load, the models (their first run at creation), export and deploy ----------
"${gen[@]}" --batch-from 0 --batch-to 0 >"$tmp/batch.tsv"
load "$tmp/batch.tsv"
create_models || { cat "$tmp/setup.log"; fail "extension models"; finish; }
for m in $models; do
    out=$("$cli" export $m --dsn "$ext_dsn" --dialect postgres --output "$tmp/$m.pg.sql" 2>&1) &&
        [ -s "$tmp/$m.pg.sql" ] && ok "export $m (postgres)" || fail "export $m (postgres)" "$out"
    out=$("$cli" deploy --package "$tmp/$m.pg.sql" --dsn "$pkg_dsn" 2>&1) && ok "deploy $m" ||
        fail "deploy $m" "$out"
done
[ "$(q_pkg "SELECT count(*) FROM pg_extension WHERE extname = 'incmodel'")" = 0 ] &&
    ok "package database has no extension" || fail "package database has the extension"
refresh_pkg "load 0"
check_round "load 0"

# ---- randomized loads; both refreshed after every one --------------------------------------
RANDOM=$seed
for b in $(seq 1 15); do
    "${gen[@]}" --batch-from $b --batch-to $b >"$tmp/batch.tsv"
    if [ $((RANDOM % 3)) = 0 ]; then
        n=$(wc -l <"$tmp/batch.tsv")
        cut=$((n * (20 + RANDOM % 60) / 100))
        sort -t $'\t' -k 8,8 "$tmp/batch.tsv" >"$tmp/sorted.tsv"
        head -n $cut "$tmp/sorted.tsv" >"$tmp/part1.tsv"
        tail -n +$((cut + 1)) "$tmp/sorted.tsv" >"$tmp/part2.tsv"
        load "$tmp/part1.tsv"; refresh_pkg "load $b (1/2)"; refresh_ext "load $b (1/2)"; check_round "load $b (1/2)"
        load "$tmp/part2.tsv"; refresh_pkg "load $b (2/2)"; refresh_ext "load $b (2/2)"; check_round "load $b (2/2)"
    else
        load "$tmp/batch.tsv"; refresh_pkg "load $b"; refresh_ext "load $b"; check_round "load $b"
    fi
done
# The runs lag behind the loads (backfill_limit): refresh until both models caught up.
for i in $(seq 1 60); do
    behind=$(q_pkg "SELECT count(*) FROM incmodel.registry r WHERE (SELECT max(upper_limit) FROM incmodel.manifest_user_days) < (SELECT max(load_tstamp) FROM atomic.events) OR (SELECT max(upper_limit) FROM incmodel.manifest_page_views) < (SELECT max(load_tstamp) FROM atomic.events)")
    [ "$behind" = 0 ] && break
    refresh_pkg "catch-up $i"; refresh_ext "catch-up $i"; check_round "catch-up $i"
done
[ "$behind" = 0 ] && ok "both packages caught up" || fail "packages still behind after 60 catch-up runs"
[ "$(q_pkg "SELECT count(*) FROM atomic.events")" = "$(wc -l <"$tmp/all.tsv")" ] &&
    ok "every event loaded" || fail "event count"

# What the loads exercised: late rows skipped, days reprocessed in full, runs capped by
# backfill_limit, duplicates of page views, NULL keys.
exercised=$(q_pkg "SELECT (SELECT sum(rows_late) > 0 FROM incmodel.manifest_user_days)::text || (SELECT sum(days_reprocessed) > 0 FROM incmodel.manifest_user_days)::text || (SELECT count(*) > 20 FROM incmodel.manifest_user_days)::text || (SELECT count(*) > count(DISTINCT event_id) FROM atomic.events WHERE event = 'page_view')::text || (SELECT count(*) > 0 FROM derived.user_days WHERE user_id IS NULL)::text")
[ "$exercised" = truetruetruetruetrue ] && ok "late rows, full days, capped runs, duplicates and NULL keys exercised" ||
    fail "not every case exercised (late, full days, capped runs, duplicates, NULL keys: $exercised)"
# The extension's own check of its models: what it holds equals what its rules include.
for m in $models; do
    r=$(q_ext "SET client_min_messages = warning; SELECT result FROM incmodel.verify('$m')")
    [ "$r" = equal ] && ok "extension verify $m" || fail "extension verify $m: $r"
done
out=$("$cli" refresh user_days --dsn "$pkg_dsn" 2>&1) && grep -q "user_days: noop" <<<"$out" &&
    ok "noop refresh of a caught-up daily package" || fail "noop daily refresh" "$out"
out=$("$cli" maintain --dsn "$pkg_dsn" --dry-run 2>&1) && ok "maintain --dry-run" || fail "maintain --dry-run" "$out"
out=$("$cli" status --dsn "$pkg_dsn" 2>&1) && grep -q "^page_views" <<<"$out" && ok "status" || fail "status" "$out"

# ---- backfill: the package's incmodel."backfill_<model>" through the CLI, the extension's --
# incmodel.backfill over the same ranges. The package's targets are tampered with first (values
# changed, rows deleted) inside the ranges, so only a real rebuild makes them equal again; the
# range manifests must not move; the features packages take the touched keys at their refresh.
bf_from='2026-01-02'; bf_to='2026-01-04'        # user_days: the event days 01-02 and 01-03
pv_from='2026-01-01 12:00'; pv_to='2026-01-02 18:00'  # page_views: events loaded in this range
man_pkg() { q_pkg "SELECT count(*) || ':' || md5(coalesce(string_agg(lower_limit || '/' || upper_limit, ',' ORDER BY upper_limit), '')) FROM incmodel.manifest_$1"; }
man_ext() { q_ext "SELECT count(*) || ':' || md5(coalesce(string_agg(r.lower_limit || '/' || r.upper_limit, ',' ORDER BY r.upper_limit), '')) FROM incmodel.range_manifest r JOIN incmodel.models m ON m.model_id = r.model_id WHERE m.name = '$1'"; }
m1=$(man_pkg user_days); m2=$(man_pkg page_views); e1=$(man_ext user_days); e2=$(man_ext page_views)
q_pkg "UPDATE derived.user_days SET events = events + 1000 WHERE day = '2026-01-02' AND user_id IN (SELECT user_id FROM derived.user_days WHERE day = '2026-01-02' ORDER BY user_id LIMIT 5); DELETE FROM derived.user_days WHERE day = '2026-01-03' AND user_id IN (SELECT user_id FROM derived.user_days WHERE day = '2026-01-03' ORDER BY user_id LIMIT 3); UPDATE derived.page_views SET page_url = 'tampered' WHERE event_id IN (SELECT event_id FROM derived.page_views WHERE load_tstamp >= '$pv_from' AND load_tstamp < '$pv_to' ORDER BY event_id LIMIT 5); DELETE FROM derived.page_views WHERE event_id IN (SELECT event_id FROM derived.page_views WHERE load_tstamp >= '$pv_from' AND load_tstamp < '$pv_to' ORDER BY event_id DESC LIMIT 5)" >/dev/null ||
    fail "tampering with the package targets"
for m in user_days page_views; do
    [ "$(fingerprint without_ext derived.$m)" != "$(fingerprint with_ext derived.$m)" ] &&
        ok "tampered $m differs from the extension" || fail "tampering did not change $m"
done
out=$("$cli" backfill user_days "$bf_from" "$bf_to" --dsn "$pkg_dsn" 2>&1) &&
    grep -q "user_days: backfill success" <<<"$out" && ok "incmodel backfill user_days (package)" ||
    fail "incmodel backfill user_days (package)" "$out"
[ -n "${VERBOSE:-}" ] && echo "  $out"
out=$("$cli" backfill page_views "$pv_from" "$pv_to" --dsn "$pkg_dsn" 2>&1) &&
    grep -q "page_views: backfill success" <<<"$out" && ok "incmodel backfill page_views (package)" ||
    fail "incmodel backfill page_views (package)" "$out"
[ -n "${VERBOSE:-}" ] && echo "  $out"
q_ext "SET incmodel.progress_notices = off; SET client_min_messages = warning; SELECT incmodel.backfill('user_days', '$bf_from', '$bf_to'); SELECT incmodel.backfill('page_views', '$pv_from', '$pv_to')" >/dev/null ||
    fail "extension backfill"
check_round "backfill"
[ "$(man_pkg user_days)" = "$m1" ] && [ "$(man_pkg page_views)" = "$m2" ] &&
    ok "the package backfills left the range manifests unchanged" || fail "a package backfill moved its range manifest"
[ "$(man_ext user_days)" = "$e1" ] && [ "$(man_ext page_views)" = "$e2" ] &&
    ok "the extension backfills left the range manifests unchanged" || fail "an extension backfill moved its range manifest"
refresh_pkg "after backfill"; refresh_ext "after backfill"; check_round "after backfill"
# The CLI's failures: a model without a backfill, an empty range, an unknown model, usage.
out=$("$cli" backfill user_features "$bf_from" "$bf_to" --dsn "$pkg_dsn" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "only the packages of daily and append models" <<<"$out" &&
    ok "backfill of a features package fails (exit 1)" || fail "backfill of a features package: exit $rc" "$out"
out=$("$cli" backfill user_days "$bf_to" "$bf_from" --dsn "$pkg_dsn" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "range_start must be before range_end" <<<"$out" &&
    ok "backfill of an empty range fails (exit 1)" || fail "backfill of an empty range: exit $rc" "$out"
out=$("$cli" backfill no_such_model "$bf_from" "$bf_to" --dsn "$pkg_dsn" 2>&1); rc=$?
[ $rc = 1 ] && ok "backfill of an unknown model fails (exit 1)" || fail "backfill of an unknown model: exit $rc" "$out"
out=$("$cli" backfill user_days "$bf_from" --dsn "$pkg_dsn" 2>&1); rc=$?
[ $rc = 2 ] && ok "backfill without TO is a usage error (exit 2)" || fail "backfill usage: exit $rc" "$out"
# Another session holds the model (the package's advisory lock): skipped, exit 3, nothing run.
mkfifo "$tmp/bfctl"
psql -X -q -d without_ext <"$tmp/bfctl" >/dev/null 2>&1 &
bf_pid=$!
exec 4>"$tmp/bfctl"
echo "SELECT pg_advisory_lock(1229865806, hashtext('user_days'));" >&4
for _ in $(seq 1 100); do
    [ "$(q_pkg "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1229865806 AND granted")" = 1 ] && break
    sleep 0.1
done
runs_before=$(q_pkg "SELECT count(*) FROM incmodel.run_log WHERE model = 'user_days' AND outcome = 'success'")
out=$("$cli" backfill user_days "$bf_from" "$bf_to" --dsn "$pkg_dsn" 2>&1); rc=$?
[ $rc = 3 ] && grep -q "skipped" <<<"$out" &&
    [ "$(q_pkg "SELECT count(*) FROM incmodel.run_log WHERE model = 'user_days' AND outcome = 'success'")" = "$runs_before" ] &&
    ok "backfill while another session holds the model is skipped (exit 3)" || fail "backfill under the model's lock: exit $rc" "$out"
echo "SELECT pg_advisory_unlock(1229865806, hashtext('user_days'));" >&4
exec 4>&-
wait "$bf_pid"
check_round "after failed backfills"

# ---- Redshift golden files and the forbidden-statement scan --------------------------------
mkdir -p "$here/expected"
for m in $models; do
    file=$m.sql
    "$cli" export "$m" --dsn "$ext_dsn" --dialect redshift --output "$tmp/$file" 2>"$tmp/export.err" ||
        { fail "export $m (redshift)" "$(cat "$tmp/export.err")"; continue; }
    if [ -n "${INCMODEL_UPDATE_GOLDEN:-}" ]; then
        cp "$tmp/$file" "$here/expected/$file"
        echo "updated expected/$file"
    fi
    if d=$(diff -u "$here/expected/$file" "$tmp/$file"); then ok "golden $file"; else fail "golden $file differs" "$d"; fi
    # The procedures: the procedure and dispatcher parts, and the backfill procedure (a ddl part).
    awk '/^-- @@incmodel /{p = ($0 ~ /part=(procedure|dispatcher)/); d = ($0 ~ /part=ddl/); next} d {p = ($0 ~ /^CREATE OR REPLACE PROCEDURE/); d = 0} p' "$tmp/$file" >"$tmp/procs.sql"
    bad=$(sed -e "s/'[^']*'//g" "$tmp/procs.sql" |
          grep -niE '\bvacuum\b|alter +table.*\bappend\b|set +local|savepoint|rollback|\bcommit\b|\btruncate\b|\banalyze\b|\bnow *\(|\binterval\b|exception +when|on +conflict|distinct +from|distinct +on|\bfilter *\(|\bprepare\b|create +(external|database)|drop +database' || true)
    [ -z "$bad" ] && ok "no forbidden statement in the procedures of $file" ||
        fail "forbidden statement in a procedure of $file" "$bad"
    # RAISE takes simple variables only; the target is locked only for the commit.
    grep -E "^ *RAISE INFO '[^']*'(, v_[a-z_]+)*;$" "$tmp/procs.sql" >/dev/null &&
        ! grep -E "^ *RAISE" "$tmp/procs.sql" | grep -vE "^ *RAISE (INFO|EXCEPTION) '[^']*'(, [a-z_]+)*;$" >/dev/null &&
        ok "RAISE arguments are variables in $file" || fail "RAISE arguments in $file" "$(grep RAISE "$tmp/procs.sql")"
    ! grep -qi svv_table_info "$tmp/$file" && ok "no svv_table_info in $file" || fail "svv_table_info in $file"
    first_lock=$(grep -n "LOCK derived" "$tmp/procs.sql" | head -1 | cut -d: -f1)
    first_delete=$(grep -n "DELETE FROM derived" "$tmp/procs.sql" | head -1 | cut -d: -f1)
    [ -n "$first_lock" ] && [ -n "$first_delete" ] && [ $((first_delete - first_lock)) = 1 ] &&
        ok "the target is locked just before its DELETE in $file" || fail "target lock placement in $file"
done
# A model whose source column is named by a word Redshift reserves: quoted in the Redshift package.
out=$(q_ext "SET client_min_messages = warning; SET incmodel.progress_notices = off; ALTER TABLE atomic.events ADD COLUMN \"open\" text; SELECT incmodel.create_model(name => 'open_days', query => \$q\$ SELECT e.\"open\" AS top, e.derived_tstamp::date AS day, count(*) AS n FROM atomic.events e GROUP BY 1, 2 \$q\$, target => 'derived.open_days', load_column => 'load_tstamp', start_date => '$start+00', day_key => 'day')" 2>&1) ||
    fail "open_days model" "$out"
out=$(q_ext "SELECT sql FROM incmodel.export('open_days') WHERE part = 'procedure'" 2>&1)
grep -q 'e."open"' <<<"$out" && grep -q '"top"' <<<"$out" && ! grep -qE '[ .(]open[ ,)]' <<<"$out" &&
    ok "reserved words quoted in a daily Redshift package" || fail "reserved words in open_days" "$(grep -m3 -i open <<<"$out")"
state=$(q_ext "DO \$\$ BEGIN PERFORM incmodel.export('open_days', 'postgres'); RAISE NOTICE 'exported'; EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1)
grep -q exported <<<"$state" && ok "open_days exports (postgres)" || fail "open_days export (postgres)" "$state"

# The Redshift linter (incmodel-lint, when this build has it) over every package above.
lint=$PGBIN/incmodel-lint
[ -x "$lint" ] || lint=$repo/cli/incmodel-lint
if [ -x "$lint" ]; then
    out=$("$lint" "$here"/expected/{user_days,page_views,user_totals,user_features,week_totals,user_mix,user_chain}.sql 2>&1) &&
        ok "incmodel-lint: the daily, append and features packages are clean" || fail "incmodel-lint" "$out"
else
    echo "incmodel-lint not built: linter check skipped"
fi
for m in user_days page_views; do
    grep -qE "^CREATE OR REPLACE PROCEDURE incmodel\.\"?backfill_$m\"?\(range_start TIMESTAMP, range_end TIMESTAMP\)" "$here/expected/$m.sql" &&
        ok "the Redshift package of $m has its backfill procedure" || fail "no backfill procedure in $m.sql"
done
grep -q "count(CASE WHEN (event = 'page_view'::text) THEN 1 END)" "$here/expected/user_days.sql" &&
    ok "FILTER translated to CASE in the daily Redshift package" || fail "FILTER translation in user_days.sql"

# ---- the load limit stays before a loader in flight (postgres package) ----------------------
# A model caught up to now: a loader's transaction stamps its row with its start and stays open
# (it waits on an advisory lock this script holds) while the package refreshes: the range must
# end before that start, and the next refresh after the loader's commit takes the row.
q_ext "SET client_min_messages = warning; SET incmodel.progress_notices = off; SELECT incmodel.create_model(name => 'recent_days', query => \$q\$ SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS n FROM atomic.events GROUP BY 1, 2 \$q\$, target => 'derived.recent_days', load_column => 'load_tstamp', start_date => '$start+00', backfill_limit => '100000 days', day_key => 'day')" >/dev/null ||
    fail "recent_days model"
out=$("$cli" deploy recent_days --from-dsn "$ext_dsn" --dialect postgres --dsn "$pkg_dsn" 2>&1) &&
    out=$("$cli" refresh recent_days --dsn "$pkg_dsn" 2>&1) && ok "recent_days deployed and refreshed" ||
    fail "recent_days package" "$out"
mkfifo "$tmp/ctl"
psql -X -q -d without_ext <"$tmp/ctl" >/dev/null 2>&1 &
ctl_pid=$!
exec 3>"$tmp/ctl"
echo "SELECT pg_advisory_lock(4242);" >&3
for _ in $(seq 1 100); do
    [ "$(q_pkg "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted")" = 1 ] && break
    sleep 0.1
done
psql -X -q -d without_ext -c "BEGIN" \
    -c "INSERT INTO atomic.events (collector_tstamp, derived_tstamp, load_tstamp, event_id, domain_userid) VALUES (now(), now(), now(), '00000000-0000-4000-8000-000000004242', 'in-flight-user')" \
    -c "SELECT pg_advisory_xact_lock(4242)" -c "COMMIT" >/dev/null 2>&1 &
loader=$!
for _ in $(seq 1 100); do
    [ "$(q_pkg "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted")" = 1 ] && break
    sleep 0.1
done
out=$("$cli" refresh recent_days --dsn "$pkg_dsn" 2>&1) || fail "refresh while a loader is in flight" "$out"
before=$(q_pkg "SELECT (SELECT max(upper_limit) FROM incmodel.manifest_recent_days) < (SELECT a.xact_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = 4242 AND NOT l.granted)")
[ "$before" = t ] && ok "the range ends before the in-flight loader's start" || fail "range end vs in-flight loader: $before"
echo "SELECT pg_advisory_unlock(4242);" >&3
exec 3>&-
wait "$loader" "$ctl_pid"
out=$("$cli" refresh recent_days --dsn "$pkg_dsn" 2>&1) || fail "refresh after the loader committed" "$out"
[ "$(q_pkg "SELECT count(*) FROM derived.recent_days WHERE user_id = 'in-flight-user'")" = 1 ] &&
    ok "the in-flight loader's row is taken by the next refresh" || fail "the in-flight row was lost"

echo "elapsed $(( $(date +%s) - start_ts )) s"
finish
