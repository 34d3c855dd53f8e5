// The relations a model reads besides its source (dimensions, context tables, identity maps,
// tables in subqueries or behind views) are watched: a change to one changes the model's rows
// without a new event. Each gets incmodel_dim (a row trigger that only notes the change),
// incmodel_dim_truncate, and the statement triggers incmodel_dim_ins / _upd / _del, which queue
// the changed rows' join values for the keys they reach (capture/dimension_capture.cpp) and so
// take care of the noted rows. Rows no statement trigger took care of (logical replication's
// apply, a partition attached later) and TRUNCATE queue a full recompute at commit for the batch
// and features models that read the relation and a 'modify' row for the time-based ones, so the
// next refresh rebuilds (or reprocesses) and says so.
#pragma once

#include <vector>

#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

// The relations the model's query reads besides its source and its inputs' targets.
std::vector<Oid> dimensions_of(const ModelRecord &m, const std::vector<Oid> &input_targets = {});

// Refuses (0A000) a batch model set to on_dimension_change 'recompute' that reads one of relids
// with no route from it to the source: its changes could only rebuild the model.
void require_dimension_routes(const ModelRecord &m, const std::vector<Oid> &relids);

// Records the relations the model's query reads besides its source (and, for a features model,
// besides its inputs' targets, whose changes reach it through the key queue) and puts the watch
// triggers on them; a NOTICE names each relation the caller may not put triggers on (its changes
// are not seen).
void watch_dimensions(const ModelRecord &m, const std::vector<Oid> &input_targets = {});

// After a model was dropped: the triggers of the relations no model watches any more go.
void unwatch_dimensions(const std::vector<Oid> &relids);

// The relations a model watches (before it is dropped).
std::vector<Oid> watched_relations(const ModelRecord &m);

// A partition created in or attached to a watched relation (the DDL event trigger): it gets the
// TRUNCATE and statement triggers (the row trigger is cloned by PostgreSQL); with_rows (an
// attached partition that holds rows) queues what a change no trigger saw queues.
void watch_new_partition(Oid partition, bool with_rows);

// A change to relids (a relation and its partition ancestors) reached the models watching them:
// a full recompute queued for each batch or features model, a 'modify' row for each time-based
// one. Called before commit, and by the key capture for a relation that is also a source.
void notify_dimension_change(const std::vector<Oid> &relids);

}  // namespace incmodel::pg
