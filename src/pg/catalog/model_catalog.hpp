// incmodel's catalog: models, their columns, the manifest and the run log. Reads and writes go
// through SPI as the catalog owner; nothing here touches user tables.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model_spec.hpp"
#include "pg/catalog/maintenance_catalog.hpp"
#include "pg/catalog/run_log.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

struct ModelRecord {
    core::ModelSpec spec;  // spec.source / spec.target hold the names current at load time
    Oid source_oid = InvalidOid;
    Oid target_oid = InvalidOid;
    std::string query;
    std::string canonical_query;
    std::optional<std::string> lookback;  // interval text, NULL = no window
    std::string timezone;
    bool enabled = true;
    Oid owner_oid = InvalidOid;  // the role that created the model
    bool change_log = false;     // the source's change-log trigger feeds this model's plan
    // pg_snapshot before the last committed plan; unset when there is none or it was taken in
    // another cluster, database or source relation (a restored dump): the plan then counts.
    std::optional<std::string> planned_snapshot;
    std::optional<std::string> upper_limit;  // time-based models: load processed up to here
    std::vector<std::string> depends_on;     // features models: the input models, in order
    // The analyzed query (nodeToString), empty when none was stored (a model created before
    // 0.3.0) or it was stored in another database (a restored dump): its OIDs mean nothing here.
    std::string query_tree;
    // The texts rendered from query_tree differ from the stored ones (something was renamed).
    bool texts_changed = false;
    // The relations the query reads besides the source were recorded and are watched (false for
    // a model created before 0.4.0 until its next run records them).
    bool dimensions_recorded = false;
    // What a change to a relation the query reads besides the source does: 'recompute' (the
    // keys it reaches, or the whole model where no route bounds them), 'rebuild' (the whole
    // model), 'ignore' (nothing: the relation is not watched).
    std::string on_dimension_change = "recompute";
};

// Loads a model by name; raises 42704 with a hint when there is none. With require_relations
// false, a dropped source or target leaves its name empty instead of raising 42P01.
ModelRecord load_model(const std::string &name, bool require_relations = true);

// A model's id and target (InvalidOid when the target was dropped): what a run checks rights on
// and locks before it loads the model under the lock. One catalog read instead of a load_model;
// raises as load_model does when there is no such model.
struct ModelIdentity {
    std::int64_t id = 0;
    Oid target_oid = InvalidOid;
};
ModelIdentity model_identity(const std::string &name);

// Stores the model's analyzed query tree (taken from its canonical text when it has none) and
// the texts rendered from it; called under the model lock when either is missing or stale.
void store_query_tree(ModelRecord &model);

// Which of an event's duplicates an append model keeps: the first by the load column, then by
// dvce_created_tstamp when the source has it.
std::vector<std::string> dedupe_order(Oid source, const std::string &load_column);

// Every enabled model's name, in name order.
std::vector<std::string> enabled_model_names();

// The relations a model's query reads besides its source, watched for changes (replaces the
// model's list and marks it recorded).
void record_model_dimensions(std::int64_t model_id, const std::vector<Oid> &relids);

// The models whose query reads one of relids besides its source: what a change to it concerns.
struct DimensionWatcher {
    std::int64_t model_id = 0;
    std::string name;
    Oid relation = InvalidOid;  // the watched relation (of relids) the model reads
    std::string on_dimension_change;
    bool features = false;
    bool time_based = false;  // a time-based model reprocesses (a 'modify' for its load column)
    Oid source = InvalidOid;
    std::string load_column;
    Oid target = InvalidOid;
    // What a change does for it, as worked out when the watch was set up (dimension_watch_plans:
    // "values", "rows", "recompute", "reprocess"; "" when not recorded yet), and the relation's
    // column whose values are noted for "values".
    std::string watch;
    AttrNumber noted_column = InvalidAttrNumber;
};
// The models that watch any of relids (a relation and its partition ancestors), one entry per
// model and watched relation; models set to ignore dimension changes are left out.
std::vector<DimensionWatcher> models_watching(const std::vector<Oid> &relids);

// The model's watch triggers are to be set up again at its next run (they note other columns
// than its plan reads: made before an upgrade, or a restore renumbered the relation's columns).
void redo_dimension_watch(std::int64_t model_id);

// Records what a change to relid does for the model (DimensionWatcher::watch, noted_column).
void record_dimension_watch(std::int64_t model_id, Oid relid, const std::string &watch,
                            AttrNumber noted_column);

// Stores a model's on_dimension_change setting.
void record_dimension_policy(std::int64_t model_id, const std::string &policy);

// Whether any model still watches the relation (its triggers stay).
bool dimension_watched(Oid relid);

// Whether a model of that name exists.
bool model_exists(const std::string &name);

// The settings alter_model() changes; unset ones are left as they are.
struct ModelSettings {
    std::optional<std::string> lookback;  // interval text
    std::optional<bool> enabled, bounded_recompute;
    std::optional<double> vacuum_dead_ratio, analyze_mod_ratio;
};
void set_model_settings(std::int64_t model_id, const ModelSettings &settings);

// Inserts the model and its columns; returns the new model id.
std::int64_t insert_model(const ModelRecord &model, const std::string &canonical_query);

void delete_model(std::int64_t model_id);

// Records the snapshot taken before a committed plan with where it was taken (cluster, database,
// source), and prunes change-log rows every model of the source has seen (transactions that ended
// before all of their snapshots taken here).
void set_planned_snapshot(const ModelRecord &model, const std::string &snapshot);
void set_change_log(std::int64_t model_id, bool on);
// One input of a features model: the positions of the features model's key parts among the
// input's key parts (0: an expression) and, when a part is an expression, every part's
// expression over the input's key columns (empty: stored as NULL).
struct FeatureInput {
    std::string input;
    std::vector<int> feature_keys;
    std::vector<std::string> key_exprs;
};
// Records a features model's inputs (models.depends_on, in order) and their key mappings
// (incmodel.feature_inputs).
void set_features_inputs(std::int64_t model_id, const std::vector<FeatureInput> &inputs);
}  // namespace incmodel::pg
