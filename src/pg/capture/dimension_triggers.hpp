// The relations a model reads besides its source (dimensions, context tables, identity maps,
// tables in subqueries or behind views) are watched: a change to one changes the model's rows
// without a new event. Each gets incmodel_dim (a row trigger that only notes the change) and
// incmodel_dim_truncate; at commit, a transaction that changed one queues a full recompute for
// the batch and features models that read it and a 'modify' row for the time-based ones, so the
// next refresh rebuilds (or reprocesses) and says so. Recomputing only the keys the change
// reaches is the next step (equi-joins map changed join values to source rows).
#pragma once

#include <vector>

#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

// Records the relations the model's query reads besides its source (and, for a features model,
// besides its inputs' targets, whose changes reach it through the key queue) and puts the watch
// triggers on them; a NOTICE names each relation the caller may not put triggers on (its changes
// are not seen).
void watch_dimensions(const ModelRecord &m, const std::vector<Oid> &input_targets = {});

// After a model was dropped: the triggers of the relations no model watches any more go.
void unwatch_dimensions(const std::vector<Oid> &relids);

// The relations a model watches (before it is dropped).
std::vector<Oid> watched_relations(const ModelRecord &m);

// A change to relids (a relation and its partition ancestors) reached the models watching them:
// a full recompute queued for each batch or features model, a 'modify' row for each time-based
// one. Called before commit, and by the key capture for a relation that is also a source.
void notify_dimension_change(const std::vector<Oid> &relids);

}  // namespace incmodel::pg
