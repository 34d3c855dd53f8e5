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

// True when word (any case) is reserved by Redshift but PostgreSQL prints it bare as an identifier
// (TOP, OPEN, PERCENT, TAG, DELTA, OID, ...: no PostgreSQL keyword, or an unreserved one).
bool redshift_only_reserved(std::string_view word);

// The quoter of the redshift dialect: base's quoting, and a reserved word quoted too.
IdentQuoter redshift_quoter(IdentQuoter base);

// SQL text printed by PostgreSQL (pg_get_querydef / pg_get_expr) with the identifiers that
// Redshift reserves quoted: a bare lower-case word of Redshift's list that PostgreSQL prints only
// as an identifier (it is no PostgreSQL keyword, or an unreserved one other than WITHOUT), not a
// function name (followed by "(") nor a type (after "::"). String literals, quoted identifiers
// and comments are kept as they are.
std::string quote_redshift_reserved(const std::string &sql);

// The condition matching a pg_class c joined to its pg_namespace n against schema.name (SQL
// literals), as Redshift resolves names: it folds identifiers, quoted ones too, to lower case
// (unless enable_case_sensitive_identifier is on), so both sides are compared in lower case.
// pg_class and pg_namespace are readable by every user and list empty tables too, unlike
// SVV_TABLE_INFO.
std::string redshift_relation_match(const std::string &schema_literal,
                                    const std::string &name_literal);

// The CLI's probe on Redshift: how many other sessions hold an exclusive lock on the relation
// (svv_transactions joined to pg_class by oid, names matched by redshift_relation_match(), so a
// mixed-case name matches what Redshift stored in lower case).
std::string redshift_lock_probe(const std::string &schema_literal, const std::string &name_literal);

}  // namespace incmodel::core
