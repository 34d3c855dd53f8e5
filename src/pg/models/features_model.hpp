// Features models: a model whose source is another model's target (depends_on), e.g. lifetime
// metrics per user over a daily aggregate. Its input, when it commits, queues the keys it
// touched (incmodel.key_queue, projected on the features model's key); a features run
// recomputes exactly the queued keys from the input's target and removes what it consumed in
// the same transaction.
#pragma once

#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/model_ops.hpp"
#include "pg/models/run_driver.hpp"

namespace incmodel::pg {

// One run from the queue; with full (creation, rebuild), or when a rebuilt input queued it, a full
// recompute from the input's target. Returns true when it changed anything.
bool run_features(RunDriver &driver, const ModelRecord &m, bool full = false);

// At an input's commit, running as the input's owner: queue the keys in its keys scratch for
// every model that depends on it (read as the owner, written as the catalog owner). With
// all = true (the input was rebuilt) queue a full recompute.
void queue_for_dependents(const ModelRecord &input, const core::RefreshPlanner &planner, bool all);

// The models whose input is m, by name.
std::vector<std::string> dependent_model_names(const ModelRecord &m);

// Raises 2BP01 when other models depend on m (drop the dependents first).
void require_no_dependents(const ModelRecord &m);

// Per key part of a features query, the 1-based key part of its input it is a plain copy of, or
// 0 for an expression of the input's key columns (analysis refused anything else).
std::vector<int> map_feature_keys(const core::ModelSpec &features, const ModelRecord &input);

// The input's key columns, in order: what a features model's key parts may read.
std::vector<std::string> key_column_names(const ModelRecord &input);

std::vector<ExplainRow> explain_features(const ModelRecord &m);
Pending pending_features(const ModelRecord &m);

}  // namespace incmodel::pg
