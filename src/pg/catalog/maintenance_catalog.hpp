// Maintenance in incmodel's catalog: the maintenance log, the dead-tuple debt refreshes leave in
// targets (incmodel.table_debt) and the plan the maintenance worker follows. Every statement runs
// as the catalog owner and takes its values as parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// One row of incmodel.maintenance_log; dead_after is read from the statistics when it is written.
struct MaintenanceLogEntry {
    Oid relid = InvalidOid;
    std::string action;                        // VACUUM | ANALYZE | VACUUM ANALYZE | retention
    std::optional<std::string> reason;         // why it ran (or was skipped)
    std::string runner;                        // worker | command | retention
    std::optional<double> duration_ms;         // logged with three decimals
    std::optional<std::int64_t> dead_before;   // dead tuples when it was planned
    std::optional<std::int64_t> rows_removed;  // retention: events deleted
    std::optional<std::string> error;          // NULL when it succeeded
};

// Every VACUUM / ANALYZE incmodel ran and every retention pass is logged, with its outcome.
void insert_maintenance_log(const MaintenanceLogEntry &entry);

// A VACUUM removed the dead tuples refreshes left in target: its debt starts again at zero.
void clear_target_debt(Oid target);

// Adds the dead tuples a commit's DELETE left in the target to its maintenance debt.
void add_dead_tuple_debt(Oid target, std::int64_t model_id, std::int64_t dead_tuples);

// An emptied and rebuilt model owes no dead tuples its earlier refreshes counted.
void forget_model_debt(std::int64_t model_id);

// One table incmodel.maintenance_plan() says needs VACUUM or ANALYZE now.
struct PlannedMaintenance {
    Oid relid = InvalidOid;
    std::string relation;                  // regclass text, quoted as needed
    std::optional<std::int64_t> model_id;  // the model whose target it is, if any
    bool needs_vacuum = false;
    bool needs_analyze = false;
    std::string reason;
    std::int64_t dead_tuples = 0;
};

// The worker's cycle runs what the plan says is due (and skips tables of models being refreshed).
std::vector<PlannedMaintenance> planned_maintenance();

}  // namespace incmodel::pg
