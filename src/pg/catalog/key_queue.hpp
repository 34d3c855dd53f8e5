// The key queue (incmodel.key_queue): key sets waiting for a model's next refresh. Batch models
// get the keys of rows an UPDATE or DELETE changed (capture/key_capture.cpp); features models the
// keys their input model touched, projected on their own key. A set with keys NULL asks for a
// full recompute. Written by the catalog owner from parameters; read by the model's owner (row
// security shows a model's sets to roles with its target owner's privileges). The statements
// are rendered by core::RefreshPlanner (features_steps.cpp, refresh_planner.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// One key part's values (text, NULL allowed), one array per part of the key, row-aligned.
using KeyColumns = std::vector<std::vector<std::optional<std::string>>>;

// The sets queued for a model: their ids (a run consumes exactly these), whether one asks for a
// full recompute, and the highest id.
struct QueuedKeySets {
    std::vector<std::string> ids;
    bool full = false;
    std::vector<Oid> dimensions;  // the dimensions whose changed join values are among them
    std::optional<std::int64_t> max_id;
};
QueuedKeySets queued_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id);

// Deletes the sets a run processed (catalog owner).
void consume_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id,
                      const std::vector<std::string> &ids);

// Queues one set per row of keys (catalog owner).
void queue_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id, KeyColumns keys);

// Queues the join values of a dimension's changed rows for a model (catalog owner).
void queue_dimension_values(const core::RefreshPlanner &planner, std::int64_t model_id,
                            Oid dimension, const std::optional<std::string> &values);
// The same from the packed form of the values the row triggers noted (a bytea Datum:
// capture/packed_values.hpp), into packed_values; as text[] into keys while the installed SQL
// predates that column (a library upgraded before ALTER EXTENSION UPDATE: the writer's commit
// must not fail).
void queue_packed_dimension_values(std::int64_t model_id, Oid dimension, Datum packed);

// Queues a full recompute of the model (catalog owner).
void queue_full_recompute(std::int64_t model_id);

// The features models that read a model's target, with the positions of their key parts among
// its key parts (0: an expression), their targets' OIDs (their owners evaluate the expressions)
// and, when a part is an expression of the input's key, every part's expression (empty
// otherwise).
struct Dependent {
    std::int64_t model_id;
    std::vector<int> positions;
    std::uint32_t target_oid;
    std::vector<std::string> key_exprs;
};
std::vector<Dependent> dependents_of(const core::RefreshPlanner &planner, const std::string &input);

// Queues a full recompute for every model that reads the input's target (it was rebuilt).
void queue_full_recompute_of_dependents(const core::RefreshPlanner &planner,
                                        const std::string &input);

// The names of the models that read a model's target, in name order.
std::vector<std::string> dependent_names(const std::string &input);

}  // namespace incmodel::pg
