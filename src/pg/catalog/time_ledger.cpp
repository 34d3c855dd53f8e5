#include "pg/catalog/time_ledger.hpp"

#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"

namespace incmodel::pg {

void record_load_range(const LoadRange &range) {
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.range_manifest (model_id, run_id, lower_limit, "
        "upper_limit, reprocess_days, rows_processed, rows_late, days_reprocessed) "
        "VALUES ($1::int8, $2::int8, $3::timestamptz, $4::timestamptz, $5::int, "
        "$6::int8, $7::int8, $8::int)",
        {SqlParam::int64(range.model_id), SqlParam::int64(range.run_id),
         SqlParam::value(range.lower_limit), SqlParam::value(range.upper_limit),
         SqlParam::int64(range.reprocess_days), SqlParam::int64(range.rows_processed),
         SqlParam::int64(range.rows_late), SqlParam::int64(range.days_reprocessed)});
    spi_exec("UPDATE incmodel.models SET upper_limit = $2::timestamptz WHERE model_id = $1::int8",
             {SqlParam::int64(range.model_id), SqlParam::value(range.upper_limit)});
}

void record_daily_ledger(const core::RefreshPlanner &planner, const std::string &model,
                         const std::string &upper_limit, const std::vector<DailyLedgerDay> &days) {
    if (days.empty()) return;
    std::vector<std::optional<std::string>> event_date, full_day, processed, skipped, max_load;
    for (const DailyLedgerDay &day : days) {
        event_date.push_back(day.event_date);
        full_day.push_back(day.full_day);
        processed.push_back(day.processed_events);
        skipped.push_back(day.skipped_events);
        max_load.push_back(day.max_load);
    }
    AsCatalogOwner owner;
    spi_exec(planner.daily_record_ledger(),
             {SqlParam::value(model), SqlParam::value(upper_limit),
              SqlParam::text_array(std::move(event_date)),
              SqlParam::text_array(std::move(full_day)), SqlParam::text_array(std::move(processed)),
              SqlParam::text_array(std::move(skipped)), SqlParam::text_array(std::move(max_load))});
}

void record_rows_behind_limit(const RowsBehindLimit &counts) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET rows_behind_limit = $2::int8, rows_unplaced = $3::int8 WHERE "
        "run_id = $1::int8",
        {SqlParam::int64(counts.run_id), SqlParam::int64(counts.rows_behind_limit),
         SqlParam::int64(counts.rows_unplaced)});
    spi_exec(
        "UPDATE incmodel.models SET unplaced_rows = unplaced_rows + $2::int8 WHERE model_id = "
        "$1::int8",
        {SqlParam::int64(counts.model_id), SqlParam::int64(counts.rows_unplaced)});
}

void forget_time_ledger(std::int64_t model_id, const std::string &model) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.range_manifest WHERE model_id = $1::int8",
             {SqlParam::int64(model_id)});
    spi_exec("DELETE FROM incmodel.daily_manifest WHERE model = $1", {SqlParam::value(model)});
    spi_exec("UPDATE incmodel.models SET upper_limit = NULL WHERE model_id = $1::int8",
             {SqlParam::int64(model_id)});
}

}  // namespace incmodel::pg
