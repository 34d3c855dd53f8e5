// UPDATE and DELETE of a logged source: the capture statement triggers incmodel_upd and
// incmodel_del (AFTER UPDATE / AFTER DELETE, REFERENCING the old and new rows, on the source and
// on each of its partitions, enabled ALWAYS) queue, for every batch model of the source, the keys
// of the old and new rows in incmodel.key_queue, and log the rows' batch ranges as 'recount'
// rows: the next refresh recomputes those keys and recounts those batches instead of rebuilding.
// An upsert's updated rows (INSERT ... ON CONFLICT DO UPDATE) are in the UPDATE transition table.
//
// The keys are the model's SQL: evaluated as the model's owner, in a security-restricted
// operation, on the rows the query's own filters keep; the catalog owner writes the queue from
// parameters. A model whose keys cannot be computed (its expression fails on a changed row) gets
// a 'modify' row instead, so the loader's statement never fails for a model's sake and the model
// rebuilds. A time-based model of the source gets a 'modify' row for its load column (it
// reprocesses the days it has, as before).
#include <string>
#include <vector>

#include "core/refresh_planner.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/catalog/key_queue.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/boundary/subtransaction.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/rel.h"
}

namespace incmodel::pg {

namespace {

// The transition tables of the firing trigger, by the names its REFERENCING clause gave them.
struct TransitionNames {
    std::string old_rows;
    std::optional<std::string> new_rows;  // an UPDATE's
};

// Evaluates the model's keys on the transition tables, as its owner; one text[] per key part.
KeyColumns changed_keys(const ModelRecord &m, const TransitionNames &t) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    std::vector<std::vector<std::optional<std::string>>> parts(m.spec.keys.size());
    std::vector<std::string> tables{t.old_rows};
    if (t.new_rows) tables.push_back(*t.new_rows);
    AsModelOwner owner(m.target_oid);
    PinnedSettings pinned(m.timezone);
    for (const auto &table : tables)
        for (const SqlRow &row : spi_exec(planner.transition_keys(table)).rows)
            for (size_t i = 0; i < parts.size(); ++i) parts[i].push_back(row.at(i));
    pinned.close();
    return parts;
}

// What one model of the source needs for the changed rows: its keys queued (returns its batch
// column, whose ranges are then recounted), or a 'modify' row (returns nothing).
std::optional<std::string> capture_for_model(const std::string &name, Oid source,
                                             const TransitionNames &t) {
    ModelRecord m;
    std::exception_ptr failed = in_subtransaction([&] {
        m = load_model(name);
        if (m.spec.time || !m.depends_on.empty()) return;
        queue_key_sets(core::RefreshPlanner(m.spec, quote_ident), m.spec.id, changed_keys(m, t));
    });
    if (!failed && m.spec.time) {
        log_modification(source, m.spec.batch_column);
        return std::nullopt;
    }
    if (!failed) return m.spec.batch_column;
    const ErrorSummary error = describe_error(failed);
    report(WARNING,
           "incmodel: the keys of the rows this statement changed could not be computed for "
           "model \"" +
               name + "\"; its next refresh rebuilds it",
           error.text(), "");
    if (m.spec.id > 0) {
        queue_full_recompute(m.spec.id);
    } else {
        log_modification(source, "");  // the model could not even be loaded
    }
    return std::nullopt;
}

// The statement's changed rows for every model of the sources the relation belongs to.
void capture_changed_rows(TriggerData *td) {
    Relation rel = td->tg_relation;
    const Oid relid = RelationGetRelid(rel);
    TransitionNames t{td->tg_trigger->tgoldtable, std::nullopt};
    if (td->tg_newtable != nullptr && td->tg_trigger->tgnewtable != nullptr)
        t.new_rows = std::string(td->tg_trigger->tgnewtable);
    for (Oid source : logged_sources_of(relid)) {
        release_modified_rows(source);
        std::vector<std::string> recount_columns;
        for (const std::string &name : logged_model_names(source)) {
            std::optional<std::string> column = capture_for_model(name, source, t);
            if (!column) continue;
            bool seen = false;
            for (const auto &c : recount_columns) seen = seen || c == *column;
            if (!seen) recount_columns.push_back(*column);
        }
        for (const auto &column : recount_columns) {
            log_recount_range(source, rel, td->tg_oldtable, column.c_str());
            if (t.new_rows) log_recount_range(source, rel, td->tg_newtable, column.c_str());
        }
    }
}

}  // namespace

}  // namespace incmodel::pg

using namespace incmodel::pg;

extern "C" {

// incmodel_upd / incmodel_del: see the top of this file.
PG_FUNCTION_INFO_V1(incmodel_queue_modified_keys);
Datum incmodel_queue_modified_keys(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        if (!CALLED_AS_TRIGGER(fcinfo))
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.queue_modified_keys() must be called as a trigger");
        auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
        if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || td->tg_oldtable == nullptr ||
            td->tg_trigger->tgoldtable == nullptr)
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.queue_modified_keys() must be an AFTER UPDATE or DELETE "
                            "statement trigger referencing the old rows");
        if (capture_suppressed_now()) return PointerGetDatum(nullptr);
        const std::int64_t rows = pg_call(
            [td] { return static_cast<std::int64_t>(tuplestore_tuple_count(td->tg_oldtable)); });
        if (rows == 0) return PointerGetDatum(nullptr);
        SpiConnection spi;
        pg_call([td] {
            if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
                elog(ERROR, "incmodel: could not register the transition tables");
        });
        capture_changed_rows(td);
        return PointerGetDatum(nullptr);
    });
}

}  // extern "C"
