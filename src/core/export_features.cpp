// Features models in packages (export_time.hpp). Without the extension there is no key queue
// filled by the inputs' commits for every dependent; instead every package of a model that
// features models read appends, in its own commit, the keys its run touched to a log,
// incmodel.touched_<model> (run_no, k1, ...), run_no one more than the log's last (runs of one
// model are serialized by its lock, so run numbers grow in commit order). A features package
// records per input the last run number it consumed (its manifest) and reads the runs after it:
// the keys are projected on its key (a copied key part, or the key expression stored by the
// extension over the input's key columns) and recomputed from the inputs' targets, as the
// extension's features run recomputes its queued keys. Its first run builds the target in full.
#include <fmt/format.h>

#include "core/export_time.hpp"
#include "core/redshift_names.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kInputAlias = "_incmodel_input";  // the alias of the stored expressions
constexpr const char *kLogAlias = "_incmodel_log";

// The text without surrounding white space (query_head / query_tail carry line breaks).
std::string trim_sql(const std::string &s) {
    std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
}  // namespace

// The log a features package reads: one row per key a run touched, with the run's number.
std::string PackageRenderer::touched_ddl() const {
    std::vector<std::string> cols{"run_no bigint NOT NULL"};
    for (std::size_t i = 0; i < spec_.keys.size(); ++i)
        cols.push_back(fmt::format("k{} {}", i + 1, column_type(spec_.keys[i].type)));
    return fmt::format("CREATE TABLE IF NOT EXISTS {}.{} ({}){}", q(kExportSchema),
                       q("touched_" + spec_.name), join(cols, ", "),
                       redshift() ? " SORTKEY (run_no)" : "");
}

// In the commit: this run's keys scratch appended to the log under the next run number.
std::string PackageRenderer::log_touched_keys(const std::string &indent) const {
    if (!options_.log_touched_keys) return "";
    const std::string log = q(kExportSchema) + "." + q("touched_" + spec_.name);
    std::vector<std::string> ks;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i) ks.push_back(fmt::format("k{}", i + 1));
    std::string s;
    s += fmt::format("{}SELECT INTO v_n COALESCE(MAX(run_no), 0) + 1 FROM {};\n", indent, log);
    s += fmt::format("{}INSERT INTO {} (run_no, {}) SELECT v_n, {} FROM {};\n", indent, log,
                     join(ks, ", "), join(ks, ", "), scratch("keys"));
    return s;
}

// Every input's mapping must give each features key part; its expressions are printed by
// PostgreSQL, so Redshift's reserved words in them are quoted.
FeaturesPackage::FeaturesPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : KindPackage(std::move(spec), std::move(options), std::move(quote)) {
    for (ExportOptions::Input &in : options_.inputs) {
        const std::size_t parts = in.exprs.empty() ? in.positions.size() : in.exprs.size();
        if (parts != spec_.keys.size() || in.keys.empty())
            throw ExportError(ExportError::Kind::InvalidValue,
                              "incmodel: the key mapping of input \"" + in.model +
                                  "\" does not match the features model's key");
        if (redshift())
            for (std::string &e : in.exprs) e = quote_redshift_reserved(e);
    }
}

// The manifest: per input, the last run of its log this model consumed.
std::vector<std::string> FeaturesPackage::state_tables() const {
    const bool rs = redshift();
    std::vector<std::string> out{fmt::format(
        "CREATE TABLE IF NOT EXISTS {m} (input {n} NOT NULL{pk}, consumed_run bigint NOT NULL, "
        "recorded_at {ts}){dist}",
        fmt::arg("m", manifest()), fmt::arg("n", rs ? "VARCHAR(256)" : "text"),
        fmt::arg("pk", rs ? "" : " PRIMARY KEY"), fmt::arg("ts", rs ? "TIMESTAMP" : "timestamptz"),
        fmt::arg("dist", rs ? " DISTSTYLE ALL" : ""))};
    if (options_.log_touched_keys) out.push_back(touched_ddl());
    return out;
}

// What `incmodel maintain` vacuums and analyzes.
std::vector<QualifiedName> FeaturesPackage::maintained_relations() const {
    return {spec_.target,
            {kExportSchema, "manifest_" + spec_.name},
            {kExportScratchSchema, spec_.name + "_keys"},
            {kExportScratchSchema, spec_.name + "_rows"},
            {kExportSchema, "run_log"}};
}

// The keys input i logged in runs (v_from_i, v_to_i], as the features model's key parts.
std::string FeaturesPackage::projected_keys(std::size_t i) const {
    const ExportOptions::Input &in = options_.inputs[i];
    std::vector<std::string> named, parts;
    for (std::size_t k = 0; k < in.keys.size(); ++k)
        named.push_back(fmt::format("{}.k{} AS {}", kLogAlias, k + 1, q(in.keys[k].column)));
    for (std::size_t k = 0; k < spec_.keys.size(); ++k)
        parts.push_back(in.exprs.empty() ? fmt::format("{}.{}", kInputAlias,
                                                       q(in.keys[in.positions[k] - 1].column))
                                         : "(" + in.exprs[k] + ")");
    return fmt::format(
        "SELECT {parts} FROM (SELECT {named} FROM {log} AS {l} WHERE {l}.run_no > v_from_{n} AND "
        "{l}.run_no <= v_to_{n}) AS {a}",
        fmt::arg("parts", join(parts, ", ")), fmt::arg("named", join(named, ", ")),
        fmt::arg("log", q(kExportSchema) + "." + q("touched_" + in.model)),
        fmt::arg("l", kLogAlias), fmt::arg("n", i + 1), fmt::arg("a", kInputAlias));
}

// The run of the header comment, in one transaction: first build, or the logged keys.
std::string FeaturesPackage::procedure_body() const {
    const bool rs = redshift();
    const Dialect d = options_.dialect;
    std::string s = "DECLARE\n";
    s += fmt::format("    v_started {};\n", rs ? "TIMESTAMP" : "timestamptz");
    s += fmt::format("    v_model {} := {};\n", rs ? "VARCHAR(256)" : "text",
                     sql_literal(spec_.name, d));
    s += fmt::format("    v_outcome {} := 'noop';\n", rs ? "VARCHAR(16)" : "text");
    for (const char *v : {"v_recorded", "v_batches", "v_events", "v_keys", "v_null_keys",
                          "v_deleted", "v_n", "v_inserted"})
        s += fmt::format("    {} BIGINT := 0;\n", v);
    for (std::size_t i = 0; i < options_.inputs.size(); ++i)
        s += fmt::format("    v_from_{0} BIGINT := 0;\n    v_to_{0} BIGINT := 0;\n", i + 1);
    s += "BEGIN\n";
    s += "    v_started := " + now_expr() + ";\n";
    if (rs)
        s += "    LOCK " + manifest() + ";\n";
    else
        s += fmt::format("    PERFORM pg_advisory_xact_lock({}, hashtext(v_model));\n",
                         kExportLockClass);
    s += delete_scratch({"keys", "rows"});
    s += "    SELECT INTO v_recorded COUNT(*) FROM " + manifest() + ";\n";
    std::vector<std::string> moved, cursors;
    for (std::size_t i = 0; i < options_.inputs.size(); ++i) {
        const std::string input = sql_literal(options_.inputs[i].model, d);
        s += fmt::format(
            "    SELECT INTO v_from_{n} COALESCE(MAX(consumed_run), 0) FROM {m} WHERE input = "
            "{in};\n",
            fmt::arg("n", i + 1), fmt::arg("m", manifest()), fmt::arg("in", input));
        s += fmt::format("    SELECT INTO v_to_{} COALESCE(MAX(run_no), 0) FROM {}.{};\n", i + 1,
                         q(kExportSchema), q("touched_" + options_.inputs[i].model));
        s += fmt::format("    v_batches := v_batches + v_to_{0} - v_from_{0};\n", i + 1);
        moved.push_back(fmt::format("v_to_{0} > v_from_{0}", i + 1));
        cursors.push_back(fmt::format("({}, v_to_{}, v_started)", input, i + 1));
    }
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    const std::string key_cols =
        join_map(spec_.keys, ", ", [this](const KeyPart &k) { return q(k.column); });
    // The first run: the query over the inputs' targets as they are, the target replaced.
    s += "    IF v_recorded = 0 THEN\n";
    s += "        v_outcome := 'success';\n";
    s += fmt::format("        INSERT INTO {} ({})\n        {} {}{} {};\n", scratch("rows"), cols,
                     trim_sql(spec_.query_head), qualified(quote_, spec_.source),
                     spec_.alias_in_query ? "" : " AS " + q(spec_.source_alias),
                     trim_sql(spec_.query_tail));
    s += "        GET DIAGNOSTICS v_inserted := ROW_COUNT;\n";
    s += fmt::format("        INSERT INTO {} ({}) SELECT DISTINCT {} FROM {};\n", scratch("keys"),
                     key_columns(), key_cols, scratch("rows"));
    s += "        GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    if (rs) s += "        LOCK " + target() + ";\n";
    s += "        DELETE FROM " + target() + ";\n";
    s += "        GET DIAGNOSTICS v_deleted := ROW_COUNT;\n";
    s += fmt::format("        INSERT INTO {} ({}) SELECT {} FROM {};\n", target(), cols, cols,
                     scratch("rows"));
    s += log_touched_keys("        ");
    // Later runs: the keys the inputs logged since.
    s += "    ELSIF " + join(moved, " OR ") + " THEN\n";
    std::vector<std::string> selects;
    for (std::size_t i = 0; i < options_.inputs.size(); ++i) selects.push_back(projected_keys(i));
    s += fmt::format("        INSERT INTO {} ({})\n        {};\n", scratch("keys"), key_columns(),
                     join(selects, " UNION "));
    s += "        GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    s += "        v_events := v_keys;\n";
    s += "        IF v_keys > 0 THEN\n";
    s += "            v_outcome := 'success';\n";
    s += fmt::format(
        "            SELECT INTO v_null_keys COUNT(*) FROM {} WHERE {};\n", scratch("keys"),
        join_map(spec_.keys, " OR ",
                 [i = 0](const KeyPart &) mutable { return fmt::format("k{} IS NULL", ++i); }));
    s += recompute("", "");
    s += replace_keys();
    s += "        END IF;\n";
    s += "    END IF;\n";
    s += "    DELETE FROM " + manifest() + ";\n";
    s += fmt::format("    INSERT INTO {} (input, consumed_run, recorded_at) VALUES {};\n",
                     manifest(), join(cursors, ", "));
    s += finish();
    s += "END;\n";
    return s;
}

}  // namespace incmodel::core
