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

TEST(RedshiftTranslate, RewritesCallsThatHaveAnExactRedshiftForm) {
    // string_agg of NULLIF(x, ''): LISTAGG skips NULLs and empty strings alike, so the same
    // values are aggregated, in the same order.
    EXPECT_EQ(translate_for_redshift("SELECT string_agg(NULLIF(e.page_url, ''::text), ','::text "
                                     "ORDER BY e.page_url) AS pages FROM t"),
              "SELECT LISTAGG(NULLIF(e.page_url, ''::text), ',') WITHIN GROUP (ORDER BY "
              "e.page_url) AS pages FROM t");
    EXPECT_EQ(translate_for_redshift("string_agg(NULLIF(a, ''), ' | ')"),
              "LISTAGG(NULLIF(a, ''), ' | ')");
    EXPECT_EQ(translate_for_redshift("SELECT every(e.x > 0) AS all_positive"),
              "SELECT bool_and(e.x > 0) AS all_positive");
    EXPECT_EQ(translate_for_redshift("percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER "
                                     "BY e.n)"),
              "percentile_cont(0.5) WITHIN GROUP (ORDER BY e.n)");
    // The same ORDER BY for every ordered aggregate (Redshift's rule) passes.
    EXPECT_NO_THROW(translate_for_redshift(
        "SELECT string_agg(NULLIF(a, ''), ',' ORDER BY a), percentile_cont((0.5)::double "
        "precision) WITHIN GROUP (ORDER BY a) FROM t"));
    // Words that only look like the constructs.
    for (const char *q :
         {"SELECT DISTINCT one FROM t", "SELECT t.mode, mode FROM t",
          "SELECT x IS NOT NULL, 'a->b', \"array\" FROM t", "SELECT e.substr FROM t"})
        EXPECT_EQ(translate_for_redshift(q), q);
}

TEST(RedshiftTranslate, RefusesEachConstructRedshiftLacks) {
    for (const char *q : {
             "SELECT array_agg(x) FROM t",
             "SELECT corr(a, b) FROM t",
             "SELECT covar_pop(a, b) FROM t",
             "SELECT covar_samp(a, b) FROM t",
             "SELECT regr_slope(a, b) FROM t",
             "SELECT regr_r2(a, b) FROM t",
             "SELECT json_agg(x) FROM t",
             "SELECT mode() WITHIN GROUP (ORDER BY x) FROM t",
             "SELECT count(*) FROM generate_series(1, 3) g",
             "SELECT substr(x, 1, 2) FROM t",
             "SELECT DISTINCT ON (a) a, b FROM t",
             "SELECT a FROM t, LATERAL (SELECT 1) l",
             "SELECT ARRAY[1, 2] FROM t",
             "SELECT (x)::integer[] FROM t",
             "SELECT (payload ->> 'k'::text) FROM t",
             "SELECT payload -> 'k' FROM t",
             "SELECT a IS DISTINCT FROM b FROM t",
             "SELECT a IS NOT DISTINCT FROM b FROM t",
             "SELECT string_agg(x, ',') FROM t",
             "SELECT string_agg(DISTINCT NULLIF(x, ''), ',') FROM t",
             "SELECT string_agg(NULLIF(x, ''), sep) FROM t",
             "SELECT string_agg(NULLIF(x, ''), ',') OVER (PARTITION BY y) FROM t",
             "SELECT string_agg(NULLIF(a, ''), ',' ORDER BY a), percentile_cont((0.5)::double "
             "precision) WITHIN GROUP (ORDER BY b) FROM t",
         }) {
        try {
            translate_for_redshift(q);
            ADD_FAILURE() << "accepted: " << q;
        } catch (const ExportError &e) {
            EXPECT_EQ(e.kind(), ExportError::Kind::Unsupported) << q;
            EXPECT_FALSE(e.hint().empty()) << q;
        }
    }
}
