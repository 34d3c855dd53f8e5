// Change capture beyond INSERT statements into the source (docs/ARCHITECTURE.md, "Change
// capture"): what the row trigger noted but no statement trigger wrote is flushed before commit;
// UPDATE, DELETE and TRUNCATE of a logged source (or any of its partitions), ATTACH/DETACH of a
// non-empty partition and enabling/disabling its triggers log a 'modify' row, after which the
// source's models rebuild. incmodel's own retention deletes are not captured.
#pragma once

#include "pg/pg_headers.hpp"

namespace incmodel::pg {

// Registers the pre-commit flush (once per backend, from _PG_init).
void register_change_capture();

// change_log.cpp: the rows noted in this transaction that no statement trigger wrote yet.
bool pending_ranges_exist();
void flush_pending_ranges();

// Whether incmodel.source_changes has the 0.3.0 columns (kind, nulls): a library newer than the
// installed catalog keeps logging loads in the old format until ALTER EXTENSION UPDATE.
bool change_log_has_kinds();

// Writes a 'modify' row for the source (as the catalog owner, in the current transaction).
void log_modification(Oid source);

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
