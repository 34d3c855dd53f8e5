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

// The triggers on a relation a model reads besides its source (a dimension). What they note is
// its watch's shape: the columns whose values routes to the source start from (the refreshes
// map those values to keys), and whether a model needs whole changed rows (a key read through
// the relation, a route starting from an expression), which only statement triggers REFERENCING
// the changed rows give.
struct DimensionWatchShape {
    std::vector<int> attnums;          // the noted columns, ascending
    std::vector<std::string> columns;  // their names, quoted, in the same order
    bool rows = false;                 // statement triggers read the changed rows
    // Names the shape in the row trigger's argument, so a watch whose shape changed is redone.
    std::string signature() const;
};

// The row triggers, created on the relation (PostgreSQL clones them to its partitions);
// relation_literal names the relation the notes are taken for (partitions' clones keep it).
// Their WHEN clauses note the change and return false, so no row event is queued. With noted
// columns: incmodel_dim (AFTER INSERT OR UPDATE, the NEW row's values) and incmodel_dim_old
// (AFTER UPDATE OR DELETE, the OLD row's), both WHEN incmodel.note_dimension_values(relation,
// attnums, values...); without: incmodel_dim (AFTER INSERT OR UPDATE OR DELETE) WHEN
// incmodel.note_dimension_change(relation), which only counts.
inline constexpr const char *kDimensionTrigger = "incmodel_dim";
inline constexpr const char *kDimensionOldTrigger = "incmodel_dim_old";
inline constexpr const char *kDimensionTruncateTrigger = "incmodel_dim_truncate";
std::vector<std::string> dimension_row_trigger_names(const DimensionWatchShape &shape);
std::vector<std::string> create_dimension_row_triggers(const std::string &relation,
                                                       const std::string &relation_literal,
                                                       const DimensionWatchShape &shape);
std::string create_dimension_truncate_trigger(const std::string &relation);

// The statement triggers of a shape with rows: AFTER INSERT (new rows), UPDATE (old and new
// rows) and DELETE (old rows), each REFERENCING its transition tables, calling
// incmodel.queue_dimension_values(). Created on the relation and on each of its partitions;
// they take care of the rows the row triggers counted for the models that need whole rows
// (where none fires, those models recompute whole).
inline constexpr const char *kDimensionInsertTrigger = "incmodel_dim_ins";
inline constexpr const char *kDimensionUpdateTrigger = "incmodel_dim_upd";
inline constexpr const char *kDimensionDeleteTrigger = "incmodel_dim_del";
std::vector<std::string> create_dimension_statement_triggers(const std::string &relation);

// ALTER TABLE ... ENABLE ALWAYS TRIGGER: fires in replica mode too.
std::string enable_always(const std::string &relation, const std::string &trigger);

// DROP TRIGGER of a trigger known to exist.
std::string drop_trigger(const std::string &trigger, const std::string &relation);

}  // namespace incmodel::core
