// The SQL of incmodel.verify(): the sample of keys, the recomputation per model kind and the
// comparison with the target.
#include <gtest/gtest.h>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

namespace incmodel::core {
namespace {

using test_support::test_quote;

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

// Two key parts, one of them named so that it needs quoting.
ModelSpec two_key_spec() {
    ModelSpec s = test_support::sessions_spec();
    s.query_head = "SELECT domain_sessionid AS \"Session\", app_id, count(*) AS events FROM ";
    s.query_tail = "GROUP BY domain_sessionid, app_id";
    s.keys = {{"Session", "events.domain_sessionid", "text", std::nullopt},
              {"app_id", "events.app_id", "text", std::nullopt}};
    s.outputs = {{"Session", "text"}, {"app_id", "text"}, {"events", "bigint"}};
    s.unique_columns = {"Session", "app_id"};
    return s;
}

ModelSpec daily_spec() {
    ModelSpec s = test_support::sessions_spec();
    s.query_head =
        "SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS "
        "events FROM ";
    s.query_tail = "GROUP BY domain_userid, derived_tstamp::date";
    s.keys = {{"user_id", "events.domain_userid", "text", std::nullopt},
              {"day", "(events.derived_tstamp)::date", "date", std::nullopt}};
    s.outputs = {{"user_id", "text"}, {"day", "date"}, {"events", "bigint"}};
    s.unique_columns = {"user_id", "day"};
    TimeSpec d;
    d.load_column = "load_tstamp";
    d.load_type = "timestamp without time zone";
    d.day_column = "day";
    d.day_expr = "(events.derived_tstamp)::date";
    s.time = d;
    return s;
}

ModelSpec append_spec() {
    ModelSpec s = test_support::sessions_spec();
    s.query_head = "SELECT event_id, page_url FROM ";
    s.query_tail = "WHERE event = 'page_view'";
    s.keys = {{"event_id", "events.event_id", "text", std::nullopt}};
    s.outputs = {{"event_id", "text"}, {"page_url", "text"}};
    s.unique_columns = {"event_id"};
    TimeSpec t;
    t.load_column = "load_tstamp";
    t.load_type = "timestamp without time zone";
    t.append = true;
    t.event_key = "event_id";
    t.dedupe_order = {"load_tstamp"};
    s.time = t;
    return s;
}

TEST(VerifySteps, SampleDrawsFromTheUnionOfTargetAndSourceKeys) {
    RefreshPlanner p(two_key_spec(), test_quote);
    // materialized: the volatile filter draws once per key, not once per source row
    EXPECT_EQ(p.verify_sample_keys(),
              "WITH _incmodel_u (k1, k2) AS MATERIALIZED (SELECT _incmodel_t.\"Session\", "
              "_incmodel_t.app_id FROM derived.sessions AS _incmodel_t UNION SELECT "
              "events.domain_sessionid, events.app_id FROM atomic.events AS events) INSERT INTO "
              "incmodel_scratch.m7_keys (k1, k2) SELECT k1, k2 FROM _incmodel_u WHERE "
              "pg_catalog.random() < $1::pg_catalog.float8");
}

TEST(VerifySteps, BatchModelsRecomputeAsARebuildDoes) {
    ModelSpec s = test_support::sessions_spec();
    s.window_column = "collector_tstamp";
    s.bounded_recompute = true;
    RefreshPlanner p(s, test_quote);
    EXPECT_EQ(p.verify_recompute_all(), p.recompute_all());
    // sampled keys: all their events, never only the lookback window (no $1 cutoff)
    const std::string keys = p.verify_recompute_keys(false);
    EXPECT_TRUE(contains(keys,
                         "WHERE EXISTS (SELECT 1 FROM incmodel_scratch.m7_keys AS _incmodel_k "
                         "WHERE _incmodel_k.k1 = (events.domain_sessionid))"));
    EXPECT_FALSE(contains(keys, "$1"));
    EXPECT_FALSE(contains(keys, "UNION ALL"));
    EXPECT_TRUE(contains(p.verify_recompute_keys(true), "_incmodel_k.k1 IS NULL AND"));
}

TEST(VerifySteps, DailyModelsFollowTheInclusionRules) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string all = p.verify_recompute_all();
    EXPECT_TRUE(contains(all,
                         "INSERT INTO incmodel_scratch.m7_rows (user_id, day, events) "
                         "SELECT domain_userid AS user_id, derived_tstamp::date AS day, "
                         "count(*) AS events FROM (SELECT * FROM atomic.events AS events "
                         "WHERE true AND "));
    EXPECT_TRUE(contains(all, p.daily_included_rows()));
    EXPECT_TRUE(contains(all, ") AS events GROUP BY domain_userid, derived_tstamp::date"));
    EXPECT_EQ(p.verify_recompute_keys(true), p.daily_recompute(true));
}

TEST(VerifySteps, AppendModelsKeepTheFirstDuplicateOfEveryLoadedEvent) {
    RefreshPlanner p(append_spec(), test_quote);
    EXPECT_EQ(p.verify_recompute_all(),
              "INSERT INTO incmodel_scratch.m7_rows (event_id, page_url) SELECT event_id, "
              "page_url FROM (SELECT DISTINCT ON (_incmodel_d.event_id) _incmodel_d.* FROM "
              "(SELECT * FROM atomic.events AS events WHERE events.load_tstamp >= "
              "$5::pg_catalog.timestamptz::timestamp without time zone AND events.load_tstamp <= "
              "$2::pg_catalog.timestamptz::timestamp without time zone) AS _incmodel_d ORDER BY "
              "_incmodel_d.event_id, _incmodel_d.load_tstamp) AS events WHERE event = "
              "'page_view'");
    EXPECT_EQ(p.verify_recompute_keys(false), p.append_recompute(false));
}

TEST(VerifySteps, ComparisonGroupsTheDifferencesByTheUniqueColumns) {
    RefreshPlanner p(two_key_spec(), test_quote);
    const std::string sql = p.verify_compare(false, false, 5);
    EXPECT_TRUE(contains(sql,
                         "_incmodel_recomputed AS (SELECT \"Session\", app_id, events FROM "
                         "incmodel_scratch.m7_rows)"));
    EXPECT_TRUE(contains(sql,
                         "_incmodel_target AS (SELECT _incmodel_t.\"Session\", "
                         "_incmodel_t.app_id, _incmodel_t.events FROM derived.sessions AS "
                         "_incmodel_t)"));
    EXPECT_TRUE(contains(sql,
                         "SELECT * FROM _incmodel_recomputed EXCEPT ALL SELECT * FROM "
                         "_incmodel_target"));
    EXPECT_TRUE(contains(sql,
                         "SELECT * FROM _incmodel_target EXCEPT ALL SELECT * FROM "
                         "_incmodel_recomputed"));
    EXPECT_TRUE(contains(sql, "ROW(\"Session\", app_id)::pg_catalog.text AS _incmodel_key"));
    EXPECT_TRUE(contains(sql, "GROUP BY \"Session\", app_id"));
    EXPECT_TRUE(contains(sql, "[1:5])::pg_catalog.text, '{}')"));
    // no parameters: the statement reads only the scratch tables and the target
    EXPECT_FALSE(contains(sql, "$1"));
    // one unique column: its value as the example key
    RefreshPlanner single(test_support::sessions_spec(), test_quote);
    EXPECT_TRUE(contains(single.verify_compare(false, false, 3),
                         "session_id::pg_catalog.text AS _incmodel_key"));
}

TEST(VerifySteps, SampledComparisonReadsOnlyTheSampledKeysOfTheTarget) {
    RefreshPlanner p(two_key_spec(), test_quote);
    const std::string sql = p.verify_compare(true, false, 5);
    // the sampled keys, matched with the keys' own equality (as the commit's DELETE matches them)
    EXPECT_TRUE(contains(sql,
                         "FROM derived.sessions AS _incmodel_t WHERE EXISTS (SELECT 1 FROM "
                         "incmodel_scratch.m7_keys AS _incmodel_k WHERE "))
        << sql;
    EXPECT_FALSE(contains(sql, "UNION ALL SELECT _incmodel_t"));
    const std::string with_nulls = p.verify_compare(true, true, 5);
    EXPECT_TRUE(contains(with_nulls,
                         "UNION ALL SELECT _incmodel_t.\"Session\", _incmodel_t.app_id, "
                         "_incmodel_t.events FROM derived.sessions AS _incmodel_t WHERE "
                         "((_incmodel_t.\"Session\") IS NULL OR (_incmodel_t.app_id) IS NULL) AND "
                         "EXISTS"))
        << with_nulls;
}

}  // namespace
}  // namespace incmodel::core
