// The file form of an exported package, written by `incmodel export` and read by
// `incmodel deploy --package FILE`. It is also a plain SQL script (psql -f runs its ddl,
// procedure and dispatcher; the post_commit and maintenance parts are harmless SELECTs):
//
//   -- incmodel package format 2: model "<name>", dialect <dialect>, parts <N>
//   -- @@incmodel step=1 part=ddl bytes=<length of the statement>
//   CREATE SCHEMA IF NOT EXISTS incmodel;
//   ...
//
// Structure is never inferred from the statements' text: the header escapes the model name (no
// control character, so it stays one comment line), each marker gives the exact byte length of
// its statement, and no statement may contain a line that starts like a marker (so line-based
// readers, psql and people see the same parts). The reader checks the whole file (header, every
// marker, the lengths, the parts in their fixed order, nothing between or after them) before it
// returns anything.
//
// PostgreSQL-free and fmt-free: the CLI compiles this file too.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace incmodel::core {

struct PackageStatement {
    int step = 0;
    std::string part;
    std::string sql;  // without the terminating semicolon

    bool operator==(const PackageStatement &o) const {
        return step == o.step && part == o.part && sql == o.sql;
    }
};

struct Package {
    std::string model;
    std::string dialect;
    std::vector<PackageStatement> parts;
};

// A package that is not well formed (read) or parts that cannot be written safely (write).
// line is the 1-based line of the file where reading stopped (0 when not about a line).
class PackageFormatError : public std::runtime_error {
  public:
    explicit PackageFormatError(const std::string &message, int line = 0)
        : std::runtime_error(line > 0 ? "line " + std::to_string(line) + ": " + message : message),
          line_(line) {}
    int line() const { return line_; }

  private:
    int line_;
};

// Throws PackageFormatError when the parts are not a valid package (see validate_parts) or the
// dialect is not redshift / postgres.
std::string write_package(const std::string &model, const std::string &dialect,
                          const std::vector<PackageStatement> &parts);

// The whole file checked, then parsed. Throws PackageFormatError.
Package parse_package(const std::string &text);
// parse_package(text).parts.
std::vector<PackageStatement> read_package(const std::string &text);

// The rules every package's parts follow, whoever produced them (a file, or incmodel.export()
// read by `deploy --from-dsn`): steps 1..N in order; one or more ddl, then exactly one procedure,
// dispatcher, post_commit and maintenance; no empty statement; no line of a statement starting
// with the marker prefix. Throws PackageFormatError.
void validate_parts(const std::vector<PackageStatement> &parts);

// The model name as written in the header: backslash, double quote and control characters
// (bytes < 0x20 and 0x7f, so CR and LF too) escaped as \\, \" and \xHH.
std::string escape_header_text(std::string_view text);

}  // namespace incmodel::core
