// Unit tests of the export renderer (Redshift / portable packages), the forbidden-statement
// checker and the package file format. No server: the quoter stands in for quote_identifier.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "core/export_format.hpp"
#include "core/export_package.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

std::string quote(std::string_view ident) {
    return test_support::test_quote(ident);
}

// The shared sessions spec with a lookback window, and its query text as pg_get_querydef prints it.
ModelSpec sessions() {
    ModelSpec s = test_support::sessions_spec();
    s.window_column = "collector_tstamp";
    s.query_head = " SELECT domain_sessionid AS session_id, count(*) AS events\n   FROM ";
    return s;
}

ExportOptions options(Dialect d) {
    ExportOptions o;
    o.dialect = d;
    o.lookback = Lookback{"1 mon 7 days 01:00:00", 1, 7, 3600};
    o.timezone = "Europe/Paris";
    o.version = "0.1.0";
    return o;
}

bool has(const std::string &h, const std::string &n) {
    return h.find(n) != std::string::npos;
}

}  // namespace

TEST(ExportDialect, ParsesKnownNamesOnly) {
    EXPECT_EQ(parse_dialect("redshift"), Dialect::Redshift);
    EXPECT_EQ(parse_dialect(" Postgres "), Dialect::Postgres);
    EXPECT_EQ(parse_dialect("postgresql"), Dialect::Postgres);
    EXPECT_FALSE(parse_dialect("oracle").has_value());
    EXPECT_FALSE(parse_dialect("").has_value());
}

TEST(ExportTypes, MapsPostgresTypesToRedshift) {
    EXPECT_EQ(redshift_type("text"), "VARCHAR(65535)");
    EXPECT_EQ(redshift_type("character varying(36)"), "VARCHAR(144)");
    EXPECT_EQ(redshift_type("text COLLATE \"C\""), "VARCHAR(65535)");
    EXPECT_EQ(redshift_type("uuid"), "CHAR(36)");
    EXPECT_EQ(redshift_type("numeric(18,2)"), "NUMERIC(18,2)");
    EXPECT_EQ(redshift_type("numeric"), "NUMERIC(38,10)");
    EXPECT_EQ(redshift_type("timestamp without time zone"), "TIMESTAMP");
    EXPECT_EQ(redshift_type("timestamp(3) with time zone"), "TIMESTAMPTZ");
    EXPECT_EQ(redshift_type("bigint"), "BIGINT");
    EXPECT_EQ(redshift_type("jsonb"), "SUPER");
    EXPECT_THROW(redshift_type("integer[]"), ExportError);
    EXPECT_THROW(redshift_type("interval"), ExportError);
    EXPECT_THROW(redshift_type("numeric(40,2)"), ExportError);
}

TEST(ExportLiteral, DoublesQuotesAndRedshiftBackslashes) {
    EXPECT_EQ(sql_literal("it's", Dialect::Postgres), "'it''s'");
    EXPECT_EQ(sql_literal("a\\b", Dialect::Postgres), "'a\\b'");
    EXPECT_EQ(sql_literal("a\\b", Dialect::Redshift), "'a\\\\b'");
    EXPECT_THROW(sql_literal(std::string("a\x01"), Dialect::Redshift), ExportError);
}

constexpr const char *kRaiseFinding =
    "RAISE with an argument that is not a variable (Redshift: assign it to a variable first)";

TEST(ForbiddenStatements, FindsWhatRedshiftRefusesInsideProcedures) {
    struct Case {
        const char *body, *finding;
    } cases[] = {
        {"BEGIN VACUUM derived.sessions; END;", "VACUUM"},
        {"BEGIN ALTER TABLE t APPEND FROM s; END;", "ALTER TABLE APPEND"},
        {"BEGIN SET LOCAL statement_timeout = 0; END;", "SET LOCAL"},
        {"BEGIN SAVEPOINT a; END;", "SAVEPOINT (subtransaction)"},
        {"BEGIN ROLLBACK TO a; END;", "ROLLBACK TO SAVEPOINT (subtransaction)"},
        {"BEGIN INSERT INTO t VALUES (1); EXCEPTION WHEN others THEN NULL; END;",
         "EXCEPTION block (a subtransaction; Redshift has none)"},
        {"BEGIN v := now(); END;", "now() (Redshift: GETDATE())"},
        {"BEGIN v := GETDATE() - interval '7 days'; END;",
         "interval arithmetic (Redshift: DATEADD)"},
        {"BEGIN v := x - '1 day'::interval; END;", "interval arithmetic (Redshift: DATEADD)"},
        {"BEGIN TRUNCATE t; END;", "TRUNCATE (commits implicitly on Redshift; use DELETE)"},
        {"BEGIN COMMIT; END;", "COMMIT"},
        {"BEGIN ANALYZE t; END;", "ANALYZE"},
        {"BEGIN CREATE EXTERNAL TABLE s.t (a int); END;", "CREATE EXTERNAL TABLE"},
        {"BEGIN EXECUTE 'VACUUM t'; END;", "VACUUM in dynamic SQL"},
        {"BEGIN INSERT INTO t SELECT 1 ON CONFLICT DO NOTHING; END;", "ON CONFLICT"},
        {"BEGIN DELETE FROM t WHERE a IS NOT DISTINCT FROM b; END;", "IS [NOT] DISTINCT FROM"},
        {"BEGIN RAISE INFO 'model=% n=%', 'sessions', v_n; END;", kRaiseFinding},
        {"BEGIN RAISE INFO 'n=%', v_n + 1; END;", kRaiseFinding},
        {"BEGIN RAISE EXCEPTION 'n=%', COALESCE(v_n, 0); END;", kRaiseFinding},
    };
    for (const auto &c : cases) {
        auto problems = redshift_procedure_problems(c.body);
        ASSERT_EQ(problems.size(), 1u) << c.body;
        EXPECT_EQ(problems[0], c.finding) << c.body;
        EXPECT_THROW(check_redshift_procedure(c.body), ExportError) << c.body;
    }
}

TEST(ForbiddenStatements, IgnoresCommentsLiteralsIdentifiersAndRaiseException) {
    const std::string body =
        "BEGIN\n"
        "  -- VACUUM later, outside\n"
        "  /* now() */\n"
        "  INSERT INTO log (msg) VALUES ('please vacuum it; set local; now()');\n"
        "  SELECT \"vacuum\", \"now\" FROM t;\n"
        "  SELECT commit_count FROM t WHERE analyzed;\n"
        "  RAISE EXCEPTION 'no model %', p;\n"
        "  RAISE INFO 'model=% n=%', v_model, v_n;\n"
        "  RAISE INFO 'done';\n"
        "END;\n";
    EXPECT_TRUE(redshift_procedure_problems(body).empty());
}

TEST(ForbiddenStatements, ChecksRedshiftLimits) {
    EXPECT_FALSE(redshift_procedure_problems("BEGIN END;", 1025, 0).empty());
    EXPECT_FALSE(redshift_procedure_problems("BEGIN END;", 0, 33).empty());
    EXPECT_FALSE(redshift_procedure_problems(std::string(3 * 1024 * 1024, ' ')).empty());
    EXPECT_TRUE(redshift_procedure_problems("BEGIN END;", 1024, 32).empty());
}

TEST(ExportRenderer, RedshiftPackageIsOrderedAndClean) {
    PackageRenderer r(sessions(), options(Dialect::Redshift), quote);
    auto parts = r.render();
    ASSERT_GE(parts.size(), 5u);
    for (size_t i = 0; i < parts.size(); ++i) EXPECT_EQ(parts[i].step, static_cast<int>(i + 1));
    EXPECT_EQ(parts.front().part, "ddl");
    EXPECT_EQ(parts[parts.size() - 4].part, "procedure");
    EXPECT_EQ(parts[parts.size() - 3].part, "dispatcher");
    EXPECT_EQ(parts[parts.size() - 2].part, "post_commit");
    EXPECT_EQ(parts.back().part, "maintenance");
    EXPECT_TRUE(redshift_procedure_problems(r.procedure_body()).empty());
    // RAISE's arguments are variables (Redshift refuses literals and expressions there).
    EXPECT_TRUE(has(r.procedure_body(), "    v_model VARCHAR(256) := 'sessions';\n"));
    EXPECT_TRUE(has(r.procedure_body(), "inserted=%', v_model, v_batches,"));
    EXPECT_FALSE(has(r.procedure_body(), "inserted=%', 'sessions'"));
    const std::string proc = r.procedure();
    EXPECT_TRUE(
        has(proc, "CREATE OR REPLACE PROCEDURE incmodel.refresh_sessions()\nAS $incmodel$\n"));
    EXPECT_TRUE(has(proc, "END;\n$incmodel$ LANGUAGE plpgsql"));
    EXPECT_TRUE(
        has(proc, "DATEADD(second, -3600, DATEADD(day, -7, DATEADD(month, -1, GETDATE())))"));
    EXPECT_TRUE(has(proc, "DELETE FROM incmodel_export_scratch.sessions_keys;"));
    // Refreshes queue on the manifest from the start; the target is locked only for the swap.
    EXPECT_TRUE(
        has(proc, "BEGIN\n    v_started := GETDATE();\n    LOCK incmodel.manifest_sessions;\n"));
    EXPECT_TRUE(
        has(proc,
            "END IF;\n    GET DIAGNOSTICS v_inserted := ROW_COUNT;\n    LOCK derived.sessions;\n"
            "    DELETE FROM derived.sessions USING"));
    EXPECT_EQ(proc.find("LOCK derived.sessions;"), proc.rfind("LOCK derived.sessions;"));
    EXPECT_FALSE(has(proc, "TRUNCATE"));
    // The user's query over the restricted source (query_head / query_tail splice).
    EXPECT_TRUE(has(proc,
                    "FROM (SELECT * FROM atomic.events AS events WHERE EXISTS (SELECT 1 FROM "
                    "incmodel_export_scratch.sessions_keys AS _incmodel_k WHERE "
                    "_incmodel_k.k1 = events.domain_sessionid)) AS events GROUP BY "
                    "domain_sessionid;"));
    std::string ddl;
    for (const auto &s : r.ddl()) ddl += s + ";\n";
    EXPECT_TRUE(has(ddl,
                    "CREATE TABLE IF NOT EXISTS derived.sessions (session_id VARCHAR(65535), "
                    "events BIGINT) DISTKEY (session_id) COMPOUND SORTKEY (session_id)"));
    EXPECT_TRUE(has(ddl,
                    "incmodel.manifest_sessions (batch_value TIMESTAMP NOT NULL, event_count "
                    "bigint NOT NULL, recorded_at TIMESTAMP) DISTSTYLE ALL SORTKEY (batch_value)"));
    EXPECT_FALSE(has(ddl, "UNLOGGED"));
    // Maintenance reads pg_class / pg_namespace (an owner reads them; they list empty tables),
    // never svv_table_info (superusers only, no empty tables); Redshift applies the thresholds.
    EXPECT_TRUE(has(r.maintenance(),
                    "'VACUUM FULL derived.sessions TO 95 PERCENT' AS stmt FROM "
                    "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE LOWER(n.nspname) = LOWER('derived') AND "
                    "LOWER(c.relname) = LOWER('sessions')"));
    EXPECT_TRUE(has(r.maintenance(), "'ANALYZE derived.sessions PREDICATE COLUMNS'"));
    EXPECT_TRUE(has(r.post_commit(), "'ANALYZE derived.sessions' AS stmt FROM pg_class c"));
    for (const std::string &q : {r.maintenance(), r.post_commit()})
        EXPECT_FALSE(has(q, "svv_table_info")) << q;
    EXPECT_TRUE(has(r.dispatcher(), "EXECUTE 'CALL ' || v_procedure || '()';"));
}

TEST(ExportRenderer, PostgresPackagePinsSettingsAndUsesTheSameSplice) {
    PackageRenderer r(sessions(), options(Dialect::Postgres), quote);
    const std::string proc = r.procedure();
    EXPECT_TRUE(has(proc,
                    "LANGUAGE plpgsql\nSET search_path = pg_catalog, pg_temp\nSET "
                    "\"TimeZone\" = 'Europe/Paris'"));
    EXPECT_TRUE(has(proc, "v_cutoff := now() - '1 mon 7 days 01:00:00'::interval;"));
    EXPECT_TRUE(has(proc, "pg_advisory_xact_lock(1229865806, hashtext('sessions'))"));
    EXPECT_TRUE(has(proc, "TRUNCATE incmodel_export_scratch.sessions_keys;"));
    std::string ddl;
    for (const auto &s : r.ddl()) ddl += s + ";\n";
    EXPECT_TRUE(has(ddl,
                    "CREATE UNIQUE INDEX IF NOT EXISTS sessions_incmodel_key ON "
                    "derived.sessions (session_id) NULLS NOT DISTINCT"));
    EXPECT_TRUE(has(r.maintenance(), "VACUUM (ANALYZE) derived.sessions"));
}

TEST(ExportRenderer, QuotesEveryIdentifierThroughTheQuoter) {
    ModelSpec s = sessions();
    s.name = "Quoted Model";
    s.target = {"Reporting", "Country Stats"};
    s.keys = {{"select", "ev.br_family", "text", std::nullopt}};
    s.outputs = {{"select", "text"}, {"Event Count", "bigint"}};
    s.unique_columns = {"select"};
    PackageRenderer r(s, options(Dialect::Redshift), quote);
    const std::string proc = r.procedure();
    EXPECT_TRUE(has(proc, "incmodel.\"refresh_Quoted Model\"()"));
    EXPECT_TRUE(has(proc,
                    "DELETE FROM \"Reporting\".\"Country Stats\" USING "
                    "incmodel_export_scratch.\"Quoted Model_keys\" AS _incmodel_k WHERE "
                    "\"Country Stats\".\"select\" = _incmodel_k.k1;"));
    EXPECT_TRUE(has(proc, "'Quoted Model'"));
}

TEST(ExportRenderer, RefusesWhatCannotBeExported) {
    ModelSpec s = sessions();
    s.name = std::string(49, 'x');
    EXPECT_THROW(PackageRenderer(s, options(Dialect::Redshift), quote), ExportError);
    s = sessions();
    s.outputs.push_back({"tags", "text[]"});
    EXPECT_THROW(PackageRenderer(s, options(Dialect::Redshift), quote).render(), ExportError);
    EXPECT_NO_THROW(PackageRenderer(s, options(Dialect::Postgres), quote).render());
    s = sessions();
    s.query_tail = "WHERE collector_tstamp > now() GROUP BY domain_sessionid";
    try {
        PackageRenderer(s, options(Dialect::Redshift), quote).render();
        FAIL() << "now() accepted";
    } catch (const ExportError &e) {
        EXPECT_EQ(e.kind(), ExportError::Kind::Unsupported);
        EXPECT_TRUE(has(e.detail(), "now()"));
    }
}

TEST(ExportFormat, RoundTripsARenderedPackage) {
    for (Dialect d : {Dialect::Redshift, Dialect::Postgres}) {
        std::vector<PackageStatement> parts;
        for (auto &p : PackageRenderer(sessions(), options(d), quote).render())
            parts.push_back({p.step, p.part, p.sql});
        Package back = parse_package(write_package("sessions", dialect_name(d), parts));
        EXPECT_EQ(back.model, "sessions");
        EXPECT_EQ(back.dialect, dialect_name(d));
        EXPECT_EQ(back.parts, parts);
    }
    EXPECT_THROW(read_package("SELECT 1;\n"), PackageFormatError);
    EXPECT_THROW(read_package("-- @@incmodel step=x\nSELECT 1;\n"), PackageFormatError);
}

TEST(ExportRenderer, DollarQuoteTagDoesNotOccurInTheBody) {
    EXPECT_EQ(dollar_quote_tag("BEGIN END;\n"), "$incmodel$");
    EXPECT_EQ(dollar_quote_tag("SELECT '$$';"), "$incmodel$");
    EXPECT_EQ(dollar_quote_tag("SELECT '$incmodel$';"), "$incmodel_1$");
    EXPECT_EQ(dollar_quote_tag("'$incmodel$ $incmodel_1$ $incmodel_3$'"), "$incmodel_2$");
    // Formed with the closing tag: "...$incmodel" + "$incmodel$" contains "$incmodel$" early.
    EXPECT_EQ(dollar_quote_tag("x $incmodel"), "$incmodel_1$");
}

namespace {

std::string all_of(const std::vector<PackagePart> &parts) {
    std::string out;
    for (const auto &p : parts) out += p.sql + "\n";
    return out;
}

// users_by_day keyed by (country, user): the adapter picks the key part with the most distinct
// values; with too few everywhere, the rows are spread evenly.
TEST(ExportDistribution, DistkeyIsTheChosenKeyPartOrEven) {
    ModelSpec s = sessions();
    s.keys = {{"country", "events.geo_country", "text", std::nullopt},
              {"session_id", "events.domain_sessionid", "text", std::nullopt}};
    s.outputs = {{"country", "text"}, {"session_id", "text"}, {"events", "bigint"}};
    ExportOptions o = options(Dialect::Redshift);
    o.distkey_part = 1;
    const std::string chosen = all_of(PackageRenderer(s, o, quote).render());
    EXPECT_TRUE(has(chosen,
                    "(country VARCHAR(65535), session_id VARCHAR(65535), events BIGINT) "
                    "DISTKEY (session_id)"))
        << chosen;
    EXPECT_TRUE(has(chosen, "DISTKEY (k2)"));
    EXPECT_FALSE(has(chosen, "DISTKEY (country)"));
    o.distkey_part.reset();
    const std::string even = all_of(PackageRenderer(s, o, quote).render());
    EXPECT_FALSE(has(even, "DISTKEY"));
    EXPECT_TRUE(has(even, "DISTSTYLE EVEN"));
}

// The batch count reads the range of batch values of the window first, which zone maps can skip
// by (the tutorial's filter on the sort key), and still counts whole batches.
TEST(ExportBatchCount, RangeOfTheWindowsBatchValuesBeforeTheirList) {
    const std::string sql =
        all_of(PackageRenderer(sessions(), options(Dialect::Redshift), quote).render());
    EXPECT_TRUE(has(sql,
                    "events.etl_tstamp >= (SELECT MIN(_incmodel_w.etl_tstamp) FROM "
                    "atomic.events AS _incmodel_w WHERE _incmodel_w.collector_tstamp >= "
                    "v_cutoff) AND events.etl_tstamp IN (SELECT _incmodel_w.etl_tstamp"))
        << sql;
}

}  // namespace
