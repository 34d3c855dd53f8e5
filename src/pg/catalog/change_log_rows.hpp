// The change log's rows (incmodel.source_changes) and the catalog reads change capture needs:
// which models log a source. Written by the capture triggers as the catalog owner with the
// loading transaction's id; read by plans against the snapshot their last plan recorded.
//
//   kind 'insert'   a range of batch (or load) values inserted, with its row and NULL counts
//   kind 'recount'  the batch range of rows an UPDATE or DELETE changed (their keys are queued)
//   kind 'modify'   a change the log cannot describe: every model of the source rebuilds (an
//                   empty column), or the time-based models of that load column reprocess
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// One range as the log stores it: bounds as text in the column's type (none when every logged
// value was NULL), the rows logged and how many of them had a NULL value.
struct LoggedRange {
    std::optional<std::string> lo, hi;
    std::int64_t rows = 0, nulls = 0;
};

// Whether incmodel.source_changes has the 0.3.0 columns (kind, nulls): a library newer than the
// installed catalog keeps logging loads in the old format until ALTER EXTENSION UPDATE.
bool change_log_has_kinds();

// Writes one range of kind 'insert' or 'recount' for the current transaction.
void log_range(Oid source, const std::string &column, const LoggedRange &range, const char *kind);

// Writes a 'modify' row for the current transaction (see the top of this file for column).
void log_modification(Oid source, const std::string &column = "");

// The sources among relids (a relation and its partition ancestors) that models log.
std::vector<Oid> logged_sources_among(const std::vector<Oid> &relids);

// The names of the models that log a source, in name order.
std::vector<std::string> logged_model_names(Oid source);

// Whether another model still logs the source on that column, and on any column.
struct ChangeLogUse {
    bool column = false, source = false;
};
ChangeLogUse change_log_use(Oid source, const std::string &column);

// Drops the log rows of a column nobody logs any more (all of the source's when none is left).
void forget_log_rows(Oid source, const std::string &column, bool source_still_logged);

// Whether a 'modify' row for every model of the source came from a transaction the snapshot
// (nullopt: any) did not see.
bool modification_logged_since(Oid source, const std::optional<std::string> &snapshot);

// The log rows of a column (and the source's 'modify' rows) from transactions the snapshot did
// not see.
struct LogRow {
    std::string kind;
    LoggedRange range;
    std::string txid;  // the writing transaction (xid8 as text)
};
std::vector<LogRow> log_rows_since(Oid source, const std::string &column,
                                   const std::string &snapshot);

// Prunes the rows every model of the source has seen: transactions older than the oldest
// snapshot recorded here (origin) by the models of that column, and of any column for 'modify'.
void prune_seen_log_rows(Oid source, const std::string &column, const std::string &origin);

}  // namespace incmodel::pg
