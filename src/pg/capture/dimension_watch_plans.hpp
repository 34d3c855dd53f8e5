// What a change to a watched relation (a dimension) does for each model that reads it, worked
// out once per backend and relation and kept until the relation's (or a watching model's
// target's) relcache entry is invalidated: watch_dimensions and unwatch_dimensions invalidate
// the relations whose watchers they change. The statement triggers, the pre-commit flush of the
// row triggers' notes and the trigger DDL (the watch's shape) all read it.
#pragma once

#include <string>
#include <vector>

#include "core/capture_triggers.hpp"
#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

enum class WatchKind {
    Reprocess,  // a time-based model: a 'modify' row for its load column
    Recompute,  // a features model, 'rebuild', or no route: a full recompute
    Values,     // the route starts from a plain column: the row triggers note its values
    Rows,       // a key read through the relation, or a route starting from an expression:
                // the statement triggers read the changed rows as the model's owner
};

struct WatchPlan {
    DimensionWatcher watcher;
    WatchKind kind = WatchKind::Recompute;
    AttrNumber attnum = InvalidAttrNumber;  // Values: the relation's column
    Oid target = InvalidOid;                // Values: the model's target (whose owner reads)
};

// The plans of the models watching any of relids (a relation and its partition ancestors). A
// model that cannot be analyzed gets Recompute (with a WARNING).
std::vector<WatchPlan> watch_plans(const std::vector<Oid> &relids);

// The shape of relid's watch: the columns its row triggers note, and whether statement triggers
// read whole rows (the models watching relid itself).
core::DimensionWatchShape watch_shape(Oid relid);

// Works out and records (incmodel.model_dimensions) what a change to each relation m watches
// does for m, so a writer's transaction reads it with the watchers instead of analyzing the
// model's query. features: m is a features model (create_model records its inputs after its
// watch).
void record_watch_plans(const ModelRecord &m, const std::vector<Oid> &relids, bool features);

// Forgets the plans that involve relid, in this backend now and in others at commit.
void invalidate_watch_plans(Oid relid);

}  // namespace incmodel::pg
