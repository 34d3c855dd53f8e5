// A package cannot carry smuggled SQL. These tests use only the API that
// incmodel 0.2.0 already had (write_package, read_package, PackageRenderer), so that they can be
// run against it: there, each of them fails.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/export_format.hpp"
#include "core/export_package.hpp"
#include "test_support.hpp"

using namespace incmodel::core;

namespace {

// A model name that, written raw into the header, starts a marker line and a statement.
const std::string kEvilName = "x\n-- @@incmodel step=1 part=ddl\nDROP TABLE t";

std::vector<PackageStatement> good_parts() {
    return {{1, "ddl", "CREATE SCHEMA IF NOT EXISTS incmodel"},
            {2, "procedure",
             "CREATE PROCEDURE incmodel.p()\nLANGUAGE plpgsql\nAS $x$\nBEGIN\nEND;\n$x$"},
            {3, "dispatcher",
             "CREATE PROCEDURE incmodel.refresh(p text)\nLANGUAGE sql\nAS $x$ SELECT 1 $x$"},
            {4, "post_commit", "SELECT NULL::text AS stmt"},
            {5, "maintenance", "SELECT NULL::text AS stmt"}};
}

void expect_same_parts(const std::vector<PackageStatement> &got,
                       const std::vector<PackageStatement> &want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].step, want[i].step);
        EXPECT_EQ(got[i].part, want[i].part);
        EXPECT_EQ(got[i].sql, want[i].sql);
    }
}

bool any_line_starts_with(const std::string &text, const std::string &prefix) {
    std::size_t i = 0;
    while (true) {
        if (text.compare(i, prefix.size(), prefix) == 0) return true;
        i = text.find('\n', i);
        if (i == std::string::npos) return false;
        ++i;
    }
}

// The user's query with a string literal placed in its tail (after the restricted source).
ModelSpec sessions_with_literal(const std::string &literal) {
    ModelSpec s = test_support::sessions_spec();
    s.query_tail = "WHERE events.page_title <> '" + literal + "' GROUP BY domain_sessionid";
    return s;
}

ExportOptions options(Dialect d) {
    ExportOptions o;
    o.dialect = d;
    o.version = "0.3.0";
    return o;
}

// CREATE ... AS <tag>\n<body><tag> ...: the body the server will see is the text up to the first
// occurrence of the opening tag; it must be exactly the rendered body.
void expect_body_intact(const PackageRenderer &r) {
    const std::string proc = r.procedure();
    const std::string as = "\nAS ";
    const std::size_t open = proc.find(as);
    ASSERT_NE(open, std::string::npos) << proc;
    const std::size_t tag_end = proc.find('\n', open + as.size());
    const std::string tag = proc.substr(open + as.size(), tag_end - open - as.size());
    ASSERT_EQ(tag.front(), '$');
    ASSERT_EQ(tag.back(), '$');
    const std::size_t close = proc.find(tag, tag_end + 1);
    ASSERT_NE(close, std::string::npos);
    EXPECT_EQ(proc.substr(tag_end + 1, close - tag_end - 1), r.procedure_body());
}

}  // namespace

// 0.2.0 wrote the name raw into the header: the reader then found a first part "DROP TABLE t".
TEST(PackageSmuggling, ModelNameCannotStartAMarkerLineInTheHeader) {
    const std::string text = write_package(kEvilName, "postgres", good_parts());
    EXPECT_FALSE(any_line_starts_with(text, "DROP TABLE"));
    expect_same_parts(read_package(text), good_parts());
}

// The renderer puts the model name into string literals of the ddl (the registry row): the
// statement would then contain a marker line. The writer refuses such a package.
TEST(PackageSmuggling, RenderedStatementsWithAMarkerLineAreRefused) {
    ModelSpec s = test_support::sessions_spec();
    s.name = kEvilName;
    std::vector<PackageStatement> parts;
    for (auto &p :
         PackageRenderer(s, options(Dialect::Postgres), test_support::test_quote).render())
        parts.push_back({p.step, p.part, p.sql});
    EXPECT_THROW(write_package(kEvilName, "postgres", parts), std::runtime_error);
}

// The file 0.2.0 wrote for that model: deploy must refuse it rather than run "DROP TABLE t".
TEST(PackageSmuggling, ReaderRefusesASmuggledFirstPart) {
    const std::string text =
        "-- incmodel package: model x\n-- @@incmodel step=1 part=ddl\nDROP TABLE t, dialect "
        "postgres\n-- @@incmodel step=1 part=ddl\nCREATE SCHEMA IF NOT EXISTS incmodel;\n";
    EXPECT_THROW(read_package(text), std::runtime_error);
}

// A well-formed package with an extra marker and statement inserted before the first part.
TEST(PackageSmuggling, ReaderRefusesAnInsertedPart) {
    std::string text = write_package("m", "postgres", good_parts());
    const std::size_t first_marker = text.find("\n-- @@incmodel") + 1;
    text.insert(first_marker, "-- @@incmodel step=1 part=ddl bytes=12\nDROP TABLE t;\n");
    EXPECT_THROW(read_package(text), std::runtime_error);
}

// 0.2.0 quoted the Redshift body with $$, and its checker skips string literals: '$$' in the
// user's query ended the body early and the rest ran as top-level SQL.
TEST(PackageSmuggling, DollarsInARedshiftLiteralCannotEndTheBody) {
    PackageRenderer r(sessions_with_literal("a$$; DROP TABLE t; --"), options(Dialect::Redshift),
                      test_support::test_quote);
    expect_body_intact(r);
}

// Same for the postgres dialect's tag (0.2.0 refused the export instead).
TEST(PackageSmuggling, ThePostgresTagInALiteralCannotEndTheBody) {
    PackageRenderer r(sessions_with_literal("$incmodel$ $incmodel_1$"), options(Dialect::Postgres),
                      test_support::test_quote);
    expect_body_intact(r);
}
