// The refresh procedure of an append (event-level) model's package (export_time.hpp), as
// src/pg/models/time_model.cpp runs it with the SQL of src/core/append_steps.cpp: the event keys
// first seen in the run's load range (not in the target yet) are the touched keys; each is
// recomputed from its first duplicate by the load column (then dvce_created_tstamp when the
// source has it) among the rows loaded in [start_date, upper], through the user's query. The
// first duplicate is taken with ROW_NUMBER() (Redshift has no DISTINCT ON), so the source's
// columns are listed (ExportOptions::source_columns).
#include <fmt/format.h>

#include "core/export_time.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kTargetAlias = "_incmodel_t";
constexpr const char *kDedupeAlias = "_incmodel_d";
constexpr const char *kRowNumber = "_incmodel_rn";
}  // namespace

// The deduplication needs the event key and the source's columns (ExportOptions).
AppendPackage::AppendPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : TimePackage(std::move(spec), std::move(options), std::move(quote)) {
    if (options_.source_columns.empty() || spec_.time->event_key.empty() || spec_.keys.size() != 1)
        throw ExportError(ExportError::Kind::InvalidValue,
                          "incmodel: an append package needs the event key and the source's "
                          "columns");
}

// The touched keys recomputed from the first duplicate of each among its rows loaded in
// [start_date, upper], through the user's query (the refresh's and the backfill's recompute).
std::string AppendPackage::recompute_first_duplicates() const {
    const TimeSpec &t = *spec_.time;
    const std::string ek = q(t.event_key);
    std::string order = fmt::format("{}.{} ASC NULLS LAST", kDedupeAlias, q(t.load_column));
    for (const auto &c : t.dedupe_order)
        if (c != t.load_column) order += fmt::format(", {}.{} ASC NULLS LAST", kDedupeAlias, q(c));
    const std::string cols =
        join_map(options_.source_columns, ", ", [this](const std::string &c) { return q(c); });
    const std::string head = fmt::format(
        "SELECT {cols} FROM (SELECT {d}.*, ROW_NUMBER() OVER (PARTITION BY {d}.{ek} ORDER BY "
        "{order}) AS {rn} FROM (",
        fmt::arg("cols", cols), fmt::arg("d", kDedupeAlias), fmt::arg("ek", ek),
        fmt::arg("order", order), fmt::arg("rn", kRowNumber));
    const std::string tail = fmt::format(") AS {d}) AS {d}2 WHERE {rn} = 1",
                                         fmt::arg("d", kDedupeAlias), fmt::arg("rn", kRowNumber));
    return recompute("", " AND " + in_range(">=", start()), head, tail);
}

// The run of the header comment, in one transaction.
std::string AppendPackage::procedure_body() const {
    const TimeSpec &t = *spec_.time;
    const std::string a = q(spec_.source_alias);
    const std::string ek = q(t.event_key);
    std::string s = declare_common();
    s += "BEGIN\n";
    s += lock_and_range();
    s += delete_scratch({"keys", "rows"});
    s += "    IF v_lower <> v_upper THEN\n";
    s += fmt::format("        SELECT INTO v_events COUNT(*) FROM {} WHERE {};\n", source_as_alias(),
                     in_range(">", "v_lower"));
    s += "    END IF;\n";
    s += "    IF v_events > 0 THEN\n";
    s += "        v_outcome := 'success';\n";
    s += "        v_batches := 1;\n";
    // Event keys of the range the target does not hold yet (one NULL key at most, as the
    // target's NULLS NOT DISTINCT key).
    s += fmt::format(
        "        INSERT INTO {keys} (k1)\n"
        "        SELECT DISTINCT {a}.{ek} FROM {src} WHERE {range} AND NOT EXISTS (SELECT 1 FROM "
        "{target} AS {ta} WHERE {ta}.{ek} = {a}.{ek}) AND ({a}.{ek} IS NOT NULL OR NOT EXISTS "
        "(SELECT 1 FROM {target} AS {ta} WHERE {ta}.{ek} IS NULL));\n",
        fmt::arg("keys", scratch("keys")), fmt::arg("a", a), fmt::arg("ek", ek),
        fmt::arg("src", source_as_alias()), fmt::arg("range", in_range(">", "v_lower")),
        fmt::arg("target", target()), fmt::arg("ta", kTargetAlias));
    s += "        GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    s += fmt::format("        SELECT INTO v_null_keys COUNT(*) FROM {} WHERE k1 IS NULL;\n",
                     scratch("keys"));
    s += recompute_first_duplicates();
    s += replace_keys();
    s += "    END IF;\n";
    s += "    IF v_lower <> v_upper THEN\n";
    s += fmt::format(
        "        INSERT INTO {} (lower_limit, upper_limit, reprocess_days, rows_processed, "
        "rows_late, days_reprocessed, recorded_at) VALUES (v_lower, v_upper, NULL, v_events, 0, "
        "0, v_started);\n",
        manifest());
    s += "    END IF;\n";
    s += finish();
    s += "END;\n";
    return s;
}

// The backfill, as the extension's: every event key loaded in [range_start, range_end) (and
// since start_date, up to the last upper limit) recomputed and replaced, in one transaction;
// the range manifest does not move.
std::string AppendPackage::backfill_body() const {
    const TimeSpec &t = *spec_.time;
    const std::string a = q(spec_.source_alias);
    std::string s = declare_common();
    s += fmt::format("    v_from {t};\n    v_to {t};\n", fmt::arg("t", ts_type()));
    s += "BEGIN\n";
    s += backfill_range();
    s += delete_scratch({"keys", "rows"});
    s += "    v_outcome := 'success';\n";
    s += fmt::format(
        "    INSERT INTO {keys} (k1)\n"
        "    SELECT DISTINCT {a}.{ek} FROM {src} WHERE {load} >= {from} AND {load} < {to} AND "
        "{range};\n",
        fmt::arg("keys", scratch("keys")), fmt::arg("a", a), fmt::arg("ek", q(t.event_key)),
        fmt::arg("src", source_as_alias()), fmt::arg("load", load()),
        fmt::arg("from", as_load("v_from")), fmt::arg("to", as_load("v_to")),
        fmt::arg("range", in_range(">=", start())));
    s += "    GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    s += fmt::format("    SELECT INTO v_null_keys COUNT(*) FROM {} WHERE k1 IS NULL;\n",
                     scratch("keys"));
    s += "    IF v_keys > 0 THEN\n";
    s += recompute_first_duplicates();
    s += replace_keys();
    s += "    END IF;\n";
    s += finish();
    s += "END;\n";
    return s;
}

}  // namespace incmodel::core
