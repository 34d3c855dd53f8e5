// Unit tests of the package file format (core/export_format): the header, the markers and their
// byte lengths, the fixed order of the parts, and everything the reader refuses before deploy
// runs anything.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/export_format.hpp"

using namespace incmodel::core;

namespace {

std::vector<PackageStatement> parts(int ddl = 2) {
    std::vector<PackageStatement> out;
    int step = 0;
    for (int i = 0; i < ddl; ++i)
        out.push_back({++step, "ddl", "CREATE SCHEMA IF NOT EXISTS s" + std::to_string(i)});
    out.push_back(
        {++step, "procedure", "CREATE PROCEDURE p()\nAS $incmodel$\nBEGIN\nEND;\n$incmodel$"});
    out.push_back(
        {++step, "dispatcher", "CREATE PROCEDURE d()\nAS $incmodel$ BEGIN END; $incmodel$"});
    out.push_back({++step, "post_commit", "SELECT 'ANALYZE x;\n-- a comment line' AS stmt"});
    out.push_back({++step, "maintenance", "SELECT NULL AS stmt"});
    return out;
}

// The message of the PackageFormatError that read_package throws for text ("" when none).
std::string refusal(const std::string &text) {
    try {
        read_package(text);
    } catch (const PackageFormatError &e) {
        return e.what();
    }
    return "";
}

bool has(const std::string &h, const std::string &n) {
    return h.find(n) != std::string::npos;
}

}  // namespace

TEST(PackageFormat, WritesHeaderAndLengthMarkers) {
    const std::string text = write_package("sessions", "redshift", parts(1));
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "-- incmodel package format 2: model \"sessions\", dialect redshift, parts 5");
    EXPECT_TRUE(has(text,
                    "\n-- @@incmodel step=1 part=ddl bytes=30\n"
                    "CREATE SCHEMA IF NOT EXISTS s0;\n"));
}

TEST(PackageFormat, HeaderEscapesEveryByteThatCouldEndTheCommentLine) {
    EXPECT_EQ(escape_header_text("a\nb\rc\"d\\e\x7f\x01 f"), "a\\x0ab\\x0dc\\\"d\\\\e\\x7f\\x01 f");
    const std::string name = "we\"ird\\\r\n-- @@incmodel step=1 part=ddl\nname\t\x1b";
    const std::string text = write_package(name, "postgres", parts());
    EXPECT_EQ(text.find('\r'), std::string::npos);
    // The header stays one line: the first line break is the one before the first marker.
    EXPECT_EQ(text.find('\n'), text.find("\n-- @@incmodel step=1 part=ddl bytes="));
    Package p = parse_package(text);
    EXPECT_EQ(p.model, name);
    EXPECT_EQ(p.dialect, "postgres");
    EXPECT_EQ(p.parts, parts());
}

TEST(PackageFormat, StatementsAreReadByLengthNotByLines) {
    // A statement whose text has a ';' line end and a line that looks like a header.
    auto ps = parts();
    ps[0].sql = "SELECT ';\n-- incmodel package format 2: model \"y\"'";
    EXPECT_EQ(read_package(write_package("m", "postgres", ps)), ps);
}

TEST(PackageFormat, AllowsCommentsAndBlankLinesBeforeTheFirstMarkerOnly) {
    std::string text = write_package("m", "postgres", parts());
    std::string with_comment = text;
    with_comment.insert(text.find('\n') + 1, "-- reviewed by ops\n\n");
    EXPECT_EQ(read_package(with_comment), parts());
    std::string with_sql = text;
    with_sql.insert(text.find('\n') + 1, "DROP TABLE t;\n");
    EXPECT_TRUE(has(refusal(with_sql), "line 2: only comments may precede the first marker"));
    std::string between = text;
    between.insert(between.find("-- @@incmodel step=2"), "DROP TABLE t;\n");
    EXPECT_TRUE(has(refusal(between), "unexpected text after the statement of step 1"));
    EXPECT_TRUE(
        has(refusal(text + "DROP TABLE t;\n"), "unexpected text after the statement of step 6"));
    EXPECT_EQ(read_package(text + "\n\n"), parts());
}

TEST(PackageFormat, RefusesMalformedHeadersAndMarkers) {
    const std::string text = write_package("m", "postgres", parts());
    EXPECT_TRUE(has(refusal(""), "empty file"));
    EXPECT_TRUE(has(refusal("SELECT 1;\n"), "not an incmodel package"));
    EXPECT_TRUE(has(refusal("-- incmodel package: model m, dialect postgres\n-- @@incmodel step=1 "
                            "part=ddl\nSELECT 1;\n"),
                    "0.2.0 or earlier"));
    auto replaced = [&](const std::string &from, const std::string &to) {
        std::string t = text;
        t.replace(t.find(from), from.size(), to);
        return refusal(t);
    };
    EXPECT_TRUE(has(replaced("dialect postgres", "dialect oracle"), "unknown dialect"));
    EXPECT_TRUE(has(replaced("parts 6", "parts 7"), "announces 7 parts, the file has 6"));
    EXPECT_TRUE(has(replaced("parts 6", "parts x"), "malformed part count"));
    EXPECT_TRUE(has(replaced("model \"m\"", "model \"m"), "unterminated model name"));
    EXPECT_TRUE(has(replaced(", dialect", " dialect"), "malformed header"));
    EXPECT_TRUE(has(replaced("model \"m\"", "model \"\\q\""), "invalid escape"));
    EXPECT_TRUE(has(replaced("step=2 part=ddl", "step=2  part=ddl"), "line 4: malformed marker"));
    EXPECT_TRUE(has(replaced("step=2 part=ddl", "step=02 part=ddl"), "malformed marker"));
    EXPECT_TRUE(has(replaced("bytes=30\n", "bytes=30 sha=1\n"), "malformed marker"));
    EXPECT_TRUE(has(replaced("bytes=30\n", "bytes=29\n"), "not followed by \";\""));
    EXPECT_TRUE(has(replaced("bytes=30\n", "bytes=31\n"), "not followed by \";\""));
    EXPECT_TRUE(has(refusal(text.substr(0, text.size() - 10)), "the file ends inside"));
    std::string crlf = text;
    for (std::size_t i = 0; (i = crlf.find('\n', i)) != std::string::npos; i += 2)
        crlf.insert(i, "\r");
    EXPECT_TRUE(has(refusal(crlf), "CRLF"));
}

TEST(PackageFormat, PartsMustComeInTheirFixedOrder) {
    auto refuses = [](std::vector<PackageStatement> ps, const std::string &message) {
        try {
            validate_parts(ps);
        } catch (const PackageFormatError &e) {
            EXPECT_TRUE(has(e.what(), message)) << e.what();
            return;
        }
        ADD_FAILURE() << "accepted: " << message;
    };
    EXPECT_NO_THROW(validate_parts(parts(1)));
    EXPECT_NO_THROW(validate_parts(parts(9)));
    refuses(parts(0), "at least 5 parts");
    auto ps = parts();
    ps[1].step = 1;
    refuses(ps, "step 2: found step 1");
    ps = parts();
    std::swap(ps[2].part, ps[3].part);
    refuses(ps, "step 3: part \"dispatcher\" where \"procedure\" is expected");
    ps = parts();
    ps[0].part = "extra";
    refuses(ps, "part \"extra\" where \"ddl\"");
    ps = parts();
    ps[5].sql = " \n";
    refuses(ps, "step 6: empty statement");
    ps = parts();
    ps[0].sql = std::string("SELECT 1\0; DROP TABLE t", 24);
    refuses(ps, "NUL byte");
    for (const char *smuggled : {"SELECT 'a\n-- @@incmodel step=2 part=ddl bytes=1\nb'",
                                 "SELECT 'a\r-- @@incmodel'", "-- @@incmodel\nSELECT 1"}) {
        ps = parts();
        ps[0].sql = smuggled;
        refuses(ps, "step 1: the statement contains a line starting with \"-- @@incmodel\"");
        EXPECT_THROW(write_package("m", "postgres", ps), PackageFormatError);
    }
}

TEST(PackageFormat, WriterRefusesAnUnknownDialect) {
    EXPECT_THROW(write_package("m", "redshift\n-- @@incmodel", parts()), PackageFormatError);
    EXPECT_THROW(write_package("m", "", parts()), PackageFormatError);
}
