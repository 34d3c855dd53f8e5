// Unit tests of Redshift's reserved words: the redshift dialect quotes what Redshift reserves and
// PostgreSQL does not, in the renderer's identifiers and in the query text PostgreSQL printed.
#include <gtest/gtest.h>

#include <string>

#include "core/export_package.hpp"
#include "core/redshift_names.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

bool has(const std::string &h, const std::string &n) {
    return h.find(n) != std::string::npos;
}

}  // namespace

TEST(RedshiftNames, KnowsTheReservedList) {
    for (const char *w : {"top", "OPEN", "percent", "tag", "delta", "oid", "sysdate", "minus",
                          "wallet", "partition", "select", "without"})
        EXPECT_TRUE(redshift_reserved(w)) << w;
    for (const char *w : {"session_id", "events", "start", "connect", "topic", "tags"})
        EXPECT_FALSE(redshift_reserved(w)) << w;
}

TEST(RedshiftNames, QuoterQuotesRedshiftReservedWords) {
    IdentQuoter q = redshift_quoter(test_support::test_quote);
    EXPECT_EQ(q("top"), "\"top\"");
    EXPECT_EQ(q("percent"), "\"percent\"");
    EXPECT_EQ(q("select"), "\"select\"");  // quoted by the base already, not twice
    EXPECT_EQ(q("Country"), "\"Country\"");
    EXPECT_EQ(q("session_id"), "session_id");
}

TEST(RedshiftNames, QueryTextQuotesIdentifiersOnly) {
    EXPECT_EQ(quote_redshift_reserved("SELECT e.top AS open, count(*) AS percent FROM t e"),
              "SELECT e.\"top\" AS \"open\", count(*) AS \"percent\" FROM t e");
    // Literals, quoted identifiers, comments, functions, types and PostgreSQL's syntax stay.
    EXPECT_EQ(quote_redshift_reserved("SELECT 'top', \"tag\", unnest(a), x::oid -- top\n"),
              "SELECT 'top', \"tag\", unnest(a), x::oid -- top\n");
    EXPECT_EQ(quote_redshift_reserved("SELECT 'it''s top' AS a, b::timestamp without time zone"),
              "SELECT 'it''s top' AS a, b::timestamp without time zone");
    EXPECT_EQ(quote_redshift_reserved("GROUP BY delta, partition"),
              "GROUP BY \"delta\", \"partition\"");
}

TEST(RedshiftNames, RedshiftPackageQuotesReservedNamesPostgresDoesNot) {
    ModelSpec s = test_support::sessions_spec();
    s.target = {"derived", "top"};
    s.keys = {{"tag", "events.tag", "text", std::nullopt}};
    s.outputs = {{"tag", "text"}, {"percent", "bigint"}};
    s.unique_columns = {"tag"};
    s.query_head = "SELECT tag, count(*) AS percent FROM ";
    s.query_tail = "GROUP BY tag";
    ExportOptions o;
    PackageRenderer rs(s, o, test_support::test_quote);
    std::string all;
    for (const auto &p : rs.render()) all += p.sql + ";\n";
    EXPECT_TRUE(has(all,
                    "CREATE TABLE IF NOT EXISTS derived.\"top\" (\"tag\" VARCHAR(65535), "
                    "\"percent\" BIGINT) DISTKEY (\"tag\")"));
    EXPECT_TRUE(has(all, "SELECT \"tag\", count(*) AS \"percent\" FROM (SELECT * FROM"));
    EXPECT_TRUE(has(all, "_incmodel_k.k1 = events.\"tag\""));
    EXPECT_FALSE(has(all, " tag,"));
    o.dialect = Dialect::Postgres;
    PackageRenderer pg(s, o, test_support::test_quote);
    EXPECT_TRUE(has(pg.procedure(), "SELECT tag, count(*) AS percent FROM"));
}

TEST(RedshiftNames, LockProbeComparesNamesAsRedshiftFoldsThem) {
    const std::string probe = redshift_lock_probe("'Reporting'", "'Country Stats'");
    // Mixed case: Redshift stores "Reporting" as reporting; both sides in lower case.
    EXPECT_TRUE(has(probe,
                    "LOWER(n.nspname) = LOWER('Reporting') AND LOWER(c.relname) = "
                    "LOWER('Country Stats')"));
    EXPECT_TRUE(has(probe, "svv_transactions t JOIN pg_class c ON c.oid = t.relation"));
    EXPECT_FALSE(has(probe, "svv_table_info"));
    EXPECT_FALSE(has(probe, "QUOTE_IDENT"));
}
