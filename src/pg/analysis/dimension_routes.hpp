// How a change to a relation a batch model reads besides its source (a dimension: a lookup, a
// context table, an identity map) reaches the model's keys. When the relation is read once, in
// the top-level FROM, and a chain of the query's own equalities leads from it to the source
// (c.root_id = e.event_id; or regions -> cities -> events), the changed rows' values on the
// first equality name exactly the source rows whose groups can change: those keys are recomputed.
// A relation read through a simple view, FROM subquery or CTE (one relation in its FROM, no
// aggregation...: simple_views.hpp) maps the same way, as if joined directly under the entry's
// alias. Otherwise (a sublink, a view that aggregates, no equality) no bound exists and the
// model is recomputed whole, or refused at creation, per its on_dimension_change setting.
#pragma once

#include <string>

#include "core/refresh_planner.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// An equality of the top-level query between expressions of two range table entries (an AND
// part of WHERE or of a join's ON, with an operator a hash or merge join could use).
struct Equality {
    OpExpr *op;
    Node *side[2];  // lhs, rhs (join aliases flattened)
    int rti[2];     // the entry each side reads
};
std::vector<Equality> top_level_equalities(Query *query);

// SQL texts of parts of an analyzed query: an operator as OPERATOR(schema.name), a relation
// entry's name ([ONLY] schema.name) and its alias (quoted). (deparse_over, tree_util.hpp, gives
// an expression of one entry.)
std::string operator_sql(Oid opno);
std::string relation_sql(RangeTblEntry *rte);
std::string alias_of(Query *query, int rti);
RangeTblEntry *rte_of(Query *query, int rti);

struct DimensionMapping {
    bool bounded = false;
    core::DimensionRoute route;  // when bounded
    // For explain and errors: the equalities followed ("c.root_id = e.event_id"), or why none.
    std::string description;
    // The source's column the last equality reads, when it is a plain column (its index makes
    // the refresh after a change read only the rows it reaches).
    AttrNumber source_attnum = InvalidAttrNumber;
    // The relation's column the first equality reads, when it is a plain column (binary coercions
    // aside) of a built-in type: its row triggers can note the changed rows' values themselves.
    AttrNumber dimension_attnum = InvalidAttrNumber;
    // When the query reads the relation through a simple view, FROM subquery or CTE (see
    // simple_views.hpp): those it reads it through ("view dm.current_users"); the route's first
    // hop is then over the relation itself, under the entry's alias.
    std::string through;
};

// The mapping of relation relid for the model whose stored query tree is tree, whose source
// (read under source_alias, as the key expressions are) is source and whose target is target
// (its owner must be allowed to read what a route through a view reads of relid).
DimensionMapping dimension_mapping(const std::string &tree, Oid source,
                                   const std::string &source_alias, Oid relid, Oid target);

}  // namespace incmodel::pg
