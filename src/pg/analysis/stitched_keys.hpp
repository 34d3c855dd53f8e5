// A refresh key read through a dimension: identity stitching, the seeds' own example. A users
// model grouped by coalesce(m.user_id, e.domain_userid) over events e LEFT JOIN user_map m ON
// m.domain_userid = e.domain_userid keys each event by the user its visitor maps to: not a value
// of the event alone. It is kept incremental when
//   - the key reads the source and one relation of the top-level FROM, joined to the source by an
//     equality of a plain column of each (m.domain_userid = e.domain_userid) of a type whose
//     equality is identity (text, varchar, integers, uuid) under a deterministic collation,
//   - that relation is unique on its column (a unique index on it alone), so a source row has at
//     most one match, and
//   - the key reads no other source column than the joined one.
// Then the key of a matched row is an expression of the dimension's row alone, and that of an
// unmatched row one of the source's row alone; a refresh finds the source rows of a set of keys
// through both by index, and a change to the dimension moves exactly the keys of its old and new
// rows (and of their unmatched source rows).
#pragma once

#include <optional>
#include <string>

#include "core/model_spec.hpp"
#include "pg/analysis/source_scope.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// The key part of GROUP BY output tle read through a dimension (see above), its texts over the
// source's alias and the dimension's; nothing when tle is not such a key.
std::optional<core::KeyThroughDimension> key_through_dimension(const SourceScope &scope,
                                                               TargetEntry *tle,
                                                               const std::string &source_alias,
                                                               Oid source);

}  // namespace incmodel::pg
