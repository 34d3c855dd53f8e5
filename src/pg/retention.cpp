// Retention (seed 002's data expiration): events older than a source's retention interval are
// deleted in bounded chunks, one whole batch at a time, and only once every model reading the
// source has processed the whole batch (its manifest count covers every event of the batch).
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/sql_text.hpp"
#include "pg/fmgr_args.hpp"
#include "pg/guard.hpp"
#include "pg/maintenance.hpp"
#include "pg/query_analysis.hpp"
#include "pg/security.hpp"
#include "pg/settings.hpp"
#include "pg/spi_client.hpp"

using namespace incmodel::pg;

namespace {

struct RetentionRule {
    Oid source;
    std::string keep, time_column;
    int chunk_rows;
};

struct SourceModel {
    std::int64_t id;
    std::string batch_column, batch_type;
};

void require_source_owner(Oid source) {
    bool owner = pg_call([source] { return pg_class_ownercheck(source, GetUserId()); });
    if (!owner)
        throw UserError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "permission denied to manage retention of this source", "",
                        "Only the owner of the source table may set or apply its retention.");
}

std::string relation_text(Oid rel) {
    return *spi_exec("SELECT $1::oid::regclass::text", {SqlParam::value(std::to_string(rel))})
                .scalar();
}

// The whole batches of the source that are older than keep and fully processed by every model.
std::vector<std::string> expirable_batches(const RetentionRule &r, const std::string &src,
                                           const std::vector<SourceModel> &models) {
    const std::string b = quote_ident(models[0].batch_column);
    const std::string t = quote_ident(r.time_column);
    std::string covered;
    for (const auto &m : models)
        covered += fmt::format(
            " AND EXISTS (SELECT 1 FROM incmodel.manifest mf WHERE mf.model_id = {} AND "
            "mf.batch_value = c.batch_value AND mf.event_count >= c.n)",
            m.id);
    SqlResult res = spi_exec(fmt::format("SELECT c.batch_value FROM (SELECT s.{b}::text AS "
                                         "batch_value, count(*) AS n, max(s.{t}) "
                                         "AS newest FROM {src} s WHERE s.{b} IN (SELECT o.{b} FROM "
                                         "{src} o WHERE o.{t} < now() - "
                                         "$1::interval) GROUP BY s.{b}) c WHERE c.newest < now() - "
                                         "$1::interval{covered} ORDER BY 1",
                                         fmt::arg("b", b), fmt::arg("t", t), fmt::arg("src", src),
                                         fmt::arg("covered", covered)),
                             {SqlParam::value(r.keep)});
    std::vector<std::string> out;
    for (const auto &row : res.rows) out.push_back(*row[0]);
    return out;
}

std::int64_t apply_one(SpiConnection &spi, const RetentionRule &r) {
    require_source_owner(r.source);
    const std::string src = relation_text(r.source);
    std::vector<SourceModel> models;
    {
        AsCatalogOwner owner;
        SqlResult res = spi_exec(
            "SELECT model_id, batch_column, batch_type FROM incmodel.models WHERE source = "
            "$1::oid::regclass ORDER BY model_id",
            {SqlParam::value(std::to_string(r.source))});
        for (const auto &row : res.rows) models.push_back({std::stoll(*row[0]), *row[1], *row[2]});
    }
    auto notice = [](const std::string &msg) {
        const char *m = msg.c_str();
        pg_call([m] { ereport(NOTICE, (errmsg("%s", m))); });
    };
    if (models.empty()) {
        notice("incmodel: no model reads " + src + "; retention deletes nothing");
        return 0;
    }
    for (const auto &m : models)
        if (m.batch_column != models[0].batch_column) {
            notice("incmodel: models of " + src +
                   " use different batch columns; retention deletes nothing");
            return 0;
        }
    std::optional<PinnedSettings> pinned;
    pinned.emplace("");
    std::vector<std::string> batches = expirable_batches(r, src, models);
    std::int64_t removed = 0;
    const std::string del = fmt::format(
        "DELETE FROM {src} WHERE ctid = ANY (ARRAY(SELECT s.ctid FROM {src} s WHERE s.{b} = ANY "
        "($1::text[]::{type}[]) LIMIT $2::int))",
        fmt::arg("src", src), fmt::arg("b", quote_ident(models[0].batch_column)),
        fmt::arg("type", models[0].batch_type));
    for (;;) {
        if (batches.empty()) break;
        std::uint64_t n = spi_exec(del, {SqlParam::text_array(batches),
                                         SqlParam::value(std::to_string(r.chunk_rows))})
                              .processed;
        removed += static_cast<std::int64_t>(n);
        if (n == 0) break;
        if (spi.nonatomic()) {  // bounded chunks: commit after each
            pinned->close();
            spi.commit();
            pinned.emplace("");
        }
    }
    if (!batches.empty()) {
        // A batch that is gone from the source leaves the manifests too: should an event with
        // its batch value arrive later, it is then a new batch and gets processed.
        AsCatalogOwner owner;
        for (const auto &m : models)
            spi_exec(
                "DELETE FROM incmodel.manifest WHERE model_id = $1::int8 AND batch_value = "
                "ANY ($2::text[])",
                {SqlParam::value(std::to_string(m.id)), SqlParam::text_array(batches)});
    }
    record_maintenance(
        r.source, "retention",
        fmt::format("{} batches older than {} by {}", batches.size(), r.keep, r.time_column),
        std::nullopt, std::nullopt, "", "retention", removed);
    pinned->close();
    if (spi.nonatomic()) spi.commit();
    return removed;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_set_retention);
Datum incmodel_set_retention(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        if (PG_ARGISNULL(0))
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "incmodel: source must not be NULL");
        const Oid source = PG_GETARG_OID(0);
        require_source_owner(source);
        SpiConnection spi;
        const SqlParam src = SqlParam::value(std::to_string(source));
        if (PG_ARGISNULL(1)) {
            AsCatalogOwner owner;
            spi_exec("DELETE FROM incmodel.retention WHERE source = $1::oid::regclass", {src});
            return (Datum)0;
        }
        Datum keep_datum = PG_GETARG_DATUM(1);
        std::string keep = pg_call([keep_datum] {
            return DatumGetCString(DirectFunctionCall1(interval_out, keep_datum));
        });
        bool positive =
            spi_exec("SELECT $1::interval > interval '0'", {SqlParam::value(keep)}).scalar() ==
            std::optional<std::string>("t");
        if (!positive)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: retention must keep a positive interval",
                            "keep is " + keep + ".", "Use e.g. '90 days', or NULL to remove it.");
        std::string column;
        if (!PG_ARGISNULL(2)) {
            column = *opt_text_arg(fcinfo, 2);
        } else {
            // The window column of a model of this source, else its batch column.
            auto r = spi_exec(
                "SELECT coalesce(window_column, batch_column) FROM incmodel.models WHERE source = "
                "$1::oid::regclass ORDER BY window_column IS NULL, model_id LIMIT 1",
                {src});
            if (!r.scalar())
                throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                                "incmodel: time_column is required for a source no model reads");
            column = *r.scalar();
        }
        const int chunk = PG_ARGISNULL(3) ? 10000 : PG_GETARG_INT32(3);
        SqlResult type = spi_exec(
            "SELECT atttypid::regtype::text FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid "
            "AND attname = $2 AND attnum > 0 AND NOT attisdropped",
            {src, SqlParam::value(column)});
        if (!type.scalar())
            throw UserError(ERRCODE_UNDEFINED_COLUMN,
                            "incmodel: the source has no column \"" + column + "\"");
        const std::string t = *type.scalar();
        if (t != "timestamp without time zone" && t != "timestamp with time zone" && t != "date")
            throw UserError(ERRCODE_DATATYPE_MISMATCH,
                            "incmodel: retention's time column must be a timestamp or date");
        AsCatalogOwner owner;
        spi_exec(
            "INSERT INTO incmodel.retention (source, keep, time_column, chunk_rows) VALUES "
            "($1::oid::regclass, $2::interval, $3, $4::int) ON CONFLICT (source) DO UPDATE SET "
            "keep = EXCLUDED.keep, time_column = EXCLUDED.time_column, chunk_rows = "
            "EXCLUDED.chunk_rows",
            {src, SqlParam::value(keep), SqlParam::value(column),
             SqlParam::value(std::to_string(chunk))});
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_apply_retention);
Datum incmodel_apply_retention(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        SpiConnection spi(is_nonatomic_call(fcinfo));
        std::vector<RetentionRule> rules;
        {
            AsCatalogOwner owner;
            SqlResult r = spi_exec(
                "SELECT source::oid, keep::text, time_column, chunk_rows FROM incmodel.retention "
                "WHERE $1::oid IS NULL OR source = $1::oid::regclass ORDER BY source::text",
                {PG_ARGISNULL(0) ? SqlParam::null()
                                 : SqlParam::value(std::to_string(PG_GETARG_OID(0)))});
            for (const auto &row : r.rows)
                rules.push_back(
                    {static_cast<Oid>(std::stoul(*row[0])), *row[1], *row[2], std::stoi(*row[3])});
        }
        for (const auto &rule : rules) apply_one(spi, rule);
        return (Datum)0;
    });
}

}  // extern "C"
