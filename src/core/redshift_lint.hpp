// A linter for exported Redshift packages, built from Amazon Redshift's documented rules rather
// than from the generator's own knowledge: it reads the SQL text of every part (tokens, not a
// grammar: node-sql-parser accepted FILTER and TOP, so a generic parser cannot be the check) and
// reports what Redshift refuses or what would break the package's one-transaction refresh.
// Every rule names the page of the Redshift documentation it comes from (docs/REDSHIFT.md lists
// them). The exporter runs it over its own output (0A000 naming the rule); the test command runs
// `incmodel-lint` over every golden file and every Redshift package the tests export.
//
// PostgreSQL-free and fmt-free: the CLI compiles this file too.
#pragma once

#include <string>
#include <vector>

#include "core/export_format.hpp"

namespace incmodel::core {

struct LintFinding {
    std::string rule;     // e.g. "unsupported-function"
    std::string message;  // what was found, and the alternative
    std::string doc;      // the Redshift documentation page of the rule
    int step = 0;         // the package part it was found in (0: a lone statement)
    std::string part;
};

// One rule of the linter: its name, the page of the Redshift documentation it comes from, and
// what it checks. The list is what docs/REDSHIFT.md tabulates.
struct LintRule {
    const char *name;
    const char *doc;
    const char *checks;
};
const std::vector<LintRule> &redshift_lint_rules();

// Findings for one statement of a package part ("ddl", "procedure", "dispatcher", "post_commit",
// "maintenance"): a procedure's dollar-quoted body is read as PL/pgSQL inside the procedure's
// transaction, ddl as statements inside the deploy's transaction block, the statements that
// post_commit / maintenance list (their string literals) as top-level statements.
std::vector<LintFinding> lint_redshift_statement(const std::string &sql, const std::string &part,
                                                 int step = 0);

// Findings for every part of a package, in order.
std::vector<LintFinding> lint_redshift_package(const std::vector<PackageStatement> &parts);

// "step N (part) rule: message [doc]".
std::string describe(const LintFinding &f);

}  // namespace incmodel::core
