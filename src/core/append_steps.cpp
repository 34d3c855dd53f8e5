// The SQL of an append (event-level) model's run. The target keeps one row per event key: the
// user's SELECT over the source deduplicated on the key, the first duplicate by the load column
// (then dvce_created_tstamp when the source has it), among the rows loaded in
// [start_date, upper limit]. A run adds the keys first seen in its load range; reloading an
// event adds nothing. A backfill recomputes the keys loaded in a load range.
// Parameters: the time-based vector ($1 lower, $2 upper, $5 start_date), plus $9 and $10, a
// backfill's load range [from, to) (timestamptz).
#include <fmt/format.h>

#include "core/refresh_planner.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kTargetAlias = "_incmodel_t";
constexpr const char *kDedupeAlias = "_incmodel_d";
}  // namespace

std::string RefreshPlanner::append_collect_keys() const {
    const TimeSpec &t = *spec_.time;
    const std::string ek = source_column(t.event_key);
    const std::string tk = std::string(kTargetAlias) + "." + q(t.event_key);
    return fmt::format(
        "INSERT INTO {keys} (k1) SELECT DISTINCT {ek} FROM {src} WHERE {range} AND NOT EXISTS "
        "(SELECT 1 FROM {target} AS {ta} WHERE {tk} = {ek}) AND ({ek} IS NOT NULL OR NOT EXISTS "
        "(SELECT 1 FROM {target} AS {ta} WHERE {tk} IS NULL))",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("ek", ek),
        fmt::arg("src", source_as_alias()), fmt::arg("range", time_load_between(">", 1, 2)),
        fmt::arg("target", qualified(quote_, spec_.target)), fmt::arg("ta", kTargetAlias),
        fmt::arg("tk", tk));
}

std::string RefreshPlanner::append_backfill_keys() const {
    const TimeSpec &t = *spec_.time;
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format(
        "INSERT INTO {keys} (k1) SELECT DISTINCT {a}.{ek} FROM {src} WHERE {load} >= "
        "$9::pg_catalog.timestamptz::{lt} AND {load} < $10::pg_catalog.timestamptz::{lt} AND "
        "{range}",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("a", q(spec_.source_alias)),
        fmt::arg("ek", q(t.event_key)), fmt::arg("src", source_as_alias()), fmt::arg("load", load),
        fmt::arg("lt", t.load_type), fmt::arg("range", time_load_between(">=", 5, 2)));
}

std::string RefreshPlanner::append_backfill_rows() const {
    const TimeSpec &t = *spec_.time;
    const std::string load = source_column(spec_.time->load_column);
    return fmt::format(
        "SELECT count(*), count(DISTINCT {a}.{ek}) + coalesce(bool_or({a}.{ek} IS NULL), "
        "false)::int FROM {src} WHERE {load} >= "
        "$9::pg_catalog.timestamptz::{lt} AND {load} < $10::pg_catalog.timestamptz::{lt} AND "
        "{range}",
        fmt::arg("a", q(spec_.source_alias)), fmt::arg("ek", q(t.event_key)),
        fmt::arg("src", source_as_alias()), fmt::arg("load", load), fmt::arg("lt", t.load_type),
        fmt::arg("range", time_load_between(">=", 5, 2)));
}

std::string RefreshPlanner::append_recompute(bool with_null_keys) const {
    const TimeSpec &t = *spec_.time;
    std::vector<std::string> order{std::string(kDedupeAlias) + "." + q(t.event_key)};
    for (const auto &c : t.dedupe_order) order.push_back(std::string(kDedupeAlias) + "." + q(c));
    const std::string first = fmt::format(
        "SELECT DISTINCT ON ({d}.{ek}) {d}.* FROM ({rows}) AS {d} ORDER BY {order}",
        fmt::arg("d", kDedupeAlias), fmt::arg("ek", q(t.event_key)),
        fmt::arg("rows",
                 restricted_to_keys(with_null_keys, " AND " + time_load_between(">=", 5, 2))),
        fmt::arg("order", join(order, ", ")));
    return fmt::format(
        "INSERT INTO {} ({}) {}", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }),
        with_restricted_source(first));
}

std::string RefreshPlanner::append_keys_behind() const {
    const TimeSpec &t = *spec_.time;
    return fmt::format(
        "INSERT INTO {keys} (k1) SELECT {a}.{ek} FROM {behind} WHERE {from_start} "
        "EXCEPT SELECT k1 FROM {keys}",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("a", q(spec_.source_alias)),
        fmt::arg("ek", q(t.event_key)), fmt::arg("behind", time_in_logged_ranges()),
        fmt::arg("from_start", time_load_between(">=", 5, 2)));
}

std::string RefreshPlanner::append_all_keys() const {
    const TimeSpec &t = *spec_.time;
    return fmt::format(
        "INSERT INTO {keys} (k1) SELECT {a}.{ek} FROM {src} WHERE {range} UNION SELECT {ek} FROM "
        "{target} EXCEPT SELECT k1 FROM {keys}",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("a", q(spec_.source_alias)),
        fmt::arg("ek", q(t.event_key)), fmt::arg("src", source_as_alias()),
        fmt::arg("range", time_load_between(">=", 5, 2)),
        fmt::arg("target", qualified(quote_, spec_.target)));
}

}  // namespace incmodel::core
