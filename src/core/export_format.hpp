// The file form of an exported package, written by `incmodel export` and read by
// `incmodel deploy --package FILE`. It is also a plain SQL script (psql -f runs its ddl,
// procedure and dispatcher; the post_commit and maintenance parts are harmless SELECTs):
//
//   -- incmodel package: model <name>, dialect <dialect>
//   -- @@incmodel step=1 part=ddl
//   CREATE SCHEMA IF NOT EXISTS incmodel;
//   ...
//
// PostgreSQL-free and fmt-free: the CLI compiles this file too.
#pragma once

#include <string>
#include <vector>

namespace incmodel::core {

struct PackageStatement {
    int step = 0;
    std::string part;
    std::string sql;  // without the terminating semicolon
};

std::string write_package(const std::string &model, const std::string &dialect,
                          const std::vector<PackageStatement> &parts);

// Throws std::runtime_error on a file without parts or with a malformed marker line.
std::vector<PackageStatement> read_package(const std::string &text);

}  // namespace incmodel::core
