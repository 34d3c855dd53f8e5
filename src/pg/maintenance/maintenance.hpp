// Maintenance off the refresh's critical path: the background worker that runs the
// maintenance plan's VACUUM / ANALYZE as top-level commands, and the maintenance log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// Registers the worker; called from _PG_init when loaded by shared_preload_libraries.
void register_maintenance_worker();

// Writes one row of incmodel.maintenance_log (as the catalog owner); a successful VACUUM also
// clears the relation's dead-tuple debt. dead_after is read from the statistics system.
void record_maintenance(Oid relid, const std::string &action, const std::string &reason,
                        std::optional<std::int64_t> dead_before, std::optional<double> duration_ms,
                        const std::string &error, const std::string &runner,
                        std::optional<std::int64_t> rows_removed = {});

}  // namespace incmodel::pg
