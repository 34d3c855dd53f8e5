// Grouping by a dimension's copy of the key: GROUP BY u.user_id over events e JOIN users u ON
// u.user_id = e.uid. Every row the join gives has u.user_id equal to e.uid under the key type's
// own equality, so the group of a row is the group of its e.uid: e.uid is a source key, and a
// refresh recomputes the touched e.uid values as it would a GROUP BY e.uid. Only equalities
// that hold in every output row count: an inner join's ON or the WHERE clause, outside the
// nullable side of an outer join (a LEFT JOIN's unmatched events get a NULL u.user_id whatever
// their e.uid), with the operator GROUP BY compares with and the same type and collation on both
// sides (so equal values are one group and the key's values fit its column).
#pragma once

#include <string>

#include "pg/analysis/source_scope.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

struct KeyEquivalence {
    Node *source_side = nullptr;  // a top-level expression that reads only the source's scope
    std::string detail, hint;     // without one: why a near miss does not count ("" if none)
};

// The source-side expression that equals group_expr (a GROUP BY expression over dimensions,
// compared with eqop) in every row of the query.
KeyEquivalence source_equivalent(const SourceScope &scope, Node *group_expr, Oid eqop);

}  // namespace incmodel::pg
