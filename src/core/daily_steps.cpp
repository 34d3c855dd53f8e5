// The SQL of a daily aggregate model's run. Its key includes the event day; a run covers the
// load range ($1, $2] of the load column. A row is late when its event day is more than
// reprocess_days before the day it was loaded: late rows are counted in the daily ledger
// (incmodel.daily_manifest) instead of processed, until a day's count reaches
// min_rows_to_process and the day is reprocessed in full.
//
// Which rows a key's recompute includes follows from the manifests alone, so any key can be
// recomputed at any time with the same result: a row loaded in [start_date, upper] is included
// when its day was last reprocessed in full at or after its load (ledger full_upper), or when it
// was not late under the reprocess_days of the run whose range covered it (range manifest), or
// it belongs to this run's range or full days.
#include <fmt/format.h>

#include "core/refresh_planner.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kRangeManifest = "incmodel.range_manifest";
constexpr const char *kDailyManifest = "incmodel.daily_manifest";
}  // namespace

// A column of the source, qualified with the source alias.
std::string RefreshPlanner::source_column(const std::string &column) const {
    return q(spec_.source_alias) + "." + q(column);
}

// The event day of a source row: the day key's expression as a date.
std::string RefreshPlanner::daily_day() const {
    return "(" + spec_.time->day_expr + ")::pg_catalog.date";
}

// A row's load between two parameters: lower_op is ">" (exclusive) or ">=" (inclusive).
std::string RefreshPlanner::time_load_between(const char *lower_op, int lower, int upper) const {
    const TimeSpec &d = *spec_.time;
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format(
        "{load} {op} ${lo}::pg_catalog.timestamptz::{t} AND {load} <= "
        "${hi}::pg_catalog.timestamptz::{t}",
        fmt::arg("load", load), fmt::arg("op", lower_op), fmt::arg("lo", lower),
        fmt::arg("hi", upper), fmt::arg("t", d.load_type));
}

// Not late under the reprocess_days in days_param; a row without an event day is never late.
std::string RefreshPlanner::daily_not_late(const std::string &days_param) const {
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format("(({day}) < ({load})::pg_catalog.date - {days}) IS NOT TRUE",
                       fmt::arg("day", daily_day()), fmt::arg("load", load),
                       fmt::arg("days", days_param));
}

std::string RefreshPlanner::create_days_scratch() const {
    return fmt::format(
        "CREATE UNLOGGED TABLE {} (event_date date, new_rows bigint, late_rows bigint, max_load "
        "timestamptz, full_rows bigint, full_max_load timestamptz)",
        qualified(quote_, scratch_.days));
}

std::string RefreshPlanner::daily_day_stats_select() const {
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format(
        "SELECT {day} AS event_date, count(*) AS new_rows, count(*) FILTER (WHERE NOT "
        "({not_late})) AS late_rows, max({load})::pg_catalog.timestamptz AS max_load FROM {src} "
        "WHERE {range} GROUP BY 1",
        fmt::arg("day", daily_day()), fmt::arg("not_late", daily_not_late("$3::int")),
        fmt::arg("load", load), fmt::arg("src", source_as_alias()),
        fmt::arg("range", time_load_between(">", 1, 2)));
}

std::string RefreshPlanner::daily_day_stats() const {
    return fmt::format("INSERT INTO {} (event_date, new_rows, late_rows, max_load) {}",
                       qualified(quote_, scratch_.days), daily_day_stats_select());
}

std::string RefreshPlanner::time_range_rows() const {
    return fmt::format("SELECT count(*) FROM {} WHERE {}", source_as_alias(),
                       time_load_between(">", 1, 2));
}

std::string RefreshPlanner::daily_full_days(const std::string &days) const {
    return fmt::format(
        "SELECT event_date::text FROM (SELECT event_date, sum(n) AS n FROM (SELECT event_date, "
        "late_rows AS n FROM {days} AS d WHERE event_date IS NOT NULL UNION ALL SELECT "
        "event_date, skipped_events FROM {ledger} WHERE model = $7) u GROUP BY event_date) x "
        "WHERE n > 0 AND n >= $8::int8 ORDER BY 1",
        fmt::arg("days", days.empty() ? qualified(quote_, scratch_.days) : days),
        fmt::arg("ledger", kDailyManifest));
}

std::string RefreshPlanner::daily_full_day_counts_select() const {
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format(
        "SELECT {day} AS event_date, count(*) AS full_rows, max({load})::pg_catalog.timestamptz "
        "AS full_max_load FROM {src} WHERE {day} = ANY ($4::text[]::pg_catalog.date[]) AND "
        "{range} GROUP BY 1",
        fmt::arg("day", daily_day()), fmt::arg("load", load), fmt::arg("src", source_as_alias()),
        fmt::arg("range", time_load_between(">=", 5, 2)));
}

std::string RefreshPlanner::daily_full_day_counts() const {
    return fmt::format("INSERT INTO {} (event_date, full_rows, full_max_load) {}",
                       qualified(quote_, scratch_.days), daily_full_day_counts_select());
}

std::string RefreshPlanner::daily_collect_keys() const {
    return fmt::format(
        "INSERT INTO {keys} ({cols}) SELECT {exprs} FROM {src} WHERE {range} AND {not_late}"
        "{filter} UNION SELECT {exprs} FROM {src} WHERE pg_catalog.cardinality($4::text[]) > 0 "
        "AND {day} = ANY ($4::text[]::pg_catalog.date[]) AND {full_range}{filter}",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("cols", key_columns(nullptr)),
        fmt::arg("exprs", key_exprs()), fmt::arg("src", source_as_alias()),
        fmt::arg("range", time_load_between(">", 1, 2)),
        fmt::arg("not_late", daily_not_late("$3::int")), fmt::arg("day", daily_day()),
        fmt::arg("full_range", time_load_between(">=", 5, 2)),
        fmt::arg("filter", and_source_filter()));
}

// The inclusion rule of the header comment, as a filter on the source alias. With
// load_segments, the range manifest's arm is kMaxLoadSegments arms over the segments of
// daily_load_segments() ($15 lower, $16 upper limits, $17 reprocess_days: text[]) instead of a
// lookup per row, and it comes before the ledger's lookup (an OR stops at its first true arm).
// The segments' limits are text in the load column's type.
std::string RefreshPlanner::daily_included_rows(bool load_segments) const {
    const TimeSpec &d = *spec_.time;
    const std::string load = source_column(spec_.time->load_column);
    const std::string ledger = fmt::format(
        "{load} <= (SELECT dm.full_upper FROM {ledger} dm WHERE dm.model = $7 AND "
        "dm.event_date = {day})::{t}",
        fmt::arg("load", load), fmt::arg("ledger", kDailyManifest), fmt::arg("day", daily_day()),
        fmt::arg("t", d.load_type));
    std::string ranges;
    if (load_segments) {
        std::vector<std::string> arms;
        for (std::size_t i = 1; i <= kMaxLoadSegments; ++i)
            // the limits as one-row subqueries: cast once per statement, not once per row (the
            // text-to-timestamptz cast is only stable, so the planner does not fold it)
            arms.push_back(fmt::format(
                "({load} > (SELECT ($15::pg_catalog.text[])[{i}]::{t}) AND {load} <= (SELECT "
                "($16::pg_catalog.text[])[{i}]::{t}) AND {not_late})",
                fmt::arg("load", load), fmt::arg("i", i), fmt::arg("t", d.load_type),
                fmt::arg("not_late",
                         daily_not_late(fmt::format("($17::pg_catalog.text[])[{}]::int", i)))));
        ranges = join(arms, " OR ") + " OR " + ledger;
    } else {
        ranges = fmt::format(
            "{ledger} OR EXISTS (SELECT 1 FROM {ranges} rm WHERE rm.model_id = $6::int8 AND "
            "{load} > rm.lower_limit::{t} AND {load} <= rm.upper_limit::{t} AND {not_late_then})",
            fmt::arg("ledger", ledger), fmt::arg("ranges", kRangeManifest), fmt::arg("load", load),
            fmt::arg("t", d.load_type),
            fmt::arg("not_late_then", daily_not_late("rm.reprocess_days")));
    }
    return fmt::format(
        " AND {full_range} AND ({day} = ANY ($4::text[]::pg_catalog.date[]) OR ({load} > "
        "$1::pg_catalog.timestamptz::{t} AND {not_late_now}) OR {ranges})",
        fmt::arg("full_range", time_load_between(">=", 5, 2)), fmt::arg("day", daily_day()),
        fmt::arg("load", load), fmt::arg("t", d.load_type),
        fmt::arg("not_late_now", daily_not_late("$3::int")), fmt::arg("ranges", ranges));
}

// Gaps and islands over the model's range manifest, its limits in the load column's type (the
// comparisons' type: a timestamp load column sees the pinned TimeZone's wall clock, which can go
// back): a range starts a new segment unless it starts where the range before it ends and has
// its reprocess_days; a range empty in that type holds no row and is left out. Each segment is a
// chain of contiguous non-empty ranges, so a row is in a range of reprocess_days k exactly when
// it is in a segment of k, and the arms are the EXISTS, exactly.
std::string RefreshPlanner::daily_load_segments() const {
    return fmt::format(
        "SELECT pg_catalog.min(lo)::pg_catalog.text, pg_catalog.max(hi)::pg_catalog.text, "
        "reprocess_days::pg_catalog.text FROM (SELECT lo, hi, reprocess_days, "
        "pg_catalog.count(*) FILTER (WHERE brk) OVER (ORDER BY lo, hi) AS g FROM (SELECT lo, hi, "
        "reprocess_days, lo IS DISTINCT FROM pg_catalog.lag(hi) OVER w OR reprocess_days IS "
        "DISTINCT FROM pg_catalog.lag(reprocess_days) OVER w AS brk FROM (SELECT "
        "lower_limit::{t} AS lo, upper_limit::{t} AS hi, reprocess_days FROM {ranges} WHERE "
        "model_id = $1::pg_catalog.int8) r WHERE lo < hi WINDOW w AS (ORDER BY lo, hi)) x) y "
        "GROUP BY g, reprocess_days ORDER BY pg_catalog.min(lo) LIMIT {limit}",
        fmt::arg("t", spec_.time->load_type), fmt::arg("ranges", kRangeManifest),
        fmt::arg("limit", kMaxLoadSegments + 1));
}

std::string RefreshPlanner::daily_recompute(bool with_null_keys, bool in_day_ranges,
                                            bool load_segments) const {
    return fmt::format(
        "INSERT INTO {} ({}) {}", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }),
        with_restricted_source(restricted_to_keys(with_null_keys,
                                                  daily_included_rows(load_segments),
                                                  in_day_ranges ? daily_in_day_ranges() : "")));
}

namespace {
// The text of a date expression converted to the day_range column's type: a timestamp at the
// day's midnight (UTC for timestamptz: the slack covers every zone), minus one microsecond for an
// inclusive upper bound (which keeps an infinite bound infinite: 'infinity' rows are included).
std::string day_as_column(const DayRange &r, const std::string &date, bool upper) {
    if (r.type == "date") return upper ? "(" + date + " - 1)" : date;
    std::string ts = "(" + date + ")::pg_catalog.timestamp";
    if (r.type == "timestamp with time zone") ts = "pg_catalog.timezone('UTC', " + ts + ")";
    return upper ? "(" + ts + " - interval '1 microsecond')" : ts;
}
}  // namespace

// Gaps and islands over the keys scratch's days: a day d needs [d - s, d + 1 + s) of the column;
// days less than 2s + 2 apart share a range. Days past the clamp years (which a timestamp cannot
// hold, or whose arithmetic would overflow) make their range's end infinite.
std::string RefreshPlanner::daily_day_ranges() const {
    const DayRange &r = *spec_.time->day_range;
    std::size_t part = 0;
    while (part < spec_.keys.size() && spec_.keys[part].column != spec_.time->day_column) ++part;
    const int s = r.slack_days;
    return fmt::format(
        "SELECT CASE WHEN lo > DATE '4000-01-01 BC' THEN {lo} ELSE '-infinity' "
        "END::pg_catalog.text, "
        "CASE WHEN hi < DATE '200000-01-01' THEN {hi} ELSE 'infinity' END::pg_catalog.text, "
        "coalesce(lo - pg_catalog.lag(hi) OVER (ORDER BY lo), 0)::pg_catalog.int8 FROM (SELECT "
        "pg_catalog.min(d) - {s} AS lo, pg_catalog.max(d) + {s1} AS hi FROM (SELECT d, "
        "pg_catalog.count(*) FILTER (WHERE brk) OVER (ORDER BY d) AS g FROM (SELECT d, d - "
        "pg_catalog.lag(d) OVER (ORDER BY d) > {gap} AS brk FROM (SELECT DISTINCT "
        "greatest(least(k{part}::pg_catalog.date, DATE '200000-01-01'), DATE '4000-01-01 BC') AS "
        "d FROM {keys} WHERE k{part} IS NOT NULL) x) y) z GROUP BY g) w ORDER BY lo",
        fmt::arg("lo", day_as_column(r, "lo", false)), fmt::arg("hi", day_as_column(r, "hi", true)),
        fmt::arg("s", s), fmt::arg("s1", s + 1), fmt::arg("gap", 2 * s + 1),
        fmt::arg("part", part + 1), fmt::arg("keys", qualified(quote_, scratch_.keys)));
}

// One arm per range (a BitmapOr of index range scans on the column); the bounds are cast from
// text in the column's own type.
std::string RefreshPlanner::daily_in_day_ranges() const {
    if (!spec_.time || !spec_.time->day_range) return "";
    const DayRange &r = *spec_.time->day_range;
    const std::string col = source_column(r.column);
    const std::string type = r.type == "date"                          ? "pg_catalog.date"
                             : r.type == "timestamp without time zone" ? "pg_catalog.timestamp"
                                                                       : "pg_catalog.timestamptz";
    std::vector<std::string> arms;
    for (std::size_t i = 1; i <= kMaxDayRanges; ++i)
        arms.push_back(
            fmt::format("({c} >= ($13::pg_catalog.text[])[{i}]::{t} AND {c} <= "
                        "($14::pg_catalog.text[])[{i}]::{t})",
                        fmt::arg("c", col), fmt::arg("i", i), fmt::arg("t", type)));
    return " AND (" + join(arms, " OR ") + ")";
}

std::pair<std::vector<std::string>, std::vector<std::string>> day_range_params(
    std::vector<DayRangeRow> rows) {
    while (rows.size() > kMaxDayRanges) {
        std::size_t closest = 1;
        for (std::size_t i = 2; i < rows.size(); ++i)
            if (rows[i].gap_days < rows[closest].gap_days) closest = i;
        rows[closest - 1].upper = rows[closest].upper;
        rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(closest));
    }
    std::pair<std::vector<std::string>, std::vector<std::string>> out;
    for (const auto &r : rows) {
        out.first.push_back(r.lower);
        out.second.push_back(r.upper);
    }
    while (out.first.size() < kMaxDayRanges) {
        out.first.emplace_back("infinity");
        out.second.emplace_back("-infinity");
    }
    return out;
}

// Per event day of the days scratch, what the ledger records (read by the model's owner): the
// day, whether it was reprocessed in full, rows included, late rows skipped, max load. $1 the
// days reprocessed in full (text[] of dates).
std::string RefreshPlanner::daily_ledger_rows() const {
    return fmt::format(
        "SELECT event_date::pg_catalog.text, full_day::pg_catalog.text, (CASE WHEN full_day THEN "
        "sum(full_rows) ELSE sum(new_rows - late_rows) END)::pg_catalog.text, (CASE WHEN full_day "
        "THEN 0 ELSE sum(late_rows) END)::pg_catalog.text, max(greatest(max_load, "
        "full_max_load))::pg_catalog.text FROM (SELECT d.*, d.event_date = ANY "
        "($1::pg_catalog.text[]::pg_catalog.date[]) AS full_day FROM {days} d WHERE d.event_date "
        "IS NOT NULL) d GROUP BY event_date, full_day ORDER BY event_date",
        fmt::arg("days", qualified(quote_, scratch_.days)));
}

// New days add their counts; a day reprocessed in full takes its recount, clears its skipped
// rows and remembers the load limit of the full pass. Written by the catalog owner from the rows
// of daily_ledger_rows(): $1 model name, $2 upper limit, $3 .. $7 the five columns as text[].
std::string RefreshPlanner::daily_record_ledger() const {
    return fmt::format(
        "INSERT INTO {ledger} AS dm (model, event_date, processed_events, skipped_events, "
        "max_load_tstamp, last_updated_at, full_upper) SELECT $1::pg_catalog.text, "
        "u.d::pg_catalog.date, u.p::pg_catalog.int8, u.s::pg_catalog.int8, "
        "u.m::pg_catalog.timestamptz, pg_catalog.now(), CASE WHEN u.f::pg_catalog.bool THEN "
        "$2::pg_catalog.timestamptz END FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[]), "
        "pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.text[]), "
        "pg_catalog.unnest($6::pg_catalog.text[]), pg_catalog.unnest($7::pg_catalog.text[])) AS "
        "u(d, f, p, s, m) ON CONFLICT (model, event_date) DO UPDATE SET "
        "processed_events = CASE WHEN EXCLUDED.full_upper IS NOT NULL THEN "
        "EXCLUDED.processed_events ELSE dm.processed_events + EXCLUDED.processed_events END, "
        "skipped_events = CASE WHEN EXCLUDED.full_upper IS NOT NULL THEN 0 ELSE "
        "dm.skipped_events + EXCLUDED.skipped_events END, max_load_tstamp = "
        "greatest(dm.max_load_tstamp, EXCLUDED.max_load_tstamp), last_updated_at = "
        "pg_catalog.now(), full_upper = coalesce(EXCLUDED.full_upper, dm.full_upper)",
        fmt::arg("ledger", kDailyManifest));
}

// Rows committed behind a limit, as a FROM item: the source's rows in the logged ranges ($11,
// $12, read back as the load column's type) and at or below the run's lower limit $1, under the
// source's alias: the ranges merged where they overlap (so no row is read twice) and each read by
// a range of the load column (its index), not every row up to the limit tested against every
// range (which grew with the history).
std::string RefreshPlanner::time_in_logged_ranges() const {
    const TimeSpec &d = *spec_.time;
    const std::string load = source_column(d.load_column);
    return fmt::format(
        "(SELECT pg_catalog.min(lo) AS _incmodel_lo, pg_catalog.max(hi) AS _incmodel_hi FROM "
        "(SELECT lo, hi, pg_catalog.sum(starts) OVER (ORDER BY lo, hi) AS island FROM (SELECT lo, "
        "hi, CASE WHEN lo <= pg_catalog.max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED "
        "PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS starts FROM (SELECT "
        "_incmodel_l.lo::{t} AS lo, _incmodel_l.hi::{t} AS hi FROM ROWS FROM "
        "(pg_catalog.unnest($11::pg_catalog.text[]), pg_catalog.unnest($12::pg_catalog.text[])) "
        "AS _incmodel_l(lo, hi)) _incmodel_ranges) _incmodel_starts) _incmodel_islands GROUP BY "
        "island) AS _incmodel_r CROSS JOIN LATERAL (SELECT * FROM {src} WHERE {load} >= "
        "_incmodel_r._incmodel_lo AND {load} <= _incmodel_r._incmodel_hi AND {load} <= "
        "$1::pg_catalog.timestamptz::{t}) AS {a}",
        fmt::arg("load", load), fmt::arg("t", d.load_type), fmt::arg("src", source_as_alias()),
        fmt::arg("a", q(spec_.source_alias)));
}

std::string RefreshPlanner::time_rows_behind() const {
    const TimeSpec &d = *spec_.time;
    const std::string load = source_column(d.load_column);
    return fmt::format(
        "SELECT count(*) FILTER (WHERE {load} >= $5::pg_catalog.timestamptz::{t}), count(*) "
        "FILTER (WHERE {load} < $5::pg_catalog.timestamptz::{t}) FROM {behind}",
        fmt::arg("load", load), fmt::arg("t", d.load_type),
        fmt::arg("behind", time_in_logged_ranges()));
}

std::string RefreshPlanner::daily_days_behind() const {
    return fmt::format(
        "SELECT DISTINCT ({day})::pg_catalog.text FROM {behind} WHERE {from_start} AND "
        "({day}) IS NOT NULL",
        fmt::arg("day", daily_day()), fmt::arg("behind", time_in_logged_ranges()),
        fmt::arg("from_start", time_load_between(">=", 5, 2)));
}

std::string RefreshPlanner::daily_all_days() const {
    return fmt::format(
        "SELECT ({day})::pg_catalog.text FROM {src} WHERE {range} AND ({day}) IS NOT NULL UNION "
        "SELECT {col}::pg_catalog.date::pg_catalog.text FROM {target} WHERE {col} IS NOT NULL "
        "UNION SELECT event_date::pg_catalog.text FROM {ledger} WHERE model = $7 ORDER BY 1",
        fmt::arg("day", daily_day()), fmt::arg("src", source_as_alias()),
        fmt::arg("range", time_load_between(">=", 5, 2)),
        fmt::arg("col", q(spec_.time->day_column)),
        fmt::arg("target", qualified(quote_, spec_.target)), fmt::arg("ledger", kDailyManifest));
}

std::string RefreshPlanner::daily_target_keys_of_days() const {
    return fmt::format(
        "INSERT INTO {keys} ({cols}) SELECT {target_cols} FROM {target} WHERE "
        "{day}::pg_catalog.date "
        "= ANY ($4::pg_catalog.text[]::pg_catalog.date[]) EXCEPT SELECT {cols} FROM {keys}",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("cols", key_columns(nullptr)),
        fmt::arg("target_cols",
                 join_map(spec_.keys, ", ", [this](const KeyPart &k) { return q(k.column); })),
        fmt::arg("target", qualified(quote_, spec_.target)),
        fmt::arg("day", q(spec_.time->day_column)));
}

std::string RefreshPlanner::daily_empty_full_days() const {
    const std::string days = qualified(quote_, scratch_.days);
    return fmt::format(
        "INSERT INTO {days} (event_date, full_rows) SELECT d, 0 FROM "
        "pg_catalog.unnest($4::pg_catalog.text[]::pg_catalog.date[]) AS d WHERE NOT EXISTS "
        "(SELECT 1 FROM {days} x WHERE x.event_date = d AND x.full_rows IS NOT NULL)",
        fmt::arg("days", days));
}

std::string RefreshPlanner::sum_of_days(const std::string &column) const {
    return fmt::format("SELECT coalesce(sum({}), 0) FROM {}", quote_(column),
                       qualified(quote_, scratch_.days));
}

std::string RefreshPlanner::daily_stats_summary(const std::string &stats) const {
    return "SELECT coalesce(sum(new_rows), 0), coalesce(sum(late_rows), 0), count(*), "
           "coalesce(string_agg(event_date::text || ': ' || new_rows || ' rows' || CASE WHEN "
           "late_rows > 0 THEN ' (' || late_rows || ' late)' ELSE '' END, ', ' ORDER BY "
           "event_date), '') FROM " +
           stats + " AS d";
}

std::string RefreshPlanner::daily_full_days_summary(const std::string &counts) const {
    return "SELECT coalesce(sum(full_rows), 0), count(*), coalesce(string_agg(event_date::text "
           "|| ': ' || full_rows || ' rows', ', ' ORDER BY event_date), '') FROM " +
           counts + " d";
}

}  // namespace incmodel::core
