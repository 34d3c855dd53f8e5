// The refresh procedure of a daily aggregate model's package (export_time.hpp), step for step as
// src/pg/models/time_model.cpp runs it with the SQL of src/core/daily_steps.cpp:
//   range    the load range (lower, upper] (TimePackage::lock_and_range)
//   days     per event day of the range: new rows, late rows (event day more than
//            reprocess_days before the load day), the latest load
//   full     the days whose skipped rows (ledger + this run's late rows) reach
//            min_rows_to_process, counted in full over [start_date, upper]
//   keys     the keys of new rows that are not late, and every key of a full day
//   recompute the user's query over the rows of those keys the manifests include: loaded in
//            [start_date, upper] and (on a full day, or new and not late, or at or below the
//            day's last full pass in the ledger, or not late under the reprocess_days of the
//            range manifest row whose range holds it)
//   commit   keys replaced, the ledger updated (a full day takes its recount, clears its skipped
//            rows and remembers the upper limit), the range recorded, the run logged.
#include <fmt/format.h>

#include "core/export_time.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kLedgerAlias = "_incmodel_l";
constexpr const char *kRangeAlias = "_incmodel_m";
}  // namespace

// A daily package needs the day key's expression (the late rule and the ledger's days).
DailyPackage::DailyPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : TimePackage(std::move(spec), std::move(options), std::move(quote)) {
    if (spec_.time->day_expr.empty())
        throw ExportError(ExportError::Kind::InvalidValue,
                          "incmodel: the daily model has no day key expression");
}

// The event day of a source row, as the extension's daily_day().
std::string DailyPackage::day() const {
    return "(" + spec_.time->day_expr + ")::" + (redshift() ? "DATE" : "date");
}

// A row is late when its event day is more than days before its load day; a row without an
// event day never is (the extension's "(...) IS NOT TRUE").
std::string DailyPackage::not_late(const std::string &days) const {
    if (redshift())
        return fmt::format("NOT COALESCE({d} < DATEADD(day, -({n}), ({l})::DATE), FALSE)",
                           fmt::arg("d", day()), fmt::arg("n", days), fmt::arg("l", load()));
    return fmt::format("NOT COALESCE({d} < ({l})::date - ({n}), false)", fmt::arg("d", day()),
                       fmt::arg("n", days), fmt::arg("l", load()));
}

// The range manifest, the ledger per event day, and the scratch of a run: days (per-day counts
// of the range and of the full recounts), full (days reprocessed in full), ledger (the ledger's
// new values).
std::vector<std::string> DailyPackage::state_tables() const {
    const bool rs = redshift();
    const std::string ts = ts_type();
    const std::string u = rs ? "" : "UNLOGGED ";
    const std::string all = rs ? " DISTSTYLE ALL" : "";
    std::vector<std::string> out = TimePackage::state_tables();
    out.push_back(fmt::format(
        "CREATE TABLE IF NOT EXISTS {l} (event_date date NOT NULL{pk}, processed_events bigint "
        "NOT NULL, skipped_events bigint NOT NULL, max_load_tstamp {ts}, last_updated_at {ts}, "
        "full_upper {ts}){dist}",
        fmt::arg("l", ledger()), fmt::arg("pk", rs ? "" : " PRIMARY KEY"), fmt::arg("ts", ts),
        fmt::arg("dist", rs ? " DISTSTYLE ALL SORTKEY (event_date)" : "")));
    out.push_back(fmt::format(
        "CREATE {u}TABLE IF NOT EXISTS {t} (event_date date, new_rows bigint, late_rows bigint, "
        "max_load {ts}, full_rows bigint, full_max_load {ts}){all}",
        fmt::arg("u", u), fmt::arg("t", scratch("days")), fmt::arg("ts", ts),
        fmt::arg("all", all)));
    out.push_back(fmt::format("CREATE {u}TABLE IF NOT EXISTS {t} (event_date date){all}",
                              fmt::arg("u", u), fmt::arg("t", scratch("full")),
                              fmt::arg("all", all)));
    out.push_back(fmt::format(
        "CREATE {u}TABLE IF NOT EXISTS {t} (event_date date, full_day boolean, processed bigint, "
        "skipped bigint, max_load {ts}){all}",
        fmt::arg("u", u), fmt::arg("t", scratch("ledger")), fmt::arg("ts", ts),
        fmt::arg("all", all)));
    return out;
}

// What `incmodel maintain` vacuums and analyzes: the ledger and the daily scratch too.
std::vector<QualifiedName> DailyPackage::maintained_relations() const {
    return {spec_.target,
            {kExportSchema, "manifest_" + spec_.name},
            {kExportSchema, "ledger_" + spec_.name},
            {kExportScratchSchema, spec_.name + "_days"},
            {kExportScratchSchema, spec_.name + "_full"},
            {kExportScratchSchema, spec_.name + "_ledger"},
            {kExportScratchSchema, spec_.name + "_keys"},
            {kExportScratchSchema, spec_.name + "_rows"},
            {kExportSchema, "run_log"}};
}

// The refresh: the steps of the header comment, in one transaction.
std::string DailyPackage::procedure_body() const {
    return body(false);
}

// The backfill, as the extension's: the same steps with the last upper limit as both limits (no
// new rows, no range recorded) and the days of [range_start, range_end) that have rows loaded
// up to it as the days reprocessed in full (days without rows have nothing to rebuild).
std::string DailyPackage::backfill_body() const {
    return body(true);
}

// One body for both: they differ in the plan (range or backfill days) and the range recorded.
std::string DailyPackage::body(bool backfill) const {
    const bool rs = redshift();
    const TimeSpec &t = *spec_.time;
    const std::string max_load = rs ? "MAX(" + load() + ")" : "max(" + load() + ")::timestamptz";
    std::string s = declare_common();
    s += fmt::format("    v_reprocess_days INTEGER := {};\n", t.reprocess_days);
    s += fmt::format("    v_min_rows BIGINT := {};\n", t.min_rows_to_process);
    s += "    v_late BIGINT := 0;\n";
    s += "    v_full BIGINT := 0;\n";
    if (backfill) s += fmt::format("    v_from {t};\n    v_to {t};\n", fmt::arg("t", ts_type()));
    s += "BEGIN\n";
    s += backfill ? backfill_range() : lock_and_range();
    s += delete_scratch({"days", "full", "ledger", "keys", "rows"});
    if (backfill) {
        s += fmt::format(
            "    INSERT INTO {full} (event_date)\n"
            "    SELECT DISTINCT {day} FROM {src} WHERE {day} >= {from} AND {day} < {to} AND "
            "{range};\n",
            fmt::arg("full", scratch("full")), fmt::arg("day", day()),
            fmt::arg("src", source_as_alias()), fmt::arg("from", as_date("v_from")),
            fmt::arg("to", as_date("v_to")), fmt::arg("range", in_range(">=", start())));
    }
    if (!backfill) {
        // The range's rows per event day: new, late, latest load.
        s += "    IF v_lower <> v_upper THEN\n";
        s += fmt::format(
            "        INSERT INTO {days} (event_date, new_rows, late_rows, max_load)\n"
            "        SELECT {day}, COUNT(*), COUNT(CASE WHEN NOT ({not_late}) THEN 1 END), "
            "{max_load} "
            "FROM {src} WHERE {range} GROUP BY 1;\n",
            fmt::arg("days", scratch("days")), fmt::arg("day", day()),
            fmt::arg("not_late", not_late("v_reprocess_days")), fmt::arg("max_load", max_load),
            fmt::arg("src", source_as_alias()), fmt::arg("range", in_range(">", "v_lower")));
        s += "    END IF;\n";
        // Days whose skipped rows, this run's late rows included, reach min_rows_to_process.
        s += fmt::format(
            "    INSERT INTO {full} (event_date)\n"
            "    SELECT event_date FROM (SELECT event_date, SUM(n) AS n FROM (SELECT event_date, "
            "late_rows AS n FROM {days} WHERE event_date IS NOT NULL UNION ALL SELECT event_date, "
            "skipped_events FROM {ledger}) u GROUP BY event_date) x WHERE n > 0 AND n >= "
            "v_min_rows;\n",
            fmt::arg("full", scratch("full")), fmt::arg("days", scratch("days")),
            fmt::arg("ledger", ledger()));
    }
    s += "    GET DIAGNOSTICS v_full := ROW_COUNT;\n";
    s += "    IF v_full > 0 THEN\n";
    s += fmt::format(
        "        INSERT INTO {days} (event_date, full_rows, full_max_load)\n"
        "        SELECT {day}, COUNT(*), {max_load} FROM {src} WHERE {day} IN (SELECT event_date "
        "FROM {full}) AND {range} GROUP BY 1;\n",
        fmt::arg("days", scratch("days")), fmt::arg("day", day()), fmt::arg("max_load", max_load),
        fmt::arg("src", source_as_alias()), fmt::arg("full", scratch("full")),
        fmt::arg("range", in_range(">=", start())));
    s += "    END IF;\n";
    s += fmt::format(
        "    SELECT INTO v_events, v_late, v_batches COALESCE(SUM(new_rows), 0), "
        "COALESCE(SUM(late_rows), 0), COUNT(DISTINCT event_date) FROM {};\n",
        scratch("days"));
    s += "    IF v_events > v_late OR v_full > 0 THEN\n";
    s += "        v_outcome := 'success';\n";
    // The keys: of new rows that are not late, and every key of a full day.
    s += fmt::format(
        "        INSERT INTO {keys} ({cols})\n"
        "        SELECT {exprs} FROM {src} WHERE {range} AND {not_late}{filter} UNION SELECT "
        "{exprs} FROM {src} WHERE {day} IN (SELECT event_date FROM {full}) AND "
        "{full_range}{filter};\n",
        fmt::arg("keys", scratch("keys")), fmt::arg("cols", key_columns()),
        fmt::arg("exprs", key_exprs()), fmt::arg("src", source_as_alias()),
        fmt::arg("range", in_range(">", "v_lower")),
        fmt::arg("not_late", not_late("v_reprocess_days")), fmt::arg("filter", and_filter()),
        fmt::arg("day", day()), fmt::arg("full", scratch("full")),
        fmt::arg("full_range", in_range(">=", start())));
    s += "        GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    s += fmt::format(
        "        SELECT INTO v_null_keys COUNT(*) FROM {} WHERE {};\n", scratch("keys"),
        join_map(spec_.keys, " OR ",
                 [i = 0](const KeyPart &) mutable { return fmt::format("k{} IS NULL", ++i); }));
    // The rows the manifests include. The ledger has one row per day and the range manifest's
    // ranges do not overlap, so the joins repeat no source row.
    const std::string joins = fmt::format(
        " LEFT JOIN {ledger} AS {l} ON {l}.event_date = {day} LEFT JOIN {m} AS {r} ON {load} > "
        "{lo} AND {load} <= {hi}",
        fmt::arg("ledger", ledger()), fmt::arg("l", kLedgerAlias), fmt::arg("day", day()),
        fmt::arg("m", manifest()), fmt::arg("r", kRangeAlias), fmt::arg("load", load()),
        fmt::arg("lo", as_load(std::string(kRangeAlias) + ".lower_limit")),
        fmt::arg("hi", as_load(std::string(kRangeAlias) + ".upper_limit")));
    const std::string included = fmt::format(
        " AND {full_range} AND ({day} IN (SELECT event_date FROM {full}) OR ({load} > {lower} AND "
        "{not_late_now}) OR {load} <= {full_upper} OR ({r}.upper_limit IS NOT NULL AND "
        "{not_late_then}))",
        fmt::arg("full_range", in_range(">=", start())), fmt::arg("day", day()),
        fmt::arg("full", scratch("full")), fmt::arg("load", load()),
        fmt::arg("lower", as_load("v_lower")),
        fmt::arg("not_late_now", not_late("v_reprocess_days")),
        fmt::arg("full_upper", as_load(std::string(kLedgerAlias) + ".full_upper")),
        fmt::arg("r", kRangeAlias),
        fmt::arg("not_late_then", not_late(std::string(kRangeAlias) + ".reprocess_days")));
    s += recompute(joins, included);
    s += replace_keys();
    s += "    END IF;\n";
    // The ledger: per event day of this run, what it processed and skipped.
    s += fmt::format(
        "    INSERT INTO {sl} (event_date, full_day, processed, skipped, max_load)\n"
        "    SELECT event_date, full_day, CASE WHEN full_day THEN SUM(full_rows) ELSE "
        "SUM(new_rows - late_rows) END, CASE WHEN full_day THEN 0 ELSE SUM(late_rows) END, "
        "MAX(COALESCE(max_load, full_max_load)) FROM (SELECT d.event_date, d.new_rows, "
        "d.late_rows, d.max_load, d.full_rows, d.full_max_load, f.event_date IS NOT NULL AS "
        "full_day FROM {days} d LEFT JOIN {full} f ON f.event_date = d.event_date WHERE "
        "d.event_date IS NOT NULL) x GROUP BY event_date, full_day;\n",
        fmt::arg("sl", scratch("ledger")), fmt::arg("days", scratch("days")),
        fmt::arg("full", scratch("full")));
    const std::string ln = q("ledger_" + spec_.name);
    s += fmt::format(
        "    UPDATE {l} SET processed_events = CASE WHEN u.full_day THEN u.processed ELSE "
        "{ln}.processed_events + u.processed END, skipped_events = CASE WHEN u.full_day THEN 0 "
        "ELSE {ln}.skipped_events + u.skipped END, max_load_tstamp = CASE WHEN "
        "{ln}.max_load_tstamp IS NULL OR u.max_load > {ln}.max_load_tstamp THEN u.max_load ELSE "
        "{ln}.max_load_tstamp END, last_updated_at = v_started, full_upper = CASE WHEN "
        "u.full_day THEN v_upper ELSE {ln}.full_upper END FROM {sl} u WHERE {ln}.event_date = "
        "u.event_date;\n",
        fmt::arg("l", ledger()), fmt::arg("ln", ln), fmt::arg("sl", scratch("ledger")));
    s += fmt::format(
        "    INSERT INTO {l} (event_date, processed_events, skipped_events, max_load_tstamp, "
        "last_updated_at, full_upper)\n"
        "    SELECT u.event_date, u.processed, u.skipped, u.max_load, v_started, CASE WHEN "
        "u.full_day THEN v_upper END FROM {sl} u WHERE NOT EXISTS (SELECT 1 FROM {l} AS {a} "
        "WHERE {a}.event_date = u.event_date);\n",
        fmt::arg("l", ledger()), fmt::arg("sl", scratch("ledger")), fmt::arg("a", kLedgerAlias));
    // The range, when the limit moved (never in a backfill).
    if (!backfill) {
        s += "    IF v_lower <> v_upper THEN\n";
        s += fmt::format(
            "        INSERT INTO {} (lower_limit, upper_limit, reprocess_days, rows_processed, "
            "rows_late, days_reprocessed, recorded_at) VALUES (v_lower, v_upper, "
            "v_reprocess_days, v_events - v_late, v_late, v_full, v_started);\n",
            manifest());
        s += "    END IF;\n";
    }
    s += finish();
    s += "END;\n";
    return s;
}

}  // namespace incmodel::core
