#include "pg/catalog/retention_catalog.hpp"

#include <fmt/format.h>

#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"

namespace incmodel::pg {

namespace {

SqlParam ids_param(const std::vector<std::int64_t> &model_ids) {
    std::vector<std::string> ids;
    for (std::int64_t id : model_ids) ids.push_back(std::to_string(id));
    return SqlParam::text_array(ids);
}

// The one column of every row of a result, by name.
std::vector<std::string> column_values(const SqlResult &r, const char *column) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i) out.push_back(NamedRow(r, i).text(column));
    return out;
}

}  // namespace

std::vector<RetentionRule> retention_rules(std::optional<Oid> source) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT source::oid AS source, keep::text AS keep, time_column, chunk_rows FROM "
        "incmodel.retention WHERE $1::oid IS NULL OR source OPERATOR(pg_catalog.=) "
        "$1::oid::regclass ORDER BY source::text",
        {source ? SqlParam::value(std::to_string(*source)) : SqlParam::null()});
    std::vector<RetentionRule> rules;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        RetentionRule rule;
        rule.source = static_cast<Oid>(std::stoul(row.text("source")));
        rule.keep = row.text("keep");
        rule.time_column = row.text("time_column");
        rule.chunk_rows = static_cast<int>(row.int64("chunk_rows"));
        rules.push_back(std::move(rule));
    }
    return rules;
}

void store_retention_rule(const RetentionRule &rule) {
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.retention (source, keep, time_column, chunk_rows) VALUES "
        "($1::oid::regclass, $2::interval, $3, $4::int) ON CONFLICT (source) DO UPDATE SET "
        "keep = EXCLUDED.keep, time_column = EXCLUDED.time_column, chunk_rows = "
        "EXCLUDED.chunk_rows",
        {SqlParam::value(std::to_string(rule.source)), SqlParam::value(rule.keep),
         SqlParam::value(rule.time_column), SqlParam::value(std::to_string(rule.chunk_rows))});
}

void delete_retention_rule(Oid source) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.retention WHERE source = $1::oid::regclass",
             {SqlParam::value(std::to_string(source))});
}

std::optional<std::string> default_retention_column(Oid source) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT coalesce(window_column, batch_column) AS time_column FROM incmodel.models WHERE "
        "source = $1::oid::regclass ORDER BY window_column IS NULL, model_id LIMIT 1",
        {SqlParam::value(std::to_string(source))});
    if (r.rows.empty()) return std::nullopt;
    return NamedRow(r, 0)["time_column"];
}

std::vector<SourceModel> models_reading(Oid source) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT model_id, name, batch_column, batch_type FROM incmodel.models WHERE source "
        "OPERATOR(pg_catalog.=) $1::oid::regclass ORDER BY model_id",
        {SqlParam::int64(source)});
    std::vector<SourceModel> models;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        SourceModel m;
        m.id = row.int64("model_id");
        m.name = row.text("name");
        m.batch_column = row.text("batch_column");
        m.batch_type = row.text("batch_type");
        models.push_back(std::move(m));
    }
    return models;
}

std::optional<HistoryAtRisk> model_losing_history(Oid source, const std::string &keep,
                                                  const std::string &time_column) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT name, why FROM (SELECT model_id, name, CASE "
        "WHEN depends_on IS NOT NULL OR strategy OPERATOR(pg_catalog.=) 'append' THEN NULL "
        "WHEN load_column IS NOT NULL THEN CASE WHEN pg_catalog.make_interval(days => "
        "reprocess_days OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.>) $2::pg_catalog.interval "
        "THEN pg_catalog.format('it is a daily model whose late rows reprocess whole event days "
        "up to %s day(s) back (reprocess_days %s), further back than keep', reprocess_days "
        "OPERATOR(pg_catalog.+) 1, reprocess_days) END "
        "WHEN NOT bounded_recompute OR window_column IS NULL OR lookback IS NULL THEN 'it "
        "recomputes a touched key from all its events (it has no bounded_recompute window)' "
        "WHEN window_column OPERATOR(pg_catalog.<>) $3 THEN pg_catalog.format('its window "
        "column %s is not retention''s time column %s', pg_catalog.quote_ident(window_column), "
        "pg_catalog.quote_ident($3)) "
        "WHEN lookback OPERATOR(pg_catalog.>) $2::pg_catalog.interval THEN "
        "pg_catalog.format('its lookback %s is longer than keep', lookback) END AS why "
        "FROM incmodel.models WHERE source OPERATOR(pg_catalog.=) $1::pg_catalog.oid::"
        "pg_catalog.regclass) m WHERE why IS NOT NULL ORDER BY model_id LIMIT 1",
        {SqlParam::int64(source), SqlParam::value(keep), SqlParam::value(time_column)});
    if (r.rows.empty()) return std::nullopt;
    const NamedRow row(r, 0);
    return HistoryAtRisk{row.text("name"), row.text("why")};
}

std::vector<std::string> batches_processed_by_all(const std::vector<BatchEvents> &batches,
                                                  const std::vector<std::int64_t> &model_ids) {
    if (batches.empty()) return {};
    std::vector<std::string> values, counts;
    for (const BatchEvents &b : batches) {
        values.push_back(b.batch_value);
        counts.push_back(std::to_string(b.events));
    }
    AsCatalogOwner owner;
    return column_values(
        spi_exec(
            "SELECT c.v AS batch_value FROM ROWS FROM (pg_catalog.unnest($1::text[]), "
            "pg_catalog.unnest($2::text[]::int8[])) c(v, n) WHERE NOT "
            "EXISTS (SELECT 1 FROM pg_catalog.unnest($3::text[]::int8[]) m(id) WHERE NOT "
            "EXISTS (SELECT 1 FROM incmodel.manifest mf WHERE mf.model_id "
            "OPERATOR(pg_catalog.=) m.id AND mf.batch_value OPERATOR(pg_catalog.=) c.v AND "
            "mf.event_count OPERATOR(pg_catalog.>=) c.n)) ORDER BY 1",
            {SqlParam::text_array(values), SqlParam::text_array(counts), ids_param(model_ids)}),
        "batch_value");
}

std::vector<std::string> expiring_batches(const std::vector<std::int64_t> &model_ids) {
    AsCatalogOwner owner;
    return column_values(
        spi_exec("SELECT DISTINCT batch_value FROM incmodel.retention_expiring WHERE model_id "
                 "OPERATOR(pg_catalog.=) ANY ($1::text[]::int8[]) ORDER BY 1",
                 {ids_param(model_ids)}),
        "batch_value");
}

void mark_batches_expiring(const std::vector<std::int64_t> &model_ids,
                           const std::vector<std::string> &batches) {
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.retention_expiring (model_id, batch_value) SELECT m.id, b.v FROM "
        "pg_catalog.unnest($1::text[]::int8[]) m(id) CROSS JOIN pg_catalog.unnest($2::text[]) "
        "b(v) ON CONFLICT DO NOTHING",
        {ids_param(model_ids), SqlParam::text_array(batches)});
}

void forget_expired_batches(Oid source, const std::string &batch_column,
                            const std::vector<std::int64_t> &model_ids,
                            const std::vector<std::string> &batches) {
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.source_changes (source, batch_column, txid, lo, hi, rows, nulls, "
        "kind) SELECT $1::pg_catalog.oid, $2, pg_catalog.pg_current_xact_id(), b.v, b.v, 0, 0, "
        "'insert' FROM pg_catalog.unnest($3::text[]) b(v) WHERE EXISTS (SELECT 1 FROM "
        "incmodel.models m WHERE m.model_id OPERATOR(pg_catalog.=) ANY ($4::text[]::int8[]) AND "
        "m.change_log)",
        {SqlParam::int64(source), SqlParam::value(batch_column), SqlParam::text_array(batches),
         ids_param(model_ids)});
    for (const char *table : {"incmodel.manifest", "incmodel.retention_expiring"})
        spi_exec(fmt::format("DELETE FROM {} WHERE model_id OPERATOR(pg_catalog.=) ANY "
                             "($1::text[]::int8[]) AND batch_value OPERATOR(pg_catalog.=) ANY "
                             "($2::text[])",
                             table),
                 {ids_param(model_ids), SqlParam::text_array(batches)});
}

}  // namespace incmodel::pg
