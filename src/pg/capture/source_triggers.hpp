// The change-capture triggers incmodel puts on a model's source (docs/ARCHITECTURE.md, "Change
// capture"), all enabled ALWAYS so that they fire in replica mode (logical replication apply,
// pg_restore --disable-triggers):
//
//   incmodel_rows_<col>     AFTER INSERT, row, WHEN incmodel.note_source_row(...)   (cloned to
//   incmodel_mods           AFTER UPDATE OR DELETE, row, WHEN note_source_modification  partitions)
//   incmodel_changes_<col>  AFTER INSERT, statement: writes the noted range
//   incmodel_upd            AFTER UPDATE, statement, old and new rows  } on the source and on
//   incmodel_del            AFTER DELETE, statement, old rows          } each partition: queue
//                                                                        the changed rows' keys
//   incmodel_truncate       AFTER TRUNCATE, statement, on the source and on each partition
//
// <col> is a digest of the batch column; the others serve every model of the source. Rows that
// incmodel_mods noted and no incmodel_upd/_del took care of (logical replication's apply fires no
// statement trigger) log a 'modify' row at commit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

// True when every capture trigger is on the source (and its partitions) and enabled ALWAYS:
// only then can the plan trust the log.
bool change_trigger_active(const ModelRecord &m);

// Adds the triggers when the caller may (owner or TRIGGER privilege on the source) and returns
// true; otherwise (or for a view) the model plans by counting, and a NOTICE says so.
bool ensure_change_trigger(const ModelRecord &m);

// The last model of a source (and batch column) takes its triggers and log rows with it.
void drop_change_trigger_if_unused(const ModelRecord &m);

// A relation's name as its regclass text (qualified unless on the pinned search_path).
std::string regclass_text(Oid relid);

// The partitions of a relation, every level, as regclass texts (none for a plain table).
std::vector<std::string> partitions_of(Oid relid);

// Whether the current user may put triggers on the relation (its owner, or TRIGGER on it), as
// CREATE TRIGGER requires.
bool may_add_triggers(Oid relid);

// DROP TRIGGER of a trigger (its quote_ident'ed name) that may be absent, without IF EXISTS's
// NOTICE.
void drop_trigger(const std::string &quoted_name, const std::string &relation);

// Creates incmodel_truncate, incmodel_upd and incmodel_del on one relation of a source's tree,
// enabled ALWAYS (as the catalog owner: the caller's DDL right was checked).
void add_partition_capture_triggers(const std::string &relation);

// Whether the log holds a 'modify' row for every model of the source (TRUNCATE, ATTACH/DETACH,
// triggers disabled, rows changed where no capture statement trigger fired) that the model's
// last plan did not see: its next refresh rebuilds.
bool source_modified_since_plan(const ModelRecord &m);

// What the log recorded for a time-based model's load column since the snapshot its last run
// recorded (transactions that snapshot could not see): the loaded ranges (text in the column's
// type), rows loaded with a NULL load value, and whether a 'modify' row came. used is false when
// the model has no usable log (no trigger, no recorded snapshot): nothing can be said then.
struct LoggedLoads {
    bool used = false;
    bool modified = false;
    std::int64_t nulls = 0;
    std::vector<std::string> los, his;
};
LoggedLoads loads_since_plan(const ModelRecord &m);

// The snapshot a run records as where the next run's log reading starts: the current snapshot
// with the current transaction's own xid, when it has one, added as in progress (PostgreSQL
// leaves it out, so a load later in the same transaction would look already seen).
std::string capture_snapshot();

}  // namespace incmodel::pg
