// The DDL of the capture trigger set incmodel puts on a logged source (src/pg/capture/
// source_triggers.cpp runs it; docs/ARCHITECTURE.md, "Change capture", says what each does).
// Every argument is already quoted by the caller: identifiers by quote_identifier, the
// relation as its regclass text, the literals by quote_literal.
#pragma once

#include <string>
#include <vector>

namespace incmodel::core {

// The triggers every model of a source shares (the row and statement INSERT triggers are named
// per batch column, by the adapter).
inline constexpr const char *kModsTrigger = "incmodel_mods";
inline constexpr const char *kTruncateTrigger = "incmodel_truncate";
inline constexpr const char *kUpdateTrigger = "incmodel_upd";
inline constexpr const char *kDeleteTrigger = "incmodel_del";

// AFTER INSERT, each row, WHEN note_source_row(source, column, NEW.column): widens the noted
// range and returns false, so no row event is queued (COPY keeps its multi-insert path).
std::string create_insert_row_trigger(const std::string &trigger, const std::string &relation,
                                      const std::string &source_literal,
                                      const std::string &column_literal, const std::string &column);

// AFTER INSERT, each statement: writes the range the row trigger noted.
std::string create_insert_statement_trigger(const std::string &trigger, const std::string &relation,
                                            const std::string &column_literal);

// AFTER UPDATE OR DELETE, each row, WHEN note_source_modification(source): notes rows changed,
// which a statement trigger takes care of (or, where none fires, a rebuild).
std::string create_modification_row_trigger(const std::string &relation,
                                            const std::string &source_literal);

// The statement triggers of TRUNCATE, UPDATE (old and new rows) and DELETE (old rows), created
// on the source and on each of its partitions, and their ENABLE ALWAYS.
std::vector<std::string> create_relation_capture_triggers(const std::string &relation);

// The triggers on a relation a model reads besides its source (a dimension): a row trigger that
// only notes the change (WHEN note_dimension_change(relation) returns false: no event is
// queued), and TRUNCATE. relation_literal names the relation the notes are taken for (the
// trigger's table; partitions' clones keep it).
inline constexpr const char *kDimensionTrigger = "incmodel_dim";
inline constexpr const char *kDimensionTruncateTrigger = "incmodel_dim_truncate";
std::string create_dimension_row_trigger(const std::string &relation,
                                         const std::string &relation_literal);
std::string create_dimension_truncate_trigger(const std::string &relation);

// The statement triggers that map a dimension change to keys: AFTER INSERT (new rows), UPDATE
// (old and new rows) and DELETE (old rows), each REFERENCING its transition tables, calling
// incmodel.queue_dimension_values(). Created on the relation and on each of its partitions;
// they take care of the rows incmodel_dim noted (where none fires, the notes rebuild).
inline constexpr const char *kDimensionInsertTrigger = "incmodel_dim_ins";
inline constexpr const char *kDimensionUpdateTrigger = "incmodel_dim_upd";
inline constexpr const char *kDimensionDeleteTrigger = "incmodel_dim_del";
std::vector<std::string> create_dimension_statement_triggers(const std::string &relation);

// ALTER TABLE ... ENABLE ALWAYS TRIGGER: fires in replica mode too.
std::string enable_always(const std::string &relation, const std::string &trigger);

// DROP TRIGGER of a trigger known to exist.
std::string drop_trigger(const std::string &trigger, const std::string &relation);

}  // namespace incmodel::core
