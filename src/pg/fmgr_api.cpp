// The SQL-callable entry points. Each one converts its arguments, runs through entry_point()
// (no C++ exception escapes) and calls into model_ops.
#include <optional>
#include <string>
#include <vector>

#include "core/version.hpp"
#include "pg/guard.hpp"
#include "pg/maintenance.hpp"
#include "pg/model_catalog.hpp"
#include "pg/model_ops.hpp"
#include "pg/settings.hpp"
#include "pg/spi_client.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

using namespace incmodel::pg;

namespace {

// A required argument: NULL is an error with the argument's name.
std::string text_arg(FunctionCallInfo fcinfo, int n, const char *name) {
    if (PG_ARGISNULL(n))
        throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        std::string("incmodel: argument \"") + name + "\" must not be NULL");
    text *t = PG_GETARG_TEXT_PP(n);
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::optional<std::string> opt_text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    text *t = PG_GETARG_TEXT_PP(n);
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::optional<std::string> opt_interval_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    Datum d = PG_GETARG_DATUM(n);
    const char *s = pg_call([d] { return DatumGetCString(DirectFunctionCall1(interval_out, d)); });
    return std::string(s);
}

std::optional<bool> opt_bool_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_BOOL(n);
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(n)) return out;
    ArrayType *arr = PG_GETARG_ARRAYTYPE_P(n);
    Datum *elems = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    pg_call([arr, &elems, &nulls, &count] {
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
    });
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            "incmodel: unique_key must not contain NULL");
        text *t = DatumGetTextPP(elems[i]);
        out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
    return out;
}

Datum text_datum(const std::string &s) {
    const char *c = s.c_str();
    return pg_call([c] { return PointerGetDatum(cstring_to_text(c)); });
}

// A procedure may COMMIT only when CALLed outside a transaction block (and not from a function).
bool is_nonatomic_call(FunctionCallInfo fcinfo) {
    return fcinfo->context != nullptr && IsA(fcinfo->context, CallContext) &&
           !castNode(CallContext, fcinfo->context)->atomic;
}

}  // namespace

extern "C" {

void _PG_init(void) {
    define_settings();
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
        args.batch_column = text_arg(fcinfo, 3, "batch_column");
        args.window_column = opt_text_arg(fcinfo, 4);
        args.lookback = opt_interval_arg(fcinfo, 5);
        args.unique_key = text_array_arg(fcinfo, 6);
        args.bounded_recompute = opt_bool_arg(fcinfo, 7).value_or(false);
        args.enabled = opt_bool_arg(fcinfo, 8).value_or(true);
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
        SpiConnection spi(is_nonatomic_call(fcinfo));
        refresh_model(spi, name, skip_locked);
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_refresh_all);
Datum incmodel_refresh_all(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        bool skip_locked = opt_bool_arg(fcinfo, 0).value_or(false);
        SpiConnection spi(is_nonatomic_call(fcinfo));
        int failed = 0;
        for (const std::string &name : enabled_model_names()) {
            try {
                refresh_model(spi, name, skip_locked);
            } catch (const ContainedError &e) {
                ++failed;
                std::string msg = "incmodel: refresh of model \"" + name + "\" failed";
                std::string detail;
                try {
                    std::rethrow_exception(e.inner());
                } catch (const std::exception &inner) {
                    detail = inner.what();
                }
                const char *m = msg.c_str();
                const char *d = detail.c_str();
                pg_call([m, d] { ereport(WARNING, (errmsg("%s", m), errdetail("%s", d))); });
            } catch (const UserError &e) {
                ++failed;
                std::string msg = "incmodel: refresh of model \"" + name + "\" failed: " + e.what();
                const char *m = msg.c_str();
                pg_call([m] { ereport(WARNING, (errmsg("%s", m))); });
            }
        }
        if (failed > 0) {
            std::string msg = "incmodel: " + std::to_string(failed) + " model(s) failed to refresh";
            const char *m = msg.c_str();
            pg_call([m] {
                ereport(WARNING, (errmsg("%s", m),
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
        TupleDesc desc = nullptr;
        pg_call([fcinfo, &desc] {
            if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
                elog(ERROR, "incmodel.pending must return a composite");
            desc = BlessTupleDesc(desc);
        });
        Datum values[2] = {Int64GetDatum(p.batches.value_or(0)), Int64GetDatum(p.events.value_or(0))};
        bool nulls[2] = {!p.batches, !p.events};
        return pg_call([desc, &values, &nulls] {
            return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
        });
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
        SpiConnection spi;
        drop_model(name, drop_target);
        return (Datum)0;
    });
}

}  // extern "C"
