// incmodel.export(name, dialect): the deployable package of one model for an engine without the
// extension (Redshift, or PostgreSQL without incmodel). The model is loaded from the catalog, the
// package rendered by core::PackageRenderer; errors go through entry_point().
#include <optional>
#include <string>
#include <vector>

#include "core/export_format.hpp"
#include "core/export_package.hpp"
#include "core/redshift_lint.hpp"
#include "core/export_time.hpp"
#include "core/version.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"

using namespace incmodel::pg;
namespace core = incmodel::core;

namespace {

std::string required_text(FunctionCallInfo fcinfo, int n, const char *name) {
    if (PG_ARGISNULL(n))
        throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        std::string("incmodel: argument \"") + name + "\" must not be NULL");
    text *t = PG_GETARG_TEXT_PP(n);
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum to_text_datum(const std::string &s) {
    const char *c = s.c_str();
    return pg_call([c] { return PointerGetDatum(cstring_to_text(c)); });
}

// The lookback in the pinned IntervalStyle, and split into months, days and seconds.
core::Lookback lookback_of(const std::string &interval_text) {
    SqlResult r = spi_exec(
        "SELECT i::text, (extract(year FROM i) * 12 + extract(month FROM i))::int8, "
        "extract(day FROM i)::int8, round(extract(hour FROM i) * 3600 + extract(minute FROM i) * "
        "60 + extract(second FROM i))::int8 FROM (SELECT $1::interval AS i) s",
        {SqlParam::value(interval_text)});
    core::Lookback lb;
    lb.text = *r.rows[0][0];
    lb.months = std::stoll(*r.rows[0][1]);
    lb.days = std::stoll(*r.rows[0][2]);
    lb.seconds = std::stoll(*r.rows[0][3]);
    return lb;
}

// A time-based model's start_date (timestamptz text; for Redshift the UTC timestamp, as its
// limits are), backfill_limit split as a lookback, and the source's columns in order (an append
// package selects them after its deduplication).
void time_options(const ModelRecord &m, core::ExportOptions &options) {
    const core::TimeSpec &t = *m.spec.time;
    options.start_date = options.dialect == core::Dialect::Redshift
                             ? *spi_exec("SELECT ($1::timestamptz AT TIME ZONE 'UTC')::text",
                                         {SqlParam::value(t.start_date)})
                                    .scalar()
                             : t.start_date;
    options.backfill_limit = lookback_of(t.backfill_limit);
    for (const auto &row :
         spi_exec("SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid "
                  "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND "
                  "attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped ORDER BY attnum",
                  {SqlParam::int64(m.source_oid)})
             .rows)
        options.source_columns.push_back(*row[0]);
}

// A model that features models read logs its touched keys (its features models read them); a
// features model reads its inputs' logs, each input's keys projected on its key as
// incmodel.feature_inputs says (a position per key part, or expressions over the input's key).
void features_options(const ModelRecord &m, core::ExportOptions &options) {
    options.log_touched_keys =
        spi_exec(
            "SELECT pg_catalog.count(*) FROM incmodel.feature_inputs WHERE input "
            "OPERATOR(pg_catalog.=) $1::pg_catalog.text",
            {SqlParam::value(m.spec.name)})
            .scalar_int() > 0;
    SqlResult inputs = spi_exec(
        "SELECT input, pg_catalog.array_to_string(feature_keys, ','), feature_key_exprs IS NOT "
        "NULL FROM incmodel.feature_inputs WHERE model_id OPERATOR(pg_catalog.=) "
        "$1::pg_catalog.int8 ORDER BY ord",
        {SqlParam::int64(m.spec.id)});
    for (const auto &row : inputs.rows) {
        core::ExportOptions::Input in;
        in.model = *row[0];
        in.keys = load_model(in.model).spec.keys;
        std::string positions = row[1].value_or("");
        for (std::size_t p = 0; p < positions.size();) {
            std::size_t e = positions.find(',', p);
            if (e == std::string::npos) e = positions.size();
            in.positions.push_back(std::stoi(positions.substr(p, e - p)));
            p = e + 1;
        }
        if (*row[2] == "t")
            for (const auto &expr :
                 spi_exec("SELECT e FROM incmodel.feature_inputs, "
                          "pg_catalog.unnest(feature_key_exprs) WITH ORDINALITY AS u(e, o) WHERE "
                          "model_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8 AND input "
                          "OPERATOR(pg_catalog.=) $2::pg_catalog.text ORDER BY o",
                          {SqlParam::int64(m.spec.id), SqlParam::value(in.model)})
                     .rows)
                in.exprs.push_back(expr[0].value_or(""));
        options.inputs.push_back(std::move(in));
    }
}

// The package rules every consumer relies on (core::validate_parts): checked here too, so that
// incmodel.export() itself refuses a package that a file could not carry safely (a model name
// with a line break followed by the marker prefix ends up in the registry's string literals).
void check_package_rules(const std::string &name, const std::vector<core::PackagePart> &parts) {
    std::vector<core::PackageStatement> statements;
    for (const auto &p : parts) statements.push_back({p.step, p.part, p.sql});
    try {
        core::validate_parts(statements);
    } catch (const core::PackageFormatError &e) {
        throw UserError(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "incmodel: model \"" + core::escape_header_text(name) + "\" cannot be exported safely",
            e.what(),
            "Create the model again under a name without line breaks, or remove the "
            "text that starts a line with \"-- @@incmodel\" from its query.");
    }
}

// Redshift's documented rules (core/redshift_lint) over the package just rendered: a package that
// breaks one is never handed out (0A000 naming the rule and its documentation page).
void lint_redshift_package(const std::string &name, const std::vector<core::PackagePart> &parts) {
    std::vector<core::PackageStatement> statements;
    for (const auto &p : parts) statements.push_back({p.step, p.part, p.sql});
    const auto findings = core::lint_redshift_package(statements);
    if (findings.empty()) return;
    std::string detail;
    for (const auto &f : findings) detail += (detail.empty() ? "" : "\n") + core::describe(f);
    throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                    "incmodel: the Redshift package of model \"" + core::escape_header_text(name) +
                        "\" breaks Redshift's rule " + findings[0].rule,
                    detail,
                    "Rewrite the model's query without it (the documentation page says what "
                    "Redshift offers instead), or export with dialect => 'postgres'.");
}

// Below this many distinct values the key part with the most cannot spread the target's rows over
// a cluster's slices: DISTSTYLE EVEN instead.
constexpr std::int64_t kMinDistinctForDistkey = 64;

// The key part with the most distinct values in the extension's target (counted as its owner),
// Redshift's DISTKEY; nothing (DISTSTYLE EVEN) when even that one has too few. An empty target:
// the first key part.
std::optional<std::size_t> distribution_key(const ModelRecord &m) {
    if (m.spec.keys.size() == 1 && m.spec.keys[0].through) return 0;
    std::vector<std::string> counts;
    for (const auto &k : m.spec.keys)
        counts.push_back("count(DISTINCT " + quote_ident(k.column) + ")::pg_catalog.text");
    SqlResult r;
    {
        AsModelOwner owner(m.target_oid);
        r = spi_exec("SELECT count(*)::pg_catalog.text, " + core::join(counts, ", ") + " FROM " +
                     core::qualified(incmodel::pg::quote_ident, m.spec.target));
    }
    if (r.rows.empty() || r.rows[0][0] == std::optional<std::string>("0")) return 0;
    std::size_t best = 0;
    std::int64_t most = -1;
    for (std::size_t i = 0; i < m.spec.keys.size(); ++i) {
        const std::int64_t n = std::stoll(r.rows[0][i + 1].value_or("0"));
        if (n > most) {
            most = n;
            best = i;
        }
    }
    if (most < kMinDistinctForDistkey) return std::nullopt;
    return best;
}

std::vector<core::PackagePart> export_model(const std::string &name, core::Dialect dialect,
                                            bool append_commit) {
    ModelRecord m = load_model(name);
    if (append_commit && (m.spec.time || !m.depends_on.empty()))
        throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                        "incmodel: commit => 'append' is for batch models; model \"" + name +
                            "\" is a " + (m.spec.time ? "time-based" : "features") + " model",
                        "Its package commits its runs by DELETE + INSERT in one transaction.",
                        "Export it with the default commit => 'delete_insert'.");
    core::ExportOptions options;
    options.dialect = dialect;
    options.timezone = m.timezone;
    options.version = core::kVersion;
    options.append_commit = append_commit;
    {
        PinnedSettings pinned(m.timezone);
        if (m.spec.window_column && m.lookback) options.lookback = lookback_of(*m.lookback);
        if (m.spec.time) time_options(m, options);
        features_options(m, options);
        if (dialect == core::Dialect::Redshift) options.distkey_part = distribution_key(m);
        pinned.close();
    }
    try {
        std::vector<core::PackagePart> parts =
            core::render_package(m.spec, options, incmodel::pg::quote_ident);
        check_package_rules(name, parts);
        if (dialect == core::Dialect::Redshift) lint_redshift_package(name, parts);
        return parts;
    } catch (const core::ExportError &e) {
        throw UserError(e.kind() == core::ExportError::Kind::Unsupported
                            ? ERRCODE_FEATURE_NOT_SUPPORTED
                            : ERRCODE_INVALID_PARAMETER_VALUE,
                        e.what(), e.detail(), e.hint());
    }
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_export);
Datum incmodel_export(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = required_text(fcinfo, 0, "name");
        std::string dialect_text = required_text(fcinfo, 1, "dialect");
        std::optional<core::Dialect> dialect = core::parse_dialect(dialect_text);
        if (!dialect)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: unknown dialect \"" + dialect_text + "\"", "",
                            "Use dialect => 'redshift' or dialect => 'postgres'.");
        // commit => 'delete_insert' (default) | 'append' (0.5.0; a 0.4.0 SQL definition has two
        // arguments).
        const std::string commit =
            PG_NARGS() > 2 ? required_text(fcinfo, 2, "commit") : std::string("delete_insert");
        if (commit != "delete_insert" && commit != "append")
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: unknown commit \"" + commit + "\"", "",
                            "Use commit => 'delete_insert' (the default) or commit => 'append'.");
        std::vector<core::PackagePart> parts;
        {
            SpiConnection spi;
            parts = export_model(name, *dialect, commit == "append");
        }
        pg_call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
        auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (const auto &p : parts) {
            Datum values[3] = {Int32GetDatum(p.step), to_text_datum(p.part), to_text_datum(p.sql)};
            bool nulls[3] = {false, false, false};
            pg_call([rsinfo, &values, &nulls] {
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            });
        }
        return (Datum)0;
    });
}

}  // extern "C"
