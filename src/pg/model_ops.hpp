// The operations behind the SQL API: create, refresh, rebuild, explain, alter, drop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/spi_client.hpp"

namespace incmodel::pg {

struct CreateModelArgs {
    std::string name, query, target, batch_column;
    std::optional<std::string> window_column;
    std::optional<std::string> lookback;  // interval text
    std::vector<std::string> unique_key;
    bool bounded_recompute = false;
    bool enabled = true;
};

std::int64_t create_model(SpiConnection &spi, const CreateModelArgs &args);

enum class RefreshOutcome { Success, Noop, Skipped, Disabled };
RefreshOutcome refresh_model(SpiConnection &spi, const std::string &name, bool skip_locked);

// Full recompute; returns the rows now in the target.
std::int64_t rebuild_model(SpiConnection &spi, const std::string &name);

struct ExplainRow {
    int step;
    std::string name, detail, sql;
};
std::vector<ExplainRow> explain_model(const std::string &name);

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

void drop_model(const std::string &name, bool drop_target);

}  // namespace incmodel::pg
