// What every kind of model's run shares: the planner of a model, the lookback cutoff, the lock
// and the load that follows renames, the run record around a body of units, and the scratch
// tables' owner. See model_runs.hpp.
#include "pg/models/model_runs.hpp"

#include "pg/catalog/relation_facts.hpp"

#include "pg/capture/dimension_triggers.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/features_model.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/models/time_model.hpp"

namespace incmodel::pg {

core::RefreshPlanner planner_for(const ModelRecord &m) {
    return {m.spec, quote_ident};
}

void exec_all(const std::vector<std::string> &statements) {
    for (const auto &s : statements) spi_exec(s);
}

// now() - lookback, as text in the pinned DateStyle/TimeZone; nullopt without a window.
std::optional<std::string> window_cutoff(const ModelRecord &m) {
    if (!m.spec.window_column || !m.lookback) return std::nullopt;
    return spi_exec("SELECT (now() - $1::interval)::text", {SqlParam::value(*m.lookback)}).scalar();
}

std::vector<SqlParam> cutoff_params(const std::optional<std::string> &cutoff) {
    if (!cutoff) return {};
    return {SqlParam::value(*cutoff)};
}

// The OID of the table of that qualified name, InvalidOid when there is none.
Oid relation_oid(const core::QualifiedName &name) {
    const char *schema = name.schema.c_str();
    const char *rel = name.name.c_str();
    return pg_call([schema, rel] {
        const Oid nsp = get_namespace_oid(schema, true);
        return OidIsValid(nsp) ? get_relname_relid(rel, nsp) : InvalidOid;
    });
}

// A scratch table under a new model id can only be an orphan: a dump without incmodel's catalog
// (made by 0.2.0, or filtered by schema) brought the old database's scratch tables along, and
// the new catalog's identity sequence hands their ids out again. (Nobody else can create tables
// in incmodel_scratch.)
void drop_orphan_scratch(const core::RefreshPlanner &planner, bool time_based) {
    const auto &s = planner.scratch();
    bool any = OidIsValid(relation_oid(s.batches)) || OidIsValid(relation_oid(s.keys)) ||
               OidIsValid(relation_oid(s.rows)) || (time_based && OidIsValid(relation_oid(s.days)));
    if (any) exec_all(planner.drop_scratch());
}

// A TRUNCATE of an UNLOGGED table creates a new file and an init fork that it fsyncs at once,
// one per table, and its commit then waits for the WAL flush and scans shared_buffers to drop
// the old files' pages: 10-30 ms of a small refresh's ~20 ms floor on a busy disk. A DELETE of a
// few hundred scratch rows writes no WAL (the tables are UNLOGGED) and costs well under a
// millisecond. The dead rows it leaves are bounded: once a scratch table has grown past this
// size (a large run, or many small ones since the last TRUNCATE) the run truncates them all.
constexpr std::int64_t scratch_truncate_bytes = 1 << 20;

void clear_scratch(const core::RefreshPlanner &planner, bool time_based) {
    const auto &s = planner.scratch();
    std::vector<const core::QualifiedName *> tables{&s.batches, &s.keys, &s.rows};
    if (time_based) tables.push_back(&s.days);
    std::int64_t largest = 0;
    for (const auto *t : tables) {
        const Oid rel = relation_oid(*t);
        if (!OidIsValid(rel)) {
            spi_exec(planner.truncate_scratch());  // raises the missing table's error
            return;
        }
        largest = std::max(largest, relation_bytes(rel));
    }
    if (largest > scratch_truncate_bytes) {
        spi_exec(planner.truncate_scratch());
        return;
    }
    for (const auto *t : tables) spi_exec("DELETE FROM " + core::qualified(quote_ident, *t));
}

// The scratch tables belong to the target's owner, whose identity the units run as; after an
// ALTER TABLE ... OWNER TO of the target they follow it (ownership changes run no user code).
void align_scratch_owner(const ModelRecord &m) {
    core::RefreshPlanner planner = planner_for(m);
    const Oid owner = relation_owner(m.target_oid);
    const auto &s = planner.scratch();
    std::vector<const core::QualifiedName *> tables{&s.batches, &s.keys, &s.rows};
    if (m.spec.time) tables.push_back(&s.days);
    for (const auto *t : tables) {
        const Oid rel = relation_oid(*t);
        if (!OidIsValid(rel) || relation_owner(rel) == owner) continue;
        AsCatalogOwner as_catalog_owner;
        spi_exec("ALTER TABLE " + core::qualified(quote_ident, *t) + " OWNER TO " +
                 quote_ident(role_name(owner)));
    }
}

// The run's row is written here and committed with the first unit (docs/RELIABILITY.md, the
// commit protocol): a transaction of its own would cost every run one more WAL flush (2-12 ms
// of a small refresh from a fresh connection). A failure of that unit is still recorded: the
// unit rolls back to its subtransaction, the row stays, and record_failure commits it failed.
// A run whose backend dies before its first unit commits leaves no row (nothing was changed);
// units followed by others commit without waiting for the flush (RunDriver::more_units_follow),
// so a cluster crash may also take the row of a run past its plan that had not finished.
void with_run(SpiConnection &spi, const ModelRecord &m, const char *kind,
              const std::function<void(RunDriver &)> &body) {
    align_scratch_owner(m);
    RunDriver driver(spi, m, kind);
    driver.run().run_id = start_locked_run(m, kind);
    driver.run().kind = kind;
    std::exception_ptr error;
    try {
        body(driver);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        driver.record_failure(error);
        std::rethrow_exception(error);
    }
}

LockedModel lock_and_load(const std::string &name, const char *action, bool session, bool dont_wait,
                          std::int64_t *loaded_id) {
    // Rights first (the query is rendered after the lock): a refused caller leaves no run. The
    // model is loaded once, under the lock; before it only its id and target are read.
    const ModelIdentity first = model_identity(name);
    if (loaded_id) *loaded_id = first.id;
    if (!OidIsValid(first.target_oid)) (void)load_model(name);  // raises: the target was dropped
    require_target_owner(first.target_oid, name, action);
    auto lock = std::make_unique<ModelLock>(first.id, session, dont_wait);
    if (!lock->acquired()) return {load_model(name, false), nullptr};
    ModelRecord again = load_model(name);
    if (again.spec.id != first.id)
        throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "incmodel: model \"" + name +
                            "\" was dropped and created again while "
                            "waiting for its lock",
                        "", "Run it again.");
    {
        // Analysis can run the owner's code (input functions of constants): as the owner.
        PinnedSettings pinned(again.timezone);
        {
            AsModelOwner owner(again.target_oid);
            verify_output_types(name, again.canonical_query, again.spec.outputs);
        }
        pinned.close();
    }
    // The texts follow renames: stored again when they changed (or the tree is new here).
    if (again.query_tree.empty() || again.texts_changed) store_query_tree(again);
    // A model created before 0.4.0 starts watching the relations it reads besides its source.
    if (!again.dimensions_recorded && !again.query_tree.empty()) {
        std::vector<Oid> input_targets;
        for (const std::string &input : again.depends_on)
            input_targets.push_back(load_model(input).target_oid);
        watch_dimensions(again, input_targets);
        again.dimensions_recorded = true;
    }
    return {std::move(again), std::move(lock)};
}

// lock_and_load() for a run (refresh, rebuild, backfill), in a subtransaction: a failure
// (a dropped relation, a query that no longer analyzes, the lock) is recorded as a failed run
// at step 'load' and thrown as contained, so status shows it and refresh_all() goes on.
LockedModel load_for_run(SpiConnection &spi, const std::string &name, const char *kind,
                         bool dont_wait) {
    LockedModel locked;
    std::int64_t id = 0;  // the model the failure belongs to, once known
    std::exception_ptr error = in_subtransaction(
        [&] { locked = lock_and_load(name, kind, spi.nonatomic(), dont_wait, &id); });
    if (!error) return locked;
    if (!record_failed_run(name, id, kind, "load", error)) std::rethrow_exception(error);
    if (spi.nonatomic()) spi.commit();
    throw ContainedError(error);
}

// verify (src/pg/verify.cpp) locks, checks and records its runs as refresh does.
std::unique_ptr<ModelLock> lock_model_for(const std::string &name, const char *action, bool session,
                                          ModelRecord &model) {
    LockedModel locked = lock_and_load(name, action, session, false);
    model = std::move(locked.model);
    return std::move(locked.lock);
}

void run_recorded(SpiConnection &spi, const ModelRecord &m, const char *kind,
                  const std::function<void(RunDriver &)> &body) {
    with_run(spi, m, kind, body);
}

// The commit step every kind shares: the touched keys' rows replaced by their recomputed rows.
std::int64_t replace_touched_keys(const core::RefreshPlanner &planner, std::int64_t null_keys) {
    auto deleted = static_cast<std::int64_t>(spi_exec(planner.delete_target_keys()).processed);
    if (null_keys > 0)
        deleted += static_cast<std::int64_t>(spi_exec(planner.delete_target_null_keys()).processed);
    spi_exec(planner.insert_target_rows());
    return deleted;
}

}  // namespace incmodel::pg
