// The SQL of a daily model's run: quoting, the shared parameter vector, the inclusion rule.
#include <gtest/gtest.h>

#include "core/refresh_planner.hpp"
#include "test_support.hpp"

namespace incmodel::core {
namespace {

using test_support::test_quote;

// Events per user and event day, over a load column that needs quoting.
ModelSpec daily_spec() {
    ModelSpec s = test_support::sessions_spec();
    s.name = "user days";
    s.batch_column = "Load Tstamp";
    s.batch_type = "timestamp without time zone";
    s.query_head =
        "SELECT domain_userid AS user_id, derived_tstamp::date AS day, count(*) AS "
        "events FROM ";
    s.query_tail = "GROUP BY domain_userid, derived_tstamp::date";
    s.keys = {{"user_id", "events.domain_userid", "text", std::nullopt},
              {"day", "(events.derived_tstamp)::date", "date", std::nullopt}};
    s.outputs = {{"user_id", "text"}, {"day", "date"}, {"events", "bigint"}};
    s.unique_columns = {"user_id", "day"};
    TimeSpec d;
    d.load_column = "Load Tstamp";
    d.load_type = "timestamp without time zone";
    d.day_column = "day";
    d.day_expr = "(events.derived_tstamp)::date";
    d.start_date = "2026-01-01 00:00:00+00";
    d.backfill_limit = "30 days";
    s.time = d;
    return s;
}

TEST(DailySteps, ScratchHasADaysTableOnlyForDailyModels) {
    RefreshPlanner daily(daily_spec(), test_quote);
    RefreshPlanner batch(test_support::sessions_spec(), test_quote);
    ASSERT_EQ(daily.create_scratch().size(), 4u);
    EXPECT_NE(daily.create_scratch()[3].find("incmodel_scratch.m7_days"), std::string::npos);
    EXPECT_EQ(batch.create_scratch().size(), 3u);
    EXPECT_NE(daily.truncate_scratch().find("m7_days"), std::string::npos);
    EXPECT_EQ(batch.truncate_scratch().find("m7_days"), std::string::npos);
    EXPECT_NE(daily.drop_scratch()[0].find("m7_days"), std::string::npos);
}

TEST(DailySteps, LoadRangeIsQuotedAndCastToTheColumnType) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string stats = p.daily_day_stats();
    EXPECT_NE(stats.find("events.\"Load Tstamp\" > $1::pg_catalog.timestamptz::timestamp "
                         "without time zone AND events.\"Load Tstamp\" <= "
                         "$2::pg_catalog.timestamptz::timestamp without time zone"),
              std::string::npos)
        << stats;
    EXPECT_NE(stats.find("((events.derived_tstamp)::date)::pg_catalog.date"), std::string::npos);
    // Late: the event day more than $3 days before the load day; no event day is never late.
    EXPECT_NE(stats.find("< (events.\"Load Tstamp\")::pg_catalog.date - $3::int) IS NOT TRUE"),
              std::string::npos)
        << stats;
}

TEST(DailySteps, KeysComeFromNewRowsThatAreNotLateAndFromFullDays) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string keys = p.daily_collect_keys();
    EXPECT_EQ(keys.rfind("INSERT INTO incmodel_scratch.m7_keys (k1, k2) SELECT "
                         "events.domain_userid, (events.derived_tstamp)::date FROM",
                         0),
              0u)
        << keys;
    EXPECT_NE(keys.find(" UNION SELECT "), std::string::npos);
    // The reprocessed days' branch folds to a one-time false when no day is reprocessed ($4
    // empty): it would otherwise scan every row loaded since start_date.
    EXPECT_NE(keys.find(" WHERE pg_catalog.cardinality($4::text[]) > 0 AND "), std::string::npos)
        << keys;
    EXPECT_NE(keys.find("= ANY ($4::text[]::pg_catalog.date[])"), std::string::npos);
    // full days reach back to start_date ($5), inclusive
    EXPECT_NE(keys.find("events.\"Load Tstamp\" >= $5::pg_catalog.timestamptz"), std::string::npos);
}

TEST(DailySteps, RecomputeIncludesRowsByTheManifestsAlone) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string sql = p.daily_recompute(false);
    EXPECT_NE(sql.find("incmodel.daily_manifest dm WHERE dm.model = $7"), std::string::npos);
    EXPECT_NE(sql.find("incmodel.range_manifest rm WHERE rm.model_id = $6::int8"),
              std::string::npos);
    EXPECT_NE(sql.find("- rm.reprocess_days) IS NOT TRUE"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("UNION ALL"), std::string::npos);
    const std::string with_nulls = p.daily_recompute(true);
    EXPECT_NE(with_nulls.find("UNION ALL"), std::string::npos);
    // both branches carry the inclusion rule
    size_t first = with_nulls.find("incmodel.range_manifest");
    EXPECT_NE(with_nulls.find("incmodel.range_manifest", first + 1), std::string::npos);
}

TEST(DailySteps, LedgerResetsSkippedRowsOfFullDays) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string sql = p.daily_record_ledger();
    // written from parameters: the days scratch is read by the owner (daily_ledger_rows)
    EXPECT_EQ(sql.find(p.scratch().days.name), std::string::npos) << sql;
    EXPECT_NE(p.daily_ledger_rows().find(p.scratch().days.name), std::string::npos);
    EXPECT_NE(sql.find("FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[])"),
              std::string::npos);
    EXPECT_NE(sql.find("ON CONFLICT (model, event_date) DO UPDATE"), std::string::npos);
    EXPECT_NE(sql.find("skipped_events = CASE WHEN EXCLUDED.full_upper IS NOT NULL THEN 0"),
              std::string::npos);
    EXPECT_NE(sql.find("full_upper = coalesce(EXCLUDED.full_upper, dm.full_upper)"),
              std::string::npos);
}

}  // namespace
}  // namespace incmodel::core

namespace incmodel::core {
namespace {

// Rows committed behind the limit: in the logged ranges ($11, $12, read back as the load
// column's type) and at or below the run's lower limit.
TEST(DailySteps, RowsBehindTheLimitAreThoseOfTheLoggedRanges) {
    RefreshPlanner p(daily_spec(), test_support::test_quote);
    const std::string behind = p.time_rows_behind();
    EXPECT_NE(behind.find("ROWS FROM (pg_catalog.unnest($11::pg_catalog.text[]), "
                          "pg_catalog.unnest($12::pg_catalog.text[])) AS _incmodel_r(lo, hi)"),
              std::string::npos)
        << behind;
    EXPECT_NE(behind.find("events.\"Load Tstamp\" >= _incmodel_r.lo::timestamp without time zone "
                          "AND events.\"Load Tstamp\" <= _incmodel_r.hi::timestamp without time "
                          "zone"),
              std::string::npos)
        << behind;
    EXPECT_NE(behind.find("events.\"Load Tstamp\" <= $1::pg_catalog.timestamptz::timestamp "
                          "without time zone"),
              std::string::npos);
    // placed (from start_date on) and unplaced (before it) are counted apart
    EXPECT_NE(behind.find("FILTER (WHERE events.\"Load Tstamp\" < $5::pg_catalog.timestamptz"),
              std::string::npos);
    const std::string days = p.daily_days_behind();
    EXPECT_NE(days.find("SELECT DISTINCT (((events.derived_tstamp)::date)::pg_catalog.date)"),
              std::string::npos)
        << days;
    EXPECT_NE(days.find(">= $5::pg_catalog.timestamptz"), std::string::npos);
}

// After a change the log cannot describe: every day of the source, the target and the ledger;
// the target's keys of those days; a zero recount for days left without rows.
TEST(DailySteps, AChangeTheLogCannotDescribeReachesEveryDay) {
    RefreshPlanner p(daily_spec(), test_support::test_quote);
    const std::string days = p.daily_all_days();
    EXPECT_NE(days.find("FROM derived.sessions WHERE day IS NOT NULL"), std::string::npos) << days;
    EXPECT_NE(days.find("FROM incmodel.daily_manifest WHERE model = $7"), std::string::npos);
    const std::string keys = p.daily_target_keys_of_days();
    EXPECT_NE(keys.find("INSERT INTO incmodel_scratch.m7_keys (k1, k2) SELECT user_id, day FROM "
                        "derived.sessions WHERE day::pg_catalog.date = ANY "
                        "($4::pg_catalog.text[]::pg_catalog.date[]) EXCEPT SELECT k1, k2 FROM "
                        "incmodel_scratch.m7_keys"),
              std::string::npos)
        << keys;
    EXPECT_NE(p.daily_empty_full_days().find("SELECT d, 0 FROM"), std::string::npos);
}

}  // namespace
}  // namespace incmodel::core

namespace incmodel::core {
namespace {

// The same source as an event-level model: one row per event_id, the first by load time.
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
    t.dedupe_order = {"load_tstamp", "dvce_created_tstamp"};
    s.time = t;
    return s;
}

TEST(AppendSteps, NewKeysAreThoseNotInTheTargetYet) {
    RefreshPlanner p(append_spec(), test_support::test_quote);
    const std::string sql = p.append_collect_keys();
    EXPECT_NE(sql.find("NOT EXISTS (SELECT 1 FROM derived.sessions AS _incmodel_t WHERE "
                       "_incmodel_t.event_id = events.event_id)"),
              std::string::npos)
        << sql;
    // a NULL event id is new only while the target has no NULL row
    EXPECT_NE(sql.find("events.event_id IS NOT NULL OR NOT EXISTS"), std::string::npos);
}

TEST(AppendSteps, RecomputeKeepsTheFirstDuplicateByLoadThenDeviceTime) {
    RefreshPlanner p(append_spec(), test_support::test_quote);
    const std::string sql = p.append_recompute(false);
    EXPECT_NE(sql.find("SELECT DISTINCT ON (_incmodel_d.event_id) _incmodel_d.* FROM ("),
              std::string::npos)
        << sql;
    EXPECT_NE(sql.find("ORDER BY _incmodel_d.event_id, _incmodel_d.load_tstamp, "
                       "_incmodel_d.dvce_created_tstamp) AS events WHERE event = 'page_view'"),
              std::string::npos)
        << sql;
    const std::string backfill = p.append_backfill_keys();
    EXPECT_NE(backfill.find(">= $9::pg_catalog.timestamptz"), std::string::npos);
    EXPECT_NE(backfill.find("< $10::pg_catalog.timestamptz"), std::string::npos);
}

TEST(AppendSteps, KeysBehindTheLimitAndEveryKeyAreAddedOnce) {
    RefreshPlanner p(append_spec(), test_support::test_quote);
    const std::string behind = p.append_keys_behind();
    EXPECT_NE(behind.find("INSERT INTO incmodel_scratch.m7_keys (k1) SELECT events.event_id FROM"),
              std::string::npos)
        << behind;
    EXPECT_NE(behind.find("$11::pg_catalog.text[]"), std::string::npos);
    EXPECT_NE(behind.find("EXCEPT SELECT k1 FROM incmodel_scratch.m7_keys"), std::string::npos);
    const std::string all = p.append_all_keys();
    EXPECT_NE(all.find("UNION SELECT event_id FROM derived.sessions EXCEPT SELECT k1 FROM "
                       "incmodel_scratch.m7_keys"),
              std::string::npos)
        << all;
}

}  // namespace
// The sums a daily run and its explain read from the days scratch or the day statistics.
TEST(DailySteps, DaySumsAndExplainSummariesAreRendered) {
    RefreshPlanner p(daily_spec(), test_quote);
    EXPECT_EQ(p.sum_of_days("late_rows"),
              "SELECT coalesce(sum(late_rows), 0) FROM incmodel_scratch.m7_days");
    const std::string stats = p.daily_stats_summary("(SELECT 1)");
    EXPECT_NE(stats.find("coalesce(sum(new_rows), 0), coalesce(sum(late_rows), 0), count(*)"),
              std::string::npos);
    EXPECT_NE(stats.find("FROM (SELECT 1) AS d"), std::string::npos);
    EXPECT_NE(p.daily_full_days_summary("(SELECT 1)").find("coalesce(sum(full_rows), 0)"),
              std::string::npos);
}

}  // namespace incmodel::core
