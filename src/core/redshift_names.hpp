// Amazon Redshift's reserved words, and quoting by them. PostgreSQL's quote_identifier() leaves
// words unquoted that PostgreSQL does not reserve but Redshift does (TOP, OPEN, PERCENT, TAG,
// DELTA, ...; https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html), so the redshift
// dialect quotes them again. PostgreSQL-free.
#pragma once

#include <string>
#include <string_view>

#include "core/sql_text.hpp"

namespace incmodel::core {

// True when word (any case) is on Redshift's list of reserved words.
bool redshift_reserved(std::string_view word);

// The quoter of the redshift dialect: base's quoting, and a reserved word quoted too.
IdentQuoter redshift_quoter(IdentQuoter base);

// SQL text printed by PostgreSQL (pg_get_querydef / pg_get_expr) with the identifiers that
// Redshift reserves quoted: a bare lower-case word of Redshift's list that PostgreSQL prints only
// as an identifier (it is no PostgreSQL keyword, or an unreserved one other than WITHOUT), not a
// function name (followed by "(") nor a type (after "::"). String literals, quoted identifiers
// and comments are kept as they are.
std::string quote_redshift_reserved(const std::string &sql);

}  // namespace incmodel::core
