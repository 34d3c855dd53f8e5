// Where the model's source sits in the user's query: in the top-level FROM, or inside one
// subquery or CTE of it that filters or deduplicates the events (the Snowplow dedupe:
// ROW_NUMBER() OVER (PARTITION BY ...) = 1, or DISTINCT ON). A nested source is kept incremental
// when every operation of the subquery that compares rows (window partitions, DISTINCT [ON])
// compares only rows of one refresh key: then the rows of the touched keys, taken whole below
// the subquery, give exactly what a rebuild gives for those keys.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

struct SourceScope {
    Query *top = nullptr;     // the user's query
    int outer_rti = 0;        // top level: the source, or the subquery / CTE that reads it
    Query *reader = nullptr;  // the query whose FROM holds the source (top when not nested)
    int source_rti = 0;       // the source in reader's range table
    std::string container;    // the subquery's or CTE's name ("" when not nested)
    bool nested() const { return reader != top; }
    RangeTblEntry *source_rte() const;
};

// The relations is_source accepts in the top-level FROM; when there is none, those in the FROM
// of a subquery or CTE of the top-level FROM (one level deep).
std::vector<SourceScope> find_sources(Query *query, const std::function<bool(Oid)> &is_source);

// True when a relation is_source accepts is read anywhere in the query (deeper than
// find_sources looks, or in a sublink): for a precise error when find_sources finds none.
bool reads_source_anywhere(Query *query, const std::function<bool(Oid)> &is_source);

// Refuses a subquery or CTE over the source that can mix rows of several keys whatever they are
// (LIMIT, aggregation, a CTE read twice, ...). The key-dependent check is require_within_keys().
void require_row_wise_scope(const SourceScope &scope);

// An expression of the top-level query rewritten over the source as reader sees it (the
// subquery's select list substituted), or nullptr when it reads anything but the source's scope
// (other relations, aggregates, window functions, sublinks).
Node *to_source(const SourceScope &scope, Node *expr);

// Refuses a nested source whose window partitions or DISTINCT [ON] do not include every key
// expression (keys: reader-level expressions, as to_source() gives them).
void require_within_keys(const SourceScope &scope, const std::vector<Node *> &keys);

}  // namespace incmodel::pg
