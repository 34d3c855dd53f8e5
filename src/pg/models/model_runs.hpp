// What every kind of model's run shares (model_runs.cpp): the planner of a model, the lookback
// cutoff, the lock and the load that follows renames, the run record around a body of units,
// the scratch tables' owner, and the commit step's replacement of touched keys.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/run_driver.hpp"

namespace incmodel::pg {

// The model's SQL renderer, identifiers quoted by PostgreSQL's quote_identifier.
core::RefreshPlanner planner_for(const ModelRecord &m);

// Runs statements in order (DDL lists of the planner).
void exec_all(const std::vector<std::string> &statements);

// now() - lookback, as text in the pinned DateStyle/TimeZone; nullopt without a window.
std::optional<std::string> window_cutoff(const ModelRecord &m);
std::vector<SqlParam> cutoff_params(const std::optional<std::string> &cutoff);

// The OID of the table of that qualified name, InvalidOid when there is none.
Oid relation_oid(const core::QualifiedName &name);

// Drops scratch tables left under this model id by a dump of another database.
void drop_orphan_scratch(const core::RefreshPlanner &planner, bool time_based);

// Empties the scratch tables at the start of a run: DELETE while they are small, TRUNCATE once
// one has grown past scratch_truncate_bytes (see model_runs.cpp).
void clear_scratch(const core::RefreshPlanner &planner, bool time_based);

// Runs body with a run record (kind: refresh, rebuild, backfill, verify); a failure is recorded
// against its step and rethrown. The caller holds the model lock.
void with_run(SpiConnection &spi, const ModelRecord &m, const char *kind,
              const std::function<void(RunDriver &)> &body);

// A model loaded under its lock, or without the lock when dont_wait found it held.
struct LockedModel {
    ModelRecord model;
    std::unique_ptr<ModelLock> lock;
};

// Loads a model, checks the caller may act on it, takes its lock and loads it again (it may
// have been altered or dropped while waiting); stores its texts again when renames changed them.
LockedModel lock_and_load(const std::string &name, const char *action, bool session, bool dont_wait,
                          std::int64_t *loaded_id = nullptr);

// lock_and_load() for a run, in a subtransaction: a failure is recorded as a failed run at step
// 'load' and thrown contained, so status shows it and refresh_all() goes on.
LockedModel load_for_run(SpiConnection &spi, const std::string &name, const char *kind,
                         bool dont_wait);

// verify (src/pg/verify) locks, checks and records its runs as a refresh does.
std::unique_ptr<ModelLock> lock_model_for(const std::string &name, const char *action, bool session,
                                          ModelRecord &model);
void run_recorded(SpiConnection &spi, const ModelRecord &m, const char *kind,
                  const std::function<void(RunDriver &)> &body);

// The commit step every kind shares: DELETE the touched keys' rows (NULL keys too when there are
// some), INSERT the recomputed rows. Returns the rows deleted.
std::int64_t replace_touched_keys(const core::RefreshPlanner &planner, std::int64_t null_keys);

}  // namespace incmodel::pg
