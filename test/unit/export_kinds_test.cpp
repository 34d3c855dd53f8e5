// Unit tests of the packages of daily, append and features models (core/export_time.hpp): what
// each procedure does in both dialects, the Redshift rules they follow, and what they refuse.
// No server: test_support's quoter stands in for quote_identifier. Their round trip against the
// extension is test/redshift/time_models.sh.
#include <gtest/gtest.h>

#include <string>

#include "core/export_package.hpp"
#include "core/export_time.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

bool has(const std::string &h, const std::string &n) {
    return h.find(n) != std::string::npos;
}

// Events per user and day of a load-time source: SELECT domain_userid AS user_id,
// derived_tstamp::date AS day, count(*) AS events FROM atomic.events GROUP BY 1, 2.
ModelSpec daily_spec() {
    ModelSpec s;
    s.name = "user_days";
    s.source = {"atomic", "events"};
    s.source_alias = "events";
    s.batch_column = "load_tstamp";
    s.batch_type = "timestamp without time zone";
    s.query_head =
        "SELECT domain_userid AS user_id, (derived_tstamp)::date AS day, count(*) AS "
        "events FROM ";
    s.query_tail = "GROUP BY domain_userid, ((derived_tstamp)::date)";
    s.keys = {{"user_id", "events.domain_userid", "text", std::nullopt},
              {"day", "(events.derived_tstamp)::date", "date", std::nullopt}};
    s.outputs = {{"user_id", "text"}, {"day", "date"}, {"events", "bigint"}};
    s.unique_columns = {"user_id", "day"};
    s.target = {"derived", "user_days"};
    TimeSpec t;
    t.load_column = "load_tstamp";
    t.load_type = "timestamp without time zone";
    t.start_date = "2026-01-01 00:00:00+00";
    t.backfill_limit = "30 days";
    t.day_column = "day";
    t.day_expr = "(events.derived_tstamp)::date";
    t.reprocess_days = 2;
    t.min_rows_to_process = 100;
    s.time = t;
    return s;
}

ModelSpec append_spec() {
    ModelSpec s = daily_spec();
    s.name = "page_views";
    s.query_head = "SELECT event_id, page_url FROM ";
    s.query_tail = "WHERE (event = 'page_view'::text)";
    s.source_filter = "(events.event = 'page_view'::text)";
    s.keys = {{"event_id", "events.event_id", "text", std::nullopt}};
    s.outputs = {{"event_id", "text"}, {"page_url", "text"}};
    s.unique_columns = {"event_id"};
    s.target = {"derived", "page_views"};
    s.time->append = true;
    s.time->event_key = "event_id";
    s.time->dedupe_order = {"load_tstamp", "dvce_created_tstamp"};
    s.time->day_column.clear();
    s.time->day_expr.clear();
    return s;
}

ExportOptions time_options(Dialect d) {
    ExportOptions o;
    o.dialect = d;
    o.version = "0.5.0";
    o.start_date = d == Dialect::Redshift ? "2026-01-01 00:00:00" : "2026-01-01 00:00:00+00";
    o.backfill_limit = Lookback{"30 days", 0, 30, 0};
    o.source_columns = {"event_id",       "event",       "domain_userid",
                        "derived_tstamp", "load_tstamp", "dvce_created_tstamp",
                        "page_url"};
    return o;
}

std::string part(const std::vector<PackagePart> &parts, const std::string &name) {
    std::string out;
    for (const auto &p : parts)
        if (p.part == name) out += p.sql + "\n";
    return out;
}

std::string body_of(const std::string &procedure) {
    auto b = procedure.find("$incmodel$");
    auto e = procedure.rfind("$incmodel$");
    return procedure.substr(b + 10, e - b - 10);
}

}  // namespace

TEST(ExportDaily, RedshiftProcedureKeepsTheLedgerAndFollowsRedshiftRules) {
    auto parts =
        render_package(daily_spec(), time_options(Dialect::Redshift), test_support::test_quote);
    const std::string ddl = part(parts, "ddl");
    const std::string proc = part(parts, "procedure");
    EXPECT_TRUE(has(ddl, "incmodel.manifest_user_days (lower_limit TIMESTAMP NOT NULL"));
    EXPECT_TRUE(has(ddl, "incmodel.ledger_user_days (event_date date NOT NULL"));
    EXPECT_TRUE(has(ddl, "incmodel_export_scratch.user_days_days"));
    EXPECT_FALSE(has(ddl, "touched_user_days"));  // no features model reads it
    // The limit: DATEADD on GETDATE(), the in-flight writers from SVV_TRANSACTIONS.
    EXPECT_TRUE(has(proc, "DATEADD(day, 30, v_lower)"));
    EXPECT_TRUE(has(proc, "FROM svv_transactions t"));
    EXPECT_TRUE(has(proc, "v_reprocess_days INTEGER := 2;"));
    EXPECT_TRUE(has(proc, "v_min_rows BIGINT := 100;"));
    EXPECT_TRUE(has(proc, "DATEADD(day, -(v_reprocess_days), (events.load_tstamp)::DATE)"));
    // The inclusion rule by joins (no correlated subquery under OR), the ledger without ON
    // CONFLICT.
    EXPECT_TRUE(has(proc, "LEFT JOIN incmodel.ledger_user_days AS _incmodel_l"));
    EXPECT_TRUE(has(proc, "UPDATE incmodel.ledger_user_days SET"));
    EXPECT_TRUE(redshift_procedure_problems(body_of(proc)).empty())
        << redshift_procedure_problems(body_of(proc)).front();
    // The target is locked just before the swap, the manifest first.
    EXPECT_LT(proc.find("LOCK incmodel.manifest_user_days"), proc.find("DELETE FROM incmodel_"));
    EXPECT_TRUE(has(proc, "LOCK derived.user_days;\n        DELETE FROM derived.user_days USING"));
    EXPECT_TRUE(has(part(parts, "maintenance"), "VACUUM FULL incmodel.ledger_user_days"));
}

TEST(ExportDaily, PostgresProcedurePinsSettingsAndReadsInFlightWriters) {
    auto parts =
        render_package(daily_spec(), time_options(Dialect::Postgres), test_support::test_quote);
    const std::string proc = part(parts, "procedure");
    EXPECT_TRUE(has(proc, "SET \"TimeZone\" = 'UTC'"));
    EXPECT_TRUE(has(proc, "pg_advisory_xact_lock(1229865806, hashtext(v_model))"));
    EXPECT_TRUE(has(proc, "FROM pg_locks l JOIN pg_stat_activity a"));
    EXPECT_TRUE(has(proc, "v_lower + '30 days'::interval"));
    EXPECT_TRUE(has(proc, "'2026-01-01 00:00:00+00'::timestamptz - '1 microsecond'::interval"));
    EXPECT_TRUE(has(proc, "events.load_tstamp > v_lower::timestamp without time zone"));
    EXPECT_TRUE(has(proc, "TRUNCATE incmodel_export_scratch.user_days_full"));
}

// The backfill procedure of daily and append packages: the last ddl part (the format's
// procedure part stays the refresh), steps renumbered, the range manifest never written, Redshift's
// rules kept (two parameters, RAISE with variables only).
TEST(ExportTime, BackfillProcedureIsTheLastDdlPartAndLeavesTheRangeManifest) {
    for (const ModelSpec &spec : {daily_spec(), append_spec()})
        for (Dialect d : {Dialect::Redshift, Dialect::Postgres}) {
            auto parts = render_package(spec, time_options(d), test_support::test_quote);
            std::size_t at = 0;
            for (std::size_t i = 0; i < parts.size(); ++i) {
                EXPECT_EQ(parts[i].step, static_cast<int>(i + 1));
                if (parts[i].part == "procedure") at = i;
            }
            ASSERT_GT(at, 0u);
            const std::string bf = parts[at - 1].sql;
            EXPECT_EQ(parts[at - 1].part, "ddl");
            const std::string ts = d == Dialect::Redshift ? "TIMESTAMP" : "timestamptz";
            EXPECT_TRUE(has(bf, "CREATE OR REPLACE PROCEDURE incmodel.backfill_" + spec.name +
                                    "(range_start " + ts + ", range_end " + ts + ")"))
                << bf.substr(0, 200);
            EXPECT_TRUE(has(bf, "v_upper := v_lower;"));
            EXPECT_TRUE(has(bf, "range_start must be before range_end"));
            EXPECT_FALSE(has(bf, "INSERT INTO incmodel.manifest_"));
            EXPECT_TRUE(has(parts[at].sql, "INSERT INTO incmodel.manifest_"));
            if (d == Dialect::Redshift)
                EXPECT_TRUE(redshift_procedure_problems(body_of(bf), 30, 2).empty())
                    << redshift_procedure_problems(body_of(bf), 30, 2).front();
        }
}

TEST(ExportAppend, KeepsTheFirstDuplicateWithRowNumberOverTheSourceColumns) {
    for (Dialect d : {Dialect::Redshift, Dialect::Postgres}) {
        auto parts = render_package(append_spec(), time_options(d), test_support::test_quote);
        const std::string proc = part(parts, "procedure");
        EXPECT_TRUE(has(proc,
                        "ROW_NUMBER() OVER (PARTITION BY _incmodel_d.event_id ORDER BY "
                        "_incmodel_d.load_tstamp ASC NULLS LAST, "
                        "_incmodel_d.dvce_created_tstamp ASC NULLS LAST)"));
        EXPECT_TRUE(has(proc,
                        "SELECT event_id, event, domain_userid, derived_tstamp, "
                        "load_tstamp, dvce_created_tstamp, page_url FROM (SELECT"));
        EXPECT_FALSE(has(proc, "DISTINCT ON"));
        // Only keys the target does not hold yet; the query's filter before the deduplication.
        EXPECT_TRUE(has(proc, "NOT EXISTS (SELECT 1 FROM derived.page_views AS _incmodel_t"));
        EXPECT_TRUE(
            has(proc, "AND ((events.event = 'page_view'::text)) AND events.load_tstamp >="));
        EXPECT_FALSE(has(part(parts, "ddl"), "ledger_page_views"));
        if (d == Dialect::Redshift) EXPECT_TRUE(redshift_procedure_problems(body_of(proc)).empty());
    }
    ExportOptions o = time_options(Dialect::Postgres);
    o.source_columns.clear();
    EXPECT_THROW(render_package(append_spec(), o, test_support::test_quote), ExportError);
}

TEST(ExportFeatures, ReadsItsInputsLogsAndItsInputsWriteThem) {
    // The input logs its touched keys when a features model reads it.
    ExportOptions io = time_options(Dialect::Redshift);
    io.log_touched_keys = true;
    auto input = render_package(daily_spec(), io, test_support::test_quote);
    EXPECT_TRUE(has(part(input, "ddl"),
                    "incmodel.touched_user_days (run_no bigint NOT NULL, k1 "
                    "VARCHAR(65535), k2 DATE)"));
    EXPECT_TRUE(has(part(input, "procedure"),
                    "INSERT INTO incmodel.touched_user_days (run_no, k1, k2) SELECT v_n, k1, k2 "
                    "FROM incmodel_export_scratch.user_days_keys;"));
    // A batch model's package logs them too.
    ExportOptions bo;
    bo.dialect = Dialect::Postgres;
    bo.log_touched_keys = true;
    auto batch = render_package(test_support::sessions_spec(), bo, test_support::test_quote);
    EXPECT_TRUE(
        has(part(batch, "procedure"), "INSERT INTO incmodel.touched_sessions (run_no, k1)"));

    // SELECT date_trunc('week', day::timestamp)::date AS week, sum(events) FROM
    // derived.user_days GROUP BY 1: a key expression over the input's key.
    ModelSpec f;
    f.name = "week_totals";
    f.source = {"derived", "user_days"};
    f.source_alias = "user_days";
    f.query_head =
        "SELECT (date_trunc('week'::text, (day)::timestamp without time zone))::date "
        "AS week, sum(events) AS events FROM ";
    f.query_tail =
        "GROUP BY ((date_trunc('week'::text, (day)::timestamp without time zone))::date)";
    f.keys = {{"week",
               "(date_trunc('week'::text, (user_days.day)::timestamp without time zone))::date",
               "date", std::nullopt}};
    f.outputs = {{"week", "date"}, {"events", "numeric"}};
    f.unique_columns = {"week"};
    f.target = {"derived", "week_totals"};
    ExportOptions fo;
    fo.dialect = Dialect::Redshift;
    ExportOptions::Input in;
    in.model = "user_days";
    in.keys = daily_spec().keys;
    in.positions = {0};
    in.exprs = {
        "(date_trunc('week'::text, (_incmodel_input.day)::timestamp without time "
        "zone))::date"};
    fo.inputs.push_back(in);
    auto parts = render_package(f, fo, test_support::test_quote);
    const std::string proc = part(parts, "procedure");
    EXPECT_TRUE(has(part(parts, "ddl"), "incmodel.manifest_week_totals (input VARCHAR(256)"));
    EXPECT_TRUE(has(proc,
                    "SELECT INTO v_to_1 COALESCE(MAX(run_no), 0) FROM "
                    "incmodel.touched_user_days;"));
    EXPECT_TRUE(has(proc,
                    "SELECT _incmodel_log.k1 AS user_id, _incmodel_log.k2 AS day FROM "
                    "incmodel.touched_user_days AS _incmodel_log WHERE _incmodel_log.run_no "
                    "> v_from_1 AND _incmodel_log.run_no <= v_to_1) AS _incmodel_input"));
    // The first run builds in full, later ones recompute the logged keys; cursors recorded.
    EXPECT_TRUE(has(proc, "IF v_recorded = 0 THEN"));
    EXPECT_TRUE(has(proc, "ELSIF v_to_1 > v_from_1 THEN"));
    EXPECT_TRUE(has(proc, "VALUES ('user_days', v_to_1, v_started);"));
    EXPECT_TRUE(redshift_procedure_problems(body_of(proc)).empty());
    // A mapping that does not give the features key is refused.
    fo.inputs[0].exprs.push_back("x");
    EXPECT_THROW(render_package(f, fo, test_support::test_quote), ExportError);
}
