// The user's query (as PostgreSQL printed it) rewritten where Redshift lacks a construct and an
// exact equivalent exists; refused (ExportError, 0A000) where none does. PostgreSQL-free.
#pragma once

#include <string>

namespace incmodel::core {

// In order: (1) what Redshift lacks with no exact rewrite is refused with an ExportError (0A000)
// naming the construct and the alternative: array_agg, corr / covar_* / regr_*, json and xml
// aggregates, mode(), generate_series and the other functions of Redshift's "Unsupported
// PostgreSQL functions" page, the leader-node-only functions (substr, age, ...), DISTINCT ON,
// LATERAL, arrays, json operators, IS [NOT] DISTINCT FROM. (2) Aggregates with FILTER (WHERE c):
// count(*) FILTER (WHERE c) becomes count(CASE WHEN c THEN 1 END), agg([DISTINCT] x) FILTER
// (WHERE c) becomes agg([DISTINCT] CASE WHEN c THEN x END) for the one-argument aggregates that
// skip NULLs; any other FILTER is refused. (3) Calls with an exact Redshift form:
// string_agg(NULLIF(x, ''), 'sep' [ORDER BY o]) becomes LISTAGG(NULLIF(x, ''), 'sep')
// [WITHIN GROUP (ORDER BY o)] (LISTAGG skips empty strings, so only NULLIF(x, '') is exact; other
// string_agg calls are refused with that hint), every(x) becomes bool_and(x), and
// percentile_cont/_disc((p)::double precision) takes the constant p. Redshift's rule that every
// LISTAGG / PERCENTILE_CONT / MEDIAN of a statement uses the same ORDER BY is enforced.
std::string translate_for_redshift(const std::string &sql);

}  // namespace incmodel::core
