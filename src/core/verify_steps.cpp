// The SQL of incmodel.verify(): the rows a model should hold, recomputed into its rows scratch
// by the same rules its runs follow, and their comparison with the target. A verify writes only
// the scratch tables; it reads the target.
//
// What "should hold" means per kind: a batch or features model, its query over the whole source
// (the input's target for features); a daily model, its query over the rows the inclusion rules
// include up to its upper limit (daily_included_rows with no new range and no full days); an
// append model, its query over the first duplicate of each event key loaded in
// [start_date, upper limit].
#include <fmt/format.h>

#include "core/refresh_planner.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kTargetAlias = "_incmodel_t";
constexpr const char *kKeysAlias = "_incmodel_k";
constexpr const char *kDedupeAlias = "_incmodel_d";
}  // namespace

// A random fraction of the keys either side knows: keys only in the target (extra rows) and
// keys only in the source (missing rows) are both candidates. The union is materialized first:
// the planner would otherwise push the volatile filter into its branches, drawing once per
// source row, so a key with many events would almost always be kept.
std::string RefreshPlanner::verify_sample_keys() const {
    std::vector<std::string> tcols;
    for (const auto &k : spec_.keys)
        tcols.push_back(fmt::format("{}.{}", kTargetAlias, q(k.column)));
    return fmt::format(
        "WITH _incmodel_u ({cols}) AS MATERIALIZED (SELECT {tcols} FROM {target} AS {ta} UNION "
        "SELECT {exprs} FROM {src}) INSERT INTO {keys} ({cols}) SELECT {cols} FROM _incmodel_u "
        "WHERE pg_catalog.random() < $1::pg_catalog.float8",
        fmt::arg("keys", qualified(quote_, scratch_.keys)), fmt::arg("cols", key_columns(nullptr)),
        fmt::arg("tcols", join(tcols, ", ")), fmt::arg("target", qualified(quote_, spec_.target)),
        fmt::arg("ta", kTargetAlias), fmt::arg("exprs", key_exprs()),
        fmt::arg("src", source_as_alias()));
}

// An append model keeps, per event key, the first duplicate by the load column (then the
// dedupe columns), as append_recompute() does.
std::string RefreshPlanner::append_first_duplicates(const std::string &rows) const {
    const TimeSpec &t = *spec_.time;
    std::vector<std::string> order{std::string(kDedupeAlias) + "." + q(t.event_key)};
    for (const auto &c : t.dedupe_order) order.push_back(std::string(kDedupeAlias) + "." + q(c));
    return fmt::format("SELECT DISTINCT ON ({d}.{ek}) {d}.* FROM ({rows}) AS {d} ORDER BY {order}",
                       fmt::arg("d", kDedupeAlias), fmt::arg("ek", q(t.event_key)),
                       fmt::arg("rows", rows), fmt::arg("order", join(order, ", ")));
}

// Every row the model should hold, by the rules of its kind (see the file comment).
std::string RefreshPlanner::verify_recompute_all() const {
    if (!spec_.time) return recompute_all();
    const std::string into = fmt::format(
        "INSERT INTO {} ({}) ", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }));
    if (spec_.time->append)
        return into + with_restricted_source(
                          append_first_duplicates("SELECT * FROM " + source_as_alias() + " WHERE " +
                                                  time_load_between(">=", 5, 2)));
    return into + with_restricted_source("SELECT * FROM " + source_as_alias() + " WHERE true" +
                                         daily_included_rows());
}

// The rows of the sampled keys. A batch model's are recomputed from all their events, as a
// rebuild computes them (never from the lookback window alone).
std::string RefreshPlanner::verify_recompute_keys(bool with_null_keys) const {
    if (spec_.time)
        return spec_.time->append ? append_recompute(with_null_keys)
                                  : daily_recompute(with_null_keys);
    return fmt::format(
        "INSERT INTO {} ({}) {}", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }),
        with_restricted_source(restricted_to_keys(with_null_keys, "")));
}

// The target's rows to compare: all of them, or those of the keys in the keys scratch (keys with
// a NULL part matched in a second branch, as delete_target_null_keys() does).
std::string RefreshPlanner::verify_target_rows(bool sampled, bool with_null_keys) const {
    const std::string cols = join_map(spec_.outputs, ", ", [this](const OutputColumn &c) {
        return fmt::format("{}.{}", kTargetAlias, q(c.name));
    });
    const std::string from = qualified(quote_, spec_.target) + " AS " + kTargetAlias;
    if (!sampled) return fmt::format("SELECT {} FROM {}", cols, from);
    std::vector<std::string> tkeys;
    for (const auto &k : spec_.keys)
        tkeys.push_back(fmt::format("{}.{}", kTargetAlias, q(k.column)));
    // The keys' own equality (citext, ltree ...), as the commit's DELETE matches them.
    std::string out = fmt::format("SELECT {} FROM {} WHERE {}", cols, from, in_keys(tkeys));
    if (with_null_keys)
        out +=
            fmt::format(" UNION ALL SELECT {} FROM {} WHERE {}", cols, from, in_null_keys(tkeys));
    return out;
}

// Rows that are not in both (EXCEPT ALL: NULLs equal, every column compared, hashable) are
// grouped by the target's unique columns: a key only on the recomputed side is missing from the
// target, one only on the target's side is extra, one on both sides differs. Only the
// differences are grouped, so the cost is two passes over each side.
std::string RefreshPlanner::verify_compare(bool sampled, bool with_null_keys, int examples) const {
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    const std::string ucols =
        join_map(spec_.unique_columns, ", ", [this](const std::string &c) { return q(c); });
    const std::string key_text = spec_.unique_columns.size() == 1
                                     ? ucols + "::pg_catalog.text"
                                     : "ROW(" + ucols + ")::pg_catalog.text";
    auto sample_of = [&](const char *filter) {
        return fmt::format(
            "COALESCE(((pg_catalog.array_agg(_incmodel_key ORDER BY _incmodel_key) FILTER (WHERE "
            "{}))[1:{}])::pg_catalog.text, '{{}}')",
            filter, examples);
    };
    return fmt::format(
        "WITH _incmodel_recomputed AS (SELECT {cols} FROM {rows}), _incmodel_target AS "
        "({target}), _incmodel_diff AS (SELECT true AS _incmodel_side, x.* FROM (SELECT * FROM "
        "_incmodel_recomputed EXCEPT ALL SELECT * FROM _incmodel_target) AS x UNION ALL SELECT "
        "false, y.* FROM (SELECT * FROM _incmodel_target EXCEPT ALL SELECT * FROM "
        "_incmodel_recomputed) AS y), _incmodel_keys AS (SELECT {key_text} AS _incmodel_key, "
        "pg_catalog.bool_or(_incmodel_side) AS in_r, pg_catalog.bool_or(NOT _incmodel_side) AS "
        "in_t FROM _incmodel_diff GROUP BY {ucols}) "
        "SELECT (SELECT pg_catalog.count(*) FROM _incmodel_recomputed), pg_catalog.count(*) "
        "FILTER (WHERE in_r AND NOT in_t), pg_catalog.count(*) FILTER (WHERE in_t AND NOT in_r), "
        "pg_catalog.count(*) FILTER (WHERE in_r AND in_t), {missing}, {extra}, {differ} FROM "
        "_incmodel_keys",
        fmt::arg("cols", cols), fmt::arg("rows", qualified(quote_, scratch_.rows)),
        fmt::arg("target", verify_target_rows(sampled, with_null_keys)),
        fmt::arg("key_text", key_text), fmt::arg("ucols", ucols),
        fmt::arg("missing", sample_of("in_r AND NOT in_t")),
        fmt::arg("extra", sample_of("in_t AND NOT in_r")),
        fmt::arg("differ", sample_of("in_r AND in_t")));
}

}  // namespace incmodel::core
