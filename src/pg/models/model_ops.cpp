// The model API's operations on one model, dispatched by kind to its peer: batch_model.cpp,
// time_model.cpp, features_model.cpp (model_kind.hpp). Creation, alteration and dropping are in
// model_lifecycle.cpp; what runs share, in model_runs.cpp.
#include "pg/models/model_ops.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/features_model.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/models/time_model.hpp"
#include "pg/models/batch_model.hpp"
#include "pg/models/model_kind.hpp"
#include "pg/models/model_runs.hpp"

namespace incmodel::pg {

RefreshOutcome refresh_model(SpiConnection &spi, const std::string &name, bool skip_locked,
                             const RunOverrides &overrides) {
    LockedModel locked = load_for_run(spi, name, "refresh", skip_locked);
    ModelRecord &m = locked.model;
    if (!m.spec.time && (overrides.reprocess_days || overrides.min_rows_to_process))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: reprocess_days and min_rows_to_process apply to daily models",
                        "Model \"" + name + "\" is a batch model.");
    if (!locked.lock) {
        std::string msg =
            "incmodel: model \"" + name + "\" is being refreshed by another session; skipped";
        report(NOTICE, msg);
        RunRecord skipped;
        skipped.run_id = start_run(m, "refresh");
        finish_run(skipped, "skipped");
        return RefreshOutcome::Skipped;
    }
    if (!m.enabled) {
        std::string msg = "incmodel: model \"" + name + "\" is disabled; nothing refreshed";
        report(NOTICE, msg);
        return RefreshOutcome::Disabled;
    }
    bool changed = false;
    switch (kind_of(m)) {
        case ModelKind::features:
            if (overrides.reprocess_days || overrides.min_rows_to_process)
                throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                                "incmodel: reprocess_days and min_rows_to_process apply to daily "
                                "models");
            with_run(spi, m, "refresh",
                     [&](RunDriver &driver) { changed = run_features(driver, m); });
            return changed ? RefreshOutcome::Success : RefreshOutcome::Noop;
        case ModelKind::time:
            with_run(spi, m, "refresh", [&](RunDriver &driver) {
                changed = run_time_model(
                    driver, m, {overrides.reprocess_days, overrides.min_rows_to_process, {}});
            });
            return changed ? RefreshOutcome::Success : RefreshOutcome::Noop;
        case ModelKind::batch:
            break;
    }
    return refresh_batch_model(spi, m);
}

std::int64_t rebuild_model(SpiConnection &spi, const std::string &name) {
    LockedModel locked = load_for_run(spi, name, "rebuild", false);
    std::int64_t rows = 0;
    switch (kind_of(locked.model)) {
        case ModelKind::features:
            with_run(spi, locked.model, "rebuild", [&](RunDriver &driver) {
                run_features(driver, locked.model, true);
                rows = driver.run().rows_inserted;
            });
            return rows;
        case ModelKind::time: {
            // A time-based model starts again at start_date: emptied, then its first bounded run.
            ModelRecord fresh = locked.model;
            fresh.upper_limit.reset();
            with_run(spi, fresh, "rebuild", [&](RunDriver &driver) {
                driver.unit("reset", [&] {
                    driver.more_units_follow();
                    reset_time_model(fresh);
                });
                run_time_model(driver, fresh, {});
                rows = driver.run().rows_inserted;
            });
            return rows;
        }
        case ModelKind::batch:
            break;
    }
    with_run(spi, locked.model, "rebuild",
             [&](RunDriver &driver) { rows = rebuild_batch_model(driver, locked.model); });
    return rows;
}

// explain shows batch values and runs the model's SQL: the target owner's rights, as refresh,
// and the SQL runs as the owner.
std::vector<ExplainRow> explain_model(const std::string &name) {
    ModelRecord m = load_model(name);
    require_target_owner(m.target_oid, name, "explain");
    AsModelOwner as_owner(m.target_oid);
    switch (kind_of(m)) {
        case ModelKind::features:
            return explain_features(m);
        case ModelKind::time:
            return explain_time_model(m);
        case ModelKind::batch:
            break;
    }
    return explain_batch_model(m);
}

std::vector<ExplainRow> explain_backfill(const std::string &name, const std::string &from_micros,
                                         const std::string &to_micros) {
    ModelRecord m = load_model(name);
    require_target_owner(m.target_oid, name, "explain");
    AsModelOwner as_owner(m.target_oid);
    if (!m.spec.time)
        throw UserError(
            ERRCODE_WRONG_OBJECT_TYPE,
            "incmodel: backfill applies to time-based models; \"" + name + "\" is not one");
    if (std::stoll(from_micros) >= std::stoll(to_micros))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: backfill range is empty: range_start must be before range_end");
    return explain_time_backfill(m, from_micros, to_micros);
}

std::int64_t backfill_model(SpiConnection &spi, const std::string &name,
                            const std::string &from_micros, const std::string &to_micros) {
    LockedModel locked = load_for_run(spi, name, "backfill", false);
    const ModelRecord &m = locked.model;
    if (!m.spec.time)
        throw UserError(
            ERRCODE_WRONG_OBJECT_TYPE,
            "incmodel: backfill applies to time-based models; \"" + name + "\" is a batch model",
            "", "Rebuild a batch model with incmodel.rebuild().");
    if (std::stoll(from_micros) >= std::stoll(to_micros))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: backfill range is empty: range_start must be before range_end");
    std::int64_t rows = 0;
    with_run(spi, m, "backfill", [&](RunDriver &driver) {
        run_time_model(driver, m, {{}, {}, std::make_pair(from_micros, to_micros)});
        rows = driver.run().rows_inserted;
    });
    return rows;
}

Pending pending_of(const std::string &name) {
    ModelRecord m;
    try {
        m = load_model(name);
    } catch (const UserError &) {
        return {};  // source or target dropped: status shows NULL rather than failing
    }
    // What is pending is the owner's to know (as the catalog rows behind it); it is counted as
    // the owner, so a superuser's look at status lends the owner's SQL no rights.
    const Oid owner = relation_owner(m.target_oid);
    if (!pg_call([owner] { return has_privs_of_role(GetUserId(), owner); })) return {};
    AsModelOwner as_owner(m.target_oid);
    switch (kind_of(m)) {
        case ModelKind::features:
            return pending_features(m);
        case ModelKind::time:
            return pending_time_rows(m);
        case ModelKind::batch:
            break;
    }
    return pending_batch_model(m);
}

}  // namespace incmodel::pg
