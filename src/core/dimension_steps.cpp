// The SQL that turns a change to a dimension into the refresh keys it touches: the changed rows'
// join values are queued at the statement (cheap: one read of the transition table), and the
// refresh follows the query's own equalities from those values to the source's rows, whose keys
// it recomputes with the batches' ones.
#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "core/sql_text.hpp"

namespace incmodel::core {

namespace {

constexpr const char *kKeyQueue = "incmodel.key_queue";
constexpr const char *kValues = "_incmodel_v";

}  // namespace

std::string through_dimension_expr(const KeyThroughDimension &k) {
    const std::string match = fmt::format("FROM {} AS {} WHERE {} {} {}", k.relation, k.alias,
                                          k.column, k.op, k.source_column);
    return fmt::format("CASE WHEN EXISTS (SELECT 1 {m}) THEN (SELECT {matched} {m}) ELSE {un} END",
                       fmt::arg("m", match), fmt::arg("matched", k.matched),
                       fmt::arg("un", k.unmatched));
}

std::string RefreshPlanner::through_dimension_keys(const std::string &transition,
                                                   const KeyThroughDimension &k) const {
    return fmt::format(
        "SELECT ({matched})::pg_catalog.text FROM {rows} AS {alias} UNION SELECT "
        "({unmatched})::pg_catalog.text FROM {rows} AS {alias}",
        fmt::arg("matched", k.matched), fmt::arg("unmatched", k.unmatched_from_dimension),
        fmt::arg("rows", quote_(transition)), fmt::arg("alias", k.alias));
}

std::string RefreshPlanner::dimension_values(const std::vector<std::string> &transitions,
                                             const DimensionRoute &route) const {
    const DimensionHop &first = route.hops.front();
    std::vector<std::string> reads;
    for (const auto &t : transitions)
        reads.push_back(fmt::format("SELECT ({value})::pg_catalog.text AS v FROM {rows} AS {alias}",
                                    fmt::arg("value", first.value), fmt::arg("rows", quote_(t)),
                                    fmt::arg("alias", first.alias)));
    return fmt::format(
        "SELECT pg_catalog.array_agg(x.v)::pg_catalog.text FROM ({}) AS x WHERE x.v IS "
        "NOT NULL",
        join(reads, " UNION ALL "));
}

std::string RefreshPlanner::queue_dimension_values() const {
    return fmt::format(
        "INSERT INTO {} (model_id, dimension, keys) SELECT $1::pg_catalog.int8, "
        "$2::pg_catalog.oid::pg_catalog.regclass, $3::pg_catalog.text[] WHERE $3 IS NOT NULL",
        kKeyQueue);
}

std::string RefreshPlanner::queue_packed_dimension_values() const {
    return fmt::format(
        "INSERT INTO {} (model_id, dimension, packed_values) VALUES ($1::pg_catalog.int8, "
        "$2::pg_catalog.oid::pg_catalog.regclass, $3::pg_catalog.bytea)",
        kKeyQueue);
}

// Each hop reads the values of the one before it (a subquery aliased _incmodel_v, column v):
// the first the queued values (keys, or the row triggers' packed_values) cast back to their
// type, the others a relation of the query restricted to the rows whose equality with them holds.
std::string RefreshPlanner::dimension_keys_into_scratch(const DimensionRoute &route) const {
    std::string values = fmt::format(
        "SELECT DISTINCT u.v::{type} AS v FROM {queue} q, pg_catalog.unnest(COALESCE(q.keys, "
        "incmodel.noted_values(q.packed_values))) AS u(v) WHERE "
        "q.model_id = $1::pg_catalog.int8 AND q.id = ANY ($2::pg_catalog.int8[]) AND "
        "q.dimension::pg_catalog.oid = $3::pg_catalog.oid",
        fmt::arg("type", route.value_type), fmt::arg("queue", kKeyQueue));
    for (size_t i = 1; i < route.hops.size(); ++i) {
        const DimensionHop &hop = route.hops[i];
        values = fmt::format(
            "SELECT DISTINCT {value} AS v FROM {rel} AS {alias} WHERE EXISTS (SELECT 1 FROM "
            "({values}) AS {v} WHERE {match})",
            fmt::arg("value", hop.value), fmt::arg("rel", hop.relation),
            fmt::arg("alias", hop.alias), fmt::arg("values", values), fmt::arg("v", kValues),
            fmt::arg("match", hop.match));
    }
    const std::string keys = qualified(quote_, scratch_.keys);
    return fmt::format(
        "INSERT INTO {keys} ({cols}) SELECT DISTINCT {exprs} FROM {src} WHERE EXISTS (SELECT 1 "
        "FROM ({values}) AS {v} WHERE {match}){filter} EXCEPT SELECT {cols} FROM {keys}",
        fmt::arg("keys", keys), fmt::arg("cols", key_columns(nullptr)),
        fmt::arg("exprs", key_exprs()), fmt::arg("src", source_as_alias()),
        fmt::arg("values", values), fmt::arg("v", kValues), fmt::arg("match", route.source_match),
        fmt::arg("filter", and_source_filter()));
}

}  // namespace incmodel::core
