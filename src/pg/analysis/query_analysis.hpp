// Understands the user's full-rebuild query with PostgreSQL's own parser and analyzer: finds the
// source relation, the refresh key, the output columns and their types, rejects what key-wise
// recompute cannot reproduce, and renders a canonical, fully qualified text of the query split
// around the source so that the planner can restrict the source to touched keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model_spec.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

struct ModelQueryInput {
    std::string query;
    std::string batch_column;
    std::optional<std::string> window_column;
    std::vector<std::string> unique_key;  // output columns forming the refresh key (optional)
    // An append (event-level) model: a SELECT without GROUP BY whose key is this output column,
    // a plain column of the source.
    std::optional<std::string> event_key;
    // A features model: the source is this relation (its input model's target), found by OID
    // instead of by batch_column (which is then empty).
    Oid source_relid = InvalidOid;
    std::vector<std::string> input_keys;  // a features model: its input's key columns
    // A daily model: it counts and places the source's rows by load time itself, so its source
    // must be read in the top-level FROM (not in a subquery or CTE).
    bool daily = false;
};

struct AnalyzedQuery {
    core::ModelSpec spec;  // every field but id, name and target
    Oid source_oid = InvalidOid;
    std::string canonical_query;  // the whole query, fully qualified
    AttrNumber batch_attnum = 0;
    AttrNumber window_attnum = 0;
    bool batch_nullable = true;
    AttrNumber first_key_attnum = 0;  // 0 when the first key part is an expression
    // A features model: per key part, its expression over the input's key columns read under
    // kFeatureInputAlias (the projection of the input's touched keys).
    std::vector<std::string> feature_key_exprs;
};

// Parses, analyzes and validates; raises UserError with a SQLSTATE, detail and hint on bad input.
AnalyzedQuery analyze_model_query(const ModelQueryInput &input);

// The analyzed tree of a (fully qualified) query text, as nodeToString() writes it: stored in the
// catalog so that the query follows renames (names come from OIDs when it is rendered again).
std::string query_tree_of(const std::string &canonical_query);

// The texts of a stored query rendered from its tree with the current names: the canonical
// query split around the source (spec.source, source_alias, alias_in_query, query_head,
// query_tail, source_filter) and the key expressions of key_names with their equality
// operators, in order. Raises a clear error (42P01,
// 42703, 42883) when a relation, column or function it reads was dropped.
struct RenderedQuery {
    core::ModelSpec spec;
    std::string canonical_query;
    std::vector<std::string> key_exprs;
    std::vector<core::QualifiedName> key_equalities;  // per key part, its type's own equality
    // per key part, when it is read through a dimension (identity stitching)
    std::vector<std::optional<core::KeyThroughDimension>> key_through;
    // per key part, the column a day key is a range of (under timezone, the model's TimeZone)
    std::vector<std::optional<core::DayRange>> key_day_ranges;
};
RenderedQuery render_model_query(const std::string &model, const std::string &tree, Oid source,
                                 const std::vector<std::string> &key_names,
                                 const std::string &timezone);

// Re-analyzes a model's stored (fully qualified) query and raises 42804 when its output columns
// no longer have the types the target was built with (a source column changed type).
void verify_output_types(const std::string &model, const std::string &canonical_query,
                         const std::vector<core::OutputColumn> &outputs);

// Whether an index of the relation has the column as its first key column (a refresh's lookups
// by that column can use it).
bool has_index_led_by(Oid relid, AttrNumber attnum);

// NOTICEs with the CREATE INDEX statements a refresh would want on the source.
void notice_missing_indexes(const AnalyzedQuery &analyzed);

// quote_identifier() for the core planner.
std::string quote_ident(std::string_view ident);

}  // namespace incmodel::pg
