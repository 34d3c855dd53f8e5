// Runs the steps of one refresh or rebuild as units. Each unit is a subtransaction with pinned
// settings, run as the target's owner in a security-restricted operation; a nonatomic run (CALL
// outside a transaction block) commits after every unit, so a failure can be recorded in
// incmodel.runs and the scratch tables stay for inspection.
#pragma once

#include <chrono>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "pg/catalog/model_catalog.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/boundary/subtransaction.hpp"

namespace incmodel::pg {

// Holds the model lock; a session-level lock is released on scope exit, a transaction-level
// one with its transaction.
class ModelLock {
  public:
    ModelLock(std::int64_t model_id, bool session, bool dont_wait);
    ~ModelLock();
    bool acquired() const { return acquired_; }

  private:
    std::int64_t model_id_;
    bool session_;
    bool acquired_;
};

class RunDriver {
  public:
    RunDriver(SpiConnection &spi, const ModelRecord &model, const char *kind);

    // Runs fn as the unit named step (see the file comment). Rethrows fn's failure after
    // rolling back the unit.
    template <typename Fn>
    void unit(const char *step, Fn &&fn);

    // Called inside a unit when more units of the run follow it: the unit's commit then does not
    // wait for its WAL to reach disk. The run's last unit commits with the flush, and WAL is
    // flushed in order, so that flush makes this unit durable too; a crash before it loses only
    // a run that had not finished (its row, its scratch statistics), as if it never started.
    // Nothing in a transaction block (an atomic run commits once, with the caller).
    void more_units_follow() { defer_flush_ = true; }

    // Records a failure of the current step in the run log (and commits it when nonatomic).
    void record_failure(const std::exception_ptr &error);

    // Progress: pg_stat_activity shows the step; a NOTICE reports it when it ends.
    void report(const std::string &what);

    RunRecord &run() { return run_; }
    // Per-step milliseconds as JSON, the running step included up to now (the commit step
    // records its own timing inside its transaction).
    std::string timings_json() const;

  private:
    SpiConnection &spi_;
    const ModelRecord &model_;
    std::string kind_;
    RunRecord run_;
    std::string step_;
    std::vector<std::pair<std::string, double>> timings_;
    std::chrono::steady_clock::time_point step_start_;
    bool in_step_ = false;
    bool defer_flush_ = false;
};

template <typename Fn>
void RunDriver::unit(const char *step, Fn &&fn) {
    step_ = step;
    report(std::string(step) + " ...");
    const auto start = std::chrono::steady_clock::now();
    step_start_ = start;
    in_step_ = true;
    std::exception_ptr error = in_subtransaction([&] {
        PinnedSettings pinned(model_.timezone);
        {
            // The model's SQL runs as its target's owner, security-restricted, whoever calls.
            AsModelOwner owner(model_.target_oid);
            fn();
            maybe_inject_failure(step);
        }
        pinned.close();
    });
    in_step_ = false;
    const bool defer_flush = defer_flush_;
    defer_flush_ = false;
    if (error) throw ContainedError(error);
    if (spi_.nonatomic()) {
        if (defer_flush) set_transaction_setting("synchronous_commit", "off");
        spi_.commit();
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    timings_.emplace_back(step, ms);
}

}  // namespace incmodel::pg
