#include "pg/verify/verify.hpp"

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/model_ops.hpp"
#include "pg/models/model_runs.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/models/time_model.hpp"
#include "pg/boundary/security.hpp"

namespace incmodel::pg {

namespace {

// The fraction must select something and at most everything.
void require_valid_sample(const std::optional<double> &sample) {
    if (!sample || (*sample > 0 && *sample <= 1)) return;
    throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                    "incmodel: sample must be greater than 0 and at most 1",
                    fmt::format("sample is {}.", *sample),
                    "Pass NULL to check every key, or a fraction such as 0.1.");
}

// Differences a verify will report that are no fault: work not refreshed yet, and the rows of a
// bounded_recompute model, which come from the lookback window only.
void notice_expected_differences(const std::string &name, const ModelRecord &m) {
    std::string msg;
    if (m.spec.bounded_recompute)
        msg = "incmodel: model \"" + name +
              "\" uses bounded_recompute: keys with events before its lookback window can differ "
              "from the full recomputation verify compares with";
    if (msg.empty() && !m.spec.time) {
        const Pending p = pending_of(name);
        if (p.events.value_or(0) > 0)
            msg = fmt::format(
                "incmodel: model \"{}\" has {} {} not refreshed yet: they show as differences",
                name, *p.events, m.depends_on.empty() ? "pending events" : "queued key sets");
    }
    if (msg.empty()) return;
    const char *c = msg.c_str();
    pg_call([c] {
        ereport(NOTICE, (errmsg("%s", c), errhint("Refresh the model first to verify its "
                                                  "processed work alone.")));
    });
}

// The parameter vector of a time-based model with no new range and no full days: its
// upper limit ($1 = $2), or just before start_date when it has not run yet (nothing included).
std::vector<SqlParam> time_params(const ModelRecord &m, RunRecord &run) {
    const core::TimeSpec &d = *m.spec.time;
    const std::string upper =
        *spi_exec(
             "SELECT coalesce($1::timestamptz, $2::timestamptz - interval '1 microsecond')"
             "::text",
             {m.upper_limit ? SqlParam::value(*m.upper_limit) : SqlParam::null(),
              SqlParam::value(d.start_date)})
             .scalar();
    run.upper_limit = upper;
    return typed_time_params(
        {SqlParam::value(upper), SqlParam::value(upper), SqlParam::int64(d.reprocess_days),
         SqlParam::text_array(std::vector<std::string>{}), SqlParam::value(d.start_date),
         SqlParam::int64(m.spec.id), SqlParam::value(m.spec.name),
         SqlParam::int64(d.min_rows_to_process)});
}

std::string summary_of(const VerifyResult &r) {
    if (r.missing == 0 && r.extra == 0 && r.differ == 0) return "equal";
    return fmt::format("{} missing, {} extra, {} differ", r.missing, r.extra, r.differ);
}

// The comparison's counts and examples on the run.
void record_verify(const VerifyResult &r, const std::optional<double> &sample) {
    VerifyCounts counts{r.missing, r.extra, r.differ, r.missing_keys, r.extra_keys, r.differ_keys};
    record_verify_counts(r.run_id, counts, sample);
}

}  // namespace

VerifyResult verify_model(SpiConnection &spi, const std::string &name,
                          std::optional<double> sample) {
    require_valid_sample(sample);
    ModelRecord m;
    auto lock = lock_model_for(name, "verify", spi.nonatomic(), m);
    notice_expected_differences(name, m);
    core::RefreshPlanner planner(m.spec, quote_ident);
    VerifyResult out;
    run_recorded(spi, m, "verify", [&](RunDriver &driver) {
        RunRecord &run = driver.run();
        out.run_id = run.run_id;
        std::vector<SqlParam> params;
        driver.unit("keys", [&] {
            driver.more_units_follow();
            clear_scratch(planner, m.spec.time.has_value());
            if (m.spec.time) params = time_params(m, run);
            if (!sample) return;
            run.keys =
                static_cast<std::int64_t>(spi_exec(planner.verify_sample_keys(),
                                                   {SqlParam::value(fmt::format("{}", *sample))})
                                              .processed);
            spi_exec(planner.analyze_keys());
            run.null_keys = spi_exec(planner.count_null_keys()).scalar_int();
            driver.report(fmt::format("keys: {} keys sampled", run.keys));
        });
        driver.unit("recompute", [&] {
            driver.more_units_follow();
            const std::string sql = sample ? planner.verify_recompute_keys(run.null_keys > 0)
                                           : planner.verify_recompute_all();
            run.rows_inserted = static_cast<std::int64_t>(spi_exec(sql, params).processed);
            driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
        });
        driver.unit("compare", [&] {
            SqlResult r = spi_exec(
                planner.verify_compare(sample.has_value(), run.null_keys > 0, kVerifyExamples));
            const SqlRow &row = r.rows.at(0);
            out.missing = std::stoll(*row[1]);
            out.extra = std::stoll(*row[2]);
            out.differ = std::stoll(*row[3]);
            out.keys_checked = std::stoll(*row[0]) + out.extra;
            out.missing_keys = *row[4];
            out.extra_keys = *row[5];
            out.differ_keys = *row[6];
            out.summary = summary_of(out);
            if (!sample) run.keys = out.keys_checked;
            run.step_timings_json = driver.timings_json();
            finish_run(run, out.summary == "equal" ? "success" : "differs");
            record_verify(out, sample);
            driver.report("compare: " + out.summary);
        });
    });
    return out;
}

}  // namespace incmodel::pg
