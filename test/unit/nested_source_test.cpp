// Unit tests of the SQL rendered for the shapes of sql/query_shapes3.sql, from the specs the
// query analysis gives them: a source read in a deduplicating subquery or CTE (its query split
// inside the subquery, keys and filter over the base table), and a key that is a dimension's
// copy of a source column (the target column named after the dimension's, the source side
// computing it).
#include <gtest/gtest.h>

#include <string>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

using test_support::test_quote;

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

// SELECT d.sid, count(*) AS events FROM (SELECT e.*, row_number() OVER (PARTITION BY e.sid,
// e.event_id ORDER BY e.ts) AS n FROM qs3.ev e WHERE e.event <> 'ping') d WHERE d.n = 1
// GROUP BY d.sid, as the analysis splits it: around the base table, inside the subquery.
ModelSpec dedupe_spec() {
    ModelSpec s;
    s.id = 9;
    s.name = "rownum";
    s.source = {"qs3", "ev"};
    s.source_alias = "e";
    s.alias_in_query = true;
    s.batch_column = "batch";
    s.batch_type = "integer";
    s.query_head =
        "SELECT sid, count(*) AS events FROM ( SELECT e.event_id, e.sid, e.ts, row_number() OVER "
        "(PARTITION BY e.sid, e.event_id ORDER BY e.ts) AS n FROM ";
    s.query_tail = " e WHERE (e.event <> 'ping'::text)) d WHERE (n = 1) GROUP BY sid";
    s.source_filter = "(e.event <> 'ping'::text)";
    s.keys = {{"sid", "e.sid", "text"}};
    s.outputs = {{"sid", "text"}, {"events", "bigint"}};
    s.unique_columns = {"sid"};
    s.target = {"qs3", "rownum"};
    return s;
}

// SELECT u.user_id, count(*) AS events FROM qs3.ev e JOIN qs3.users u ON u.user_id = e.uid
// GROUP BY u.user_id: the key column is user_id, its source expression e.uid.
ModelSpec dimension_key_spec() {
    ModelSpec s = dedupe_spec();
    s.name = "user_plans";
    s.query_head = "SELECT u.user_id, count(*) AS events FROM (";
    s.query_tail = " e JOIN qs3.users u ON ((u.user_id = e.uid))) GROUP BY u.user_id";
    s.source_filter.clear();
    s.keys = {{"user_id", "e.uid", "text"}};
    s.outputs = {{"user_id", "text"}, {"events", "bigint"}};
    s.unique_columns = {"user_id"};
    s.target = {"qs3", "user_plans"};
    return s;
}

}  // namespace

// The touched keys restrict the base table where the subquery reads it: the window function
// partitions rows of whole keys, as in a rebuild. The NULL-key branch too.
TEST(NestedSource, RestrictedSourceIsSplicedBelowTheWindow) {
    RefreshPlanner p(dedupe_spec(), test_quote);
    const std::string restricted =
        "FROM (SELECT * FROM qs3.ev AS e WHERE EXISTS (SELECT 1 FROM incmodel_scratch.m9_keys AS "
        "_incmodel_k WHERE _incmodel_k.k1 = (e.sid)) AND ((e.event <> 'ping'::text)))  e WHERE "
        "(e.event <> 'ping'::text)) d WHERE (n = 1) GROUP BY sid";
    const std::string sql = p.recompute(false);
    EXPECT_TRUE(contains(sql, restricted)) << sql;
    const size_t window = sql.find("row_number() OVER");
    const size_t keys = sql.find("EXISTS (SELECT 1 FROM incmodel_scratch.m9_keys");
    ASSERT_NE(window, std::string::npos);
    EXPECT_LT(window, keys);  // the restriction is inside the subquery the window reads
    EXPECT_LT(keys, sql.find(") d WHERE (n = 1)"));
    EXPECT_TRUE(contains(p.recompute(true),
                         "UNION ALL SELECT * FROM qs3.ev AS e WHERE ((e.sid) IS NULL) AND EXISTS"));
    // verify recomputes sampled keys the same way
    EXPECT_TRUE(contains(p.verify_recompute_keys(false), restricted));
}

// A rebuild runs the query as written; the keys of new batches and of changed rows are read
// from the base table, with the subquery's own WHERE (never the outer n = 1).
TEST(NestedSource, KeysAndRebuildReadTheBaseTable) {
    RefreshPlanner p(dedupe_spec(), test_quote);
    EXPECT_TRUE(contains(p.recompute_all(),
                         "ORDER BY e.ts) AS n FROM qs3.ev  e WHERE (e.event <> 'ping'::text)) d "
                         "WHERE (n = 1) GROUP BY sid"));
    const std::string keys = p.collect_keys();
    EXPECT_TRUE(contains(keys,
                         "INSERT INTO incmodel_scratch.m9_keys (k1) SELECT DISTINCT e.sid FROM "
                         "qs3.ev AS e WHERE"));
    EXPECT_TRUE(contains(keys, "AND ((e.event <> 'ping'::text))"));
    EXPECT_FALSE(contains(keys, "n = 1"));
    EXPECT_EQ(p.transition_keys("incmodel_new"),
              "SELECT DISTINCT (e.sid)::pg_catalog.text FROM incmodel_new AS e WHERE true AND "
              "((e.event <> 'ping'::text))");
}

// The dimension's column names the target's key column (the DELETE matches it); the source's
// expression finds and restricts the touched keys.
TEST(DimensionKey, TargetColumnIsTheDimensionsAndTheSourceComputesIt) {
    RefreshPlanner p(dimension_key_spec(), test_quote);
    EXPECT_TRUE(contains(p.collect_keys(), "SELECT DISTINCT e.uid FROM qs3.ev AS e WHERE"));
    EXPECT_TRUE(contains(p.recompute(false),
                         "FROM ((SELECT * FROM qs3.ev AS e WHERE EXISTS (SELECT 1 FROM "
                         "incmodel_scratch.m9_keys AS _incmodel_k WHERE _incmodel_k.k1 = (e.uid))) "
                         " e JOIN qs3.users u ON ((u.user_id = e.uid))) GROUP BY u.user_id"));
    EXPECT_EQ(p.delete_target_keys(),
              "DELETE FROM qs3.user_plans AS _incmodel_t WHERE EXISTS (SELECT 1 FROM "
              "incmodel_scratch.m9_keys AS _incmodel_k WHERE _incmodel_k.k1 = "
              "(_incmodel_t.user_id))");
    for (const auto &ddl : p.create_scratch())
        if (contains(ddl, "m9_keys")) EXPECT_TRUE(contains(ddl, "(k1 text)"));
}
