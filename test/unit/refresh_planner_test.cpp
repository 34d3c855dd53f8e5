// Unit tests of the SQL the planner renders, with no server. The quoter stands in for
// PostgreSQL's quote_identifier (quotes anything that is not a plain lower-case identifier).
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

using test_support::sessions_spec;
using test_support::test_quote;

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(RefreshPlanner, ScratchTablesAreNamedAfterTheModelId) {
    RefreshPlanner p(sessions_spec(), test_quote);
    EXPECT_EQ(p.scratch().keys.schema, "incmodel_scratch");
    EXPECT_EQ(p.scratch().keys.name, "m7_keys");
    EXPECT_EQ(p.truncate_scratch(),
              "TRUNCATE incmodel_scratch.m7_batches, incmodel_scratch.m7_keys, "
              "incmodel_scratch.m7_rows");
    for (const auto &ddl : p.create_scratch()) EXPECT_TRUE(contains(ddl, "CREATE UNLOGGED TABLE"));
}

TEST(RefreshPlanner, RecomputeRestrictsTheSourceToTouchedKeys) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.recompute(false);
    EXPECT_EQ(sql,
              "INSERT INTO incmodel_scratch.m7_rows (session_id, events) SELECT domain_sessionid "
              "AS session_id, count(*) AS events FROM (SELECT * FROM atomic.events AS events WHERE "
              "EXISTS (SELECT 1 FROM incmodel_scratch.m7_keys AS _incmodel_k WHERE "
              "_incmodel_k.k1 = (events.domain_sessionid))) AS events GROUP BY domain_sessionid");
    EXPECT_FALSE(contains(sql, "UNION ALL"));
}

TEST(RefreshPlanner, NullKeysGetTheirOwnBranchThatReadsOnlyNullKeyRows) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.recompute(true);
    EXPECT_TRUE(contains(sql,
                         "UNION ALL SELECT * FROM atomic.events AS events WHERE "
                         "((events.domain_sessionid) IS NULL) AND EXISTS"));
    EXPECT_TRUE(contains(sql,
                         "(_incmodel_k.k1 IS NULL AND (events.domain_sessionid) IS NULL OR "
                         "_incmodel_k.k1 = (events.domain_sessionid))"));
    const std::string del = p.delete_target_null_keys();
    EXPECT_TRUE(contains(del,
                         "DELETE FROM derived.sessions AS _incmodel_t WHERE "
                         "((_incmodel_t.session_id) IS NULL) AND EXISTS"));
}

TEST(RefreshPlanner, AliasAlreadyInTheQueryIsNotRepeated) {
    ModelSpec s = sessions_spec();
    s.source_alias = "e";
    s.alias_in_query = true;
    s.query_tail = " e GROUP BY e.domain_sessionid";
    s.keys[0].source_expr = "e.domain_sessionid";
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.recompute(false),
                         "FROM atomic.events AS e WHERE EXISTS (SELECT 1 FROM "
                         "incmodel_scratch.m7_keys AS _incmodel_k WHERE _incmodel_k.k1 = "
                         "(e.domain_sessionid)))  e GROUP BY"));
    EXPECT_TRUE(contains(p.recompute_all(), "FROM atomic.events  e GROUP BY e.domain_sessionid"));
}

TEST(RefreshPlanner, WindowFiltersUseTheCutoffParameter) {
    ModelSpec s = sessions_spec();
    s.window_column = "collector_tstamp";
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.collect_keys(), "AND events.collector_tstamp >= $2::timestamptz"));
    EXPECT_TRUE(
        contains(p.pending_batches(),
                 "events.etl_tstamp IN (SELECT _incmodel_w.etl_tstamp FROM atomic.events AS "
                 "_incmodel_w WHERE _incmodel_w.collector_tstamp >= $2::timestamptz)"));
    // Exact by default: the recompute reads all events of a touched key.
    EXPECT_FALSE(contains(p.recompute(false), "collector_tstamp"));
    s.bounded_recompute = true;
    RefreshPlanner bounded(s, test_quote);
    EXPECT_TRUE(contains(bounded.recompute(false), "events.collector_tstamp >= $1::timestamptz"));
}

TEST(RefreshPlanner, BatchesWithoutWindowAreCountedWhole) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.pending_batches();
    // The NULL batch is a batch of its own: no IS NOT NULL filter, its manifest row joined apart.
    EXPECT_TRUE(contains(sql,
                         "count(*) AS event_count FROM atomic.events AS events GROUP BY "
                         "events.etl_tstamp"));
    EXPECT_FALSE(contains(sql, "IS NOT NULL"));
    EXPECT_TRUE(contains(sql, "n.model_id = $1::int8 AND n.batch_value IS NULL"));
    EXPECT_TRUE(contains(sql, "p.recorded_count IS NULL OR p.recorded_count < p.event_count"));
    EXPECT_FALSE(contains(sql, "$2"));
}

TEST(RefreshPlanner, CountingFindsShrunkAndVanishedBatches) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.find_batches();
    EXPECT_TRUE(contains(sql, "p.recorded_count IS DISTINCT FROM p.event_count"));
    // without a window every batch is counted: vanished ones are those the count lacks
    EXPECT_TRUE(contains(sql, "NOT EXISTS (SELECT 1 FROM c WHERE c.batch_value = m.batch_value)"));
    EXPECT_TRUE(contains(sql, "NOT EXISTS (SELECT 1 FROM c WHERE c.batch_value IS NULL)"));
    ModelSpec s = sessions_spec();
    s.window_column = "collector_tstamp";
    RefreshPlanner windowed(s, test_quote);
    // with a window the source is probed
    EXPECT_TRUE(contains(windowed.find_batches(),
                         "NOT EXISTS (SELECT 1 FROM atomic.events AS events WHERE "
                         "events.etl_tstamp = m.batch_value::timestamp without time zone)"));
    EXPECT_TRUE(contains(p.shrunk_batches(), "WHERE recorded_count > event_count"));
}

// A batch retention is expiring is neither pending nor shrunk nor vanished, whichever way the
// plan counts (an interrupted pass must not make a refresh rebuild).
TEST(RefreshPlanner, ExpiringBatchesAreLeftOutOfEveryPlan) {
    const std::string counted =
        "NOT EXISTS (SELECT 1 FROM incmodel.retention_expiring x WHERE x.model_id = $1::int8 AND "
        "x.batch_value = c.batch_value)";
    const std::string vanished =
        "NOT EXISTS (SELECT 1 FROM incmodel.retention_expiring x WHERE x.model_id = $1::int8 AND "
        "x.batch_value = m.batch_value)";
    RefreshPlanner p(sessions_spec(), test_quote);
    EXPECT_TRUE(contains(p.pending_batches(), counted));
    EXPECT_TRUE(contains(p.find_batches(), counted));
    EXPECT_TRUE(contains(p.find_batches(), vanished));
    EXPECT_TRUE(contains(p.pending_batches_in_ranges(), counted));
    EXPECT_TRUE(contains(p.find_batches_in_ranges(), counted));
    ModelSpec s = sessions_spec();
    s.window_column = "collector_tstamp";
    RefreshPlanner windowed(s, test_quote);
    EXPECT_TRUE(contains(windowed.find_batches(), counted));
    EXPECT_TRUE(contains(windowed.find_batches(), vanished));
}

TEST(RefreshPlanner, NullBatchInWindowWhenOneOfItsEventsIs) {
    ModelSpec s = sessions_spec();
    s.window_column = "collector_tstamp";
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.pending_batches(),
                         "UNION ALL SELECT NULL::text, count(*) FROM atomic.events AS events WHERE "
                         "events.etl_tstamp IS NULL HAVING bool_or(events.collector_tstamp >= "
                         "$2::timestamptz)"));
}

TEST(RefreshPlanner, ListedBatchesIncludeTheNullBatch) {
    RefreshPlanner p(sessions_spec(), test_quote);
    // A typed set the planner hashes or looks up by index (no per-row scan of the list), and the
    // NULL batch in a UNION branch of its own that folds away without a NULL element.
    const std::string listed =
        "WHERE events.etl_tstamp IN (SELECT pg_catalog.unnest($1::text[])::timestamp without "
        "time zone)";
    const std::string null_batch =
        " UNION SELECT DISTINCT events.domain_sessionid FROM atomic.events AS events WHERE "
        "(events.etl_tstamp IS NULL AND pg_catalog.array_position($1::text[], NULL) IS NOT "
        "NULL)";
    EXPECT_TRUE(contains(p.collect_keys(), listed));
    EXPECT_TRUE(contains(p.collect_keys(), null_batch));
    EXPECT_FALSE(contains(p.collect_keys(), "= ANY ($1"));
    EXPECT_TRUE(contains(p.count_keys(), listed));
    EXPECT_TRUE(contains(p.count_keys(), null_batch));
    EXPECT_FALSE(contains(p.all_batches(), "IS NOT NULL"));
    for (const auto &ddl : p.create_scratch()) {
        if (contains(ddl, "m7_batches")) {
            EXPECT_TRUE(contains(ddl, "(batch_value text, "));
        }
    }
}

TEST(RefreshPlanner, KeysByIndexLookOneBatchValueUpAtATime) {
    ModelSpec s = sessions_spec();
    s.window_column = "collector_tstamp";
    RefreshPlanner p(s, test_quote);
    const std::string sql = p.collect_keys(true);
    EXPECT_TRUE(contains(sql,
                         "SELECT DISTINCT events.domain_sessionid FROM (SELECT DISTINCT "
                         "pg_catalog.unnest($1::text[])::timestamp without time zone AS v) AS "
                         "_incmodel_bv CROSS JOIN LATERAL (SELECT * FROM atomic.events AS events "
                         "WHERE events.etl_tstamp = _incmodel_bv.v OFFSET 0) AS events WHERE "
                         "true AND events.collector_tstamp >= $2::timestamptz UNION "));
    EXPECT_TRUE(contains(sql,
                         "IS NULL AND pg_catalog.array_position($1::text[], NULL) IS NOT "
                         "NULL) AND events.collector_tstamp >= $2::timestamptz"));
    EXPECT_FALSE(contains(p.collect_keys(false), "LATERAL"));
}

TEST(RefreshPlanner, ListedBatchesUnderTheBatchColumnsCollation) {
    ModelSpec s = sessions_spec();
    s.batch_type = "text";
    s.batch_collation = QualifiedName{"pg_catalog", "C"};
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.collect_keys(), "unnest($1::text[])::text COLLATE pg_catalog.\"C\")"));
    EXPECT_TRUE(
        contains(p.collect_keys(true), "unnest($1::text[])::text COLLATE pg_catalog.\"C\" AS v"));
}

TEST(RefreshPlanner, MultiColumnKeys) {
    ModelSpec s = sessions_spec();
    s.keys = {{"user_id", "events.domain_userid", "text", std::nullopt},
              {"day", "date_trunc('day'::text, events.derived_tstamp)", "timestamp", std::nullopt}};
    s.unique_columns = {"user_id", "day"};
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.collect_keys(),
                         "(k1, k2) SELECT DISTINCT events.domain_userid, "
                         "date_trunc('day'::text, events.derived_tstamp)"));
    EXPECT_TRUE(
        contains(p.delete_target_keys(),
                 "WHERE EXISTS (SELECT 1 FROM incmodel_scratch.m7_keys AS _incmodel_k WHERE "
                 "_incmodel_k.k1 = (_incmodel_t.user_id) AND _incmodel_k.k2 = "
                 "(_incmodel_t.day))"));
    EXPECT_TRUE(contains(p.count_null_keys(), "k1 IS NULL OR k2 IS NULL"));
    EXPECT_TRUE(contains(p.create_target_key_index(), "(user_id, day) NULLS NOT DISTINCT"));
}

TEST(RefreshPlanner, IdentifiersGoThroughTheQuoter) {
    ModelSpec s = sessions_spec();
    s.target = {"Derived Data", "Sessions\"; DROP TABLE x; --"};
    s.outputs = {{"Session Id", "text"}, {"user", "bigint"}};
    s.keys = {{"Session Id", "events.domain_sessionid", "text", std::nullopt}};
    s.unique_columns = {"Session Id"};
    RefreshPlanner p(s, test_quote);
    EXPECT_EQ(
        p.create_target()[0],
        "CREATE TABLE \"Derived Data\".\"Sessions\"\"; DROP TABLE x; --\" (\"Session Id\" text, "
        "\"user\" bigint)");
    EXPECT_TRUE(
        contains(p.insert_target_rows(), "(\"Session Id\", \"user\") SELECT \"Session Id\""));
}

TEST(RefreshPlanner, OnlyIsKept) {
    ModelSpec s = sessions_spec();
    s.source_only = true;
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.recompute(false), "FROM ONLY atomic.events AS events WHERE"));
    EXPECT_TRUE(contains(p.recompute_all(), "FROM ONLY atomic.events AS events GROUP BY"));
}

TEST(RefreshPlanner, ManifestIsUpsertedWithRunId) {
    RefreshPlanner p(sessions_spec(), test_quote);
    EXPECT_TRUE(contains(p.record_manifest(),
                         "ON CONFLICT (model_id, batch_value) DO UPDATE SET "
                         "event_count = EXCLUDED.event_count"));
    // the catalog owner writes the manifest from parameters, never from the owner's scratch
    EXPECT_FALSE(contains(p.record_manifest(), "m7_batches"));
    EXPECT_EQ(p.scratch_batches(),
              "SELECT batch_value::pg_catalog.text, event_count::pg_catalog.text FROM "
              "incmodel_scratch.m7_batches");
    EXPECT_EQ(p.clear_manifest(), "DELETE FROM incmodel.manifest WHERE model_id = $1::int8");
}

TEST(RefreshPlanner, ChangeLogRangesAreMergedAndScannedPerRange) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.find_batches_in_ranges();
    EXPECT_TRUE(contains(sql, "unnest($2::text[], $3::text[])"));
    EXPECT_TRUE(contains(sql, "x.lo::timestamp without time zone AS lo"));
    EXPECT_TRUE(contains(sql,
                         "CROSS JOIN LATERAL (SELECT events.etl_tstamp AS v FROM "
                         "atomic.events AS events WHERE events.etl_tstamp >= d.lo AND "
                         "events.etl_tstamp <= d.hi)"));
    EXPECT_TRUE(contains(sql, "p.recorded_count IS DISTINCT FROM p.event_count"));
    EXPECT_TRUE(contains(p.pending_batches_in_ranges(),
                         "p.recorded_count IS NULL OR p.recorded_count < p.event_count"));
    // the NULL batch is counted when the log saw NULL batch values
    EXPECT_TRUE(
        contains(sql, "WHERE $4::boolean AND events.etl_tstamp IS NULL HAVING count(*) > 0"));
}

// Without an index on the batch column the ranges are counted in one scan of the source, each
// batch kept when the running depth of the sorted range bounds says it lies in a range.
TEST(RefreshPlanner, ChangeLogRangesWithoutBatchIndexAreCountedInOneScan) {
    ModelSpec s = sessions_spec();
    s.batch_ranges_in_one_scan = true;
    RefreshPlanner p(s, test_quote);
    const std::string sql = p.find_batches_in_ranges();
    EXPECT_FALSE(contains(sql, "CROSS JOIN LATERAL (SELECT events.etl_tstamp AS v"));
    EXPECT_TRUE(contains(sql,
                         "sg AS (SELECT events.etl_tstamp AS v, count(*) AS n FROM atomic.events "
                         "AS events WHERE events.etl_tstamp >= (SELECT lo FROM d ORDER BY lo "
                         "LIMIT 1) AND events.etl_tstamp <= (SELECT hi FROM d ORDER BY hi DESC "
                         "LIMIT 1) GROUP BY events.etl_tstamp)"));
    EXPECT_TRUE(contains(sql, "sum(w) OVER (ORDER BY v, kind ROWS UNBOUNDED PRECEDING) AS depth"));
    EXPECT_TRUE(contains(sql, "FROM sx WHERE kind = 1 AND depth > 0 UNION ALL SELECT NULL::text"));
    EXPECT_TRUE(
        contains(sql, "WHERE $4::boolean AND events.etl_tstamp IS NULL HAVING count(*) > 0"));
    s.batch_collation = QualifiedName{"pg_catalog", "C"};
    EXPECT_TRUE(contains(RefreshPlanner(s, test_quote).find_recounted_batches(),
                         "ORDER BY v COLLATE pg_catalog.\"C\", kind"));
}

TEST(RefreshPlanner, ChangeLogRangesAreMergedUnderTheColumnsCollation) {
    ModelSpec s = sessions_spec();
    s.batch_type = "text";
    s.batch_collation = QualifiedName{"pg_catalog", "und-x-icu"};
    RefreshPlanner p(s, test_quote);
    const std::string sql = p.pending_batches_in_ranges();
    EXPECT_TRUE(contains(sql, "x.lo::text COLLATE pg_catalog.\"und-x-icu\" AS lo"));
    EXPECT_TRUE(contains(sql, "x.hi::text COLLATE pg_catalog.\"und-x-icu\" AS hi"));
    // the bounds are ranked in the column's order, under its collation
    EXPECT_TRUE(
        contains(sql, "dense_rank() OVER (ORDER BY s.v COLLATE pg_catalog.\"und-x-icu\") AS k"));
}

// A batch type without min/max (uuid, bytea): the ranges are merged with its ordering only.
// Aggregates see only the bigint ranks; the values come back by rank.
TEST(RefreshPlanner, ChangeLogRangesAreMergedWithTheTypesOrderingOnly) {
    ModelSpec s = sessions_spec();
    s.batch_type = "uuid";
    RefreshPlanner p(s, test_quote);
    const std::string sql = p.find_batches_in_ranges();
    EXPECT_TRUE(contains(sql, "x.lo::uuid AS lo, x.hi::uuid AS hi"));
    EXPECT_TRUE(contains(sql, "dense_rank() OVER (ORDER BY s.v) AS k"));
    EXPECT_TRUE(contains(sql, "rk AS (SELECT min(k) AS lo_k, max(k) AS hi_k FROM b GROUP BY id)"));
    EXPECT_TRUE(contains(sql, "JOIN bv l ON l.k = dk.lo_k JOIN bv h ON h.k = dk.hi_k"));
    // no aggregate is applied to a batch value
    for (const char *agg : {"min(lo)", "max(hi)", "min(v)", "max(v)", "min(s.v)", "max(s.v)"})
        EXPECT_FALSE(contains(sql, std::string(agg) + " AS")) << agg;
    EXPECT_FALSE(contains(sql,
                          "max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING "
                          "AND 1 PRECEDING) AS prev_hi FROM r)"));
}

// A citext or ltree key is matched with its type's own equality, named by schema: the pinned
// search_path would find text's = (case-sensitive) for citext and none at all for ltree.
TEST(RefreshPlanner, KeysAreMatchedWithTheirTypesOwnEquality) {
    ModelSpec s = sessions_spec();
    s.keys = {{"email", "l.email", "public.citext", QualifiedName{"public", "="}},
              {"Path", "l.path", "\"My Ext\".ltree", QualifiedName{"My Ext", "="}}};
    RefreshPlanner p(s, test_quote);
    const std::string in_keys =
        "_incmodel_k.k1 OPERATOR(public.=) (l.email) AND _incmodel_k.k2 OPERATOR(\"My Ext\".=) "
        "(l.path)";
    EXPECT_TRUE(contains(p.recompute(false), in_keys));
    EXPECT_TRUE(contains(p.recompute(true), "_incmodel_k.k1 OPERATOR(public.=) (l.email))"));
    EXPECT_FALSE(contains(p.recompute(true), "IS NOT DISTINCT FROM"));
    EXPECT_TRUE(contains(p.delete_target_keys(),
                         "_incmodel_k.k1 OPERATOR(public.=) (_incmodel_t.email) AND "
                         "_incmodel_k.k2 OPERATOR(\"My Ext\".=) (_incmodel_t.\"Path\")"));
    EXPECT_TRUE(contains(p.delete_target_null_keys(),
                         "(_incmodel_k.k1 IS NULL AND (_incmodel_t.email) IS NULL OR "
                         "_incmodel_k.k1 OPERATOR(public.=) (_incmodel_t.email))"));
    ModelSpec w = s;
    w.window_column = "ts";
    EXPECT_TRUE(contains(RefreshPlanner(w, test_quote).keys_outside_window(), in_keys));
}

// Key expressions are evaluated only on the rows the query's own WHERE keeps: the keys step
// filters before it projects, the recompute narrows the source before matching keys.
TEST(RefreshPlanner, KeyExpressionsSeeOnlyTheRowsTheQueryKeeps) {
    ModelSpec s = sessions_spec();
    s.keys[0].source_expr = "((events.payload)::jsonb ->> 'user'::text)";
    s.source_filter = "(events.event = 'login'::text)";
    RefreshPlanner p(s, test_quote);
    EXPECT_TRUE(contains(p.collect_keys(), "IS NOT NULL) AND ((events.event = 'login'::text))"));
    EXPECT_TRUE(contains(p.count_keys(), "AND ((events.event = 'login'::text))"));
    const std::string both = p.recompute(true);
    size_t first = both.find("AND ((events.event = 'login'::text))");
    ASSERT_NE(first, std::string::npos);
    EXPECT_NE(both.find("AND ((events.event = 'login'::text))", first + 1), std::string::npos);
    // none: nothing added
    EXPECT_FALSE(contains(RefreshPlanner(sessions_spec(), test_quote).collect_keys(), "AND (("));
    // an append model picks the first duplicate among all rows, before the query filters
    s.time = TimeSpec{};
    s.time->append = true;
    EXPECT_FALSE(contains(RefreshPlanner(s, test_quote).recompute(false), "'login'"));
}

// UPDATE and DELETE: the keys of a transition table's rows, filtered as the query filters, as
// text; the refresh reads back exactly the queued ids, never a full-recompute request as a key.
TEST(RefreshPlanner, ChangedRowsKeysComeFromTheTransitionTableAndTheQueue) {
    ModelSpec s = sessions_spec();
    s.source_filter = "(events.event = 'login'::text)";
    RefreshPlanner p(s, test_quote);
    EXPECT_EQ(p.transition_keys("incmodel_old"),
              "SELECT DISTINCT (events.domain_sessionid)::pg_catalog.text FROM incmodel_old AS "
              "events WHERE true AND ((events.event = 'login'::text))");
    const std::string into = p.queued_keys_into_scratch();
    EXPECT_TRUE(contains(into, "id = ANY ($2::int8[]) AND keys IS NOT NULL"));
    EXPECT_TRUE(contains(into, "EXCEPT SELECT k1 FROM incmodel_scratch.m7_keys"));
    EXPECT_TRUE(contains(p.consume_queued_keys(), "ANY ($2::pg_catalog.int8[])"));
    EXPECT_TRUE(contains(p.queued_key_ids(), "keys IS NULL AND packed_values IS NULL"));
}

// The changed rows' batches are recounted for the manifest only: counted within their ranges,
// left out when the scratch holds them already, and manifest batches of the ranges that lost
// every row come back with event_count 0 (the commit forgets them). With a recount in the
// period, every batch of the inserted ranges is pending whatever its count ($5).
// Loads of single values the manifest lacks are counted from the log: no read of the source,
// and nothing inserted at all when one of the values is recorded or expiring (the plan then
// counts the ranges).
TEST(RefreshPlanner, LoggedNewBatchesAreCountedFromTheLog) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.find_logged_new_batches();
    EXPECT_EQ(sql,
              "INSERT INTO incmodel_scratch.m7_batches (batch_value, event_count, recorded_count) "
              "SELECT l.batch_value, l.event_count, NULL::int8 FROM (SELECT x.v::timestamp "
              "without time zone::text AS batch_value, sum(x.n::int8)::int8 AS event_count FROM "
              "unnest($2::text[], $3::text[]) AS x(v, n) GROUP BY 1) l WHERE NOT EXISTS (SELECT 1 "
              "FROM incmodel.manifest m WHERE m.model_id = $1::int8 AND m.batch_value IN (SELECT "
              "y.v::timestamp without time zone::text FROM unnest($2::text[]) AS y(v))) AND NOT "
              "EXISTS (SELECT 1 FROM incmodel.retention_expiring e WHERE e.model_id = $1::int8 AND "
              "e.batch_value IN (SELECT y.v::timestamp without time zone::text FROM "
              "unnest($2::text[]) AS y(v)))");
    EXPECT_FALSE(contains(sql, "atomic.events"));
    EXPECT_TRUE(contains(sql + p.returning_new_events(), ")) RETURNING batch_value"));
}

TEST(RefreshPlanner, ChangedRowsBatchesAreRecounted) {
    RefreshPlanner p(sessions_spec(), test_quote);
    const std::string sql = p.find_recounted_batches();
    EXPECT_TRUE(contains(sql, "unnest($2::text[], $3::text[])"));
    EXPECT_TRUE(contains(sql,
                         "NOT EXISTS (SELECT 1 FROM incmodel_scratch.m7_batches s WHERE "
                         "s.batch_value IS NOT DISTINCT FROM p.batch_value)"));
    EXPECT_TRUE(contains(sql, "SELECT m.batch_value, 0, m.event_count FROM incmodel.manifest m"));
    EXPECT_TRUE(contains(sql, "m.batch_value::timestamp without time zone >= d.lo"));
    EXPECT_TRUE(contains(sql, "m.batch_value IS NULL AND $4::boolean"));
    EXPECT_TRUE(contains(p.changed_batches_in_ranges(), "OR $5::boolean"));
    EXPECT_TRUE(contains(p.pending_batches_in_ranges(), "OR $5::boolean"));
    EXPECT_TRUE(
        contains(p.forget_batches(), "pg_catalog.array_position($2::pg_catalog.text[], NULL)"));
}

// The small reads around a plan: the new events of the batches the plan inserts, a rebuild's total,
// the source's size while a rebuild is pending, and status's summary of pending batches (a
// recounted, shrunk batch adds no event).
TEST(RefreshPlanner, PlanReadsAndStatusSummaryAreRendered) {
    RefreshPlanner p(sessions_spec(), test_quote);
    EXPECT_EQ(p.returning_new_events(),
              " RETURNING batch_value, event_count - coalesce(recorded_count, 0)");
    EXPECT_EQ(p.scratch_event_total(),
              "SELECT coalesce(sum(event_count), 0) FROM incmodel_scratch.m7_batches");
    EXPECT_EQ(p.source_row_count(), "SELECT count(*) FROM atomic.events");
    EXPECT_TRUE(contains(p.pending_summary("SELECT 1"),
                         "greatest(event_count - coalesce(recorded_count, 0), 0)"));
    EXPECT_TRUE(contains(p.pending_summary("SELECT 1"), "FROM (SELECT 1) p"));
}
