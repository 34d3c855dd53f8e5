// The SQL between a features model and its input: the queue written at the input's commit, the
// keys read back by the features run.
#include <gtest/gtest.h>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

namespace incmodel::core {
namespace {

TEST(FeaturesSteps, InputQueuesItsKeysThroughParameters) {
    ModelSpec input = test_support::sessions_spec();
    input.keys.push_back({"day", "(events.derived_tstamp)::date", "date", std::nullopt});
    RefreshPlanner p(input, test_support::test_quote);
    // the owner reads its keys as text; the catalog owner never reads the scratch table
    EXPECT_EQ(p.scratch_keys_as_text(),
              "SELECT k1::pg_catalog.text, k2::pg_catalog.text FROM incmodel_scratch.m7_keys");
    EXPECT_EQ(
        p.queue_keys(2),
        "INSERT INTO incmodel.key_queue (model_id, keys) SELECT DISTINCT "
        "$1::pg_catalog.int8, ARRAY[p1, p2] FROM ROWS FROM "
        "(pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[])) "
        "AS u(p1, p2)");
    EXPECT_EQ(p.queue_keys(2).find("m7_keys"), std::string::npos);
    // one row per input of each dependent: its own mapping of this model's key
    EXPECT_NE(p.dependents().find("JOIN incmodel.feature_inputs fi ON fi.model_id "
                                  "OPERATOR(pg_catalog.=) d.model_id AND fi.input "
                                  "OPERATOR(pg_catalog.=) $1::pg_catalog.text"),
              std::string::npos);
    EXPECT_NE(p.queue_full_recompute_for_dependents().find("SELECT d.model_id, NULL"),
              std::string::npos);
}

TEST(FeaturesSteps, TouchedKeysAreProjectedThroughTheDependentsKeyExpressions) {
    ModelSpec input = test_support::sessions_spec();
    input.keys.push_back({"Day", "(events.derived_tstamp)::date", "date", std::nullopt});
    RefreshPlanner p(input, test_support::test_quote);
    // the input's key parts arrive as text parameters, cast back to their types under the input's
    // column names (quoted), and the expressions are evaluated over them under the given alias
    EXPECT_EQ(p.project_keys({"(date_trunc('month'::text, (_incmodel_input.\"Day\")::timestamp "
                              "without time zone))::date"},
                             "_incmodel_input"),
              "SELECT DISTINCT ((date_trunc('month'::text, (_incmodel_input.\"Day\")::timestamp "
              "without time zone))::date)::pg_catalog.text AS p1 FROM ROWS FROM "
              "(pg_catalog.unnest($1::pg_catalog.text[]), "
              "pg_catalog.unnest($2::pg_catalog.text[])) AS _incmodel_k(k1, k2) CROSS JOIN "
              "LATERAL (SELECT _incmodel_k.k1::text AS session_id, _incmodel_k.k2::date AS "
              "\"Day\") AS _incmodel_input");
    // a dependent's stored expressions come with it, one row per key part in order
    EXPECT_NE(p.dependents().find("pg_catalog.unnest(fi.feature_key_exprs) WITH ORDINALITY"),
              std::string::npos);
    EXPECT_NE(p.dependents().find("ORDER BY d.model_id, e.ord"), std::string::npos);
}

TEST(FeaturesSteps, QueuedKeysAreCastBackToTheKeyTypes) {
    RefreshPlanner p(test_support::sessions_spec(), test_support::test_quote);
    EXPECT_EQ(p.features_queued_keys(),
              "INSERT INTO incmodel_scratch.m7_keys (k1) SELECT DISTINCT keys[1]::text FROM "
              "incmodel.key_queue WHERE model_id = $1::int8 AND id = ANY ($2::int8[])");
}

}  // namespace
}  // namespace incmodel::core
