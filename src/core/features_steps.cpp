// The SQL that connects a features model to its input. The input's commit queues, for every model
// that depends on it, the projection of its touched keys on that model's key (the positions in
// incmodel.models.feature_keys); the features run reads the distinct queued keys back. The keys
// pass through the adapter: the input's owner reads its scratch, the catalog owner writes the
// queue from parameters.
#include <fmt/format.h>

#include "core/refresh_planner.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kKeyQueue = "incmodel.key_queue";
}  // namespace

// The models that depend on this one (one of their inputs), with the positions of their key
// parts among this model's key parts, their targets, and (one row per key part, in order) their
// key expressions over this model's key when a part is not a plain copy (read by the catalog
// owner from incmodel.feature_inputs). $1 this model's name.
std::string RefreshPlanner::dependents() const {
    return "SELECT d.model_id::pg_catalog.text AS model_id, fi.feature_keys::pg_catalog.text AS "
           "feature_keys, d.target::pg_catalog.oid::pg_catalog.text AS target, e.expr AS "
           "key_expr FROM incmodel.models d JOIN incmodel.feature_inputs fi ON fi.model_id "
           "OPERATOR(pg_catalog.=) d.model_id AND fi.input OPERATOR(pg_catalog.=) "
           "$1::pg_catalog.text LEFT JOIN LATERAL pg_catalog.unnest(fi.feature_key_exprs) WITH "
           "ORDINALITY AS e(expr, ord) ON true ORDER BY d.model_id, e.ord";
}

std::string RefreshPlanner::project_keys(const std::vector<std::string> &key_exprs,
                                         const std::string &input_alias) const {
    std::vector<std::string> arrays, raw, typed, projected;
    for (size_t i = 0; i < spec_.keys.size(); ++i) {
        arrays.push_back(fmt::format("pg_catalog.unnest(${}::pg_catalog.text[])", i + 1));
        raw.push_back(fmt::format("k{}", i + 1));
        typed.push_back(fmt::format("_incmodel_k.k{}::{} AS {}", i + 1, spec_.keys[i].type,
                                    quote_(spec_.keys[i].column)));
    }
    for (size_t i = 0; i < key_exprs.size(); ++i)
        projected.push_back(fmt::format("({})::pg_catalog.text AS p{}", key_exprs[i], i + 1));
    return fmt::format(
        "SELECT DISTINCT {projected} FROM ROWS FROM ({arrays}) AS _incmodel_k({raw}) CROSS JOIN "
        "LATERAL (SELECT {typed}) AS {alias}",
        fmt::arg("projected", join(projected, ", ")), fmt::arg("arrays", join(arrays, ", ")),
        fmt::arg("raw", join(raw, ", ")), fmt::arg("typed", join(typed, ", ")),
        fmt::arg("alias", quote_(input_alias)));
}

// The touched keys as text, read by this model's owner from its keys scratch, for the queues of
// its dependents.
std::string RefreshPlanner::scratch_keys_as_text() const {
    std::vector<std::string> parts;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        parts.push_back(fmt::format("k{}::pg_catalog.text", i + 1));
    return fmt::format("SELECT {} FROM {}", join(parts, ", "), qualified(quote_, scratch_.keys));
}

// Queues one dependent's projected keys (by the catalog owner, from parameters): $1 the
// dependent's model id, $2 .. $(parts + 1) one text[] per key part of the dependent, in order.
std::string RefreshPlanner::queue_keys(size_t parts) const {
    std::vector<std::string> arrays, names;
    for (size_t i = 0; i < parts; ++i) {
        arrays.push_back(fmt::format("pg_catalog.unnest(${}::pg_catalog.text[])", i + 2));
        names.push_back(fmt::format("p{}", i + 1));
    }
    return fmt::format(
        "INSERT INTO {queue} (model_id, keys) SELECT DISTINCT $1::pg_catalog.int8, ARRAY[{names}] "
        "FROM ROWS FROM ({arrays}) AS u({names})",
        fmt::arg("queue", kKeyQueue), fmt::arg("names", join(names, ", ")),
        fmt::arg("arrays", join(arrays, ", ")));
}

std::string RefreshPlanner::queue_full_recompute_for_dependents() const {
    return fmt::format(
        "INSERT INTO {} (model_id, keys) SELECT d.model_id, NULL FROM incmodel.models d WHERE "
        "d.depends_on @> ARRAY[$1]",
        kKeyQueue);
}

std::string RefreshPlanner::features_queued_keys() const {
    std::vector<std::string> casts;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        casts.push_back(fmt::format("keys[{}]::{}", i + 1, spec_.keys[i].type));
    return fmt::format(
        "INSERT INTO {} ({}) SELECT DISTINCT {} FROM {} WHERE model_id = $1::int8 AND id = ANY "
        "($2::int8[])",
        qualified(quote_, scratch_.keys), key_columns(nullptr), join(casts, ", "), kKeyQueue);
}

}  // namespace incmodel::core
