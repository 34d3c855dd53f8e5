// incmodel-lint: checks exported Redshift package files against Redshift's documented rules
// (core/redshift_lint) and prints one line per finding. The test command runs it over every
// golden file and every Redshift package the tests export; a user can run it before deploying.
//
//   incmodel-lint FILE...      exit 0 clean, 1 findings, 2 unreadable or malformed package
//   incmodel-lint --rules      the rules and the documentation page of each
//
// A postgres-dialect package is skipped (these are Redshift's rules).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/export_format.hpp"
#include "core/redshift_lint.hpp"

namespace core = incmodel::core;

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "Usage: incmodel-lint FILE... | --rules\n";
        return 2;
    }
    if (std::string(argv[1]) == "--rules") {
        for (const core::LintRule &r : core::redshift_lint_rules())
            std::cout << r.name << "\t" << r.doc << "\t" << r.checks << "\n";
        return 0;
    }
    int status = 0;
    for (int a = 1; a < argc; ++a) {
        const std::string file = argv[a];
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << file << ": cannot be read\n";
            status = 2;
            continue;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        core::Package pkg;
        try {
            pkg = core::parse_package(ss.str());
        } catch (const core::PackageFormatError &e) {
            std::cerr << file << ": not a valid incmodel package: " << e.what() << "\n";
            status = 2;
            continue;
        }
        if (pkg.dialect != "redshift") {
            std::cout << file << ": dialect " << pkg.dialect << ", skipped\n";
            continue;
        }
        const auto findings = core::lint_redshift_package(pkg.parts);
        for (const auto &f : findings) std::cout << file << ": " << core::describe(f) << "\n";
        if (findings.empty())
            std::cout << file << ": clean (" << pkg.parts.size() << " statements)\n";
        else if (status == 0)
            status = 1;
    }
    return status;
}
