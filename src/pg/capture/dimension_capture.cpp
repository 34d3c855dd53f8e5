// A change to a relation models read besides their source (a dimension) reaches their keys
// (docs/ARCHITECTURE.md, "Dimension changes"). What each watching model needs is its watch plan
// (dimension_watch_plans.cpp):
// - Values (the route to the source starts from a plain column, the common case: c.root_id =
//   e.event_id): the row triggers' WHEN clauses note the changed rows' values on that column
//   (dimension_notes.cpp: no transition table, no SQL per statement), and before commit
//   flush_dimension_notes() queues them, one key_queue row (with `dimension` set) per model and
//   transaction, written by the catalog owner from the values in their packed form
//   (packed_values.hpp: cheap to compress and write); the next refresh follows the
//   route from them to the source rows and recomputes their keys. Logical replication's apply,
//   which fires no statement trigger, is captured the same way.
// - Rows (a key read through the relation, identity stitching; or a route starting from an
//   expression): the statement triggers incmodel_dim_ins / _upd / _del (REFERENCING the changed
//   rows, on the relation and on each of its partitions, enabled ALWAYS) compute the values (or
//   the moved keys) from the transition tables as the model's owner, in a security-restricted
//   operation, and queue them. Rows changed where none fired recompute the model whole.
// - Recompute (a features model, 'rebuild', no route) and Reprocess (time-based): one full
//   recompute or 'modify' row per transaction.
// A model whose owner may not read the relation gets a full recompute (neither path checks a
// privilege); one whose values cannot be computed too, and the writer's statement succeeds, with
// a WARNING.
#include <algorithm>
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/analysis/dimension_routes.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/capture/dimension_capture.hpp"
#include "pg/capture/dimension_notes.hpp"
#include "pg/capture/dimension_watch_plans.hpp"
#include "pg/catalog/change_log_rows.hpp"
#include "pg/catalog/key_queue.hpp"
#include "pg/catalog/model_catalog.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/rel.h"
}

namespace incmodel::pg {

namespace {

// The transition tables of the firing trigger, by the names its REFERENCING clause gave them.
struct ChangedRows {
    std::optional<std::string> old_rows, new_rows;
};

// The route's first values on the changed rows (one text[] as text), as the model's owner.
std::optional<std::string> changed_values(const ModelRecord &m, const core::RefreshPlanner &planner,
                                          const core::DimensionRoute &route, const ChangedRows &t) {
    std::vector<std::string> tables;
    for (const auto *table : {&t.old_rows, &t.new_rows})
        if (*table) tables.push_back(**table);
    AsModelOwner owner(m.target_oid);
    PinnedSettings pinned(m.timezone);
    std::optional<std::string> values = spi_exec(planner.dimension_values(tables, route)).scalar();
    pinned.close();
    return values;
}

// Whether the owner of the model's target has SELECT on the whole relation, or (column given)
// on that column of it.
bool owner_may_read(Oid target, Oid relation, AttrNumber column = InvalidAttrNumber) {
    const Oid owner = relation_owner(target);
    return pg_call([relation, owner, column] {
        return pg_class_aclcheck(relation, owner, ACL_SELECT) == ACLCHECK_OK ||
               (column != InvalidAttrNumber &&
                pg_attribute_aclcheck(relation, column, owner, ACL_SELECT) == ACLCHECK_OK);
    });
}

// The keys a stitched key part moves (one key part: the model's whole key), as the model's owner.
KeyColumns moved_keys(const ModelRecord &m, const core::RefreshPlanner &planner,
                      const core::KeyThroughDimension &k, const ChangedRows &t) {
    KeyColumns keys(1);
    AsModelOwner owner(m.target_oid);
    PinnedSettings pinned(m.timezone);
    for (const auto *table : {&t.old_rows, &t.new_rows})
        if (*table)
            for (const SqlRow &row : spi_exec(planner.through_dimension_keys(**table, k)).rows)
                keys[0].push_back(row.at(0));
    pinned.close();
    return keys;
}

// What a model that needs whole rows does with the changed rows of w.relation (the statement
// triggers' transition tables).
void capture_rows_for_model(const DimensionWatcher &w, const ChangedRows &t) {
    std::exception_ptr failed = in_subtransaction([&] {
        const ModelRecord m = load_model(w.name);
        const core::RefreshPlanner planner(m.spec, quote_ident);
        // The changed rows are read as the model's owner: only if it may read the relation (a
        // transition table checks no privilege), else the refresh finds out by rebuilding.
        if (!owner_may_read(m.target_oid, w.relation)) {
            queue_full_recompute(m.spec.id);
            return;
        }
        // A key read through this relation (identity stitching): the keys of its old and new
        // rows, and those their source rows have without them, move.
        for (const core::KeyPart &k : m.spec.keys)
            if (k.through && k.through->relid == w.relation) {
                queue_key_sets(planner, m.spec.id, moved_keys(m, planner, *k.through, t));
                return;
            }
        // Deparsing the route calls the output functions of the query's constants: as the owner.
        const DimensionMapping map = [&] {
            AsModelOwner owner(m.target_oid);
            return dimension_mapping(m.query_tree, m.source_oid, m.spec.source_alias, w.relation,
                                     m.target_oid);
        }();
        if (!map.bounded) {
            queue_full_recompute(m.spec.id);
            return;
        }
        queue_dimension_values(planner, m.spec.id, w.relation,
                               changed_values(m, planner, map.route, t));
    });
    if (!failed) return;
    const ErrorSummary error = describe_error(failed);
    report(WARNING,
           "incmodel: the rows this statement changed could not be mapped to the keys of model "
           "\"" +
               w.name + "\"; its next refresh rebuilds it",
           error.text(), "");
    queue_full_recompute(w.model_id);
}

// Before commit, what one watching model gets for the rows noted on relation n.relid.
void flush_for_model(const WatchPlan &p, const NotedRelation &n) {
    const DimensionWatcher &w = p.watcher;
    switch (p.kind) {
        case WatchKind::Reprocess:
            log_modification(w.source, w.load_column);
            return;
        case WatchKind::Recompute:
            queue_full_recompute(w.model_id);
            return;
        case WatchKind::Rows:
            // The statement triggers queued what they saw; rows no statement trigger saw (or
            // triggers made before this model needed them) leave only a full recompute.
            if (n.unreleased_rows > 0) queue_full_recompute(w.model_id);
            return;
        case WatchKind::Values:
            break;
    }
    const bool noted = std::find(n.columns.begin(), n.columns.end(), p.attnum) != n.columns.end();
    // Triggers that do not note the model's column: set up again at its next run.
    if (!noted) redo_dimension_watch(w.model_id);
    // The owner reads the values through the refresh only if it may read them (the column: a
    // column grant is enough, as for a route through a view, analysis/dimension_routes.cpp).
    if (!noted || n.overflow || !owner_may_read(p.target, w.relation, p.attnum)) {
        queue_full_recompute(w.model_id);
        return;
    }
    const std::optional<Datum> values = noted_values_packed(n.relid, p.attnum);
    if (values) queue_packed_dimension_values(w.model_id, w.relation, *values);
}

}  // namespace

void flush_dimension_notes(bool forget) {
    if (!dimension_notes_pending()) return;
    const std::vector<NotedRelation> noted = noted_dimension_relations();
    for (const NotedRelation &n : noted)
        for (const WatchPlan &p : watch_plans(with_ancestors(n.relid))) flush_for_model(p, n);
    if (forget) clear_dimension_notes();
}

}  // namespace incmodel::pg

using namespace incmodel::pg;

extern "C" {

// incmodel_dim_ins / _upd / _del: see the top of this file.
PG_FUNCTION_INFO_V1(incmodel_queue_dimension_values);
Datum incmodel_queue_dimension_values(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        if (!CALLED_AS_TRIGGER(fcinfo))
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.queue_dimension_values() must be called as a trigger");
        auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
        if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) ||
            (td->tg_oldtable == nullptr && td->tg_newtable == nullptr))
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.queue_dimension_values() must be an AFTER statement "
                            "trigger referencing the changed rows");
        if (capture_suppressed_now()) return PointerGetDatum(nullptr);
        ChangedRows t;
        std::int64_t rows = 0;
        if (td->tg_oldtable != nullptr && td->tg_trigger->tgoldtable != nullptr) {
            t.old_rows = std::string(td->tg_trigger->tgoldtable);
            rows += pg_call([td] {
                return static_cast<std::int64_t>(tuplestore_tuple_count(td->tg_oldtable));
            });
        }
        if (td->tg_newtable != nullptr && td->tg_trigger->tgnewtable != nullptr) {
            t.new_rows = std::string(td->tg_trigger->tgnewtable);
            rows += pg_call([td] {
                return static_cast<std::int64_t>(tuplestore_tuple_count(td->tg_newtable));
            });
        }
        if (rows == 0) return PointerGetDatum(nullptr);
        const std::vector<Oid> relids = with_ancestors(RelationGetRelid(td->tg_relation));
        SpiConnection spi;
        pg_call([td] {
            if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
                elog(ERROR, "incmodel: could not register the transition tables");
        });
        for (const WatchPlan &p : watch_plans(relids))
            if (p.kind == WatchKind::Rows) capture_rows_for_model(p.watcher, t);
        release_dimension_rows(relids);
        return PointerGetDatum(nullptr);
    });
}

}  // extern "C"
