// Features models: a model whose source is another model's target (depends_on), e.g. lifetime
// metrics per user over a daily aggregate. Its input, when it commits, queues the keys it
// touched (incmodel.key_queue, projected on the features model's key); a features run
// recomputes exactly the queued keys from the input's target and removes what it consumed in
// the same transaction.
#pragma once

#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/analysis/query_analysis.hpp"
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

// The inputs of a features model being created, loaded in order; raises 42710 when one is named
// twice and 42P17 when the model names itself.
std::vector<ModelRecord> load_feature_inputs(const std::vector<std::string> &names,
                                             const std::string &model);

// Per input, how the features model's key is computed from that input's key (the positions and
// expressions its commit projects touched keys through). The first input's mapping comes from
// primary (the query analyzed with its target as the source); every other input's from the query
// analyzed again with that input's target as the source (the others read as joined tables, so an
// inner join on the features key carries the key over), keyed by the same columns. Raises 42P10
// (with the reason) when the key is not a function of an input's key columns.
std::vector<FeatureInput> map_feature_inputs(const ModelQueryInput &base,
                                             const AnalyzedQuery &primary,
                                             const std::vector<ModelRecord> &inputs);

// Per key part of a features query, the 1-based key part of its input it is a plain copy of, or
// 0 for an expression of the input's key columns (analysis refused anything else).
std::vector<int> map_feature_keys(const core::ModelSpec &features, const ModelRecord &input);

// The input's key columns, in order: what a features model's key parts may read.
std::vector<std::string> key_column_names(const ModelRecord &input);

std::vector<ExplainRow> explain_features(const ModelRecord &m);
Pending pending_features(const ModelRecord &m);

}  // namespace incmodel::pg
