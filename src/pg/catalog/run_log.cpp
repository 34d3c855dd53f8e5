#include "pg/catalog/run_log.hpp"

#include <fmt/format.h>

#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

std::int64_t start_run(const ModelRecord &m, const std::string &kind) {
    AsCatalogOwner owner;
    return spi_exec(
               "INSERT INTO incmodel.runs (model_id, model_name, kind) VALUES ($1::int8, $2, $3) "
               "RETURNING run_id",
               {SqlParam::int64(m.spec.id), SqlParam::value(m.spec.name), SqlParam::value(kind)})
        .scalar_int();
}

std::int64_t start_locked_run(const ModelRecord &m, const std::string &kind) {
    AsCatalogOwner owner;
    // One statement: the runs of this model left 'running' by a backend that died are closed
    // (the caller holds the model lock, so no other run of it is alive) and the new one opened.
    return spi_exec(
               "WITH closed AS (UPDATE incmodel.runs SET finished_at = "
               "pg_catalog.clock_timestamp(), outcome = 'failed', error_message = 'the run ended "
               "without finishing (its backend exited or the server restarted)' WHERE model_id "
               "OPERATOR(pg_catalog.=) $1::pg_catalog.int8 AND outcome OPERATOR(pg_catalog.=) "
               "'running' RETURNING 1) INSERT INTO incmodel.runs (model_id, model_name, kind) "
               "VALUES ($1::pg_catalog.int8, $2, $3) RETURNING run_id",
               {SqlParam::int64(m.spec.id), SqlParam::value(m.spec.name), SqlParam::value(kind)})
        .scalar_int();
}

void finish_run(const RunRecord &run, const char *outcome) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET finished_at = clock_timestamp(), outcome = $2, batches = "
        "$3::int, events = $4::int8, keys = $5::int8, null_keys = $6::int8, rows_deleted = "
        "$7::int8, rows_inserted = $8::int8, keys_outside_window = $9::int8, window_start = "
        "$10::timestamptz, step_ms = $11::jsonb, lower_limit = $12::timestamptz, upper_limit = "
        "$13::timestamptz, late_rows = $14::int8, days_reprocessed = $15::int WHERE run_id = "
        "$1::int8",
        {SqlParam::int64(run.run_id), SqlParam::value(outcome), SqlParam::int64(run.batches),
         SqlParam::int64(run.events), SqlParam::int64(run.keys), SqlParam::int64(run.null_keys),
         SqlParam::int64(run.rows_deleted), SqlParam::int64(run.rows_inserted),
         SqlParam::int64(run.keys_outside_window),
         run.window_start ? SqlParam::value(*run.window_start) : SqlParam::null(),
         SqlParam::value(run.step_timings_json),
         run.lower_limit ? SqlParam::value(*run.lower_limit) : SqlParam::null(),
         run.upper_limit ? SqlParam::value(*run.upper_limit) : SqlParam::null(),
         run.upper_limit ? SqlParam::int64(run.late_rows) : SqlParam::null(),
         run.upper_limit ? SqlParam::int64(run.days_reprocessed) : SqlParam::null()});
}

void fail_run(std::int64_t run_id, const std::string &step, const std::string &sqlstate,
              const std::string &message) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET finished_at = clock_timestamp(), outcome = 'failed', "
        "failed_step = $2, error_sqlstate = $3, error_message = $4 WHERE run_id = $1::int8",
        {SqlParam::int64(run_id), SqlParam::value(step), SqlParam::value(sqlstate),
         SqlParam::value(message)});
}

void record_verify_counts(std::int64_t run_id, const VerifyCounts &c,
                          const std::optional<double> &sample) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET rows_missing = $2::pg_catalog.int8, rows_extra = "
        "$3::pg_catalog.int8, rows_differ = $4::pg_catalog.int8, verify_examples = "
        "pg_catalog.jsonb_build_object('sample', $5::pg_catalog.float8, 'missing', "
        "$6::pg_catalog.text[], 'extra', $7::pg_catalog.text[], 'differ', $8::pg_catalog.text[]) "
        "WHERE run_id = $1::pg_catalog.int8",
        {SqlParam::int64(run_id), SqlParam::int64(c.missing), SqlParam::int64(c.extra),
         SqlParam::int64(c.differ),
         sample ? SqlParam::value(fmt::format("{}", *sample)) : SqlParam::null(),
         SqlParam::value(c.missing_keys), SqlParam::value(c.extra_keys),
         SqlParam::value(c.differ_keys)});
}

void mark_run_rebuild(std::int64_t run_id) {
    AsCatalogOwner owner;
    spi_exec("UPDATE incmodel.runs SET kind = 'rebuild' WHERE run_id = $1::pg_catalog.int8",
             {SqlParam::int64(run_id)});
}

bool record_failed_run(const std::string &name, std::int64_t model_id, const char *kind,
                       const char *step, const std::exception_ptr &error) {
    const ErrorSummary e = describe_error(error);
    const std::string &sqlstate = e.sqlstate;
    const std::string &message = e.message;
    if (sqlstate == "42501") return false;
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "INSERT INTO incmodel.runs (model_id, model_name, kind, finished_at, outcome, "
        "failed_step, error_sqlstate, error_message) SELECT model_id, name, $2, "
        "clock_timestamp(), 'failed', $3, $4, $5 FROM incmodel.models WHERE name = $1 AND $6::int8 "
        "= 0 UNION ALL SELECT $6::int8, $1, $2, clock_timestamp(), 'failed', $3, $4, $5 WHERE "
        "$6::int8 <> 0",
        {SqlParam::value(name), SqlParam::value(kind), SqlParam::value(step),
         SqlParam::value(sqlstate), SqlParam::value(message), SqlParam::int64(model_id)});
    return r.processed > 0;
}

}  // namespace incmodel::pg
