// The run log (incmodel.runs): one row per refresh, rebuild, backfill or verify, written by the
// catalog owner as the run goes (started, finished with its counts, failed at a step).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace incmodel::pg {

struct ModelRecord;

// One run's record in incmodel.runs.
struct RunRecord {
    std::int64_t run_id = 0;
    std::string kind = "refresh";  // refresh | rebuild
    std::int64_t batches = 0, events = 0, keys = 0, null_keys = 0;
    std::int64_t rows_deleted = 0, rows_inserted = 0, keys_outside_window = 0;
    std::optional<std::string> window_start;
    std::optional<std::string> lower_limit, upper_limit;  // time-based models: the load range
    std::int64_t late_rows = 0, days_reprocessed = 0;
    std::string step_timings_json = "{}";
};

// Starts a run of that kind (outcome 'running'); returns its id.
std::int64_t start_run(const ModelRecord &model, const std::string &kind);
// Finishes a run with its outcome (success, noop, skipped) and counts.
void finish_run(const RunRecord &run, const char *outcome);
// Finishes a run as failed at a step, with the error's SQLSTATE and message.
void fail_run(std::int64_t run_id, const std::string &step, const std::string &sqlstate,
              const std::string &message);
// Starts a run under the model lock, first marking the runs a dead backend left 'running'
// failed (the lock says none of them is alive). Not committed: see with_run.
std::int64_t start_locked_run(const ModelRecord &model, const std::string &kind);

// A verify's comparison: rows missing from, extra in and differing in the target, with up to a
// few example keys of each (PostgreSQL text[] literals); sample is the fraction of keys checked.
struct VerifyCounts {
    std::int64_t missing = 0, extra = 0, differ = 0;
    std::string missing_keys = "{}", extra_keys = "{}", differ_keys = "{}";
};
void record_verify_counts(std::int64_t run_id, const VerifyCounts &counts,
                          const std::optional<double> &sample);

// A refresh whose plan found it must rebuild is recorded as kind 'rebuild'.
void mark_run_rebuild(std::int64_t run_id);

// Records a failure that happened outside a run's units (loading the model, its lock, its
// query) as a failed run of that kind at that step, so status shows it: of model model_id, or
// (0) of the model named name. Returns false, recording nothing, when there is no such model or
// the caller was refused (42501): not the model's failure.
bool record_failed_run(const std::string &name, std::int64_t model_id, const char *kind,
                       const char *step, const std::exception_ptr &error);

}  // namespace incmodel::pg
