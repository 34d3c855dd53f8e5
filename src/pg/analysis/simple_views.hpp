// A dimension read through a view, a FROM subquery or a CTE of the top-level FROM: when every
// level in between is "simple" (one relation in its FROM, no aggregation, DISTINCT, window
// functions, set operations, LIMIT/OFFSET, set-returning functions in its select list or volatile
// functions; not a security_barrier view, a LATERAL subquery, a recursive, MATERIALIZED or twice
// read CTE), each of its rows is one row of the base relation, maybe filtered out, and a plain
// output column is a column of that row (binary coercions aside). A change to the base relation
// then maps to keys exactly as if the base relation were joined directly under the entry's alias:
// the changed rows' column values select the source rows they join (filters only make that a
// superset). dimension_routes.cpp uses this for the route's first hop.
#pragma once

#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// How many range table entries read the relation, at every level of the query (subqueries, CTEs,
// sublinks) and behind the views it reads (every level of them too).
int relation_uses_behind_views(Query *query, Oid relid);

// The top-level range table entry (a view, a subquery or a CTE reference) that reads the
// relation, directly or deeper; 0 when none does (it is read in a sublink, say).
int entry_reading(Query *query, Oid relid);

// The levels from top-level entry rti down to relid.
struct ThroughChain {
    bool simple = false;
    std::string reason;  // when not simple: why, after "it is read through <via>, which"
    std::string via;     // "view dm.current_users" or "subquery m, view dm.v" (outermost first)
    // For each top-level output column of the entry (index: attno), the base relation's column
    // it is (InvalidAttrNumber: computed, or a column the chain cannot follow).
    std::vector<AttrNumber> base_columns;
};
ThroughChain chain_to(Query *query, int rti, Oid relid);

// expr (reading only top-level entry rti) with the entry's columns replaced by the base
// relation's columns they are (types kept by a binary relabel), or nullptr when it reads a column
// that is not a plain base column. The base columns read are added to *read.
Node *over_base(Node *expr, int rti, Oid relid, const ThroughChain &chain,
                std::vector<AttrNumber> *read);

}  // namespace incmodel::pg
