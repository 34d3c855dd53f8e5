// Unit tests of a retention pass's statements, with no server.
#include <gtest/gtest.h>

#include <string>

#include "core/retention_steps.hpp"

using namespace incmodel::core;

// Only whole batches all of whose events are older than keep are candidates.
TEST(RetentionSteps, OldBatchesAreWholeBatchesOlderThanKeep) {
    EXPECT_EQ(retention_old_batches("atomic.events", "etl_tstamp", "collector_tstamp"),
              "SELECT s.etl_tstamp::text, count(*) FROM atomic.events s WHERE s.etl_tstamp IN "
              "(SELECT o.etl_tstamp FROM atomic.events o WHERE o.collector_tstamp < now() - "
              "$1::interval) GROUP BY s.etl_tstamp HAVING max(s.collector_tstamp) < now() - "
              "$1::interval ORDER BY 1");
}

// A chunk deletes by ctid, at most $2 rows of the listed batches, older than keep only.
TEST(RetentionSteps, ChunkDeletesOnlyOldEventsOfTheListedBatches) {
    const std::string del = retention_delete_chunk(
        "atomic.events", "etl_tstamp", "timestamp without time zone", "collector_tstamp");
    EXPECT_NE(del.find("s.etl_tstamp = ANY ($1::text[]::timestamp without time zone[])"),
              std::string::npos);
    EXPECT_NE(del.find("s.collector_tstamp < now() - $3::interval LIMIT $2::int"),
              std::string::npos);
    EXPECT_EQ(constraints_immediate("public.fk"), "SET CONSTRAINTS public.fk IMMEDIATE");
}
