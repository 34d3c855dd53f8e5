#include "pg/models/run_driver.hpp"

#include <fmt/format.h>

#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"

namespace incmodel::pg {

ModelLock::ModelLock(std::int64_t model_id, bool session, bool dont_wait)
    : model_id_(model_id), session_(session), acquired_(lock_model(model_id, session, dont_wait)) {}

ModelLock::~ModelLock() {
    if (!acquired_ || !session_) return;
    try {
        unlock_model(model_id_);
    } catch (...) {
        // The session lock goes with the backend at worst; nothing better to do here.
    }
}

RunDriver::RunDriver(SpiConnection &spi, const ModelRecord &model, const char *kind)
    : spi_(spi), model_(model), kind_(kind) {}

void RunDriver::report(const std::string &what) {
    const std::string activity = fmt::format("incmodel {} {}: {}", kind_, model_.spec.name, what);
    const char *a = activity.c_str();
    pg_call([a] { pgstat_report_activity(STATE_RUNNING, a); });
    if (progress_notices && what.find("...") == std::string::npos)
        pg_call([a] { ereport(NOTICE, (errmsg("%s", a))); });
}

std::string RunDriver::timings_json() const {
    std::vector<std::pair<std::string, double>> all = timings_;
    if (in_step_)
        all.emplace_back(step_, std::chrono::duration<double, std::milli>(
                                    std::chrono::steady_clock::now() - step_start_)
                                    .count());
    std::string out = "{";
    for (size_t i = 0; i < all.size(); ++i)
        out += fmt::format("{}\"{}\": {:.3f}", i ? ", " : "", all[i].first, all[i].second);
    return out + "}";
}

void RunDriver::record_failure(const std::exception_ptr &error) {
    const ErrorSummary e = describe_error(error);
    // The run log has no hint column: incmodel's own hint (a function body under the pinned
    // search_path, a long key) goes after the message, where whoever reads the log sees it.
    fail_run(run_.run_id, step_, e.sqlstate,
             e.hint.empty() ? e.message : e.message + "\nHINT: " + e.hint);
    if (spi_.nonatomic()) spi_.commit();
}

}  // namespace incmodel::pg
