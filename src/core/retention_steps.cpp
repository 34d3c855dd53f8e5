#include "core/retention_steps.hpp"

#include <fmt/format.h>

namespace incmodel::core {

std::string retention_old_batches(const std::string &source, const std::string &batch_column,
                                  const std::string &time_column) {
    return fmt::format(
        "SELECT s.{b}::text, count(*) FROM {src} s WHERE s.{b} IN (SELECT o.{b} FROM {src} o "
        "WHERE o.{t} < now() - $1::interval) GROUP BY s.{b} HAVING max(s.{t}) < now() - "
        "$1::interval ORDER BY 1",
        fmt::arg("b", batch_column), fmt::arg("t", time_column), fmt::arg("src", source));
}

std::string retention_delete_chunk(const std::string &source, const std::string &batch_column,
                                   const std::string &batch_type, const std::string &time_column) {
    return fmt::format(
        "DELETE FROM {src} WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT s.ctid FROM {src} "
        "s WHERE s.{b} = ANY ($1::text[]::{type}[]) AND s.{t} < now() - $3::interval LIMIT "
        "$2::int))",
        fmt::arg("src", source), fmt::arg("b", batch_column), fmt::arg("type", batch_type),
        fmt::arg("t", time_column));
}

std::string constraints_immediate(const std::string &list) {
    return "SET CONSTRAINTS " + list + " IMMEDIATE";
}

}  // namespace incmodel::core
