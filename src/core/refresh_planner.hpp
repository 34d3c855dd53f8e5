// The planner: turns a ModelSpec into the SQL of every step of a refresh, a rebuild and an
// explain. It knows nothing of PostgreSQL's internals; the adapter executes what it renders.
// Parameters are positional ($n) and documented per statement; values never enter the text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model_spec.hpp"
#include "core/sql_text.hpp"

namespace incmodel::core {

// The schema that holds every model's scratch tables.
inline constexpr const char *kScratchSchema = "incmodel_scratch";

// The names of one model's scratch tables.
struct ScratchTables {
    QualifiedName
        batches;         // (batch_value text (NULL: the NULL batch), event_count, recorded_count)
    QualifiedName keys;  // (k1 .. kn): the touched refresh keys
    QualifiedName rows;  // the recomputed target rows
    QualifiedName days;  // daily models: per event day, this run's new / late / recounted rows
};

// How a change to a relation the query reads (a dimension) reaches the source's rows: a chain
// of equalities of the query, from the changed relation to the source (one hop when the
// dimension is joined to the source itself: c.root_id = e.event_id). Built by the adapter from
// the analyzed query (analysis/dimension_routes.cpp); every text is deparsed SQL.
struct DimensionHop {
    std::string relation;  // the relation this hop reads, quoted and qualified ("" at the first)
    std::string alias;     // the alias the query gives it, quoted
    std::string value;     // over alias: the values the next hop matches (its side of the equality)
    // The equality with the previous hop, its previous side written as _incmodel_v.v ("" at the
    // first hop).
    std::string match;
};
struct DimensionRoute {
    std::string value_type;  // the SQL type of the first hop's value (queued as text)
    std::vector<DimensionHop> hops;
    std::string source_match;  // the last equality, its source side over the source's alias
};

// The value of a key read through a dimension for one source row: the matched row's key when the
// dimension has a row for it (it is unique on its join column), the unmatched key otherwise.
std::string through_dimension_expr(const KeyThroughDimension &k);

// At most this many ranges of the day key's column bound a daily recompute
// (RefreshPlanner::daily_in_day_ranges(): one OR arm each, so a fixed text and two parameters).
inline constexpr std::size_t kMaxDayRanges = 8;
// At most this many segments of a daily model's range manifest are arms of the recompute's
// inclusion rule (RefreshPlanner::daily_included_rows(true)).
inline constexpr std::size_t kMaxLoadSegments = 4;

// One row of RefreshPlanner::daily_day_ranges(): a range of the day key's column (bounds as
// text, upper inclusive) and the days between it and the range before.
struct DayRangeRow {
    std::string lower;
    std::string upper;
    std::int64_t gap_days = 0;
};

// The $13 (lower bounds) and $14 (upper bounds) of daily_in_day_ranges() from the rows of
// daily_day_ranges(), in order: while more than kMaxDayRanges remain, the two separated by the
// fewest days become one (a superset: the key filter keeps the result exact); the rest of the
// kMaxDayRanges arms get an empty range ('infinity' to '-infinity').
std::pair<std::vector<std::string>, std::vector<std::string>> day_range_params(
    std::vector<DayRangeRow> rows);

// The parameters of the time-based vector ($1 lower, $2 upper, $5 start_date, $9 and $10 a
// backfill's range) whose every use in every statement that takes the vector is
// `$n::pg_catalog.timestamptz` (unit-tested over the statements): the adapter may pass them typed
// timestamptz, converted under the run's pinned settings, so the cast is a no-op on the parameter
// and a filter compares against a value instead of parsing text for every row it reads.
inline constexpr std::array<int, 5> kTimestamptzTimeParams = {1, 2, 5, 9, 10};

class RefreshPlanner {
  public:
    RefreshPlanner(ModelSpec spec, IdentQuoter quote);

    const ScratchTables &scratch() const { return scratch_; }

    // --- DDL -------------------------------------------------------------------------------
    std::vector<std::string> create_target() const;   // CREATE TABLE + unique key index
    std::string create_target_key_index() const;      // the unique index alone
    std::vector<std::string> create_scratch() const;  // UNLOGGED scratch tables
    std::vector<std::string> drop_scratch() const;

    // --- refresh steps -----------------------------------------------------------------------
    std::string truncate_scratch() const;
    // Batch values travel as text; the NULL batch (events whose batch value is NULL) is a batch
    // of its own, a NULL batch_value.
    // SELECT batch_value, event_count, recorded_count of batches that are new or grew (status).
    // $1 model id (int8); $2 window cutoff (timestamptz) when the model has a window.
    std::string pending_batches() const;
    // The same for every batch whose count differs from the manifest's: new, grown, shrunk or
    // vanished (event_count 0). recorded_count > event_count means the batch lost rows.
    std::string changed_batches() const;
    // INSERT of changed_batches() into the batches scratch table. Same parameters.
    std::string find_batches() const;
    // Like pending_batches(), counting only the batches within the given ranges of batch values
    // (from the change log): $1 model id (int8), $2 range starts (text[]), $3 range ends
    // (text[]), $4 whether the log saw NULL batch values (boolean). Overlapping ranges are
    // merged first (under the batch column's collation), so no event is counted twice.
    std::string pending_batches_in_ranges() const;
    // Like changed_batches(), within the ranges (vanished batches cannot be seen there).
    std::string changed_batches_in_ranges() const;
    // INSERT of changed_batches_in_ranges() into the batches scratch table.
    std::string find_batches_in_ranges() const;
    // The three above take $5 (boolean): rows were updated or deleted since the last plan, so
    // every counted batch is pending (one deleted and reloaded may have its old count).
    // INSERT into the batches scratch the batches whose counts the change log gives without
    // reading the source: $1 model id (int8), $2 batch values (text[]) and $3 their logged row
    // counts (text[] of int8), one element per logged load of one single value. All or nothing:
    // when any of the values is in the manifest (its recorded count may already include rows the
    // log shows again) or being expired by retention, nothing is inserted and the plan counts
    // through find_batches_in_ranges() instead.
    std::string find_logged_new_batches() const;

    // --- rows changed by UPDATE and DELETE (their keys queued by the capture trigger) ----------
    // SELECT the distinct keys (text, one column per part) of a transition table's rows.
    std::string transition_keys(const std::string &transition) const;
    // INSERT into the batches scratch the batches of the ranges UPDATE/DELETE changed whose count
    // changed (vanished ones with event_count 0), not in the scratch yet; the same parameters
    // as find_batches_in_ranges() without $5, the ranges being the changed rows' ones.
    std::string find_recounted_batches() const;
    // SELECT the queued key sets' ids (text), whether each is a full recompute, and the dimension
    // whose join values it holds (NULL for keys). $1 model id.
    std::string queued_key_ids() const;
    // INSERT a full-recompute request for this model (catalog owner). $1 model id.
    std::string queue_full_recompute() const;
    // INSERT the queued keys (not a dimension's values) not in the keys scratch yet. $1 model id,
    // $2 queue ids (int8[]).
    std::string queued_keys_into_scratch() const;
    // DELETE the consumed key sets (catalog owner). $1 model id, $2 queue ids (int8[]).
    std::string consume_queued_keys() const;
    // DELETE the manifest rows of vanished batches (catalog owner). $1 model id, $2 values.
    std::string forget_batches() const;
    // " RETURNING batch_value, new events (event_count - recorded_count)", appended to the plan's
    // INSERT into the batches scratch: the batches whose keys a refresh collects, without a
    // second statement reading the scratch back.
    std::string returning_new_events() const;
    // SELECT the total of event_count in the batches scratch (a rebuild's events).
    std::string scratch_event_total() const;
    // SELECT count(*) of the source's rows (status while a rebuild is pending).
    std::string source_row_count() const;
    // SELECT count(*), sum of new events of a pending-batches SELECT (status): pending is the
    // text of pending_batches() or pending_batches_in_ranges(), with their parameters.
    std::string pending_summary(const std::string &pending) const;
    // SELECT (count, batch_value, recorded, now) of the scratch batches that lost rows: how many,
    // and the first of them. No parameters.
    std::string shrunk_batches() const;
    // INSERT every batch of the source (rebuild). No parameters.
    std::string all_batches() const;
    // INSERT the keys touched by the listed batches. $1 batch values (text[], a NULL element for
    // the NULL batch); $2 window cutoff when the model has a window. by_index: through the batch
    // column's index, one lookup per listed value (see listed_batch_keys).
    std::string collect_keys(bool by_index = false) const;
    // SELECT count(*) of distinct keys collect_keys() would find (explain). Same parameters.
    std::string count_keys() const;
    std::string analyze_keys() const;
    // SELECT count(*) FROM keys WHERE any key column IS NULL.
    std::string count_null_keys() const;
    // INSERT the user's query, source restricted to the touched keys, into the rows scratch.
    // $1 window cutoff when bounded_recompute.
    std::string recompute(bool with_null_keys) const;
    // SELECT count of touched keys that have events outside the window (bounded recompute).
    // $1 window cutoff.
    std::string keys_outside_window() const;
    // INSERT the unrestricted user query into the rows scratch (rebuild).
    std::string recompute_all() const;

    // --- commit --------------------------------------------------------------------------------
    std::string delete_target_keys() const;
    std::string delete_target_null_keys() const;
    std::string truncate_target() const;
    std::string insert_target_rows() const;
    // SELECT batch_value, event_count (as text) of the batches scratch (run as the model owner).
    std::string scratch_batches() const;
    // Upsert batches into the manifest (run as the catalog owner, from parameters only): $1 model
    // id (int8), $2 run id (int8), $3 batch values (text[]), $4 event counts (text[]).
    std::string record_manifest() const;
    // DELETE the model's manifest rows. $1 model id.
    std::string clear_manifest() const;

    // --- daily aggregate models (src/core/daily_steps.cpp) --------------------------------------
    // Every daily statement takes the same parameters (unused ones are ignored):
    //   $1 lower limit (exclusive), $2 upper limit (inclusive): the run's load range, timestamptz
    //   $3 reprocess_days (int): a row is late when its day < its load day - $3
    //   $4 days reprocessed in full (text[] of dates)   $5 start_date (timestamptz)
    //   $6 model id (int8)   $7 model name (text)   $8 min_rows_to_process (int8)
    std::string create_days_scratch() const;
    // SELECT count(*) of the source's rows in the load range ($1, $2].
    std::string time_range_rows() const;
    // INSERT per event day of the run's new rows: count, late count, max load.
    std::string daily_day_stats() const;
    std::string daily_day_stats_select() const;  // the same rows as a SELECT (explain)
    // SELECT the days to reprocess in full: late rows of this run plus the ledger's skipped
    // count reach $8.
    // days: the relation holding the day stats, the days scratch table when empty (explain
    // passes "(" + daily_day_stats_select() + ")").
    std::string daily_full_days(const std::string &days = "") const;
    // INSERT per day reprocessed in full: all its rows loaded in [$5, $2] and their max load.
    std::string daily_full_day_counts() const;
    std::string daily_full_day_counts_select() const;  // the same rows as a SELECT (explain)
    // INSERT the keys touched: new rows that are not late, every row of a day in $4.
    std::string daily_collect_keys() const;
    // INSERT the touched keys' rows recomputed from the rows the rules include. in_day_ranges
    // (a refresh): when the day key has a day_range, the rows of non-NULL keys are read through
    // daily_in_day_ranges() ($13, $14 from daily_day_ranges()); load_segments: the range
    // manifest's rule reads $15 .. $17 (daily_included_rows()). verify passes neither.
    std::string daily_recompute(bool with_null_keys, bool in_day_ranges = false,
                                bool load_segments = false) const;
    // SELECT the range manifest of the model ($1, int8) as at most kMaxLoadSegments + 1
    // segments of contiguous ranges with one reprocess_days: lower limit, upper limit (text in
    // the load column's type), reprocess_days as text. Run as the model owner. More than
    // kMaxLoadSegments rows: the recompute looks the manifest up per row instead.
    std::string daily_load_segments() const;
    // SELECT the touched days of the keys scratch as ranges of the day_range column, days whose
    // ranges (widened by slack_days) overlap or touch merged: lower bound, inclusive upper bound
    // (text in the column's type, infinite past years 4000 BC / 200000) and the days between the
    // range and the one before (0 for the first), in order. Run as the model owner; no
    // parameters. Only for a spec whose time->day_range is set.
    std::string daily_day_ranges() const;
    // " AND (...)": the day_range column in one of kMaxDayRanges ranges, $13 (lower bounds) and
    // $14 (inclusive upper bounds) as text[] (day_range_params()); a range lower > upper is
    // empty. "" without a day_range.
    std::string daily_in_day_ranges() const;
    // SELECT per day of the days scratch the ledger's values as text (run as the model owner):
    // day, full day, processed, skipped, max load. Takes only $1: the full days (text[]).
    std::string daily_ledger_rows() const;
    // Upsert the ledger (incmodel.daily_manifest) from daily_ledger_rows() (run as the catalog
    // owner): $1 model name, $2 upper limit, $3 .. $7 the five columns (text[]).
    std::string daily_record_ledger() const;
    // The rows the rules include, as " AND ..." on the source alias (a daily model's recompute,
    // verify's rebuild). load_segments: the range manifest as $15 .. $17 (daily_load_segments()).
    std::string daily_included_rows(bool load_segments = false) const;

    // --- rows committed behind a time-based model's limit (src/core/daily_steps.cpp) ------------
    // These take the daily vector plus $11, $12: the load ranges (starts, ends; text[] in the
    // load column's type) that the change log recorded for transactions the previous run's
    // snapshot could not see. A row "behind" is in one of them and loaded at or below $1.
    // SELECT the rows behind from start_date on (placed) and before start_date (unplaced).
    std::string time_rows_behind() const;
    // SELECT the event days (text) of the rows behind, loaded from start_date on.
    std::string daily_days_behind() const;
    // SELECT every day (text) with rows loaded in [$5, $2], in the target or in the ledger: what
    // a change the log cannot describe (UPDATE, DELETE, TRUNCATE ...) makes a run reprocess.
    std::string daily_all_days() const;
    // INSERT the target's keys on the days in $4 not yet in the keys scratch (keys whose rows
    // were deleted from the source are recomputed to nothing).
    std::string daily_target_keys_of_days() const;
    // INSERT a zero recount into the days scratch for each day in $4 without rows (the ledger
    // of a day whose rows were deleted is reset).
    std::string daily_empty_full_days() const;

    // SELECT the sum of one column of the days scratch (new_rows, late_rows, ...).
    std::string sum_of_days(const std::string &column) const;
    // SELECT totals and a per-day listing of a daily explain: over the day stats (new and late
    // rows per event day) and over the full-day counts of a backfill. stats and counts are the
    // texts of daily_day_stats_select() and daily_full_day_counts_select(), parenthesized.
    std::string daily_stats_summary(const std::string &stats) const;
    std::string daily_full_days_summary(const std::string &counts) const;

    // --- append (event-level) models (src/core/append_steps.cpp) --------------------------------
    // INSERT the event keys first seen in the run's load range ($1, $2].
    std::string append_collect_keys() const;
    // INSERT every event key loaded in a backfill's range [$9, $10).
    std::string append_backfill_keys() const;
    // SELECT rows and distinct event keys (NULL counted as one) loaded in a backfill's range.
    std::string append_backfill_rows() const;
    // INSERT, for each touched key, the user's query over its first duplicate.
    std::string append_recompute(bool with_null_keys) const;
    // INSERT the event keys of the rows behind ($11, $12 as above) loaded from start_date on,
    // not yet in the keys scratch: recomputed, their first duplicate may have changed.
    std::string append_keys_behind() const;
    // INSERT every event key loaded in [$5, $2] and every key of the target not yet in the keys
    // scratch (after a change the log cannot describe).
    std::string append_all_keys() const;

    // --- features models (src/core/features_steps.cpp) ------------------------------------------
    // At this (input) model's commit the touched keys are queued, projected on each dependent's
    // key: dependents() lists them (catalog owner; $1 this model's name), scratch_keys_as_text()
    // reads the keys (model owner), queue_keys(parts) writes one dependent's queue (catalog
    // owner; $1 its model id, $2.. one text[] per key part).
    std::string dependents() const;
    std::string scratch_keys_as_text() const;
    std::string queue_keys(size_t parts) const;
    // A dependent whose key parts are expressions of this model's key (a roll-up by month over
    // days): its key_exprs (over alias input_alias, whose columns are this model's key columns)
    // evaluated on the touched keys, as the dependent's owner; $1.. one text[] per key part of
    // this model, row-aligned. Returns the distinct projected keys as text (p1, p2, ...).
    std::string project_keys(const std::vector<std::string> &key_exprs,
                             const std::string &input_alias) const;
    // The same after a rebuild: a NULL entry (full recompute) for each dependent. $1 the name.
    std::string queue_full_recompute_for_dependents() const;
    // INSERT the distinct queued keys of this (features) model up to an id into the keys scratch,
    // cast back to their types. $1 model id, $2 highest queue id.
    std::string features_queued_keys() const;

    // --- dimension changes (src/core/dimension_steps.cpp) --------------------------------------
    // A statement changed rows of a dimension: the values of the route's first hop on its
    // transition tables, as one text[] (NULLs left out: an equality never matches them; NULL
    // when there are none; duplicates left to the refresh's DISTINCT, cheaper than a sort or a
    // hash here, on the writer's time), evaluated as the model's owner.
    std::string dimension_values(const std::vector<std::string> &transitions,
                                 const DimensionRoute &route) const;
    // Queues them for this model, one queue row holding the statement's values (catalog owner):
    // $1 model id, $2 the dimension (oid), $3 values (text[] as text; NULL: nothing queued).
    std::string queue_dimension_values() const;
    // The same from the values the row triggers noted, in their packed form (0.7.0): $1 model id,
    // $2 the dimension (oid), $3 the packed values (bytea; incmodel.noted_values reads them).
    std::string queue_packed_dimension_values() const;
    // The keys a change to a dimension moves for a key part read through it: the key of each
    // changed row (old and new rows), and the key its source rows have without it; text,
    // distinct. Evaluated on a transition table as the model's owner.
    std::string through_dimension_keys(const std::string &transition,
                                       const KeyThroughDimension &k) const;
    // INSERT into the keys scratch the keys of the source rows the queued values reach through
    // the route, not in the scratch yet (model owner). $1 model id, $2 queue ids (int8[]), $3 the
    // dimension (oid).
    std::string dimension_keys_into_scratch(const DimensionRoute &route) const;

    // --- verify (src/core/verify_steps.cpp) -------------------------------------------------
    // verify() recomputes into the rows scratch what the target should hold and compares.
    // A sampled verify first fills the keys scratch with a random sample of refresh keys drawn
    // from the union of the target's keys and the source's keys (the key expressions over every
    // source row). $1 the fraction (float8).
    std::string verify_sample_keys() const;
    // INSERT every row the model should hold into the rows scratch: the query over the whole
    // source (batch and features models), over the rows the daily inclusion rules include up to
    // the upper limit (daily), or over the first duplicate of each event key loaded in
    // [start_date, upper limit] (append). Time-based models take the daily parameter vector with
    // $1 = $2 = the upper limit and $4 empty; the others take no parameters.
    std::string verify_recompute_all() const;
    // The same restricted to the keys in the keys scratch (a sampled verify).
    std::string verify_recompute_keys(bool with_null_keys) const;
    // SELECT of one row comparing the rows scratch with the target (only the target's rows of
    // the keys scratch when sampled), row for row with NULLs equal and floats exact: rows
    // recomputed, keys missing from the target, extra keys in the target, keys whose rows differ
    // (keys: the values of the target's unique columns), then up to `examples` keys of each
    // kind as text[] (sorted). No parameters.
    std::string verify_compare(bool sampled, bool with_null_keys, int examples) const;

  private:
    std::string q(std::string_view ident) const { return quote_(ident); }
    std::string restricted_to_keys(bool with_null_keys, const std::string &filter,
                                   const std::string &keyed_filter = "") const;
    std::string time_load_between(const char *lower_op, int lower, int upper) const;
    std::string daily_day() const;
    std::string source_column(const std::string &column) const;  // alias.column, quoted
    std::string daily_not_late(const std::string &days_param) const;
    std::string time_in_logged_ranges() const;          // FROM item: rows in $11/$12 ranges, <= $1
    std::string source_ref() const;                     // [ONLY] schema.table
    std::string source_as_alias() const;                // [ONLY] schema.table AS alias
    std::string key_columns(const char *prefix) const;  // k1, k2 ...
    std::string key_exprs() const;                      // source expressions of the key
    std::string key_equal(size_t i, const std::string &lhs, const std::string &rhs) const;
    std::string in_keys(const std::vector<std::string> &exprs) const;  // EXISTS: a touched key
    std::string in_null_keys(const std::vector<std::string> &exprs) const;
    std::string and_source_filter() const;
    std::string restricted_through_dimension(
        bool with_null_keys,
        const std::string &narrowed) const;      // AND (the WHERE parts on the source alone)
    std::string window_filter(int param) const;  // AND alias.window >= $n
    std::string with_restricted_source(const std::string &restricted_select) const;
    std::string source_batch_counts() const;  // every batch (in the window) with its count
    std::string with_recorded_counts(const std::string &counts) const;
    std::string not_expiring(const std::string &value) const;
    std::string vanished_batches() const;
    std::string range_bound(const char *column) const;
    std::string batch_collate() const;
    std::string ranged_batch_counts() const;         // WITH ... c: the logged ranges' batch counts
    std::string ranges_counted_per_range() const;    // its c: an index range scan per range
    std::string ranges_counted_in_one_scan() const;  // its c: one scan (no batch index)
    std::string in_listed_batches() const;           // the batch column in $1's typed set (no NULL)
    std::string null_batch_listed() const;           // the NULL batch, when $1 has a NULL element
    std::string listed_batch_keys(bool by_index) const;  // SELECT the listed batches' keys
    std::string verify_target_rows(bool sampled, bool with_null_keys) const;
    std::string append_first_duplicates(const std::string &rows) const;

    ModelSpec spec_;
    IdentQuoter quote_;
    ScratchTables scratch_;
};

}  // namespace incmodel::core
