// The run of a time-based model (daily aggregate or append): the next load range up to a limit
// no in-flight loader can fall behind; for daily models late rows counted in the daily ledger
// and days reprocessed in full when their late rows reach a threshold; backfills of chosen days
// (daily) or load ranges (append).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/catalog/model_catalog.hpp"
#include "pg/models/model_ops.hpp"
#include "pg/models/run_driver.hpp"

namespace incmodel::pg {

struct TimeRunArgs {
    std::optional<std::int64_t> reprocess_days, min_rows_to_process;  // per-run overrides
    // A backfill: the event days [from, to) (microseconds since 2000-01-01 UTC); no new range.
    std::optional<std::pair<std::string, std::string>> backfill;
};

// Runs one run of a time-based model (daily or append) as units of driver; returns true when it
// changed anything.
bool run_time_model(RunDriver &driver, const ModelRecord &m, const TimeRunArgs &args);

// What the next run of a time-based model would cover (range, rows, late rows, days touched
// and days reprocessed in full) and the SQL of its steps, without changing anything.
std::vector<ExplainRow> explain_time_model(const ModelRecord &m);
// The same for a backfill of [from, to) (microseconds since 2000-01-01 UTC).
std::vector<ExplainRow> explain_time_backfill(const ModelRecord &m, const std::string &from_micros,
                                              const std::string &to_micros);

// The time-based parameter vector (core::RefreshPlanner's $1 .. $17) with the parameters
// core::kTimestamptzTimeParams names typed timestamptz: every use casts them to timestamptz, so
// the cast is a no-op on the parameter instead of a text input for every row a filter reads.
std::vector<SqlParam> typed_time_params(std::vector<SqlParam> params);

// Rows loaded after the model's upper limit (pending_events in status); no batches.
Pending pending_time_rows(const ModelRecord &m);

// Forgets what a time-based model processed (target emptied, range manifest and, for a daily
// model, ledger cleared), so that its next run starts again at start_date.
void reset_time_model(const ModelRecord &m);

}  // namespace incmodel::pg
