#include "pg/catalog/maintenance_catalog.hpp"

#include <fmt/format.h>

#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"

namespace incmodel::pg {

namespace {

SqlParam optional_param(const std::optional<std::string> &v) {
    return v ? SqlParam::value(*v) : SqlParam::null();
}

SqlParam optional_param(const std::optional<std::int64_t> &v) {
    return v ? SqlParam::int64(*v) : SqlParam::null();
}

}  // namespace

void insert_maintenance_log(const MaintenanceLogEntry &entry) {
    // dead_after: what the statistics say now, not what this transaction's snapshot of them saw.
    pg_call([] { pgstat_clear_snapshot(); });
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.maintenance_log (finished_at, relation, relid, action, reason, "
        "runner, duration_ms, dead_before, dead_after, rows_removed, error) VALUES "
        "(clock_timestamp(), coalesce($1::oid::regclass::text, $1), $1::oid, $2, $3, $4, "
        "$5::float8, $6::int8, pg_catalog.pg_stat_get_dead_tuples($1::oid), $7::int8, $8)",
        {SqlParam::value(std::to_string(entry.relid)), SqlParam::value(entry.action),
         optional_param(entry.reason), SqlParam::value(entry.runner),
         entry.duration_ms ? SqlParam::value(fmt::format("{:.3f}", *entry.duration_ms))
                           : SqlParam::null(),
         optional_param(entry.dead_before), optional_param(entry.rows_removed),
         optional_param(entry.error)});
}

void clear_target_debt(Oid target) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.table_debt WHERE target = $1::oid",
             {SqlParam::value(std::to_string(target))});
}

void add_dead_tuple_debt(Oid target, std::int64_t model_id, std::int64_t dead_tuples) {
    if (dead_tuples <= 0) return;
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.table_debt AS d (target, model_id, dead_tuples) VALUES "
        "($1::oid::regclass, $2::int8, $3::int8) ON CONFLICT (target) DO UPDATE SET dead_tuples = "
        "d.dead_tuples + EXCLUDED.dead_tuples, updated_at = now()",
        {SqlParam::value(std::to_string(target)), SqlParam::int64(model_id),
         SqlParam::value(std::to_string(dead_tuples))});
}

void forget_model_debt(std::int64_t model_id) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.table_debt WHERE model_id = $1::int8",
             {SqlParam::int64(model_id)});
}

std::vector<PlannedMaintenance> planned_maintenance() {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT p.relation::oid AS relid, p.relation::text AS relation, (SELECT m.model_id FROM "
        "incmodel.models m WHERE m.name OPERATOR(pg_catalog.=) p.model) AS model_id, "
        "p.needs_vacuum, p.needs_analyze, p.reason, p.dead_tuples FROM "
        "incmodel.maintenance_plan() p WHERE p.needs_vacuum OR p.needs_analyze");
    std::vector<PlannedMaintenance> actions;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        PlannedMaintenance a;
        a.relid = static_cast<Oid>(std::stoul(row.text("relid")));
        a.relation = row.text("relation");
        if (row["model_id"]) a.model_id = row.int64("model_id");
        a.needs_vacuum = row.boolean("needs_vacuum");
        a.needs_analyze = row.boolean("needs_analyze");
        a.reason = row.text("reason");
        a.dead_tuples = row.int64("dead_tuples");
        actions.push_back(std::move(a));
    }
    return actions;
}

}  // namespace incmodel::pg
