// _PG_init and the SQL-callable entry points of the model lifecycle (version, create_model,
// refresh, backfill, refresh_all, rebuild, explain, pending, alter_model, drop_model). Each one
// converts its arguments, runs through entry_point() (no C++ exception escapes) and calls into
// model_ops. The other entry points live beside the code they call: export_api.cpp,
// verify_api.cpp, maintenance.cpp, retention.cpp, scheduling.cpp, change_capture.cpp,
// change_log.cpp and moved_test_functions.cpp.
#include <optional>
#include <string>
#include <vector>

#include "core/version.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/maintenance/maintenance.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/model_ops.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/boundary/subtransaction.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

using namespace incmodel::pg;

namespace {
// A required timestamptz argument as microseconds since 2000-01-01 UTC, in text.
std::string text_arg_ts(FunctionCallInfo fcinfo, int n, const char *name) {
    std::optional<std::string> v = opt_timestamptz_arg(fcinfo, n);
    if (!v)
        throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        std::string("incmodel: argument \"") + name + "\" must not be NULL");
    return *v;
}

// Refreshes one model for refresh_all(), so that no failure stops the others. Failures inside
// a run's units or while loading the model come back contained (rolled back, recorded as a
// run). Anything else is contained here: in a transaction block the model's refresh runs in a
// subtransaction, rolled back on such a failure; at top level (commits between steps) the
// transaction is rolled back. The failure is then recorded as a run at step 'run'.
std::exception_ptr refresh_contained(SpiConnection &spi, const std::string &name,
                                     bool skip_locked) {
    std::exception_ptr error;
    if (spi.nonatomic()) {
        try {
            refresh_model(spi, name, skip_locked);
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        std::exception_ptr contained;  // recorded already: the subtransaction keeps the record
        error = in_subtransaction([&] {
            try {
                refresh_model(spi, name, skip_locked);
            } catch (const ContainedError &) {
                contained = std::current_exception();
            }
        });
        if (!error) return contained;
    }
    if (!error) return nullptr;
    try {
        std::rethrow_exception(error);
    } catch (const ContainedError &) {
        return error;
    } catch (...) {
    }
    if (spi.nonatomic()) pg_call([] { SPI_rollback(); });
    if (record_failed_run(name, 0, "refresh", "run", error) && spi.nonatomic()) spi.commit();
    return error;
}

// refresh_all()'s WARNING for a model whose refresh failed; the others go on.
void warn_failed_refresh(const std::string &name, const std::exception_ptr &error) {
    const ErrorSummary e = describe_error(error);
    const std::string msg = "incmodel: refresh of model \"" + name + "\" failed";
    // A refusal (permission) raised before any run: no run recorded, the reason in the message.
    if (e.user_error && !e.contained)
        report(WARNING, msg + ": " + e.message);
    else
        report(WARNING, msg, e.message);
}

}  // namespace

extern "C" {

void _PG_init(void) {
    define_settings();
    register_change_capture();
    if (process_shared_preload_libraries_in_progress) register_maintenance_worker();
}

PG_FUNCTION_INFO_V1(incmodel_version);
Datum incmodel_version(PG_FUNCTION_ARGS) {
    return entry_point([&] { return text_datum(incmodel::core::kVersion); });
}

PG_FUNCTION_INFO_V1(incmodel_create_model);
Datum incmodel_create_model(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        CreateModelArgs args;
        args.name = text_arg(fcinfo, 0, "name");
        args.query = text_arg(fcinfo, 1, "query");
        args.target = text_arg(fcinfo, 2, "target");
        args.batch_column = opt_text_arg(fcinfo, 3).value_or("");
        args.window_column = opt_text_arg(fcinfo, 4);
        args.lookback = opt_interval_arg(fcinfo, 5);
        args.unique_key = text_array_arg(fcinfo, 6, "unique_key");
        args.bounded_recompute = opt_bool_arg(fcinfo, 7).value_or(false);
        args.enabled = opt_bool_arg(fcinfo, 8).value_or(true);
        args.load_column = opt_text_arg(fcinfo, 9);
        args.start_date_micros = opt_timestamptz_arg(fcinfo, 10);
        args.backfill_limit = opt_interval_arg(fcinfo, 11);
        if (!args.backfill_limit) args.backfill_limit = "30 days";
        args.day_key = opt_text_arg(fcinfo, 12);
        args.reprocess_days = opt_int32_arg(fcinfo, 13);
        args.min_rows_to_process = opt_int64_arg(fcinfo, 14);
        args.strategy = opt_text_arg(fcinfo, 15);
        args.event_key = opt_text_arg(fcinfo, 16);
        if (!absent(fcinfo, 17)) args.depends_on = text_array_arg(fcinfo, 17, "depends_on");
        if (!absent(fcinfo, 18))
            args.on_dimension_change = opt_text_arg(fcinfo, 18).value_or("recompute");
        if (args.on_dimension_change != "recompute" && args.on_dimension_change != "rebuild" &&
            args.on_dimension_change != "ignore")
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: on_dimension_change must be 'recompute', 'rebuild' or "
                            "'ignore'",
                            "", "");
        SpiConnection spi;
        std::int64_t id = create_model(spi, args);
        return Int64GetDatum(id);
    });
}

PG_FUNCTION_INFO_V1(incmodel_refresh);
Datum incmodel_refresh(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        bool skip_locked = opt_bool_arg(fcinfo, 1).value_or(false);
        RunOverrides overrides{opt_int32_arg(fcinfo, 2), opt_int64_arg(fcinfo, 3)};
        SpiConnection spi(is_nonatomic_call(fcinfo));
        refresh_model(spi, name, skip_locked, overrides);
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_backfill);
Datum incmodel_backfill(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        std::string from = *opt_timestamptz_arg(fcinfo, 1);
        std::string to = *opt_timestamptz_arg(fcinfo, 2);
        SpiConnection spi;
        return Int64GetDatum(backfill_model(spi, name, from, to));
    });
}

PG_FUNCTION_INFO_V1(incmodel_refresh_all);
Datum incmodel_refresh_all(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        bool skip_locked = opt_bool_arg(fcinfo, 0).value_or(false);
        SpiConnection spi(is_nonatomic_call(fcinfo));
        int failed = 0;
        for (const std::string &name : enabled_model_names()) {
            std::exception_ptr error = refresh_contained(spi, name, skip_locked);
            if (!error) continue;
            ++failed;
            warn_failed_refresh(name, error);
        }
        if (failed > 0) {
            std::string msg = "incmodel: " + std::to_string(failed) + " model(s) failed to refresh";
            const char *m = msg.c_str();
            pg_call([m] {
                ereport(WARNING,
                        (errmsg("%s", m),
                         errhint("SELECT * FROM incmodel.status shows each model's last error.")));
            });
        }
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_rebuild);
Datum incmodel_rebuild(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        SpiConnection spi;
        return Int64GetDatum(rebuild_model(spi, name));
    });
}

PG_FUNCTION_INFO_V1(incmodel_explain);
Datum incmodel_explain(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        std::vector<ExplainRow> rows;
        {
            SpiConnection spi;
            if (PG_NARGS() >= 3)
                rows = explain_backfill(name, text_arg_ts(fcinfo, 1, "range_start"),
                                        text_arg_ts(fcinfo, 2, "range_end"));
            else
                rows = explain_model(name);
        }
        pg_call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
        auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (const auto &r : rows) {
            Datum values[4] = {Int32GetDatum(r.step), text_datum(r.name), text_datum(r.detail),
                               text_datum(r.sql)};
            bool nulls[4] = {false, false, false, false};
            pg_call([rsinfo, &values, &nulls] {
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            });
        }
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_pending);
Datum incmodel_pending(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        Pending p;
        {
            SpiConnection spi;
            p = pending_of(name);
        }
        Datum values[2] = {Int64GetDatum(p.batches.value_or(0)),
                           Int64GetDatum(p.events.value_or(0))};
        bool nulls[2] = {!p.batches, !p.events};
        return composite_datum(fcinfo, values, nulls);
    });
}

PG_FUNCTION_INFO_V1(incmodel_alter_model);
Datum incmodel_alter_model(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        AlterModelArgs args;
        args.name = text_arg(fcinfo, 0, "name");
        args.lookback = opt_interval_arg(fcinfo, 1);
        args.enabled = opt_bool_arg(fcinfo, 2);
        args.bounded_recompute = opt_bool_arg(fcinfo, 3);
        if (!PG_ARGISNULL(4)) args.vacuum_dead_ratio = PG_GETARG_FLOAT8(4);
        if (!PG_ARGISNULL(5)) args.analyze_mod_ratio = PG_GETARG_FLOAT8(5);
        SpiConnection spi;
        alter_model(args);
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_drop_model);
Datum incmodel_drop_model(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        bool drop_target = opt_bool_arg(fcinfo, 1).value_or(false);
        bool cascade = opt_bool_arg(fcinfo, 2).value_or(false);
        SpiConnection spi;
        drop_model(name, drop_target, cascade);
        return (Datum)0;
    });
}

}  // extern "C"
