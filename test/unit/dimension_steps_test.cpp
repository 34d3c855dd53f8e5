// The SQL between a change to a dimension and the keys it touches: the values queued at the
// statement, and the route back to the source's rows at the refresh.
#include <gtest/gtest.h>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

namespace incmodel::core {
namespace {

// events e JOIN atomic.page_context c ON c.root_id = e.event_id
DimensionRoute context_route() {
    DimensionRoute r;
    r.value_type = "text";
    r.hops.push_back({"", "c", "c.root_id", ""});
    r.source_match = "_incmodel_v.v OPERATOR(pg_catalog.=) events.event_id";
    return r;
}

TEST(DimensionSteps, ChangedRowsGiveTheirJoinValuesOnly) {
    RefreshPlanner p(test_support::sessions_spec(), test_support::test_quote);
    EXPECT_EQ(p.dimension_values({"incmodel_old", "incmodel_new"}, context_route()),
              "SELECT pg_catalog.array_agg(x.v)::pg_catalog.text FROM (SELECT "
              "(c.root_id)::pg_catalog.text AS v FROM incmodel_old AS c UNION ALL SELECT "
              "(c.root_id)::pg_catalog.text AS v FROM incmodel_new AS c) AS x WHERE x.v IS NOT "
              "NULL");
    // values travel as a parameter, one queue row per statement, under the dimension's regclass
    EXPECT_EQ(p.queue_dimension_values(),
              "INSERT INTO incmodel.key_queue (model_id, dimension, keys) SELECT "
              "$1::pg_catalog.int8, $2::pg_catalog.oid::pg_catalog.regclass, "
              "$3::pg_catalog.text[] WHERE $3 IS NOT NULL");
    // the row triggers' values, packed (incmodel.noted_values reads them back as text[])
    EXPECT_EQ(
        p.queue_packed_dimension_values(),
        "INSERT INTO incmodel.key_queue (model_id, dimension, packed_values) VALUES "
        "($1::pg_catalog.int8, $2::pg_catalog.oid::pg_catalog.regclass, $3::pg_catalog.bytea)");
}

TEST(DimensionSteps, OneHopReadsTheSourceRowsTheValuesMatch) {
    ModelSpec spec = test_support::sessions_spec();
    spec.source_filter = "events.event = 'page_view'";
    RefreshPlanner p(spec, test_support::test_quote);
    EXPECT_EQ(p.dimension_keys_into_scratch(context_route()),
              "INSERT INTO incmodel_scratch.m7_keys (k1) SELECT DISTINCT events.domain_sessionid "
              "FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT "
              "u.v::text AS v FROM incmodel.key_queue q, pg_catalog.unnest(COALESCE(q.keys, "
              "incmodel.noted_values(q.packed_values))) AS u(v) WHERE q.model_id = "
              "$1::pg_catalog.int8 AND q.id = ANY ($2::pg_catalog.int8[]) AND "
              "q.dimension::pg_catalog.oid = $3::pg_catalog.oid) AS _incmodel_v WHERE "
              "_incmodel_v.v OPERATOR(pg_catalog.=) events.event_id) AND "
              "(events.event = 'page_view') EXCEPT SELECT k1 FROM incmodel_scratch.m7_keys");
}

TEST(DimensionSteps, AChainReadsEachRelationBetweenTheDimensionAndTheSource) {
    // events e JOIN geo.cities ci ON ci.city_id = e.city_id JOIN geo.regions r ON
    // r.region_id = ci.region_id: a change to regions reaches the cities of its regions first
    DimensionRoute r;
    r.value_type = "integer";
    r.hops.push_back({"", "r", "r.region_id", ""});
    r.hops.push_back(
        {"geo.cities", "ci", "ci.city_id", "ci.region_id OPERATOR(pg_catalog.=) _incmodel_v.v"});
    r.source_match = "_incmodel_v.v OPERATOR(pg_catalog.=) events.city_id";
    RefreshPlanner p(test_support::sessions_spec(), test_support::test_quote);
    const std::string sql = p.dimension_keys_into_scratch(r);
    EXPECT_NE(sql.find("(SELECT DISTINCT ci.city_id AS v FROM geo.cities AS ci WHERE EXISTS "
                       "(SELECT 1 FROM (SELECT DISTINCT u.v::integer AS v FROM "),
              std::string::npos);
    EXPECT_NE(sql.find(") AS _incmodel_v WHERE ci.region_id OPERATOR(pg_catalog.=) "
                       "_incmodel_v.v)) AS _incmodel_v WHERE _incmodel_v.v "
                       "OPERATOR(pg_catalog.=) events.city_id)"),
              std::string::npos);
}

}  // namespace
}  // namespace incmodel::core

namespace incmodel::core {
namespace {

// users keyed by coalesce(m.user_id, e.duid) over events e LEFT JOIN st.user_map m
ModelSpec stitched_users() {
    ModelSpec s = test_support::sessions_spec();
    KeyThroughDimension t;
    t.relid = 42;
    t.relation = "st.user_map";
    t.alias = "m";
    t.column = "m.duid";
    t.source_column = "events.duid";
    t.op = "OPERATOR(pg_catalog.=)";
    t.matched = "COALESCE(m.user_id, m.duid)";
    t.unmatched = "COALESCE(NULL::text, events.duid)";
    t.unmatched_from_dimension = "COALESCE(NULL::text, m.duid)";
    s.keys = {{"user_key", through_dimension_expr(t), "text", std::nullopt, t}};
    return s;
}

TEST(StitchedKeys, ARowsKeyIsItsMatchsOrItsOwn) {
    EXPECT_EQ(stitched_users().keys[0].source_expr,
              "CASE WHEN EXISTS (SELECT 1 FROM st.user_map AS m WHERE m.duid "
              "OPERATOR(pg_catalog.=) events.duid) THEN (SELECT COALESCE(m.user_id, m.duid) FROM "
              "st.user_map AS m WHERE m.duid OPERATOR(pg_catalog.=) events.duid) ELSE "
              "COALESCE(NULL::text, events.duid) END");
}

TEST(StitchedKeys, TheSourceRowsOfTouchedKeysAreFoundThroughTheMapAndByTheirOwnKey) {
    RefreshPlanner p(stitched_users(), test_support::test_quote);
    const std::string sql = p.recompute(false);
    // mapped rows: their join value is the column of a map row whose key is touched
    EXPECT_NE(sql.find("WHERE events.duid OPERATOR(pg_catalog.=) ANY (SELECT m.duid FROM "
                       "st.user_map AS m WHERE EXISTS (SELECT 1 FROM incmodel_scratch.m7_keys AS "
                       "_incmodel_k WHERE _incmodel_k.k1 = (COALESCE(m.user_id, m.duid))))"),
              std::string::npos);
    // the other rows by their own key, without the mapped ones (a row is read once)
    EXPECT_NE(
        sql.find("UNION ALL SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM "
                 "incmodel_scratch.m7_keys AS _incmodel_k WHERE _incmodel_k.k1 = "
                 "(COALESCE(NULL::text, events.duid))) AND NOT "
                 "COALESCE(events.duid OPERATOR(pg_catalog.=) ANY"),
        std::string::npos);
    // a NULL key's rows only when asked
    EXPECT_EQ(sql.find("IS NULL"), std::string::npos);
    EXPECT_NE(p.recompute(true).find("(COALESCE(NULL::text, events.duid)) IS NULL"),
              std::string::npos);
}

TEST(StitchedKeys, AChangedMapRowMovesItsOwnKeysAndItsVisitorsOwnKey) {
    RefreshPlanner p(stitched_users(), test_support::test_quote);
    EXPECT_EQ(p.through_dimension_keys("incmodel_old", *stitched_users().keys[0].through),
              "SELECT (COALESCE(m.user_id, m.duid))::pg_catalog.text FROM incmodel_old AS m UNION "
              "SELECT (COALESCE(NULL::text, m.duid))::pg_catalog.text FROM incmodel_old AS m");
}

}  // namespace
}  // namespace incmodel::core
