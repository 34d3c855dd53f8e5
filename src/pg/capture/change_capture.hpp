// Change capture beyond INSERT statements into the source (docs/ARCHITECTURE.md, "Change
// capture"): what the row trigger noted but no statement trigger wrote is flushed before commit.
// UPDATE and DELETE of a logged source (or of any of its partitions) queue the keys of the old
// and new rows for its batch models (key_capture.cpp) and log their batch ranges for a recount;
// what the capture cannot describe (TRUNCATE, ATTACH/DETACH of a non-empty partition, enabling
// or disabling its triggers, rows changed where no statement trigger fires) logs a 'modify' row,
// after which the source's models rebuild. incmodel's own retention deletes are not captured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"
#include "pg/catalog/change_log_rows.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace incmodel::pg {

// Registers the pre-commit flush (once per backend, from _PG_init).
void register_change_capture();

// change_log.cpp: the rows noted in this transaction that no statement trigger wrote yet.
// forget: before commit, the notes go once written; false: a refresh in the transaction reads the
// log (what it writes may roll back with a failed step: the notes stay for the commit, which
// writes them again; a range logged twice is recounted, never lost).
bool pending_ranges_exist();
// A subtransaction aborted (plain C, from the callback): the transaction's loads are logged as
// 'uncounted', since rows they counted may have been rolled back.
void note_subtransaction_abort();
void flush_pending_ranges(bool forget = true);

// The relation and its partition ancestors.
std::vector<Oid> with_ancestors(Oid relid);

// The relation and its partition ancestors that are sources of models with a change log.
std::vector<Oid> logged_sources_of(Oid relid);

// A capture statement trigger fired for the source: the rows the row trigger noted so far were
// its statement's (or a nested statement's, whose own statement trigger fired first) and need no
// 'modify' row at commit. Only a transaction whose statements fire no statement trigger (logical
// replication's apply) keeps notes. Not by count: a row moved to another partition is noted more
// than once (the DELETE on its old partition, and the UPDATE on the root PostgreSQL 15 reports
// for foreign keys).
void release_modified_rows(Oid source);

// Whether incmodel itself is removing rows (retention): nothing is captured.
bool capture_suppressed_now();

// change_log.cpp: logs the range of a transition table's batch values (rows of an UPDATE or
// DELETE whose keys were queued) as a 'recount' row: the next plan recounts those batches.
void log_recount_range(Oid source, Relation rel, Tuplestorestate *rows, const char *column);

// While alive, UPDATE/DELETE of sources are not captured: incmodel's retention removes batches
// every model has processed, and the models keep what they had (README, "retention").
class SuppressCapture {
  public:
    SuppressCapture();
    ~SuppressCapture();
    SuppressCapture(const SuppressCapture &) = delete;
    SuppressCapture &operator=(const SuppressCapture &) = delete;

  private:
    bool saved_;
};

}  // namespace incmodel::pg
