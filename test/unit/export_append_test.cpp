// Unit tests of the DELETE + APPEND commit of exported packages (commit => 'append'): the staging
// table matches the target, the procedure commits rows there (replacing rows a crashed run left
// for keys touched again), the post-commit step appends them first, and the Redshift package
// passes the linter.
#include <gtest/gtest.h>

#include <string>

#include "core/export_package.hpp"
#include "core/redshift_lint.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

PackageRenderer renderer(Dialect d, bool append) {
    ExportOptions o;
    o.dialect = d;
    o.version = "0.5.0";
    o.append_commit = append;
    return PackageRenderer(test_support::sessions_spec(), o, test_support::test_quote);
}

bool has(const std::string &h, const std::string &n) {
    return h.find(n) != std::string::npos;
}

std::size_t at(const std::string &h, const std::string &n) {
    const std::size_t p = h.find(n);
    EXPECT_NE(p, std::string::npos) << n;
    return p;
}

}  // namespace

TEST(ExportAppend, StagingTableIsLikeTheTarget) {
    for (Dialect d : {Dialect::Redshift, Dialect::Postgres}) {
        const auto ddl = renderer(d, true).ddl();
        bool found = false;
        for (const auto &s : ddl)
            if (s ==
                "CREATE TABLE IF NOT EXISTS incmodel_export_scratch.sessions_append (LIKE "
                "derived.sessions)")
                found = true;
        EXPECT_TRUE(found) << dialect_name(d);
        for (const auto &s : renderer(d, false).ddl()) EXPECT_FALSE(has(s, "_append")) << s;
    }
}

TEST(ExportAppend, ProcedureCommitsRowsToStagingAndReplacesPendingRowsOfTouchedKeys) {
    for (Dialect d : {Dialect::Redshift, Dialect::Postgres}) {
        const std::string body = renderer(d, true).procedure_body();
        const std::string staging = "incmodel_export_scratch.sessions_append";
        EXPECT_TRUE(has(body, "INSERT INTO " + staging + " (session_id, events) SELECT"));
        EXPECT_FALSE(has(body, "INSERT INTO derived.sessions ("));
        // The target's keys, then staging's, are deleted before the rows are staged.
        const std::size_t del_target = at(body, "DELETE FROM derived.sessions USING");
        const std::size_t del_staging = at(body, "DELETE FROM " + staging + " USING");
        const std::size_t insert = at(body, "INSERT INTO " + staging);
        EXPECT_LT(del_target, del_staging);
        EXPECT_LT(del_staging, insert);
        EXPECT_TRUE(has(body, "sessions_append.session_id = _incmodel_k.k1"));
        // The default is unchanged: DELETE + INSERT into the target.
        const std::string plain = renderer(d, false).procedure_body();
        EXPECT_TRUE(has(plain, "INSERT INTO derived.sessions (session_id, events) SELECT"));
        EXPECT_FALSE(has(plain, "_append"));
    }
}

TEST(ExportAppend, PostCommitAppendsFirstWhileStagingHoldsRows) {
    const std::string rs = renderer(Dialect::Redshift, true).post_commit();
    EXPECT_EQ(
        rs.find("SELECT stmt FROM (SELECT 0 AS ord, 'ALTER TABLE derived.sessions APPEND FROM "
                "incmodel_export_scratch.sessions_append' AS stmt FROM (SELECT 1 AS "
                "pending_append FROM incmodel_export_scratch.sessions_append LIMIT 1) p "
                "UNION ALL "),
        0u)
        << rs;
    const std::string pg = renderer(Dialect::Postgres, true).post_commit();
    EXPECT_TRUE(has(pg,
                    "'SELECT pg_advisory_xact_lock(1229865806, hashtext(''sessions'')); INSERT "
                    "INTO derived.sessions (session_id, events) SELECT session_id, events FROM "
                    "incmodel_export_scratch.sessions_append; TRUNCATE "
                    "incmodel_export_scratch.sessions_append'"))
        << pg;
    EXPECT_FALSE(has(renderer(Dialect::Redshift, false).post_commit(), "pending_append"));
}

TEST(ExportAppend, RedshiftAppendPackagePassesTheLinter) {
    std::vector<PackageStatement> parts;
    for (const auto &p : renderer(Dialect::Redshift, true).render())
        parts.push_back({p.step, p.part, p.sql});
    std::string found;
    for (const auto &f : lint_redshift_package(parts)) found += describe(f) + "\n";
    EXPECT_TRUE(found.empty()) << found;
    // ALTER TABLE APPEND never inside the procedure (Redshift refuses it there).
    for (const auto &p : parts)
        if (p.part == "procedure") EXPECT_FALSE(has(p.sql, "APPEND FROM"));
}
