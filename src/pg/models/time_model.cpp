#include "pg/models/model_runs.hpp"
#include "pg/models/time_model.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/models/features_model.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/maintenance_catalog.hpp"
#include "pg/catalog/time_ledger.hpp"

namespace incmodel::pg {

namespace {

// The load limit a loader still in flight usually stays ahead of: just before the start of the
// oldest transaction that holds (or waits for) a write lock on the source, on any of its
// partitions (a loader may write to one directly) or on a partitioned table above it, or now()
// when there is none. Loaders that stamp rows at or after their transaction's start keep every
// row at or below the limit committed. This is the cheap first line only: a row stamped before
// its lock (a long parse, another TimeZone, a hand-written stamp) can still commit behind the
// limit, and the change log catches it at the next run (rows_behind_limit). Read as the catalog
// owner: pg_stat_activity hides other roles' transaction starts from ordinary users.
std::string safe_upper_limit(const ModelRecord &m) {
    AsCatalogOwner owner;
    spi_exec("SELECT pg_catalog.pg_stat_clear_snapshot()");
    return *spi_exec(
                "SELECT (least(now(), (SELECT min(a.xact_start) FROM pg_catalog.pg_locks l JOIN "
                "pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'relation' "
                "AND (l.relation = $1::oid OR l.relation IN (SELECT relid FROM "
                "pg_catalog.pg_partition_tree($1::oid) UNION ALL SELECT relid FROM "
                "pg_catalog.pg_partition_ancestors($1::oid))) AND l.database = (SELECT oid FROM "
                "pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) AND "
                "l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
                "'AccessExclusiveLock') AND l.pid <> pg_catalog.pg_backend_pid())) - interval "
                "'1 microsecond')::text",
                {SqlParam::int64(m.source_oid)})
                .scalar();
}

// Where the next run's range starts: the upper limit, or just before start_date (ranges are
// (lower, upper], the first one includes start_date). $1 upper limit or NULL, $2 start_date.
constexpr const char *kNextLower =
    "coalesce($1::timestamptz, $2::timestamptz - interval '1 microsecond')";

std::vector<SqlParam> lower_params(const ModelRecord &m) {
    return {m.upper_limit ? SqlParam::value(*m.upper_limit) : SqlParam::null(),
            SqlParam::value(m.spec.time->start_date)};
}

// The load range the next run covers: from kNextLower up to at most backfill_limit further, and
// never past the in-flight limit.
std::pair<std::string, std::string> next_range(const ModelRecord &m) {
    std::vector<SqlParam> params = lower_params(m);
    params.push_back(SqlParam::value(m.spec.time->backfill_limit));
    params.push_back(SqlParam::value(safe_upper_limit(m)));
    SqlResult r = spi_exec(
        fmt::format("SELECT l::text, greatest(l, least(l + $3::interval, $4::timestamptz))::text "
                    "FROM (SELECT {} AS l) x",
                    kNextLower),
        params);
    return {*r.rows[0][0], *r.rows[0][1]};
}

// A backfill's range as timestamptz text, and for a daily model the event days in it.
struct BackfillRange {
    std::string from, to;
    std::vector<std::string> days;
};
BackfillRange backfill_range(const ModelRecord &m, const std::string &from_micros,
                             const std::string &to_micros) {
    BackfillRange b;
    SqlResult r = spi_exec(
        fmt::format("SELECT {}::text, {}::text", fmt::format(kMicrosToTimestamptz, "$1::int8"),
                    fmt::format(kMicrosToTimestamptz, "$2::int8")),
        {SqlParam::value(from_micros), SqlParam::value(to_micros)});
    b.from = *r.rows[0][0];
    b.to = *r.rows[0][1];
    if (!m.spec.time->append)
        for (const auto &row :
             spi_exec("SELECT g::date::text FROM pg_catalog.generate_series($1::timestamptz::date, "
                      "($2::timestamptz::date - 1)::timestamp, interval '1 day') g",
                      {SqlParam::value(b.from), SqlParam::value(b.to)})
                 .rows)
            b.days.push_back(*row[0]);
    return b;
}

// The parameters every daily/append statement takes, by name; params() puts them at the
// positions RefreshPlanner documents (refresh_planner.hpp: $1 .. $12).
struct TimeStepParams {
    std::string lower, upper;                  // $1, $2: the run's load range (lower, upper]
    std::int64_t reprocess_days = 0;           // $3
    std::vector<std::string> full_days;        // $4: days reprocessed in full
    std::string start_date;                    // $5
    std::int64_t model_id = 0;                 // $6
    std::string model_name;                    // $7
    std::int64_t min_rows = 1;                 // $8: min_rows_to_process
    std::optional<std::string> backfill_from;  // $9, $10: an append model's backfill range
    std::optional<std::string> backfill_to;
    std::vector<std::string> logged_los;  // $11, $12: the log's ranges behind the limit
    std::vector<std::string> logged_his;
    std::vector<std::string> day_los;  // $13, $14: the recompute's ranges of the day key's
    std::vector<std::string> day_his;  // column (core::day_range_params())
    // $15 .. $17: the range manifest's segments (lower, upper, reprocess_days), padded with
    // empty ones to core::kMaxLoadSegments
    std::vector<std::string> segment_los, segment_his, segment_days;

    std::vector<SqlParam> params() const {
        auto opt = [](const std::optional<std::string> &v) {
            return v ? SqlParam::value(*v) : SqlParam::null();
        };
        return typed_time_params(
            {SqlParam::value(lower), SqlParam::value(upper), SqlParam::int64(reprocess_days),
             SqlParam::text_array(full_days), SqlParam::value(start_date),
             SqlParam::int64(model_id), SqlParam::value(model_name), SqlParam::int64(min_rows),
             opt(backfill_from), opt(backfill_to), SqlParam::text_array(logged_los),
             SqlParam::text_array(logged_his), SqlParam::text_array(day_los),
             SqlParam::text_array(day_his), SqlParam::text_array(segment_los),
             SqlParam::text_array(segment_his), SqlParam::text_array(segment_days)});
    }
};

TimeStepParams step_params(const ModelRecord &m, const std::string &lower, const std::string &upper,
                           std::int64_t reprocess_days, std::int64_t min_rows,
                           const BackfillRange *backfill) {
    TimeStepParams p;
    p.lower = lower;
    p.upper = upper;
    p.reprocess_days = reprocess_days;
    p.start_date = m.spec.time->start_date;
    p.model_id = m.spec.id;
    p.model_name = m.spec.name;
    p.min_rows = min_rows;
    if (backfill && m.spec.time->append) {
        p.backfill_from = backfill->from;
        p.backfill_to = backfill->to;
    }
    return p;
}

// A later statement must see rows committed after this one's limit was read: READ COMMITTED.
void require_read_committed() {
    if (pg_call([] { return IsolationUsesXactSnapshot(); }))
        throw UserError(
            ERRCODE_FEATURE_NOT_SUPPORTED,
            "incmodel: a time-based model cannot run in a REPEATABLE READ or SERIALIZABLE "
            "transaction",
            "Its load limit is read from the transactions in flight and needs fresh snapshots.",
            "Run it in READ COMMITTED (the default), or outside a transaction block.");
}

std::string sum_days(const core::RefreshPlanner &planner, const char *column) {
    return planner.sum_of_days(column);
}

// The daily ledger's new values: read as the model's owner from its days scratch (in the column
// order of daily_ledger_rows(); the scratch is the model's, not the catalog), recorded by the
// catalog (time_ledger.hpp) from parameters only.
void record_ledger(const core::RefreshPlanner &planner, const ModelRecord &m,
                   const std::string &upper, const std::vector<std::string> &full_days) {
    std::vector<DailyLedgerDay> days;
    for (const auto &row :
         spi_exec(planner.daily_ledger_rows(), {SqlParam::text_array(full_days)}).rows) {
        DailyLedgerDay day;
        day.event_date = row[0];
        day.full_day = row[1];
        day.processed_events = row[2];
        day.skipped_events = row[3];
        day.max_load = row[4];
        days.push_back(std::move(day));
    }
    record_daily_ledger(planner, m.spec.name, upper, days);
}

// What this run does about the loads its previous run's snapshot could not see (the change log,
// src/pg/source_triggers.hpp): rows committed behind the limit, rows no range can place, and a
// change the log cannot describe by ranges.
struct CatchUp {
    LoggedLoads logged;
    std::int64_t behind = 0;    // rows in the logged ranges, loaded in [start_date, lower]
    std::int64_t unplaced = 0;  // NULL load values, and logged rows loaded before start_date
};

// Counts the rows behind and the unplaced rows, and says so: a NOTICE for rows this run
// processes late, a WARNING for rows no run can place.
void count_catch_up(const core::RefreshPlanner &planner, const ModelRecord &m,
                    const TimeStepParams &step, CatchUp &c) {
    const std::vector<SqlParam> params = step.params();
    c.unplaced = c.logged.nulls;
    if (!c.logged.los.empty()) {
        SqlResult r = spi_exec(planner.time_rows_behind(), params);
        c.behind = std::stoll(*r.rows[0][0]);
        c.unplaced += std::stoll(*r.rows[0][1]);
    }
    const std::string load = m.spec.time->load_column;
    if (c.behind > 0)
        report(
            NOTICE,
            fmt::format("incmodel: model \"{}\": {} row(s) were committed behind its load limit; "
                        "this run includes them",
                        m.spec.name, c.behind),
            fmt::format("Their transactions committed after the previous run's snapshot with {} "
                        "at or below that run's upper limit.",
                        load),
            m.spec.time->append ? "Their event keys are recomputed."
                                : "Their event days are reprocessed in full.");
    if (c.unplaced > 0)
        report(
            WARNING,
            fmt::format("incmodel: model \"{}\": {} row(s) can never be placed in a load range",
                        m.spec.name, c.unplaced),
            fmt::format("Their {} is NULL or before the model's start_date; status.unplaced_rows "
                        "counts them.",
                        load),
            fmt::format("Load every row with a {} at or after the start_date.", load));
    if (c.logged.modified)
        report(
            NOTICE,
            fmt::format("incmodel: source {} of model \"{}\" was changed by UPDATE, DELETE, "
                        "TRUNCATE, a partition attached or detached or its triggers disabled "
                        "since the last refresh; reprocessing every {}",
                        core::qualified(quote_ident, m.spec.source), m.spec.name,
                        m.spec.time->append ? "event key" : "day"),
            "The change log cannot say which rows changed.",
            fmt::format("Load the source with INSERT or COPY only to keep refreshes incremental."));
}

// Records what the catch-up found: on the run, and the unplaced rows on the model (status).
// The catalog has the columns: a run's model was loaded (or created) only after
// require_catalog_version() found the installed extension at this library's version.
void record_catch_up(const ModelRecord &m, const RunRecord &run, const CatchUp &c) {
    if (c.behind == 0 && c.unplaced == 0) return;
    RowsBehindLimit counts;
    counts.model_id = m.spec.id;
    counts.run_id = run.run_id;
    counts.rows_behind_limit = c.behind;
    counts.rows_unplaced = c.unplaced;
    record_rows_behind_limit(counts);
}

// The days a daily run reprocesses in full because of the log: the event days of the rows
// behind, or every day after a change the log cannot describe. Merged into days (sorted).
void add_catch_up_days(const core::RefreshPlanner &planner, const TimeStepParams &step,
                       const CatchUp &c, std::vector<std::string> &days) {
    const std::vector<SqlParam> params = step.params();
    std::vector<std::string> more;
    if (c.logged.modified)
        for (const auto &row : spi_exec(planner.daily_all_days(), params).rows)
            more.push_back(*row[0]);
    else if (c.behind > 0)
        for (const auto &row : spi_exec(planner.daily_days_behind(), params).rows)
            more.push_back(*row[0]);
    days.insert(days.end(), more.begin(), more.end());
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
}

}  // namespace

bool run_time_model(RunDriver &driver, const ModelRecord &m, const TimeRunArgs &args) {
    const core::TimeSpec &d = *m.spec.time;
    core::RefreshPlanner planner(m.spec, quote_ident);
    RunRecord &run = driver.run();
    const std::int64_t reprocess_days = args.reprocess_days.value_or(d.reprocess_days);
    const std::int64_t min_rows = args.min_rows_to_process.value_or(d.min_rows_to_process);
    if (reprocess_days < 0 || min_rows < 1)
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: reprocess_days must be >= 0 and min_rows_to_process >= 1",
                        fmt::format("reprocess_days is {}, min_rows_to_process is {}.",
                                    reprocess_days, min_rows));
    std::string lower, upper;
    std::optional<BackfillRange> backfill;
    std::vector<std::string> full_days;
    TimeStepParams step;
    std::vector<SqlParam> params;         // step's, refreshed whenever step changes
    std::optional<std::string> snapshot;  // recorded at commit (not by a backfill)
    CatchUp catch_up;

    driver.unit("plan", [&] {
        driver.more_units_follow();
        require_read_committed();
        clear_scratch(planner, m.spec.time.has_value());
        // Before anything reads the source: a transaction this snapshot cannot see is read
        // from the log by the next run.
        if (!args.backfill && m.change_log) snapshot = capture_snapshot();
        if (args.backfill) {
            if (!m.upper_limit)
                throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                                "incmodel: model \"" + m.spec.name + "\" has not run yet",
                                "A backfill rebuilds days up to the model's upper limit.",
                                "Refresh the model first.");
            lower = upper = *m.upper_limit;
            backfill = backfill_range(m, args.backfill->first, args.backfill->second);
            full_days = backfill->days;
        } else {
            std::tie(lower, upper) = next_range(m);
        }
        step =
            step_params(m, lower, upper, reprocess_days, min_rows, backfill ? &*backfill : nullptr);
        if (!args.backfill) catch_up.logged = loads_since_plan(m);
        step.logged_los = catch_up.logged.los;
        step.logged_his = catch_up.logged.his;
        params = step.params();
        count_catch_up(planner, m, step, catch_up);
        run.lower_limit = lower;
        run.upper_limit = upper;
        if (d.append) {
            if (lower != upper)
                run.events = spi_exec(planner.time_range_rows(), params).scalar_int();
            driver.report(fmt::format("plan: load range ({}, {}], {} new rows, {} behind the limit",
                                      lower, upper, run.events, catch_up.behind));
            return;
        }
        if (lower != upper) spi_exec(planner.daily_day_stats(), params);
        if (!args.backfill)
            for (const auto &row : spi_exec(planner.daily_full_days(), params).rows)
                full_days.push_back(*row[0]);
        add_catch_up_days(planner, step, catch_up, full_days);
        step.full_days = full_days;
        params = step.params();
        if (!full_days.empty()) spi_exec(planner.daily_full_day_counts(), params);
        if (catch_up.logged.modified) spi_exec(planner.daily_empty_full_days(), params);
        run.events = spi_exec(sum_days(planner, "new_rows")).scalar_int();
        run.late_rows = spi_exec(sum_days(planner, "late_rows")).scalar_int();
        run.days_reprocessed = static_cast<std::int64_t>(full_days.size());
        driver.report(
            fmt::format("plan: load range ({}, {}], {} new rows ({} late), {} days "
                        "reprocessed in full",
                        lower, upper, run.events, run.late_rows, full_days.size()));
    });
    const bool changes = run.events > run.late_rows || !full_days.empty() ||
                         (d.append && args.backfill) || catch_up.behind > 0 ||
                         catch_up.logged.modified;
    if (changes) {
        driver.unit("keys", [&] {
            driver.more_units_follow();
            const std::string sql = !d.append       ? planner.daily_collect_keys()
                                    : args.backfill ? planner.append_backfill_keys()
                                                    : planner.append_collect_keys();
            run.keys = static_cast<std::int64_t>(spi_exec(sql, params).processed);
            // Keys the log makes this run recompute: after a change it cannot describe, every
            // key (the target's too: their rows may be gone); else those of the rows behind.
            std::string more;
            if (catch_up.logged.modified)
                more = d.append ? planner.append_all_keys() : planner.daily_target_keys_of_days();
            else if (d.append && catch_up.behind > 0)
                more = planner.append_keys_behind();
            if (!more.empty())
                run.keys += static_cast<std::int64_t>(spi_exec(more, params).processed);
            spi_exec(planner.analyze_keys());
            run.null_keys = spi_exec(planner.count_null_keys()).scalar_int();
            driver.report(fmt::format("keys: {} keys touched", run.keys));
        });
        driver.unit("recompute", [&] {
            driver.more_units_follow();
            // A day key over one column: the rows of the keys' days are read by ranges of it.
            const bool in_days = !d.append && d.day_range.has_value();
            if (in_days) {
                std::vector<core::DayRangeRow> ranges;
                for (const auto &row : spi_exec(planner.daily_day_ranges()).rows)
                    ranges.push_back({*row[0], *row[1], std::stoll(*row[2])});
                std::tie(step.day_los, step.day_his) = core::day_range_params(std::move(ranges));
            }
            // The range manifest as a few segments: the inclusion rule compares, never looks up.
            bool segments = false;
            if (!d.append) {
                SqlResult r = spi_exec(planner.daily_load_segments(), {SqlParam::int64(m.spec.id)});
                segments = r.rows.size() <= core::kMaxLoadSegments;
                step.segment_los.clear();
                step.segment_his.clear();
                step.segment_days.clear();
                for (std::size_t i = 0; segments && i < core::kMaxLoadSegments; ++i) {
                    const bool real = i < r.rows.size();
                    step.segment_los.push_back(real ? *r.rows[i][0] : "infinity");
                    step.segment_his.push_back(real ? *r.rows[i][1] : "-infinity");
                    step.segment_days.push_back(real ? *r.rows[i][2] : "0");
                }
            }
            params = step.params();
            const std::string sql =
                d.append ? planner.append_recompute(run.null_keys > 0)
                         : planner.daily_recompute(run.null_keys > 0, in_days, segments);
            run.rows_inserted = static_cast<std::int64_t>(spi_exec(sql, params).processed);
            driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
        });
    }
    driver.unit("commit", [&] {
        if (changes) {
            run.rows_deleted = replace_touched_keys(planner, run.null_keys);
        }
        if (!d.append) record_ledger(planner, m, upper, full_days);
        if (changes) queue_for_dependents(m, planner, false);
        if (lower != upper) {
            LoadRange range;
            range.model_id = m.spec.id;
            range.run_id = run.run_id;
            range.lower_limit = lower;
            range.upper_limit = upper;
            range.reprocess_days = reprocess_days;
            range.rows_processed = run.events - run.late_rows;
            range.rows_late = run.late_rows;
            range.days_reprocessed = run.days_reprocessed;
            record_load_range(range);
        }
        if (snapshot) set_planned_snapshot(m, *snapshot);
        add_dead_tuple_debt(m.target_oid, m.spec.id, run.rows_deleted);
        run.step_timings_json = driver.timings_json();
        finish_run(run, changes ? "success" : "noop");
        record_catch_up(m, run, catch_up);
        driver.report(fmt::format("commit: {} rows deleted, {} inserted", run.rows_deleted,
                                  run.rows_inserted));
    });
    return changes;
}

namespace {
// How explain() describes a daily recompute's read of the source: by ranges of the day key's
// column, or (a day key no range of one column bounds) every row loaded since start_date.
std::string day_ranges_note(const core::TimeSpec &d) {
    if (!d.day_range)
        return "; the day key is not a range of one source column: every row loaded since "
               "start_date is read and filtered by key";
    return fmt::format("; their rows read by ranges of {} around their days (widened by {} days)",
                       quote_ident(d.day_range->column), d.day_range->slack_days);
}

// How explain() describes the range manifest's rule in a daily recompute.
std::string segments_note() {
    return fmt::format(
        "; the range manifest compared as up to {} segments of contiguous ranges with one "
        "reprocess_days (looked up per row when it has more)",
        core::kMaxLoadSegments);
}
}  // namespace

std::vector<ExplainRow> explain_time_model(const ModelRecord &m) {
    const core::TimeSpec &d = *m.spec.time;
    core::RefreshPlanner planner(m.spec, quote_ident);
    PinnedSettings pinned(m.timezone);
    auto [lower, upper] = next_range(m);
    const std::vector<SqlParam> params =
        step_params(m, lower, upper, d.reprocess_days, d.min_rows_to_process, nullptr).params();
    std::string plan;
    if (d.append) {
        plan = fmt::format("load range ({}, {}]: {} new rows", lower, upper,
                           spi_exec(planner.time_range_rows(), params).scalar_int());
    } else {
        const std::string stats = "(" + planner.daily_day_stats_select() + ")";
        SqlResult totals = spi_exec(planner.daily_stats_summary(stats), params);
        std::vector<std::string> full;
        for (const auto &row : spi_exec(planner.daily_full_days(stats), params).rows)
            full.push_back(*row[0]);
        std::string listed;
        for (size_t i = 0; i < full.size(); ++i) listed += (i ? ", " : "") + full[i];
        plan = fmt::format(
            "load range ({}, {}]: {} new rows, {} late; days touched: {}; days reprocessed in "
            "full: {}",
            lower, upper, *totals.rows[0][0], *totals.rows[0][1],
            totals.rows[0][3]->empty() ? "none" : *totals.rows[0][3],
            listed.empty() ? "none" : listed);
    }
    pinned.close();
    return {
        {1, "plan", plan, d.append ? planner.time_range_rows() : planner.daily_day_stats()},
        {2, "keys",
         d.append ? "event keys first seen in the load range"
                  : "keys of new rows that are not late, and every key of a day reprocessed in "
                    "full",
         d.append ? planner.append_collect_keys() : planner.daily_collect_keys()},
        {3, "recompute",
         d.append ? "the first duplicate of each new event key, through the query"
                  : "touched keys recomputed from the rows the manifests include" +
                        day_ranges_note(d) + segments_note(),
         d.append ? planner.append_recompute(false) : planner.daily_recompute(false, true, true)},
        {4, "commit",
         d.append ? "one transaction: insert the new events, record the range"
                  : "one transaction: delete touched keys, insert recomputed rows, update the "
                    "daily ledger, record the range",
         planner.delete_target_keys() + ";\n" + planner.insert_target_rows() +
             (d.append ? "" : ";\n" + planner.daily_record_ledger())},
    };
}

std::vector<ExplainRow> explain_time_backfill(const ModelRecord &m, const std::string &from_micros,
                                              const std::string &to_micros) {
    const core::TimeSpec &d = *m.spec.time;
    if (!m.upper_limit)
        throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "incmodel: model \"" + m.spec.name + "\" has not run yet");
    core::RefreshPlanner planner(m.spec, quote_ident);
    PinnedSettings pinned(m.timezone);
    const BackfillRange range = backfill_range(m, from_micros, to_micros);
    const std::vector<std::string> &days = range.days;
    TimeStepParams step = step_params(m, *m.upper_limit, *m.upper_limit, d.reprocess_days,
                                      d.min_rows_to_process, &range);
    step.full_days = days;
    const std::vector<SqlParam> params = step.params();
    std::string plan;
    if (d.append) {
        SqlResult r = spi_exec(planner.append_backfill_rows(), params);
        plan = fmt::format(
            "backfill of the load range [{}, {}): {} rows of {} events, up to the "
            "upper limit {}",
            range.from, range.to, *r.rows[0][0], *r.rows[0][1], *m.upper_limit);
    } else {
        SqlResult r = spi_exec(
            planner.daily_full_days_summary("(" + planner.daily_full_day_counts_select() + ")"),
            params);
        plan = fmt::format(
            "backfill of the days [{}, {}): {} rows on {} days with rows, loaded "
            "up to the upper limit {}{}",
            days.empty() ? "-" : days.front(), days.empty() ? "-" : days.back() + " + 1",
            *r.rows[0][0], *r.rows[0][1], *m.upper_limit,
            r.rows[0][2]->empty() ? "" : "; " + *r.rows[0][2]);
    }
    pinned.close();
    return {
        {1, "plan", plan,
         d.append ? planner.append_backfill_rows() : planner.daily_full_day_counts()},
        {2, "keys",
         d.append ? "every event key loaded in the range" : "every key of the backfilled days",
         d.append ? planner.append_backfill_keys() : planner.daily_collect_keys()},
        {3, "recompute",
         "the keys recomputed from every row loaded up to the upper limit" +
             (d.append ? std::string() : day_ranges_note(d) + segments_note()),
         d.append ? planner.append_recompute(false) : planner.daily_recompute(false, true, true)},
        {4, "commit",
         "one transaction: delete the keys, insert the recomputed rows" +
             std::string(d.append ? "" : ", reset the days in the daily ledger"),
         planner.delete_target_keys() + ";\n" + planner.insert_target_rows()},
    };
}

std::vector<SqlParam> typed_time_params(std::vector<SqlParam> params) {
    for (int n : core::kTimestamptzTimeParams) {
        const std::size_t i = static_cast<std::size_t>(n) - 1;
        if (i < params.size() && !params[i].is_array) params[i] = params[i].typed(TIMESTAMPTZOID);
    }
    return params;
}

Pending pending_time_rows(const ModelRecord &m) {
    const Oid source = m.source_oid;
    bool can_read = pg_call(
        [source] { return pg_class_aclcheck(source, GetUserId(), ACL_SELECT) == ACLCHECK_OK; });
    if (!can_read) return {};
    core::RefreshPlanner planner(m.spec, quote_ident);
    PinnedSettings pinned(m.timezone);
    std::string lower =
        *spi_exec(fmt::format("SELECT ({})::text", kNextLower), lower_params(m)).scalar();
    std::int64_t rows =
        spi_exec(planner.time_range_rows(),
                 typed_time_params({SqlParam::value(lower), SqlParam::value("infinity")}))
            .scalar_int();
    pinned.close();
    return {std::nullopt, rows};
}

void reset_time_model(const ModelRecord &m) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    spi_exec(planner.truncate_target());
    forget_time_ledger(m.spec.id, m.spec.name);
    queue_for_dependents(m, planner, true);
    forget_model_debt(m.spec.id);
}

}  // namespace incmodel::pg
