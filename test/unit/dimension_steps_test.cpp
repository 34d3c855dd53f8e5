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
    EXPECT_EQ(p.dimension_values("incmodel_new", context_route()),
              "SELECT DISTINCT (c.root_id)::pg_catalog.text AS v FROM incmodel_new AS c WHERE "
              "(c.root_id) IS NOT NULL");
    // values travel as a parameter, one queue row per value, under the dimension's regclass
    EXPECT_EQ(p.queue_dimension_values(),
              "INSERT INTO incmodel.key_queue (model_id, dimension, keys) SELECT "
              "$1::pg_catalog.int8, $2::pg_catalog.oid::pg_catalog.regclass, ARRAY[v] FROM "
              "pg_catalog.unnest($3::pg_catalog.text[]) AS v");
}

TEST(DimensionSteps, OneHopReadsTheSourceRowsTheValuesMatch) {
    ModelSpec spec = test_support::sessions_spec();
    spec.source_filter = "events.event = 'page_view'";
    RefreshPlanner p(spec, test_support::test_quote);
    EXPECT_EQ(p.dimension_keys_into_scratch(context_route()),
              "INSERT INTO incmodel_scratch.m7_keys (k1) SELECT DISTINCT events.domain_sessionid "
              "FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT "
              "q.keys[1]::text AS v FROM incmodel.key_queue q WHERE q.model_id = "
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
                       "(SELECT 1 FROM (SELECT DISTINCT q.keys[1]::integer AS v FROM "),
              std::string::npos);
    EXPECT_NE(sql.find(") AS _incmodel_v WHERE ci.region_id OPERATOR(pg_catalog.=) "
                       "_incmodel_v.v)) AS _incmodel_v WHERE _incmodel_v.v "
                       "OPERATOR(pg_catalog.=) events.city_id)"),
              std::string::npos);
}

}  // namespace
}  // namespace incmodel::core
