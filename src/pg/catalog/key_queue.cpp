#include "pg/catalog/key_queue.hpp"

#include <algorithm>

#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/capture/dimension_capture.hpp"
#include "pg/capture/packed_values.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"
}

namespace incmodel::pg {

namespace {

// "{1,3}" (an int[] as text) -> 1, 3.
std::vector<int> parse_positions(const std::string &text) {
    std::vector<int> out;
    std::string digits;
    for (char ch : text) {
        if (ch >= '0' && ch <= '9') {
            digits += ch;
        } else if (!digits.empty()) {
            out.push_back(std::stoi(digits));
            digits.clear();
        }
    }
    return out;
}

}  // namespace

QueuedKeySets queued_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id) {
    // Dimension changes this transaction noted for its commit are queued first: a refresh in the
    // transaction that changed them (BEGIN; UPDATE ...; CALL refresh) sees them.
    flush_dimension_notes(false);
    QueuedKeySets q;
    SqlResult r = spi_exec(planner.queued_key_ids(), {SqlParam::int64(model_id)});
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        q.ids.push_back(row.text("id"));
        q.full = q.full || row.boolean("full_recompute");
        if (row["dimension"]) {
            const Oid d = static_cast<Oid>(std::stoul(row.text("dimension")));
            if (std::find(q.dimensions.begin(), q.dimensions.end(), d) == q.dimensions.end())
                q.dimensions.push_back(d);
        }
        q.max_id = std::max(q.max_id.value_or(0), row.int64("id"));
    }
    return q;
}

void consume_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id,
                      const std::vector<std::string> &ids) {
    if (ids.empty()) return;
    AsCatalogOwner owner;
    spi_exec(planner.consume_queued_keys(), {SqlParam::int64(model_id), SqlParam::text_array(ids)});
}

void queue_key_sets(const core::RefreshPlanner &planner, std::int64_t model_id, KeyColumns keys) {
    if (keys.empty() || keys[0].empty()) return;
    std::vector<SqlParam> params{SqlParam::int64(model_id)};
    const std::size_t parts = keys.size();
    for (auto &part : keys) params.push_back(SqlParam::text_array(std::move(part)));
    AsCatalogOwner owner;
    spi_exec(planner.queue_keys(parts), params);
}

void queue_dimension_values(const core::RefreshPlanner &planner, std::int64_t model_id,
                            Oid dimension, const std::optional<std::string> &values) {
    if (!values) return;
    AsCatalogOwner owner;
    spi_exec(planner.queue_dimension_values(),
             {SqlParam::int64(model_id), SqlParam::int64(dimension), SqlParam::value(*values)});
}

namespace {

// Whether incmodel.key_queue has the packed_values column (the installed SQL is 0.7.0 or later).
bool queue_takes_packed_values() {
    return pg_call([] {
        const Oid schema = get_namespace_oid("incmodel", true);
        const Oid queue = OidIsValid(schema) ? get_relname_relid("key_queue", schema) : InvalidOid;
        return OidIsValid(queue) && get_attnum(queue, "packed_values") != InvalidAttrNumber;
    });
}

}  // namespace

void queue_packed_dimension_values(std::int64_t model_id, Oid dimension, Datum packed) {
    // Prepared once per backend: a transaction writing one dimension row (a map row per login)
    // pays the INSERT's execution, not its parsing and planning (PostgreSQL re-analyzes a saved
    // plan when key_queue changes).
    static SPIPlanPtr saved[2] = {nullptr, nullptr};
    const bool as_packed = queue_takes_packed_values();
    AsCatalogOwner owner;
    const core::RefreshPlanner planner(core::ModelSpec{}, quote_ident);
    const std::string sql =
        as_packed ? planner.queue_packed_dimension_values() : planner.queue_dimension_values();
    pg_call([&] {
        SPIPlanPtr &plan = saved[as_packed ? 1 : 0];
        if (plan == nullptr) {
            Oid types[3] = {INT8OID, OIDOID, static_cast<Oid>(as_packed ? BYTEAOID : TEXTARRAYOID)};
            SPIPlanPtr p = SPI_prepare(sql.c_str(), 3, types);
            if (p == nullptr || SPI_keepplan(p) != 0)
                elog(ERROR, "incmodel: could not prepare the dimension values' queue insert");
            plan = p;
        }
        const Datum values =
            as_packed
                ? packed
                : packed_values_to_text_array(reinterpret_cast<bytea *>(DatumGetPointer(packed)));
        Datum args[3] = {Int64GetDatum(model_id), ObjectIdGetDatum(dimension), values};
        if (SPI_execute_plan(plan, args, nullptr, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "incmodel: could not queue the values of a dimension change");
    });
}

void queue_full_recompute(std::int64_t model_id) {
    AsCatalogOwner owner;
    spi_exec(core::RefreshPlanner(core::ModelSpec{}, quote_ident).queue_full_recompute(),
             {SqlParam::int64(model_id)});
}

std::vector<Dependent> dependents_of(const core::RefreshPlanner &planner,
                                     const std::string &input) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(planner.dependents(), {SqlParam::value(input)});
    std::vector<Dependent> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        const std::int64_t id = row.int64("model_id");
        if (out.empty() || out.back().model_id != id)
            out.push_back({id,
                           parse_positions(row.text("feature_keys")),
                           static_cast<std::uint32_t>(std::stoul(row.text("target"))),
                           {}});
        if (row["key_expr"]) out.back().key_exprs.push_back(*row["key_expr"]);
    }
    return out;
}

void queue_full_recompute_of_dependents(const core::RefreshPlanner &planner,
                                        const std::string &input) {
    AsCatalogOwner owner;
    spi_exec(planner.queue_full_recompute_for_dependents(), {SqlParam::value(input)});
}

std::vector<std::string> dependent_names(const std::string &input) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT name FROM incmodel.models WHERE depends_on OPERATOR(pg_catalog.@>) "
        "ARRAY[$1::pg_catalog.text] ORDER BY name",
        {SqlParam::value(input)});
    std::vector<std::string> names;
    for (std::size_t i = 0; i < r.rows.size(); ++i) names.push_back(NamedRow(r, i).text("name"));
    return names;
}

}  // namespace incmodel::pg
