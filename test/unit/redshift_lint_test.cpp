// Unit tests of the Redshift linter (core/redshift_lint): every golden package and every package
// the renderer produces is clean, and each construct issue 16 lists (and the other documented
// rules) makes it fail when injected into a real package.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/export_format.hpp"
#include "core/export_package.hpp"
#include "core/redshift_lint.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

// test/redshift/expected/<name>, found from this file's path (test/unit/...).
std::string golden_path(const std::string &name) {
    std::string here = __FILE__;
    return here.substr(0, here.rfind("/unit/")) + "/redshift/expected/" + name;
}

std::vector<PackageStatement> golden(const std::string &name) {
    std::ifstream in(golden_path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return read_package(ss.str());
}

bool has_rule(const std::vector<LintFinding> &f, const std::string &rule) {
    for (const auto &x : f)
        if (x.rule == rule) return true;
    return false;
}

std::string all(const std::vector<LintFinding> &f) {
    std::string s;
    for (const auto &x : f) s += describe(x) + "\n";
    return s;
}

// The package with the first occurrence of from replaced by to in the first part containing it.
std::vector<PackageStatement> inject(std::vector<PackageStatement> parts, const std::string &part,
                                     const std::string &from, const std::string &to) {
    for (auto &p : parts) {
        if (p.part != part) continue;
        auto at = p.sql.find(from);
        if (at == std::string::npos) continue;
        p.sql.replace(at, from.size(), to);
        return parts;
    }
    ADD_FAILURE() << "\"" << from << "\" not found in part " << part;
    return parts;
}

std::vector<PackageStatement> rendered(ModelSpec spec, bool window) {
    ExportOptions o;
    o.dialect = Dialect::Redshift;
    if (window) o.lookback = Lookback{"7 days", 0, 7, 0};
    o.version = "0.5.0";
    std::vector<PackageStatement> out;
    for (const auto &p : PackageRenderer(spec, o, test_support::test_quote).render())
        out.push_back({p.step, p.part, p.sql});
    return out;
}

void expect_rule(const std::vector<PackageStatement> &pkg, const std::string &rule,
                 const std::string &what) {
    auto f = lint_redshift_package(pkg);
    EXPECT_TRUE(has_rule(f, rule)) << what << ": expected " << rule << ", got:\n" << all(f);
}

}  // namespace

TEST(RedshiftLint, GoldenPackagesAreClean) {
    for (const char *name : {"sessions.sql", "users_by_day.sql", "quoted_model.sql"}) {
        auto parts = golden(name);
        ASSERT_GT(parts.size(), 10u) << name;
        auto f = lint_redshift_package(parts);
        EXPECT_TRUE(f.empty()) << name << ":\n" << all(f);
    }
}

TEST(RedshiftLint, RenderedPackagesAreClean) {
    ModelSpec s = test_support::sessions_spec();
    s.window_column = "collector_tstamp";
    for (bool window : {false, true}) {
        auto f = lint_redshift_package(rendered(s, window));
        EXPECT_TRUE(f.empty()) << all(f);
    }
}

// Each construct issue 16 found in 0.2.0 packages, injected into a golden package.
TEST(RedshiftLint, FailsOnEachConstructOfTheIssue) {
    const auto q = golden("quoted_model.sql");
    expect_rule(inject(q, "procedure", "', v_model, v_batches", "', 'Quoted Model', v_batches"),
                "raise-arguments", "RAISE with a literal argument");
    expect_rule(inject(q, "procedure", "v_deleted, v_inserted;", "v_deleted + v_n, v_inserted;"),
                "raise-arguments", "RAISE with an expression argument");
    for (const char *w : {"top", "open", "percent", "tag", "delta"}) {
        expect_rule(
            inject(q, "procedure", "count(*) AS \"Event Count\"", std::string("count(*) AS ") + w),
            "reserved-word", std::string("alias ") + w);
        expect_rule(inject(q, "ddl", "\"Event Count\" BIGINT", std::string(w) + " BIGINT"),
                    "reserved-word", std::string("column ") + w);
        expect_rule(
            inject(q, "procedure", "ev.geo_country IS NULL", std::string("ev.") + w + " IS NULL"),
            "reserved-word", std::string("qualified ") + w);
    }
    expect_rule(inject(q, "procedure", "count(*) AS \"Event Count\"",
                       "count(*) FILTER (WHERE br_family = 'x') AS \"Event Count\""),
                "filter-clause", "count(*) FILTER");
    auto sa = inject(q, "procedure", "count(DISTINCT page_url)",
                     "string_agg(page_url, ',' ORDER BY page_url)");
    expect_rule(sa, "unsupported-function", "string_agg");
    expect_rule(sa, "aggregate-order-by", "string_agg ... ORDER BY");
    expect_rule(inject(q, "maintenance", "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
                       "svv_table_info c JOIN pg_namespace n ON n.oid = c.table_id"),
                "superuser-view", "svv_table_info");
    expect_rule(
        inject(q, "procedure", "BEGIN\n", "BEGIN\n    LOCK \"Reporting\".\"Country Stats\";\n"),
        "lock-through-recompute", "LOCK of the target at the start");
    expect_rule(inject(q, "maintenance", "LOWER(n.nspname) = LOWER('Reporting')",
                       "n.nspname = 'Reporting'"),
                "name-compared-by-text", "nspname compared by text");
    expect_rule(inject(q, "post_commit", "LOWER(c.relname) = LOWER('Country Stats')",
                       "LOWER(c.relname) = 'Country Stats'"),
                "name-compared-by-text", "LOWER(relname) compared with a mixed-case literal");
}

// The other documented rules, injected into a rendered package.
TEST(RedshiftLint, FailsOnEachDocumentedRule) {
    ModelSpec s = test_support::sessions_spec();
    const auto p = rendered(s, false);
    const std::string agg = "count(*) AS events";
    struct Case {
        const char *part, *from, *to, *rule;
    };
    const Case cases[] = {
        {"procedure", "count(*) AS events", "array_agg(domain_sessionid) AS events",
         "unsupported-function"},
        {"procedure", "count(*) AS events", "corr(1, 2) AS events", "unsupported-function"},
        {"procedure", "count(*) AS events", "regr_slope(1, 2) AS events", "unsupported-function"},
        {"procedure", "count(*) AS events", "every(true) AS events", "unsupported-function"},
        {"procedure", "count(*) AS events",
         "count(*) + (SELECT count(*) FROM generate_series(1, 3)) AS events",
         "unsupported-function"},
        {"procedure", "count(*) AS events", "now() AS events", "leader-node-function"},
        {"procedure", "count(*) AS events", "substr(domain_sessionid, 1, 2) AS events",
         "leader-node-function"},
        {"procedure", "SELECT domain_sessionid",
         "SELECT DISTINCT ON (domain_sessionid) domain_sessionid", "distinct-on"},
        {"procedure", "count(*) AS events", "(payload->>'x') AS events", "json-operator"},
        {"procedure", "count(*) AS events", "ARRAY[1, 2] AS events", "array"},
        {"procedure", "count(*) AS events", "count(*)::int[] AS events", "array"},
        {"procedure", "FROM atomic.events AS events",
         "FROM atomic.events AS events, LATERAL (SELECT 1) l", "lateral"},
        {"procedure", "WHERE k1 IS NULL", "WHERE k1 IS DISTINCT FROM NULL", "is-distinct-from"},
        {"procedure", "END;\n", "ON CONFLICT DO NOTHING; END;\n", "on-conflict"},
        {"procedure", "GET DIAGNOSTICS v_keys",
         "DELETE FROM derived.sessions RETURNING 1; GET DIAGNOSTICS v_keys", "returning"},
        {"procedure", "BEGIN\n", "BEGIN\n    VACUUM derived.sessions;\n", "procedure-statement"},
        {"procedure", "BEGIN\n", "BEGIN\n    ALTER TABLE derived.sessions APPEND FROM x;\n",
         "procedure-statement"},
        {"procedure", "BEGIN\n", "BEGIN\n    SET LOCAL search_path TO x;\n", "procedure-statement"},
        {"procedure", "BEGIN\n", "BEGIN\n    EXECUTE 'VACUUM derived.sessions';\n",
         "procedure-statement"},
        {"procedure", "DELETE FROM incmodel_export_scratch", "TRUNCATE incmodel_export_scratch",
         "procedure-commit"},
        {"procedure", "BEGIN\n", "BEGIN\n    COMMIT;\n", "procedure-commit"},
        {"procedure", "BEGIN\n", "BEGIN\n    SAVEPOINT a;\n", "procedure-subtransaction"},
        {"procedure", "END;\n", "EXCEPTION WHEN OTHERS THEN RAISE; END;\n",
         "procedure-subtransaction"},
        {"ddl", "CREATE SCHEMA IF NOT EXISTS incmodel", "VACUUM incmodel.registry",
         "transaction-block"},
        {"ddl", "CREATE SCHEMA IF NOT EXISTS incmodel", "TRUNCATE incmodel.registry",
         "transaction-block"},
        {"ddl", "CREATE TABLE IF NOT EXISTS derived",
         "CREATE INDEX i ON derived.sessions (x); CREATE TABLE IF NOT EXISTS derived",
         "create-index"},
        {"ddl", "session_id VARCHAR(65535)", "session_id TEXT", "column-type"},
        {"ddl", "session_id VARCHAR(65535)", "session_id jsonb", "column-type"},
        {"ddl", "CREATE TABLE IF NOT EXISTS derived", "CREATE UNLOGGED TABLE IF NOT EXISTS derived",
         "postgres-only-ddl"},
    };
    for (const Case &c : cases) expect_rule(inject(p, c.part, c.from, c.to), c.rule, c.to);
    (void)agg;
}

TEST(RedshiftLint, AcceptsWhatRedshiftAccepts) {
    for (const char *sql : {
             "SELECT LISTAGG(x, ',') WITHIN GROUP (ORDER BY x) FROM t",
             "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) FROM t",
             "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b NULLS FIRST) FROM t",
             "SELECT \"top\", \"open\", t.\"percent\" FROM t AS \"tag\"",
             "SELECT 'count(*) FILTER (WHERE x)' AS s -- string_agg(x ORDER BY y)",
             "SELECT c.oid FROM pg_class c WHERE LOWER(c.relname) = LOWER('Mixed')",
             "SELECT TOP 10 x FROM t ORDER BY x",
             "SELECT x FROM (SELECT x FROM t ORDER BY x) s",
             "SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM u ORDER BY 1)",
         }) {
        auto f = lint_redshift_statement(sql, "ddl");
        EXPECT_TRUE(f.empty()) << sql << ":\n" << all(f);
    }
    // VACUUM and ANALYZE run top-level from the maintenance list.
    auto f = lint_redshift_statement(
        "SELECT stmt FROM (SELECT 1 AS ord, 'VACUUM FULL derived.s TO 95 PERCENT' AS stmt) x",
        "maintenance");
    EXPECT_TRUE(f.empty()) << all(f);
    // ...but not inside the deploy's transaction block or a procedure.
    EXPECT_TRUE(has_rule(lint_redshift_statement("VACUUM derived.s", "ddl"), "transaction-block"));
}

TEST(RedshiftLint, EveryRuleNamesItsDocumentationPage) {
    for (const LintRule &r : redshift_lint_rules()) {
        EXPECT_NE(std::string(r.doc).find(".html"), std::string::npos) << r.name;
        EXPECT_GT(std::string(r.checks).size(), 10u) << r.name;
    }
    auto f = lint_redshift_statement("SELECT string_agg(x, ',') FROM t", "ddl");
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0].doc,
              "https://docs.aws.amazon.com/redshift/latest/dg/"
              "c_unsupported-postgresql-functions.html");
}
