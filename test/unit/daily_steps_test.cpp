// The SQL of a daily model's run: quoting, the shared parameter vector, the inclusion rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

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

// The daily spec with its day key bounded by a range of the column under it.
ModelSpec ranged_spec(const std::string &type, int slack) {
    ModelSpec s = daily_spec();
    s.time->day_range = DayRange{"derived tstamp", type, slack};
    return s;
}

TEST(DailySteps, RecomputeReadsTheKeysDaysByRangesOfTheColumn) {
    RefreshPlanner p(ranged_spec("timestamp without time zone", 0), test_quote);
    const std::string sql = p.daily_recompute(false, true);
    // one arm per range, bounds cast from the $13/$14 text[] in the column's type
    EXPECT_NE(sql.find(" AND ((events.\"derived tstamp\" >= ($13::pg_catalog.text[])[1]::"
                       "pg_catalog.timestamp AND events.\"derived tstamp\" <= "
                       "($14::pg_catalog.text[])[1]::pg_catalog.timestamp) OR ("),
              std::string::npos)
        << sql;
    EXPECT_NE(sql.find("($14::pg_catalog.text[])[8]::pg_catalog.timestamp))"), std::string::npos);
    EXPECT_EQ(sql.find("[9]"), std::string::npos);
    // the ranges narrow only the rows of non-NULL keys: a NULL day has no range
    const std::string with_nulls = p.daily_recompute(true, true);
    const size_t branch = with_nulls.find("UNION ALL");
    ASSERT_NE(branch, std::string::npos);
    EXPECT_LT(with_nulls.find("$13"), branch);
    EXPECT_EQ(with_nulls.find("$13", branch), std::string::npos);
    // verify (in_day_ranges false) and a day key without a range keep the unbounded recompute
    EXPECT_EQ(p.daily_recompute(false).find("$13"), std::string::npos);
    RefreshPlanner plain(daily_spec(), test_quote);
    EXPECT_EQ(plain.daily_recompute(false, true), plain.daily_recompute(false));
    EXPECT_EQ(plain.daily_in_day_ranges(), "");
}

TEST(DailySteps, RangeBoundsAreCastToTheColumnsType) {
    const std::string date =
        RefreshPlanner(ranged_spec("date", 0), test_quote).daily_in_day_ranges();
    EXPECT_NE(date.find("($13::pg_catalog.text[])[1]::pg_catalog.date AND"), std::string::npos)
        << date;
    const std::string tz = RefreshPlanner(ranged_spec("timestamp with time zone", 1), test_quote)
                               .daily_in_day_ranges();
    EXPECT_NE(tz.find("($14::pg_catalog.text[])[1]::pg_catalog.timestamptz)"), std::string::npos)
        << tz;
}

TEST(DailySteps, DayRangesMergeNearDaysAndWidenBySlack) {
    RefreshPlanner ts(ranged_spec("timestamp without time zone", 0), test_quote);
    const std::string sql = ts.daily_day_ranges();
    // the day key is the second key part: k2 of the keys scratch, NULL days left out
    EXPECT_NE(sql.find("FROM incmodel_scratch.m7_keys WHERE k2 IS NOT NULL"), std::string::npos)
        << sql;
    // exact day key: [d, d + 1) as a timestamp, the upper bound inclusive (- 1 microsecond), days
    // one apart (adjacent) share a range
    EXPECT_NE(sql.find("pg_catalog.min(d) - 0 AS lo, pg_catalog.max(d) + 1 AS hi"),
              std::string::npos);
    EXPECT_NE(sql.find("OVER (ORDER BY d) > 1 AS brk"), std::string::npos) << sql;
    EXPECT_NE(sql.find("THEN (lo)::pg_catalog.timestamp ELSE '-infinity'"), std::string::npos);
    EXPECT_NE(sql.find("THEN ((hi)::pg_catalog.timestamp - interval '1 microsecond') ELSE "
                       "'infinity'"),
              std::string::npos);
    // a zone-dependent day key: a day of slack either side, bounds at UTC midnights
    const std::string tz =
        RefreshPlanner(ranged_spec("timestamp with time zone", 1), test_quote).daily_day_ranges();
    EXPECT_NE(tz.find("pg_catalog.min(d) - 1 AS lo, pg_catalog.max(d) + 2 AS hi"),
              std::string::npos)
        << tz;
    EXPECT_NE(tz.find("OVER (ORDER BY d) > 3 AS brk"), std::string::npos);
    EXPECT_NE(tz.find("THEN pg_catalog.timezone('UTC', (lo)::pg_catalog.timestamp) ELSE"),
              std::string::npos)
        << tz;
    // a date column: the last day itself is the inclusive bound
    const std::string date = RefreshPlanner(ranged_spec("date", 0), test_quote).daily_day_ranges();
    EXPECT_NE(date.find("THEN (hi - 1) ELSE 'infinity'"), std::string::npos) << date;
}

TEST(DailySteps, DayRangeParamsMergeTheClosestRangesAndPadWithEmptyOnes) {
    auto params = day_range_params({{"a", "b", 0}, {"c", "d", 5}});
    ASSERT_EQ(params.first.size(), kMaxDayRanges);
    ASSERT_EQ(params.second.size(), kMaxDayRanges);
    EXPECT_EQ(params.first[0], "a");
    EXPECT_EQ(params.second[1], "d");
    EXPECT_EQ(params.first[2], "infinity");
    EXPECT_EQ(params.second[2], "-infinity");
    // ten ranges: the two smallest gaps (before r3 and before r7) are closed
    std::vector<DayRangeRow> rows;
    for (int i = 0; i < 10; ++i)
        rows.push_back({"lo" + std::to_string(i), "hi" + std::to_string(i),
                        i == 0 ? 0 : (i == 3 || i == 7 ? 1 : 10)});
    params = day_range_params(rows);
    ASSERT_EQ(params.first.size(), kMaxDayRanges);
    EXPECT_EQ(params.first[1], "lo1");
    EXPECT_EQ(params.second[1], "hi1");
    EXPECT_EQ(params.first[2], "lo2");
    EXPECT_EQ(params.second[2], "hi3");  // r2 and r3 merged
    EXPECT_EQ(params.first[5], "lo6");
    EXPECT_EQ(params.second[5], "hi7");  // r6 and r7 merged
    EXPECT_EQ(params.second[7], "hi9");
    // no range (every touched day NULL): every arm empty
    params = day_range_params({});
    EXPECT_EQ(params.first, std::vector<std::string>(kMaxDayRanges, "infinity"));
}

TEST(DailySteps, RangeManifestSegmentsReplaceTheLookupPerRow) {
    RefreshPlanner p(daily_spec(), test_quote);
    const std::string sql = p.daily_recompute(false, false, true);
    EXPECT_EQ(sql.find("incmodel.range_manifest"), std::string::npos) << sql;
    // one arm per segment: in its load range and not late under its reprocess_days
    EXPECT_NE(sql.find("(events.\"Load Tstamp\" > (SELECT ($15::pg_catalog.text[])[1]::"
                       "timestamp without time zone) AND events.\"Load Tstamp\" <= (SELECT "
                       "($16::pg_catalog.text[])[1]::timestamp without time zone) AND (("),
              std::string::npos)
        << sql;
    EXPECT_NE(sql.find(" - ($17::pg_catalog.text[])[4]::int) IS NOT TRUE)"), std::string::npos);
    EXPECT_EQ(sql.find("[5]"), std::string::npos);
    // the segments come before the ledger's lookup, which stays
    EXPECT_LT(sql.find("$15"), sql.find("incmodel.daily_manifest dm"));
    // the segments: contiguous ranges of one reprocess_days, one more than fit (the fallback)
    const std::string seg = p.daily_load_segments();
    EXPECT_NE(seg.find("FROM incmodel.range_manifest WHERE model_id = $1::pg_catalog.int8"),
              std::string::npos);
    EXPECT_NE(seg.find("lo IS DISTINCT FROM pg_catalog.lag(hi) OVER w OR reprocess_days IS "
                       "DISTINCT FROM pg_catalog.lag(reprocess_days) OVER w"),
              std::string::npos);
    // the limits in the load column's type (a timestamp's wall clock can go back), ranges empty
    // there left out
    EXPECT_NE(seg.find("SELECT lower_limit::timestamp without time zone AS lo, "
                       "upper_limit::timestamp without time zone AS hi"),
              std::string::npos)
        << seg;
    EXPECT_NE(seg.find(") r WHERE lo < hi WINDOW"), std::string::npos);
    EXPECT_NE(seg.find("LIMIT " + std::to_string(kMaxLoadSegments + 1)), std::string::npos);
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
                          "pg_catalog.unnest($12::pg_catalog.text[])) AS _incmodel_l(lo, hi)"),
              std::string::npos)
        << behind;
    EXPECT_NE(behind.find("_incmodel_l.lo::timestamp without time zone AS lo, "
                          "_incmodel_l.hi::timestamp without time zone AS hi"),
              std::string::npos)
        << behind;
    // overlapping ranges merged (no row counted twice), each read by a range of the load column
    EXPECT_NE(behind.find("CASE WHEN lo <= pg_catalog.max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN "
                          "UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END"),
              std::string::npos)
        << behind;
    EXPECT_NE(behind.find("CROSS JOIN LATERAL (SELECT * FROM atomic.events AS events WHERE "
                          "events.\"Load Tstamp\" >= _incmodel_r._incmodel_lo AND "
                          "events.\"Load Tstamp\" <= _incmodel_r._incmodel_hi AND"),
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

namespace incmodel::core {
namespace {

// The uses of each parameter of kTimestamptzTimeParams in sql that are not
// `$n::pg_catalog.timestamptz` (a use of $1 is not one of $11: the whole number is read).
std::vector<std::string> untyped_timestamptz_uses(const std::string &sql) {
    const std::string cast = "::pg_catalog.timestamptz";
    std::vector<std::string> out;
    for (std::size_t at = sql.find('$'); at != std::string::npos; at = sql.find('$', at + 1)) {
        std::size_t end = at + 1;
        while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
        if (end == at + 1) continue;
        const int n = std::stoi(sql.substr(at + 1, end - at - 1));
        bool typed = false;
        for (int t : kTimestamptzTimeParams) typed = typed || t == n;
        if (typed && sql.compare(end, cast.size(), cast) != 0)
            out.push_back(sql.substr(at, std::min<std::size_t>(40, sql.size() - at)));
    }
    return out;
}

// Every statement a time-based run, explain, backfill, pending count or verify passes the
// time-based parameter vector to: the adapter passes kTimestamptzTimeParams typed timestamptz,
// which is exact only when each of their uses casts them to timestamptz first.
TEST(TimeSteps, TimestamptzParamsAreOnlyEverCastToTimestamptz) {
    std::vector<std::string> statements;
    for (const ModelSpec &spec :
         {daily_spec(), ranged_spec("timestamp without time zone", 1), ranged_spec("date", 0),
          ranged_spec("timestamp with time zone", 2)}) {
        RefreshPlanner p(spec, test_quote);
        statements.insert(statements.end(),
                          {p.time_range_rows(), p.daily_day_stats(), p.daily_full_days(),
                           p.daily_full_days("(" + p.daily_day_stats_select() + ")"),
                           p.daily_stats_summary("(" + p.daily_day_stats_select() + ")"),
                           p.daily_full_day_counts(),
                           p.daily_full_days_summary("(" + p.daily_full_day_counts_select() + ")"),
                           p.daily_collect_keys(), p.daily_target_keys_of_days(),
                           p.daily_empty_full_days(), p.time_rows_behind(), p.daily_days_behind(),
                           p.daily_all_days(), p.verify_recompute_all(),
                           p.verify_recompute_keys(false), p.verify_recompute_keys(true)});
        for (bool nulls : {false, true})
            for (bool days : {false, true})
                for (bool segments : {false, true})
                    statements.push_back(p.daily_recompute(nulls, days, segments));
    }
    RefreshPlanner a(append_spec(), test_quote);
    statements.insert(
        statements.end(),
        {a.time_range_rows(), a.append_collect_keys(), a.append_backfill_keys(),
         a.append_backfill_rows(), a.append_recompute(false), a.append_recompute(true),
         a.append_keys_behind(), a.append_all_keys(), a.time_rows_behind(),
         a.verify_recompute_all(), a.verify_recompute_keys(true)});
    for (const std::string &sql : statements)
        EXPECT_EQ(untyped_timestamptz_uses(sql), std::vector<std::string>{}) << sql;
    // the statements of the vector do use them (the check is not vacuous) ...
    RefreshPlanner p(daily_spec(), test_quote);
    EXPECT_NE(p.daily_recompute(false).find("$5::pg_catalog.timestamptz::"), std::string::npos);
    EXPECT_NE(a.append_backfill_keys().find("$10::pg_catalog.timestamptz::"), std::string::npos);
    // ... and it finds a use of another kind: the ledger's statements take their own vectors
    EXPECT_FALSE(untyped_timestamptz_uses(p.daily_record_ledger()).empty());  // $1 text, $5 text[]
    EXPECT_FALSE(untyped_timestamptz_uses(p.daily_ledger_rows()).empty());    // $1 text[]
    EXPECT_FALSE(untyped_timestamptz_uses(p.daily_load_segments()).empty());  // $1 int8
    EXPECT_EQ(untyped_timestamptz_uses("$11::pg_catalog.text[] $10::pg_catalog.timestamptz"),
              std::vector<std::string>{});
}

}  // namespace
}  // namespace incmodel::core
