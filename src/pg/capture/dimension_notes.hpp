// What the row triggers of a watched relation (a dimension) note during a transaction: that rows
// changed, how many no statement trigger has taken care of yet, and the changed rows' values on
// the columns the models' routes start from (capture/dimension_capture.cpp queues them for the
// models before commit). Plain C storage in TopTransactionContext, recognised as the current
// transaction's by TransactionList: the WHEN functions run for every changed row, outside any
// C++ guard, and hold nothing with a destructor.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// Past incmodel.dimension_values_limit values (or this many bytes) noted for one relation in a
// transaction its values are no longer kept: the models that would have read them recompute
// whole (the change reaches most keys anyway, and memory stays bounded).
inline constexpr std::int64_t kMaxNotedBytes = 256LL * 1024 * 1024;

// One relation's notes in the current transaction.
struct NotedRelation {
    Oid relid = InvalidOid;            // the relation the WHEN clauses named (the watched one)
    std::int64_t unreleased_rows = 0;  // noted since a statement trigger took care of them
    bool overflow = false;  // values were dropped (incmodel.dimension_values_limit, kMaxNotedBytes)
    std::vector<AttrNumber> columns;  // the columns whose values were noted
};

// Whether any watched relation's row was noted in the current transaction.
bool dimension_notes_pending();

// The relations noted in the current transaction.
std::vector<NotedRelation> noted_dimension_relations();

// The values noted for relid's column attnum in their packed form (a bytea Datum allocated in the
// current memory context: capture/packed_values.hpp), or nullopt when none was noted (every
// changed row's value NULL).
std::optional<Datum> noted_values_packed(Oid relid, AttrNumber attnum);

// Forgets the current transaction's notes (after they were queued before commit).
void clear_dimension_notes();

// A statement trigger took care of the rows of these relations (a relation and its partition
// ancestors) that the row triggers counted: the commit does not fall back to a full recompute
// of the models that need whole rows.
void release_dimension_rows(const std::vector<Oid> &relids);

}  // namespace incmodel::pg
