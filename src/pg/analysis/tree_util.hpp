// Small tools over PostgreSQL's analyzed query trees, shared by the query analysis files: which
// range table entries an expression reads, outer-join sides, and the refusal helper.
#pragma once

#include <string>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// PostgreSQL 15 declares tree walkers as bool (*)(); ours take (Node *, void *).
template <typename Fn>
auto as_walker(Fn fn) {
    return reinterpret_cast<bool (*)()>(fn);
}

// Pushes a search path of pg_catalog only while it lives, so that deparsed SQL qualifies every
// other name.
struct CatalogOnlySearchPath {
    CatalogOnlySearchPath();
    ~CatalogOnlySearchPath();
    CatalogOnlySearchPath(const CatalogOnlySearchPath &) = delete;
    CatalogOnlySearchPath &operator=(const CatalogOnlySearchPath &) = delete;
};

// How many range table entries of the query, at every level (subqueries, CTEs, sublinks), read
// the relation.
int relation_references(Query *query, Oid relid);

// An expression reading only range table entry rti (of relation relid) as SQL over alias, every
// other name qualified: key expressions, source filters and the sides of a dimension's route.
std::string deparse_over(Node *expr, int rti, const std::string &alias, Oid relid);

// Raises 0A000 "incmodel: <what>" with a hint: a query shape incmodel cannot keep incremental.
[[noreturn]] void unsupported(const std::string &what, const std::string &hint);

// The same with a detail naming the construct.
[[noreturn]] void unsupported(const std::string &what, const std::string &detail,
                              const std::string &hint);

struct VarUse {
    uint64 varnos;  // bit per range table index < 64
    bool far;       // a Var of an outer query level or a range table index >= 64
    bool complex;   // sublinks, aggregates or window functions
};

// Collects which range table entries an expression reads (called from C: never throws).
bool var_use_walker(Node *node, void *ctx);

// True when expr reads range table entry rti of its own query level and nothing else: no other
// entry, no outer level, no sublink, aggregate or window function.
bool reads_only(Node *expr, int rti);

// True when range table index rti sits on the nullable side of an outer join in a join tree.
bool on_nullable_side(Node *node, int rti, bool nullable);

// expr with the Vars of JOIN ... USING merged columns replaced by the columns they stand for.
Node *without_join_aliases(Query *query, Node *expr);

}  // namespace incmodel::pg
