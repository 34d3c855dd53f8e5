// The SQL that connects a features model to its input. The input's commit queues, for every model
// that depends on it, the projection of its touched keys on that model's key (the positions in
// incmodel.models.feature_keys); the features run reads the distinct queued keys back.
#include <fmt/format.h>

#include "core/refresh_planner.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kKeyQueue = "incmodel.key_queue";
}  // namespace

std::string RefreshPlanner::queue_keys_for_dependents() const {
    std::vector<std::string> parts;
    for (size_t i = 0; i < spec_.keys.size(); ++i) parts.push_back(fmt::format("k{}::text", i + 1));
    // The LATERAL reference to d keeps the keys scratch unread when no model depends on this one.
    return fmt::format(
        "INSERT INTO {queue} (model_id, keys) SELECT DISTINCT d.model_id, ARRAY(SELECT "
        "k.all_keys[u.p] FROM unnest(d.feature_keys) WITH ORDINALITY AS u(p, o) ORDER BY u.o) "
        "FROM incmodel.models d CROSS JOIN LATERAL (SELECT ARRAY[{parts}] AS all_keys FROM "
        "{keys} WHERE d.model_id IS NOT NULL) k WHERE d.depends_on @> ARRAY[$1]",
        fmt::arg("queue", kKeyQueue), fmt::arg("parts", join(parts, ", ")),
        fmt::arg("keys", qualified(quote_, scratch_.keys)));
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
        "INSERT INTO {} ({}) SELECT DISTINCT {} FROM {} WHERE model_id = $1::int8 AND id <= "
        "$2::int8",
        qualified(quote_, scratch_.keys), key_columns(nullptr), join(casts, ", "), kKeyQueue);
}

}  // namespace incmodel::core
