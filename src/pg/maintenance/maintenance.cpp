#include "pg/maintenance/maintenance.hpp"

#include <chrono>
#include <vector>

#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/catalog/maintenance_catalog.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/ipc.h"
#include "utils/wait_event.h"
}

namespace incmodel::pg {

void record_maintenance(Oid relid, const std::string &action, const std::string &reason,
                        std::optional<std::int64_t> dead_before, std::optional<double> duration_ms,
                        const std::string &error, const std::string &runner,
                        std::optional<std::int64_t> rows_removed) {
    MaintenanceLogEntry entry;
    entry.relid = relid;
    entry.action = action;
    if (!reason.empty()) entry.reason = reason;
    entry.runner = runner;
    entry.duration_ms = duration_ms;
    entry.dead_before = dead_before;
    entry.rows_removed = rows_removed;
    if (!error.empty()) entry.error = error;
    insert_maintenance_log(entry);
    if (error.empty() && action.rfind("VACUUM", 0) == 0) clear_target_debt(relid);
}

namespace {

// --- the worker ------------------------------------------------------------------------------

// Runs fn in its own transaction with a snapshot; on an error the transaction is aborted and
// the error rethrown.
template <typename Fn>
void in_transaction(Fn &&fn) {
    pg_call([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
    });
    std::exception_ptr error;
    try {
        fn();
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        pg_call([] { AbortCurrentTransaction(); });
        std::rethrow_exception(error);
    }
    pg_call([] {
        PopActiveSnapshot();
        CommitTransactionCommand();
    });
}

// The plan, read by the catalog (as its owner under a pinned search_path: the worker's own
// statements evaluate nothing a table owner wrote), in a database where incmodel is installed.
std::vector<PlannedMaintenance> read_plan() {
    std::vector<PlannedMaintenance> actions;
    in_transaction([&] {
        SpiConnection spi;
        bool installed = spi_exec(
                             "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname "
                             "OPERATOR(pg_catalog.=) 'incmodel')")
                             .scalar() == std::optional<std::string>("t");
        if (!installed) return;
        actions = planned_maintenance();
    });
    return actions;
}

// True when a refresh (or rebuild, alter, drop) of the model holds its lock right now.
bool model_busy(std::int64_t model_id) {
    bool busy = false;
    in_transaction([&] { busy = !lock_model(model_id, false, true); });
    return busy;
}

// VACUUM (SKIP_LOCKED[, ANALYZE]) or ANALYZE (SKIP_LOCKED) of one relation named by its OID, as
// autovacuum names the tables it processes: no name is resolved through any search_path. The
// RangeVar only names the relation in PostgreSQL's own messages (e.g. "skipping ... lock not
// available").
VacuumStmt *vacuum_statement(Oid relid, bool vacuum, bool analyze) {
    VacuumStmt *stmt = makeNode(VacuumStmt);
    stmt->is_vacuumcmd = vacuum;
    stmt->options = list_make1(makeDefElem(pstrdup("skip_locked"), nullptr, -1));
    if (vacuum && analyze)
        stmt->options = lappend(stmt->options, makeDefElem(pstrdup("analyze"), nullptr, -1));
    char *nsp = get_namespace_name(get_rel_namespace(relid));
    char *rel = get_rel_name(relid);
    RangeVar *rv = (nsp && rel) ? makeRangeVar(nsp, rel, -1) : nullptr;
    stmt->rels = list_make1(makeVacuumRelation(rv, relid, NIL));
    return stmt;
}

// Runs VACUUM / ANALYZE as a top-level command in its own transaction, as a client's simple query
// would (VACUUM cannot run in a function or transaction block). An active snapshot is pushed as
// PortalRunUtility does: a lone ANALYZE runs in this transaction, and functions of expression
// indexes it evaluates need one (0.2.0 crashed the server here). vacuum_rel and do_analyze_rel
// switch to the table's owner in a security-restricted operation themselves. vacuum() keeps its
// memory under PortalContext, which must outlive the transactions VACUUM commits.
void run_top_level(Oid relid, bool vacuum, bool analyze) {
    MemoryContext saved_context = CurrentMemoryContext;
    MemoryContext saved_portal = PortalContext;
    MemoryContext cmd = pg_call([] {
        return AllocSetContextCreate(TopMemoryContext, "incmodel maintenance command",
                                     ALLOCSET_DEFAULT_SIZES);
    });
    PortalContext = cmd;
    std::exception_ptr error;
    try {
        pg_call([relid, vacuum, analyze, cmd] {
            SetCurrentStatementStartTimestamp();
            StartTransactionCommand();
            PushActiveSnapshot(GetTransactionSnapshot());
            MemoryContextSwitchTo(cmd);
            VacuumStmt *stmt = vacuum_statement(relid, vacuum, analyze);
            ExecVacuum(make_parsestate(nullptr), stmt, true);
            if (ActiveSnapshotSet()) PopActiveSnapshot();
            CommitTransactionCommand();
        });
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        // Also releases the snapshot and restores the user and security context.
        try {
            pg_call([] { AbortCurrentTransaction(); });
        } catch (...) {
        }
    }
    MemoryContextSwitchTo(saved_context);
    PortalContext = saved_portal;
    pg_call([cmd] { MemoryContextDelete(cmd); });
    if (error) std::rethrow_exception(error);
}

// One action: run, then logged with its outcome. A failure (an owner's index function that
// raises, a dropped table, ...) is logged here and in the server log and ends nothing else.
void run_action(const PlannedMaintenance &a) {
    const std::string action = a.needs_vacuum && a.needs_analyze ? "VACUUM ANALYZE"
                               : a.needs_vacuum                  ? "VACUUM"
                                                                 : "ANALYZE";
    const std::string activity = "incmodel maintenance: " + action + " " + a.relation;
    const char *act = activity.c_str();
    pg_call([act] { pgstat_report_activity(STATE_RUNNING, act); });
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    try {
        run_top_level(a.relid, a.needs_vacuum, a.needs_analyze);
    } catch (...) {
        error = describe_error(std::current_exception()).text();
        const char *msg = error.c_str();
        pg_call([act, msg] { ereport(LOG, (errmsg("%s failed: %s", act, msg))); });
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    in_transaction([&] {
        SpiConnection spi;
        record_maintenance(a.relid, action, a.reason, a.dead_tuples, ms, error, "worker");
    });
    pg_call([] { pgstat_report_activity(STATE_IDLE, nullptr); });
}

// Contains whatever escapes an action (its log row could not be written, say): the server log
// has it, and the cycle goes on with the next table.
void run_action_contained(const PlannedMaintenance &a) {
    try {
        run_action(a);
    } catch (...) {
        const std::string msg = describe_error(std::current_exception()).text();
        const char *m = msg.c_str();
        const char *rel = a.relation.c_str();
        try {
            pg_call([rel, m] {
                ereport(LOG, (errmsg("incmodel maintenance: %s could not be logged: %s", rel, m)));
            });
        } catch (...) {
        }
    }
}

// One cycle: the plan, then its actions (largest dead-tuple count first) until the time
// budget is spent; tables whose model is being refreshed wait for the next cycle. One table's
// failure never stops the others.
void maintenance_cycle() {
    std::vector<PlannedMaintenance> actions = read_plan();
    const auto start = std::chrono::steady_clock::now();
    for (const auto &a : actions) {
        pg_call([] { CHECK_FOR_INTERRUPTS(); });
        const double spent =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (spent >= maintenance_time_budget) break;
        if (a.model_id && model_busy(*a.model_id)) {
            const char *rel = a.relation.c_str();
            pg_call([rel] {
                elog(DEBUG1, "incmodel maintenance: %s skipped, its model is being refreshed", rel);
            });
            continue;
        }
        run_action_contained(a);
    }
}

// As autovacuum does: the worker's session resolves no name through a schema a user can write
// to (its own statements pin their path too; this covers PostgreSQL's).
void pin_worker_search_path() {
    pg_call([] { SetConfigOption("search_path", "", PGC_SUSET, PGC_S_OVERRIDE); });
}

void worker_loop() {
    for (;;) {
        const long wait_ms = maintenance_naptime > 0 ? maintenance_naptime * 1000L : 60000L;
        pg_call([wait_ms] {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms,
                            PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
            if (ConfigReloadPending) {
                ConfigReloadPending = false;
                ProcessConfigFile(PGC_SIGHUP);
            }
        });
        if (maintenance_naptime > 0) {
            EntryDepth cycle;  // a top-level call: the errors carried by the last cycle are freed
            maintenance_cycle();
        }
    }
}

}  // namespace

void register_maintenance_worker() {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 5;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "incmodel");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "incmodel_maintenance_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "incmodel maintenance worker");
    snprintf(worker.bgw_type, BGW_MAXLEN, "incmodel maintenance");
    RegisterBackgroundWorker(&worker);
}

}  // namespace incmodel::pg

using namespace incmodel::pg;

extern "C" {

// The maintenance worker's entry point. A failed VACUUM / ANALYZE is logged and the cycle goes on;
// other errors (reading the plan) end the worker, which the postmaster restarts after
// bgw_restart_time.
PGDLLEXPORT void incmodel_maintenance_main(Datum arg);
void incmodel_maintenance_main(Datum arg) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(maintenance_database, nullptr, 0);
    pgstat_report_appname("incmodel maintenance");
    std::exception_ptr error;
    try {
        pin_worker_search_path();
        worker_loop();
    } catch (...) {
        error = std::current_exception();
    }
    raise_captured(error);
}

PG_FUNCTION_INFO_V1(incmodel_maintenance_settings);
Datum incmodel_maintenance_settings(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        Datum values[4] = {Float8GetDatum(vacuum_dead_ratio), Int64GetDatum(vacuum_dead_min),
                           Float8GetDatum(analyze_mod_ratio), Int64GetDatum(analyze_mod_min)};
        bool nulls[4] = {false, false, false, false};
        return composite_datum(fcinfo, values, nulls);
    });
}

PG_FUNCTION_INFO_V1(incmodel_record_maintenance);
Datum incmodel_record_maintenance(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            "incmodel: relation and action must not be NULL");
        const Oid relid = PG_GETARG_OID(0);
        std::string action = text_arg(fcinfo, 1, "action");
        std::string reason = opt_text_arg(fcinfo, 2).value_or("");
        std::optional<std::int64_t> dead_before;
        if (!PG_ARGISNULL(3)) dead_before = PG_GETARG_INT64(3);
        bool owner = pg_call([relid] { return pg_class_ownercheck(relid, GetUserId()); });
        if (!owner)
            throw UserError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                            "permission denied to record maintenance of this relation", "",
                            "Only the relation's owner may record its maintenance.");
        if (action != "VACUUM" && action != "ANALYZE" && action != "VACUUM ANALYZE")
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: action must be VACUUM, ANALYZE or VACUUM ANALYZE");
        SpiConnection spi;
        record_maintenance(relid, action, reason, dead_before, std::nullopt, "", "command");
        return (Datum)0;
    });
}

}  // extern "C"
