#include "pg/catalog/change_log_rows.hpp"

#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/capture/change_capture.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace incmodel::pg {

namespace {

// The INSERT of a load's log row, prepared once per backend: a small INSERT statement into a
// logged source paid more for parsing, analyzing and planning it than for its own rows. A saved
// plan is re-analyzed by PostgreSQL when the log table changes (an extension update, a re-create).
SPIPlanPtr insert_range_plan = nullptr;

void insert_range_row(Oid source, const std::string &column, const LoggedRange &range,
                      const char *kind) {
    pg_call([&] {
        if (insert_range_plan == nullptr) {
            Oid types[7] = {OIDOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID};
            SPIPlanPtr plan = SPI_prepare(
                "INSERT INTO incmodel.source_changes (source, batch_column, txid, lo, hi, rows, "
                "nulls, kind) VALUES ($1, $2, pg_catalog.pg_current_xact_id(), $3, $4, $5, $6, "
                "$7)",
                7, types);
            if (plan == nullptr || SPI_keepplan(plan) != 0)
                elog(ERROR, "incmodel: could not prepare the change log's insert: %s",
                     SPI_result_code_string(SPI_result));
            insert_range_plan = plan;
        }
        Datum values[7];
        char nulls[8] = "       ";
        values[0] = ObjectIdGetDatum(source);
        values[1] = PointerGetDatum(cstring_to_text(column.c_str()));
        values[2] = range.lo ? PointerGetDatum(cstring_to_text(range.lo->c_str())) : (Datum)0;
        if (!range.lo) nulls[2] = 'n';
        values[3] = range.hi ? PointerGetDatum(cstring_to_text(range.hi->c_str())) : (Datum)0;
        if (!range.hi) nulls[3] = 'n';
        values[4] = Int64GetDatum(range.rows);
        values[5] = Int64GetDatum(range.nulls);
        values[6] = PointerGetDatum(cstring_to_text(kind));
        if (SPI_execute_plan(insert_range_plan, values, nulls, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "incmodel: could not write the change log");
    });
}

SqlParam oid_param(Oid oid) {
    return SqlParam::value(std::to_string(oid));
}

SqlParam optional_param(const std::optional<std::string> &v) {
    return v ? SqlParam::value(*v) : SqlParam::null();
}

}  // namespace

bool change_log_has_kinds() {
    return pg_call([] {
        const Oid nsp = get_namespace_oid("incmodel", true);
        const Oid log = OidIsValid(nsp) ? get_relname_relid("source_changes", nsp) : InvalidOid;
        return OidIsValid(log) && get_attnum(log, "kind") != InvalidAttrNumber;
    });
}

void log_range(Oid source, const std::string &column, const LoggedRange &range, const char *kind) {
    const bool kinds = change_log_has_kinds();
    AsCatalogOwner owner;
    std::vector<SqlParam> params{oid_param(source), SqlParam::value(column),
                                 optional_param(range.lo), optional_param(range.hi),
                                 SqlParam::int64(range.rows)};
    if (!kinds) {
        // A catalog not yet updated to this library (ALTER EXTENSION incmodel UPDATE pending):
        // loads keep being logged in its format.
        spi_exec(
            "INSERT INTO incmodel.source_changes (source, batch_column, txid, lo, hi, rows) VALUES "
            "($1::pg_catalog.oid, $2, pg_catalog.pg_current_xact_id(), $3, $4, "
            "$5::pg_catalog.int8)",
            params);
        return;
    }
    insert_range_row(source, column, range, kind);
}

void log_modification(Oid source, const std::string &column) {
    if (!change_log_has_kinds()) return;  // a catalog older than 0.3.0 has no such triggers
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.source_changes (source, batch_column, txid, lo, hi, rows, nulls, "
        "kind) VALUES ($1::pg_catalog.oid, $2, pg_catalog.pg_current_xact_id(), NULL, NULL, 0, "
        "0, 'modify')",
        {oid_param(source), SqlParam::value(column)});
}

std::vector<Oid> logged_sources_among(const std::vector<Oid> &relids) {
    std::vector<std::string> oids;
    for (Oid r : relids) oids.push_back(std::to_string(r));
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT DISTINCT source::pg_catalog.oid::pg_catalog.text AS source FROM incmodel.models "
        "WHERE change_log AND source::pg_catalog.oid OPERATOR(pg_catalog.=) ANY "
        "($1::pg_catalog.text[]::pg_catalog.oid[])",
        {SqlParam::text_array(oids)});
    std::vector<Oid> sources;
    for (std::size_t i = 0; i < r.rows.size(); ++i)
        sources.push_back(static_cast<Oid>(std::stoul(NamedRow(r, i).text("source"))));
    return sources;
}

std::vector<std::string> logged_model_names(Oid source) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT name FROM incmodel.models WHERE change_log AND source::pg_catalog.oid "
        "OPERATOR(pg_catalog.=) $1::pg_catalog.oid ORDER BY name",
        {oid_param(source)});
    std::vector<std::string> names;
    for (std::size_t i = 0; i < r.rows.size(); ++i) names.push_back(NamedRow(r, i).text("name"));
    return names;
}

ChangeLogUse change_log_use(Oid source, const std::string &column) {
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT EXISTS (SELECT 1 FROM incmodel.models WHERE source::pg_catalog.oid "
        "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND batch_column OPERATOR(pg_catalog.=) $2 "
        "AND change_log) AS column_used, EXISTS (SELECT 1 FROM incmodel.models WHERE "
        "source::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND change_log) AS "
        "source_used",
        {oid_param(source), SqlParam::value(column)});
    const NamedRow row(r, 0);
    return {row.boolean("column_used"), row.boolean("source_used")};
}

void forget_log_rows(Oid source, const std::string &column, bool source_still_logged) {
    AsCatalogOwner owner;
    spi_exec(
        "DELETE FROM incmodel.source_changes WHERE source OPERATOR(pg_catalog.=) "
        "$1::pg_catalog.oid AND (batch_column OPERATOR(pg_catalog.=) $2 OR NOT $3::bool)",
        {oid_param(source), SqlParam::value(column),
         SqlParam::value(source_still_logged ? "true" : "false")});
}

bool modification_logged_since(Oid source, const std::optional<std::string> &snapshot) {
    AsCatalogOwner owner;
    return spi_exec(
               "SELECT EXISTS (SELECT 1 FROM incmodel.source_changes WHERE source "
               "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND kind OPERATOR(pg_catalog.=) "
               "'modify' AND batch_column OPERATOR(pg_catalog.=) '' AND "
               "($2::pg_catalog.pg_snapshot IS NULL OR (txid "
               "OPERATOR(pg_catalog.>=) pg_catalog.pg_snapshot_xmin($2::pg_catalog.pg_snapshot) "
               "AND NOT pg_catalog.pg_visible_in_snapshot(txid, "
               "$2::pg_catalog.pg_snapshot))))",
               {oid_param(source), optional_param(snapshot)})
               .scalar() == std::optional<std::string>("t");
}

std::vector<LogRow> log_rows_since(Oid source, const std::string &column,
                                   const std::string &snapshot) {
    // The ranges this transaction's statements kept for its commit are written first: a refresh
    // in the transaction that loaded the rows (BEGIN; COPY; CALL refresh) sees them.
    flush_pending_ranges(false);
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT kind, lo, hi, rows, nulls, txid::pg_catalog.text AS txid FROM "
        "incmodel.source_changes WHERE source "
        "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND (kind OPERATOR(pg_catalog.=) 'modify' OR "
        "batch_column OPERATOR(pg_catalog.=) $2) AND txid OPERATOR(pg_catalog.>=) "
        "pg_catalog.pg_snapshot_xmin($3::pg_catalog.pg_snapshot) AND NOT "
        "pg_catalog.pg_visible_in_snapshot(txid, $3::pg_catalog.pg_snapshot)",
        {oid_param(source), SqlParam::value(column), SqlParam::value(snapshot)});
    std::vector<LogRow> rows;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        rows.push_back({row.text("kind"),
                        {row["lo"], row["hi"], row.int64("rows"), row.int64("nulls")},
                        row.text("txid")});
    }
    return rows;
}

void prune_seen_log_rows(Oid source, const std::string &column, const std::string &origin) {
    AsCatalogOwner owner;
    // Snapshots recorded elsewhere do not hold rows back: their models count their batches.
    spi_exec(
        "DELETE FROM incmodel.source_changes c WHERE c.source = $1::oid AND c.batch_column = $2 "
        "AND c.txid < (SELECT min(pg_catalog.pg_snapshot_xmin(planned_snapshot)) FROM "
        "incmodel.models WHERE source = $1::oid::regclass AND batch_column = $2 AND change_log "
        "AND planned_origin = $3)",
        {oid_param(source), SqlParam::value(column), SqlParam::value(origin)});
    // 'modify' rows concern every model of the source, whatever its batch column.
    spi_exec(
        "DELETE FROM incmodel.source_changes c WHERE c.source = $1::oid AND c.kind = 'modify' AND "
        "c.txid < (SELECT min(pg_catalog.pg_snapshot_xmin(planned_snapshot)) FROM incmodel.models "
        "WHERE source = $1::oid::regclass AND change_log AND planned_origin = $2)",
        {oid_param(source), SqlParam::value(origin)});
}

}  // namespace incmodel::pg
