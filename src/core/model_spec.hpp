// The description of one incremental model, as the planner needs it. Built by the PostgreSQL
// adapter from the analyzed user query and the catalog; never includes postgres.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace incmodel::core {

// A schema-qualified relation name, unquoted (quoting happens when SQL is rendered).
struct QualifiedName {
    std::string schema;
    std::string name;
};

// A key read through a dimension the source is joined to by an equality: identity stitching,
// coalesce(m.user_id, e.domain_userid) over events e LEFT JOIN user_map m ON m.domain_userid =
// e.domain_userid, the map unique on its join column. The key part's source_expr looks the
// dimension up for each source row (through_dimension_expr); these texts let a refresh find the
// source rows of a set of keys by index, and a change to the dimension name the keys it moves.
// Every text is deparsed SQL.
struct KeyThroughDimension {
    std::uint32_t relid = 0;    // the dimension's OID (its changes move keys)
    std::string relation;       // the dimension, quoted and qualified
    std::string alias;          // its alias in the query, quoted
    std::string column;         // its side of the equality, over alias (m.domain_userid)
    std::string source_column;  // the source's side, over the source's alias
    std::string op;             // OPERATOR(schema.name) of the equality
    std::string matched;        // the key of a source row with a match, over alias alone
    std::string unmatched;      // the key of a row without one, over the source's alias alone
    // The same for a dimension row's own join value (the key its source rows have without it).
    std::string unmatched_from_dimension;
};

// A day key that is a monotone function of one plain column of the source (derived_tstamp::date,
// date_trunc('day', col), (col AT TIME ZONE 'UTC')::date, a date column): the rows of event day D
// hold values of that column in [D - slack_days, D + 1 + slack_days), so a recompute can read a
// set of days by a range of the column (through its index). Found by the adapter in the analyzed
// query tree; slack_days is one day per conversion on the way that depends on a time zone or
// moves the value (each changes it by less than a day), 0 when the day is exactly the column's.
struct DayRange {
    std::string column;  // the source column, unquoted
    std::string type;    // "date", "timestamp without time zone" or "timestamp with time zone"
    int slack_days = 0;
};

// One column of the refresh key: the target column and the source expression that computes it.
// source_expr is already deparsed SQL that refers to the source through the model's alias.
struct KeyPart {
    std::string column;
    std::string source_expr;
    std::string type;  // SQL type name with modifiers, e.g. "character varying(36)"
    // The key type's own equality operator (its default btree opclass's), e.g. public.= for
    // citext: keys are matched with it, as GROUP BY and the target's unique index compare them.
    // Unset (a key loaded without a query tree): matched with a plain "=".
    std::optional<QualifiedName> equality;
    std::optional<KeyThroughDimension> through;  // a key read through a dimension
    std::optional<DayRange> day_range;           // a day key over one column the days can bound
};

// One output column of the model (and so of the target table).
struct OutputColumn {
    std::string name;
    std::string type;
};

// A time-based model: its runs range over a load-time column instead of discrete batches.
// A daily aggregate model has the event day in its key; an append model (event level) keeps
// one row per event key, the first by load time.
struct TimeSpec {
    std::string load_column;     // the source column runs range over (== ModelSpec::batch_column)
    std::string load_type;       // its SQL type
    std::string start_date;      // timestamptz text: the first run starts here (inclusive)
    std::string backfill_limit;  // interval text: the most one run covers
    // daily aggregates
    std::string day_column;  // the key (output) column holding the event day
    std::string day_expr;    // its source expression, from the GROUP BY
    // The column the day key is a monotone function of (its key part's day_range): unset when
    // the day key is an expression no range of one column bounds (the recompute then filters
    // the rows by the key alone).
    std::optional<DayRange> day_range;
    int reprocess_days = 2;
    std::int64_t min_rows_to_process = 1000;
    // append (event level)
    bool append = false;
    std::string event_key;                  // the source column (and output column) of the event id
    std::vector<std::string> dedupe_order;  // source columns: which duplicate comes first
};

// Everything needed to render the SQL of a refresh, a rebuild or an explain.
struct ModelSpec {
    std::int64_t id = 0;
    std::string name;

    QualifiedName source;
    std::string source_alias;  // the name the user's query uses for the source
    bool source_only = false;  // FROM ONLY source
    std::string batch_column;
    std::string batch_type;  // SQL type of the batch column
    // The batch column's collation when it is not its type's default: the change log's ranges
    // are ordered by it, so they are merged under it too. Set by the adapter when it plans.
    std::optional<QualifiedName> batch_collation;
    // The source has no plain index led by the batch column: the change log's ranges are then
    // counted in one scan of the source, not one scan per range (ranged_batch_counts).
    bool batch_ranges_in_one_scan = false;
    std::optional<std::string> window_column;

    // The user's query (canonical, fully qualified) split around the source reference:
    // query_head + <source relation> + query_tail.
    std::string query_head;
    std::string query_tail;
    bool alias_in_query = false;  // the text after the source already carries its alias
    // The top-level AND parts of the query's WHERE that read only the source, deparsed over its
    // alias ("" when none): key expressions are evaluated only on rows they keep, as the query
    // evaluates them.
    std::string source_filter;

    std::vector<KeyPart> keys;          // the refresh key (GROUP BY parts computed from the source)
    std::vector<OutputColumn> outputs;  // the target's columns, in query order
    std::vector<std::string> unique_columns;  // all GROUP BY output columns: the target's key
    QualifiedName target;
    bool bounded_recompute = false;  // recompute touched keys from the lookback window only
    std::optional<TimeSpec> time;    // set for a time-based (daily or append) model
};

}  // namespace incmodel::core
