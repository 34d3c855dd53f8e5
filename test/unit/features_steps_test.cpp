// The SQL between a features model and its input: the queue written at the input's commit, the
// keys read back by the features run.
#include <gtest/gtest.h>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

namespace incmodel::core {
namespace {

TEST(FeaturesSteps, InputQueuesItsKeysProjectedOnEachDependent) {
    ModelSpec input = test_support::sessions_spec();
    input.keys.push_back({"day", "(events.derived_tstamp)::date", "date"});
    RefreshPlanner p(input, test_support::test_quote);
    const std::string sql = p.queue_keys_for_dependents();
    EXPECT_NE(sql.find("ARRAY[k1::text, k2::text] AS all_keys FROM incmodel_scratch.m7_keys"),
              std::string::npos)
        << sql;
    EXPECT_NE(sql.find("unnest(d.feature_keys) WITH ORDINALITY"), std::string::npos);
    // no dependent, no read of the keys scratch
    EXPECT_NE(sql.find("CROSS JOIN LATERAL ("), std::string::npos);
    EXPECT_NE(sql.find("WHERE d.model_id IS NOT NULL"), std::string::npos);
    EXPECT_NE(sql.find("WHERE d.depends_on @> ARRAY[$1]"), std::string::npos);
    EXPECT_NE(p.queue_full_recompute_for_dependents().find("SELECT d.model_id, NULL"),
              std::string::npos);
}

TEST(FeaturesSteps, QueuedKeysAreCastBackToTheKeyTypes) {
    RefreshPlanner p(test_support::sessions_spec(), test_support::test_quote);
    EXPECT_EQ(p.features_queued_keys(),
              "INSERT INTO incmodel_scratch.m7_keys (k1) SELECT DISTINCT keys[1]::text FROM "
              "incmodel.key_queue WHERE model_id = $1::int8 AND id <= $2::int8");
}

}  // namespace
}  // namespace incmodel::core
