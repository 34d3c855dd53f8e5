// The operations behind the SQL API: create, refresh, rebuild, explain, alter, drop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/boundary/spi_client.hpp"

namespace incmodel::pg {

struct CreateModelArgs {
    std::string name, query, target, batch_column;
    std::optional<std::string> window_column;
    std::optional<std::string> lookback;  // interval text
    std::vector<std::string> unique_key;
    bool bounded_recompute = false;
    bool enabled = true;
    // Daily aggregate models: the load column replaces batch_column.
    std::optional<std::string> load_column;
    std::optional<std::string> start_date_micros;  // microseconds since 2000-01-01 UTC
    std::optional<std::string> backfill_limit;     // interval text
    std::optional<std::string> day_key;
    std::optional<std::int64_t> reprocess_days, min_rows_to_process;
    std::optional<std::string> strategy;   // 'append' for an event-level model
    std::optional<std::string> event_key;  // its dedupe key
    std::vector<std::string> depends_on;   // a features model: its input model
    // 'recompute' | 'rebuild' | 'ignore': what a change to a relation read besides the source does
    std::string on_dimension_change = "recompute";
};

std::int64_t create_model(SpiConnection &spi, const CreateModelArgs &args);

enum class RefreshOutcome { Success, Noop, Skipped, Disabled };
// Per-run overrides of a daily model's settings (an error for other models).
struct RunOverrides {
    std::optional<std::int64_t> reprocess_days, min_rows_to_process;
};
RefreshOutcome refresh_model(SpiConnection &spi, const std::string &name, bool skip_locked,
                             const RunOverrides &overrides = {});

// Rebuilds the event days [from, to) of a daily model (microseconds since 2000-01-01 UTC);
// returns the rows written.
std::int64_t backfill_model(SpiConnection &spi, const std::string &name,
                            const std::string &from_micros, const std::string &to_micros);

// Full recompute; returns the rows now in the target.
std::int64_t rebuild_model(SpiConnection &spi, const std::string &name);

struct ExplainRow {
    int step;
    std::string name, detail, sql;
};
std::vector<ExplainRow> explain_model(const std::string &name);
// explain of a backfill of a time-based model, [from, to) in microseconds since 2000-01-01 UTC.
std::vector<ExplainRow> explain_backfill(const std::string &name, const std::string &from_micros,
                                         const std::string &to_micros);

struct Pending {
    std::optional<std::int64_t> batches, events;
};
Pending pending_of(const std::string &name);

struct AlterModelArgs {
    std::string name;
    std::optional<std::string> lookback;
    std::optional<bool> enabled, bounded_recompute;
    std::optional<double> vacuum_dead_ratio, analyze_mod_ratio;
};
void alter_model(const AlterModelArgs &args);

// Drops a model (and its target with drop_target); with cascade the features models that read
// its target first, else 2BP01 while there are any.
void drop_model(const std::string &name, bool drop_target, bool cascade);

}  // namespace incmodel::pg
