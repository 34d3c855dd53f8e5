// incmodel.schedule / unschedule: a pg_cron job per model that CALLs its refresh.
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"

using namespace incmodel::pg;

namespace {

void require_pg_cron() {
    bool installed = spi_exec(
                         "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname "
                         "= 'pg_cron')")
                         .scalar() == std::optional<std::string>("t");
    if (!installed)
        throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "incmodel: pg_cron is not installed in this database",
                        "incmodel.schedule() creates a pg_cron job.",
                        "Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron, or "
                        "run CALL incmodel.refresh() from cron or Airflow (see the README).");
}

// pg_cron's schedule syntax for an interval: N seconds (pg_cron 1.5 and later), every N
// minutes, hours, or daily.
std::string cron_schedule(double seconds, bool has_seconds) {
    const long s = std::lround(seconds);
    if (std::fabs(seconds - s) < 1e-6 && s > 0) {
        if (s < 60 && has_seconds) return fmt::format("{} seconds", s);
        if (s % 60 == 0 && s / 60 < 60) return fmt::format("*/{} * * * *", s / 60);
        if (s % 3600 == 0 && s / 3600 < 24) return fmt::format("0 */{} * * *", s / 3600);
        if (s == 86400) return "0 0 * * *";
    }
    throw UserError(
        ERRCODE_INVALID_PARAMETER_VALUE,
        fmt::format("incmodel: cannot schedule a refresh every {:g} seconds", seconds), "",
        "Use whole minutes below an hour, whole hours below a day, or 1 day (and 1 to 59 "
        "seconds with pg_cron 1.5 or later); use pg_cron directly for other schedules.");
}

std::string job_name(const std::string &model) {
    return "incmodel:" + model;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_schedule);
Datum incmodel_schedule(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        Datum every = PG_GETARG_DATUM(1);
        SpiConnection spi;
        ModelRecord m = load_model(name);
        require_target_owner(m.target_oid, name, "schedule");
        require_pg_cron();
        double seconds = pg_call([every] {
            return DatumGetFloat8(
                DirectFunctionCall2(interval_part, CStringGetTextDatum("epoch"), every));
        });
        bool has_seconds = spi_exec(
                               "SELECT string_to_array(split_part(extversion, '-', 1), '.')::int[] "
                               ">= '{1,5}' FROM "
                               "pg_catalog.pg_extension WHERE extname = 'pg_cron'")
                               .scalar() == std::optional<std::string>("t");
        const std::string schedule = cron_schedule(seconds, has_seconds);
        const std::string command =
            *spi_exec(
                 "SELECT pg_catalog.format('CALL incmodel.refresh(%L, skip_locked => true)', $1)",
                 {SqlParam::value(name)})
                 .scalar();
        bool in_db = spi_exec(
                         "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = "
                         "'schedule_in_database' AND pronamespace = 'cron'::regnamespace)")
                         .scalar() == std::optional<std::string>("t");
        SqlResult r = in_db ? spi_exec(
                                  "SELECT cron.schedule_in_database($1, $2, $3, "
                                  "pg_catalog.current_database())",
                                  {SqlParam::value(job_name(name)), SqlParam::value(schedule),
                                   SqlParam::value(command)})
                            : spi_exec("SELECT cron.schedule($1, $2, $3)",
                                       {SqlParam::value(job_name(name)), SqlParam::value(schedule),
                                        SqlParam::value(command)});
        return Int64GetDatum(r.scalar_int());
    });
}

PG_FUNCTION_INFO_V1(incmodel_unschedule);
Datum incmodel_unschedule(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        SpiConnection spi;
        ModelRecord m = load_model(name, false);
        if (OidIsValid(m.target_oid)) require_target_owner(m.target_oid, name, "unschedule");
        require_pg_cron();
        bool exists = spi_exec(
                          "SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND "
                          "username = current_user)",
                          {SqlParam::value(job_name(name))})
                          .scalar() == std::optional<std::string>("t");
        if (!exists) return BoolGetDatum(false);
        spi_exec("SELECT cron.unschedule($1)", {SqlParam::value(job_name(name))});
        return BoolGetDatum(true);
    });
}

}  // extern "C"
