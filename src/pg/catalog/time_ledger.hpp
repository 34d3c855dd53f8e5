// The ledgers of time-based models (daily and append) in incmodel's catalog: the range manifest
// (one row per committed load range), the daily ledger (incmodel.daily_manifest, one row per
// event day), the model's upper limit and what a run's catch-up found behind it. Every statement
// runs as the catalog owner and takes its values as parameters; nothing here reads a source,
// target or scratch table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"

namespace incmodel::pg {

// One committed load range (lower_limit, upper_limit] of a run, as the range manifest records it.
struct LoadRange {
    std::int64_t model_id = 0;
    std::int64_t run_id = 0;
    std::string lower_limit, upper_limit;  // timestamptz text
    std::int64_t reprocess_days = 0;       // in force for this range (a row's lateness)
    std::int64_t rows_processed = 0;       // new rows that were not late
    std::int64_t rows_late = 0;
    std::int64_t days_reprocessed = 0;
};

// Recomputes include a range's rows by its reprocess_days; the next run starts at its upper limit.
void record_load_range(const LoadRange &range);

// One event day of a daily run, as the ledger takes it (text, as read from the days scratch).
// The upsert is core::RefreshPlanner::daily_record_ledger(), the text explain shows.
struct DailyLedgerDay {
    std::optional<std::string> event_date;
    std::optional<std::string> full_day;          // "true" when reprocessed in full
    std::optional<std::string> processed_events;  // rows included
    std::optional<std::string> skipped_events;    // late rows left for a later full pass
    std::optional<std::string> max_load;          // the largest load value seen that day
};

// Late rows are counted per event day until the day is reprocessed in full (planner's SQL).
void record_daily_ledger(const core::RefreshPlanner &planner, const std::string &model,
                         const std::string &upper_limit, const std::vector<DailyLedgerDay> &days);

// What a run found that the previous run's snapshot could not see (the change log).
struct RowsBehindLimit {
    std::int64_t model_id = 0;
    std::int64_t run_id = 0;
    std::int64_t rows_behind_limit = 0;  // committed behind the limit, processed by this run
    std::int64_t rows_unplaced = 0;      // no load range can ever place them
};

// Runs and status (unplaced_rows) show the rows the change log found behind the load limit.
void record_rows_behind_limit(const RowsBehindLimit &counts);

// A rebuild starts again at start_date: no ranges, no daily ledger, no upper limit.
void forget_time_ledger(std::int64_t model_id, const std::string &model);

}  // namespace incmodel::pg
