// The user's query (as PostgreSQL printed it) rewritten where Redshift lacks a construct and an
// exact equivalent exists; refused (ExportError, 0A000) where none does. PostgreSQL-free.
#pragma once

#include <string>

namespace incmodel::core {

// Aggregates with FILTER (WHERE c), which Redshift lacks: count(*) FILTER (WHERE c) becomes
// count(CASE WHEN c THEN 1 END), and agg([DISTINCT] x) FILTER (WHERE c) becomes
// agg([DISTINCT] CASE WHEN c THEN x END) for the aggregates that skip NULLs and take one argument
// (count, sum, min, max, avg, stddev*, variance*, var_*, bool_and, bool_or): the same rows reach
// the aggregate. Any other aggregate with FILTER, and string_agg (Redshift's LISTAGG is limited to
// 64K bytes, so not exact) are refused with an ExportError naming the construct and the
// alternative.
std::string translate_for_redshift(const std::string &sql);

}  // namespace incmodel::core
