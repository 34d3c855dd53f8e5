#include "core/export_format.hpp"

#include <sstream>
#include <stdexcept>

namespace incmodel::core {

namespace {
constexpr const char *kMarker = "-- @@incmodel ";

std::string rtrim_statement(std::string s) {
    while (!s.empty() &&
           (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.pop_back();
    if (!s.empty() && s.back() == ';') s.pop_back();
    return s;
}
}  // namespace

std::string write_package(const std::string &model, const std::string &dialect,
                          const std::vector<PackageStatement> &parts) {
    std::string out = "-- incmodel package: model " + model + ", dialect " + dialect + "\n";
    for (const auto &p : parts) {
        out += kMarker;
        out += "step=" + std::to_string(p.step) + " part=" + p.part + "\n";
        out += p.sql + ";\n";
    }
    return out;
}

std::vector<PackageStatement> read_package(const std::string &text) {
    std::vector<PackageStatement> parts;
    std::istringstream in(text);
    std::string line;
    const std::string marker = kMarker;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.compare(0, marker.size(), marker) == 0) {
            if (!parts.empty()) parts.back().sql = rtrim_statement(parts.back().sql);
            PackageStatement p;
            std::istringstream fields(line.substr(marker.size()));
            std::string f;
            while (fields >> f) {
                if (f.compare(0, 5, "step=") == 0) {
                    try {
                        p.step = std::stoi(f.substr(5));
                    } catch (const std::exception &) {
                        p.step = 0;
                    }
                }
                if (f.compare(0, 5, "part=") == 0) p.part = f.substr(5);
            }
            if (p.step <= 0 || p.part.empty())
                throw std::runtime_error("malformed package marker on line " +
                                         std::to_string(lineno));
            parts.push_back(std::move(p));
        } else if (!parts.empty()) {
            parts.back().sql += line + "\n";
        }
    }
    if (parts.empty()) throw std::runtime_error("no incmodel package parts found");
    parts.back().sql = rtrim_statement(parts.back().sql);
    return parts;
}

}  // namespace incmodel::core
