// What a refresh's plan asks the catalog about its source: which indexes lead with a column,
// how many rows the statistics say it has, the batch column's collation. Read from the syscache
// in C: the same answers the SQL over pg_index / pg_attribute gave, without parsing, planning
// and executing a catalog query per question (each a relcache load in a new backend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/model_spec.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// Whether relid has an index whose first column is attnum; with usable_only, only a valid index
// without a predicate (one every query can use).
bool index_leads_with(Oid relid, AttrNumber attnum, bool usable_only);

// The attribute number of a column named as quoted_name (the identifier as quote_ident gives
// it), InvalidAttrNumber when no live column quotes so.
AttrNumber attnum_of_quoted(Oid relid, const std::string &quoted_name);

// pg_class.reltuples of relid (-1 when never vacuumed or analyzed, 0 when it has gone).
double relation_tuples(Oid relid);

// The size of relid's main fork in bytes, as pg_relation_size gives it (0 when it has gone),
// without a catalog query: a refresh asks it of its scratch tables every run.
std::int64_t relation_bytes(Oid relid);

// The collation of a column when it is not its type's default, nullopt otherwise.
std::optional<core::QualifiedName> non_default_collation(Oid relid, const std::string &column);

}  // namespace incmodel::pg
