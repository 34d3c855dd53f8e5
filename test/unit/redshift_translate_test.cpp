// Unit tests of the Redshift translation of the user's query: FILTER rewritten where exact,
// refused (0A000) where not.
#include <gtest/gtest.h>

#include <string>

#include "core/export_package.hpp"
#include "core/redshift_translate.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

TEST(RedshiftTranslate, RewritesFilterOfNullSkippingAggregates) {
    EXPECT_EQ(translate_for_redshift("SELECT count(*) FILTER (WHERE e.event = 'page_view') AS pv"),
              "SELECT count(CASE WHEN e.event = 'page_view' THEN 1 END) AS pv");
    EXPECT_EQ(translate_for_redshift("SELECT sum(e.tr_total) FILTER (WHERE (e.x > 0)) AS r"),
              "SELECT sum(CASE WHEN (e.x > 0) THEN e.tr_total END) AS r");
    EXPECT_EQ(translate_for_redshift("count(DISTINCT e.page_url) FILTER (WHERE e.a IS NULL)"),
              "count(DISTINCT CASE WHEN e.a IS NULL THEN e.page_url END)");
    EXPECT_EQ(
        translate_for_redshift("max(coalesce(a, 0)) FILTER (WHERE f(b)), min(c) FILTER (WHERE d)"),
        "max(CASE WHEN f(b) THEN coalesce(a, 0) END), min(CASE WHEN d THEN c END)");
    // FILTER in a literal or as a column name is not the clause.
    EXPECT_EQ(translate_for_redshift("SELECT 'count(*) FILTER (WHERE x)', \"FILTER\" FROM t"),
              "SELECT 'count(*) FILTER (WHERE x)', \"FILTER\" FROM t");
}

TEST(RedshiftTranslate, RefusesWhatHasNoExactEquivalent) {
    for (const char *q :
         {"SELECT string_agg(e.page_url, ',' ORDER BY e.page_url) FROM t",
          "SELECT string_agg(e.page_url, ',') FROM t", "SELECT json_agg(x) FILTER (WHERE y) FROM t",
          "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE y)",
          "SELECT corr(a, b) FILTER (WHERE y) FROM t"}) {
        try {
            translate_for_redshift(q);
            ADD_FAILURE() << "accepted: " << q;
        } catch (const ExportError &e) {
            EXPECT_EQ(e.kind(), ExportError::Kind::Unsupported) << q;
            EXPECT_NE(std::string(e.what()).find("no exact equivalent"), std::string::npos);
            EXPECT_FALSE(e.hint().empty());
        }
    }
    try {
        translate_for_redshift("SELECT string_agg(a, ',' ORDER BY a) FROM t");
    } catch (const ExportError &e) {
        EXPECT_NE(e.hint().find("LISTAGG"), std::string::npos);
    }
}

TEST(RedshiftTranslate, RedshiftPackageCarriesTheRewrittenQueryPostgresTheOriginal) {
    ModelSpec s = test_support::sessions_spec();
    s.query_head =
        "SELECT domain_sessionid AS session_id, count(*) FILTER (WHERE event = 'pv') AS events "
        "FROM ";
    ExportOptions o;
    const std::string rs = PackageRenderer(s, o, test_support::test_quote).procedure();
    EXPECT_NE(rs.find("count(CASE WHEN event = 'pv' THEN 1 END) AS events"), std::string::npos);
    EXPECT_EQ(rs.find("FILTER"), std::string::npos);
    o.dialect = Dialect::Postgres;
    const std::string pg = PackageRenderer(s, o, test_support::test_quote).procedure();
    EXPECT_NE(pg.find("count(*) FILTER (WHERE event = 'pv')"), std::string::npos);
    s.query_head =
        "SELECT domain_sessionid AS session_id, string_agg(page_url, ',') AS events FROM ";
    o.dialect = Dialect::Redshift;
    EXPECT_THROW(PackageRenderer(s, o, test_support::test_quote), ExportError);
}
