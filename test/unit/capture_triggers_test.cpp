// Unit tests of the capture trigger set's DDL, with no server.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/capture_triggers.hpp"

using namespace incmodel::core;

namespace {

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

// INSERT and COPY copy no row into a transition table: the row trigger's WHEN clause notes the
// value and never queues an event; the statement trigger writes what was noted.
TEST(CaptureTriggers, InsertTriggersReadNoTransitionTable) {
    const std::string row = create_insert_row_trigger(
        "incmodel_rows_abc", "atomic.events", "'atomic.events'", "'etl_tstamp'", "etl_tstamp");
    EXPECT_EQ(row,
              "CREATE TRIGGER incmodel_rows_abc AFTER INSERT ON atomic.events FOR EACH ROW WHEN "
              "(incmodel.note_source_row('atomic.events'::pg_catalog.regclass, 'etl_tstamp', "
              "NEW.etl_tstamp)) EXECUTE FUNCTION incmodel.log_source_change('etl_tstamp')");
    const std::string stmt =
        create_insert_statement_trigger("incmodel_changes_abc", "atomic.events", "'etl_tstamp'");
    EXPECT_TRUE(contains(stmt, "AFTER INSERT ON atomic.events FOR EACH STATEMENT"));
    EXPECT_FALSE(contains(row + stmt, "REFERENCING"));
}

// UPDATE hands its old and new rows, DELETE its old rows, to the key capture; TRUNCATE is noted.
// All three exist on the source and on each partition, and fire ALWAYS (replica mode too).
TEST(CaptureTriggers, UpdateAndDeleteHandTheirRowsToTheKeyCapture) {
    const auto ddl = create_relation_capture_triggers("atomic.events_20260101");
    ASSERT_EQ(ddl.size(), 6u);
    EXPECT_TRUE(contains(ddl[0], "incmodel_truncate AFTER TRUNCATE ON atomic.events_20260101"));
    EXPECT_TRUE(contains(ddl[1],
                         "AFTER UPDATE ON atomic.events_20260101 REFERENCING OLD TABLE AS "
                         "incmodel_old NEW TABLE AS incmodel_new FOR EACH STATEMENT"));
    EXPECT_TRUE(contains(ddl[2],
                         "AFTER DELETE ON atomic.events_20260101 REFERENCING OLD TABLE AS "
                         "incmodel_old FOR EACH STATEMENT"));
    EXPECT_FALSE(contains(ddl[2], "NEW TABLE"));
    for (int i = 1; i <= 2; ++i)
        EXPECT_TRUE(contains(ddl[i], "EXECUTE FUNCTION incmodel.queue_modified_keys()"));
    for (int i = 3; i < 6; ++i) EXPECT_TRUE(contains(ddl[i], "ENABLE ALWAYS TRIGGER"));
}

// The row trigger of UPDATE and DELETE only notes rows (WHEN returns false): what no statement
// trigger takes care of rebuilds.
TEST(CaptureTriggers, ModificationRowTriggerOnlyNotes) {
    EXPECT_EQ(create_modification_row_trigger("atomic.events", "'atomic.events'"),
              "CREATE TRIGGER incmodel_mods AFTER UPDATE OR DELETE ON atomic.events FOR EACH ROW "
              "WHEN (incmodel.note_source_modification('atomic.events'::pg_catalog.regclass)) "
              "EXECUTE FUNCTION incmodel.log_source_modification()");
    EXPECT_EQ(enable_always("atomic.events", "incmodel_mods"),
              "ALTER TABLE atomic.events ENABLE ALWAYS TRIGGER incmodel_mods");
    EXPECT_EQ(drop_trigger("incmodel_mods", "atomic.events"),
              "DROP TRIGGER incmodel_mods ON atomic.events");
}

// A relation whose watch notes no column (only models that recompute whole, or need whole rows)
// gets one row trigger that only counts (its WHEN clause returns false, so no event is queued),
// named by its shape, and a TRUNCATE trigger.
TEST(CaptureTriggers, DimensionTriggersOnlyNote) {
    DimensionWatchShape shape;
    shape.rows = true;
    EXPECT_EQ(shape.signature(), "columns=;rows=1");
    const auto ddl = create_dimension_row_triggers("dm.countries", "'dm.countries'", shape);
    ASSERT_EQ(ddl.size(), 1u);
    EXPECT_EQ(ddl[0],
              "CREATE TRIGGER incmodel_dim AFTER INSERT OR UPDATE OR DELETE ON dm.countries FOR "
              "EACH ROW WHEN (incmodel.note_dimension_change('dm.countries'::pg_catalog."
              "regclass)) EXECUTE FUNCTION incmodel.log_source_modification('columns=;rows=1')");
    EXPECT_EQ(dimension_row_trigger_names(shape), std::vector<std::string>{"incmodel_dim"});
    EXPECT_EQ(create_dimension_truncate_trigger("dm.countries"),
              "CREATE TRIGGER incmodel_dim_truncate AFTER TRUNCATE ON dm.countries FOR EACH "
              "STATEMENT EXECUTE FUNCTION incmodel.log_source_modification()");
}

// Noted columns: the NEW row's values on INSERT and UPDATE, the OLD row's on UPDATE and DELETE,
// each with the columns' numbers, so a statement's changed rows need no transition table.
TEST(CaptureTriggers, DimensionRowTriggersNoteColumnValues) {
    DimensionWatchShape shape;
    shape.attnums = {1, 4};
    shape.columns = {"code", "\"Region\""};
    EXPECT_EQ(shape.signature(), "columns=1,4;rows=0");
    const auto ddl = create_dimension_row_triggers("dm.countries", "'dm.countries'", shape);
    ASSERT_EQ(ddl.size(), 2u);
    EXPECT_EQ(ddl[0],
              "CREATE TRIGGER incmodel_dim AFTER INSERT OR UPDATE ON dm.countries FOR EACH ROW "
              "WHEN (incmodel.note_dimension_values('dm.countries'::pg_catalog.regclass, "
              "'{1,4}'::pg_catalog.int2[], NEW.code, NEW.\"Region\")) EXECUTE FUNCTION "
              "incmodel.log_source_modification('columns=1,4;rows=0')");
    EXPECT_EQ(ddl[1],
              "CREATE TRIGGER incmodel_dim_old AFTER UPDATE OR DELETE ON dm.countries FOR EACH "
              "ROW WHEN (incmodel.note_dimension_values('dm.countries'::pg_catalog.regclass, "
              "'{1,4}'::pg_catalog.int2[], OLD.code, OLD.\"Region\")) EXECUTE FUNCTION "
              "incmodel.log_source_modification('columns=1,4;rows=0')");
    EXPECT_EQ(dimension_row_trigger_names(shape),
              (std::vector<std::string>{"incmodel_dim", "incmodel_dim_old"}));
}

// The statement triggers that turn a dimension change into queued join values: one per event
// (PostgreSQL allows transition tables on single-event triggers only), each enabled ALWAYS.
TEST(CaptureTriggers, DimensionStatementTriggersReadTheChangedRows) {
    const auto ddl = create_dimension_statement_triggers("dm.countries");
    ASSERT_EQ(ddl.size(), 6u);
    EXPECT_EQ(ddl[0],
              "CREATE TRIGGER incmodel_dim_ins AFTER INSERT ON dm.countries REFERENCING NEW TABLE "
              "AS incmodel_new FOR EACH STATEMENT EXECUTE FUNCTION "
              "incmodel.queue_dimension_values()");
    EXPECT_NE(ddl[1].find("AFTER UPDATE ON dm.countries REFERENCING OLD TABLE AS incmodel_old NEW "
                          "TABLE AS incmodel_new"),
              std::string::npos);
    EXPECT_NE(ddl[2].find("AFTER DELETE ON dm.countries REFERENCING OLD TABLE AS incmodel_old FOR"),
              std::string::npos);
    EXPECT_EQ(ddl[5], "ALTER TABLE dm.countries ENABLE ALWAYS TRIGGER incmodel_dim_del");
}
