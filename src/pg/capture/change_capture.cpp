#include "pg/capture/change_capture.hpp"

#include <string>
#include <vector>

#include "core/capture_triggers.hpp"

#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/capture/dimension_capture.hpp"
#include "pg/capture/dimension_notes.hpp"
#include "pg/capture/dimension_triggers.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/capture/transaction_list.hpp"
#include "pg/catalog/change_log_rows.hpp"
#include "pg/boundary/spi_client.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "tcop/deparse_utility.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

using namespace incmodel::pg;

namespace {

bool capture_suppressed = false;

// Sources whose rows were updated or deleted (or that were truncated) in the current
// transaction, with the rows the capture statement triggers have not taken care of: plain C data
// in TopTransactionContext, dropped with the transaction.
struct ModifiedSource {
    Oid source;
    int64 rows;      // noted by incmodel_mods' WHEN clause since a statement trigger ran
    bool truncated;  // a TRUNCATE: no statement trigger can take care of it
    ModifiedSource *next;
};
TransactionList<ModifiedSource> modified;

ModifiedSource *find_modified(Oid relid) {
    return modified.find([relid](const ModifiedSource *m) { return m->source == relid; });
}

// The relation's entry in this transaction's notes, created on first use. Plain C: called for
// every noted row (from a WHEN clause), it allocates once per relation and transaction.
ModifiedSource *noted(Oid relid) {
    ModifiedSource *m = find_modified(relid);
    if (m == nullptr) {
        m = modified.add();
        m->source = relid;
    }
    return m;
}

// Notes rows of a relation as modified (rows 0: truncated).
void note_modified(Oid relid, int64 rows) {
    ModifiedSource *m = noted(relid);
    m->rows += rows;
    if (rows == 0) m->truncated = true;
}

bool modifications_pending() {
    if (!modified.current()) return false;
    for (ModifiedSource *m = modified.head(); m != nullptr; m = m->next)
        if (m->rows > 0 || m->truncated) return true;
    return false;
}

}  // namespace

namespace incmodel::pg {

std::vector<Oid> with_ancestors(Oid relid) {
    List *ancestors = pg_call([relid] { return get_partition_ancestors(relid); });
    std::vector<Oid> relids{relid};
    ListCell *lc;
    foreach (lc, ancestors) relids.push_back(lfirst_oid(lc));
    return relids;
}

// The relation and its partition ancestors that are sources of models with a change log.
std::vector<Oid> logged_sources_of(Oid relid) {
    return logged_sources_among(with_ancestors(relid));
}

}  // namespace incmodel::pg

namespace {

// Logs every relation with modified rows no capture trigger took care of (a TRUNCATE; logical
// replication's apply, which fires no statement trigger) against the logged sources it belongs
// to: their models rebuild. A truncated relation models read besides their source recomputes
// them whole (its changed rows are dimension_capture.cpp's).
void flush_modifications() {
    if (!modifications_pending()) return;
    struct Noted {
        Oid relid;
        bool source_changed, dimension_changed;
    };
    std::vector<Noted> noted;
    for (ModifiedSource *m = modified.head(); m != nullptr; m = m->next)
        noted.push_back({m->source, m->rows > 0 || m->truncated, m->truncated});
    modified.clear();
    for (const Noted &n : noted) {
        if (n.source_changed)
            for (Oid source : logged_sources_of(n.relid)) log_modification(source);
        if (n.dimension_changed) notify_dimension_change(with_ancestors(n.relid));
    }
}

// Before commit (or PREPARE): the log rows of what this transaction changed and no statement
// trigger wrote. An ERROR here aborts the transaction, so nothing commits unlogged.
void at_xact_event(XactEvent event, void *) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
        capture_suppressed = false;
        return;
    }
    if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE) return;
    // Registered in the postmaster when preloaded, so every process has it: most have nothing.
    if (MyProc == nullptr ||
        (!modifications_pending() && !pending_ranges_exist() && !dimension_notes_pending()))
        return;
    (void)entry_point([]() -> Datum {
        pg_call([] { PushActiveSnapshot(GetTransactionSnapshot()); });
        {
            SpiConnection spi;
            flush_pending_ranges();
            flush_modifications();
            flush_dimension_notes();
        }
        pg_call([] { PopActiveSnapshot(); });
        return (Datum)0;
    });
}

// A subtransaction aborted: the rows noted so far may be partly rolled back (plain C).
void at_subxact_event(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    if (event == SUBXACT_EVENT_ABORT_SUB) note_subtransaction_abort();
}

// Whether a relation (with its partitions) holds any page: a partition attached or detached
// with rows changes the source's events; an empty one (pg_partman's new partitions) does not.
bool holds_rows(Oid relid) {
    List *tree = pg_call([relid] { return find_all_inheritors(relid, NoLock, nullptr); });
    ListCell *lc;
    foreach (lc, tree) {
        const Oid rel = lfirst_oid(lc);
        const char kind = pg_call([rel] { return get_rel_relkind(rel); });
        if (kind == RELKIND_PARTITIONED_TABLE) continue;
        if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW) return true;  // foreign, ...
        BlockNumber blocks = pg_call([rel] {
            Relation r = table_open(rel, AccessShareLock);
            BlockNumber n = RelationGetNumberOfBlocks(r);
            table_close(r, AccessShareLock);
            return n;
        });
        if (blocks > 0) return true;
    }
    return false;
}

// Gives a new partition of a logged source the statement triggers of TRUNCATE, UPDATE and DELETE
// (its row triggers are cloned by PostgreSQL itself), enabled ALWAYS as incmodel's other
// triggers.
void add_capture_triggers(Oid partition) {
    if (logged_sources_of(partition).empty()) return;
    AsCatalogOwner owner;
    const std::string rel = regclass_text(partition);
    const bool exists = spi_exec(
                            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE "
                            "tgrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND tgname "
                            "OPERATOR(pg_catalog.=) 'incmodel_truncate')",
                            {SqlParam::int64(partition)})
                            .scalar() == std::optional<std::string>("t");
    if (exists) return;
    add_partition_capture_triggers(rel);
}

// The partition an ATTACH/DETACH subcommand names (the collected address does not carry it).
Oid partition_of_command(const AlterTableCmd *cmd, const ObjectAddress &address) {
    if (OidIsValid(address.objectId) && address.classId == RelationRelationId &&
        address.objectSubId == 0)
        return address.objectId;
    if (cmd->def == nullptr || !IsA(cmd->def, PartitionCmd)) return InvalidOid;
    RangeVar *name = reinterpret_cast<PartitionCmd *>(cmd->def)->name;
    return pg_call([name] { return RangeVarGetRelid(name, NoLock, true); });
}

// Whether an ALTER TABLE subcommand changes what the source holds or whether its triggers fire.
// Making one of incmodel's own triggers fire ALWAYS is incmodel's doing and loses nothing.
bool subcommand_modifies(const AlterTableCmd *cmd, const ObjectAddress &address) {
    switch (cmd->subtype) {
        case AT_AttachPartition:
        case AT_DetachPartition:
        case AT_DetachPartitionFinalize: {
            const Oid partition = partition_of_command(cmd, address);
            return !OidIsValid(partition) || holds_rows(partition);
        }
        case AT_EnableAlwaysTrig:
            return cmd->name == nullptr || strncmp(cmd->name, "incmodel_", 9) != 0;
        case AT_EnableTrig:
        case AT_EnableReplicaTrig:
        case AT_DisableTrig:
        case AT_EnableTrigAll:
        case AT_DisableTrigAll:
        case AT_EnableTrigUser:
        case AT_DisableTrigUser:
            return true;
        default:
            return false;
    }
}

// incmodel's triggers on a relation, set back to ALWAYS after an ENABLE TRIGGER ALL/USER or by
// name, which would leave them firing only outside replica mode.
void reassert_always(Oid relid) {
    AsCatalogOwner owner;
    const std::string rel = regclass_text(relid);
    for (const auto &row :
         spi_exec("SELECT pg_catalog.quote_ident(tgname) FROM pg_catalog.pg_trigger WHERE tgrelid "
                  "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND tgname LIKE 'incmodel\\_%' AND "
                  "tgenabled OPERATOR(pg_catalog.=) 'O'",
                  {SqlParam::int64(relid)})
             .rows)
        spi_exec(incmodel::core::enable_always(rel, *row[0]));
}

bool enables_triggers(AlterTableType t) {
    return t == AT_EnableTrig || t == AT_EnableTrigAll || t == AT_EnableTrigUser ||
           t == AT_EnableReplicaTrig;
}

// One DDL command's effect on logged sources.
void inspect_command(const CollectedCommand *cmd) {
    if (cmd->in_extension) return;
    if (cmd->type == SCT_Simple && cmd->parsetree != nullptr && IsA(cmd->parsetree, CreateStmt) &&
        reinterpret_cast<const CreateStmt *>(cmd->parsetree)->partbound != nullptr) {
        add_capture_triggers(cmd->d.simple.address.objectId);
        watch_new_partition(cmd->d.simple.address.objectId, false);
        return;
    }
    if (cmd->type != SCT_AlterTable) return;
    const Oid relid = cmd->d.alterTable.objectId;
    bool modifies = false, enables = false;
    std::vector<Oid> attached;
    ListCell *lc;
    foreach (lc, cmd->d.alterTable.subcmds) {
        auto *sub = static_cast<CollectedATSubcmd *>(lfirst(lc));
        if (sub->parsetree == nullptr || !IsA(sub->parsetree, AlterTableCmd)) continue;
        auto *at = reinterpret_cast<AlterTableCmd *>(sub->parsetree);
        if (at->subtype == AT_AttachPartition) {
            const Oid partition = partition_of_command(at, sub->address);
            if (OidIsValid(partition)) attached.push_back(partition);
        }
        enables = enables || enables_triggers(at->subtype);
        modifies = modifies || subcommand_modifies(at, sub->address);
    }
    for (Oid child : attached) {
        List *tree = pg_call([child] { return find_all_inheritors(child, NoLock, nullptr); });
        ListCell *c;
        foreach (c, tree) add_capture_triggers(lfirst_oid(c));
        const bool rows = holds_rows(child);
        foreach (c, tree) watch_new_partition(lfirst_oid(c), rows && lfirst_oid(c) == child);
    }
    if (modifies) {
        for (Oid source : logged_sources_of(relid)) log_modification(source);
        notify_dimension_change(with_ancestors(relid));
    }
    if (enables && !logged_sources_of(relid).empty()) reassert_always(relid);
}

}  // namespace

namespace incmodel::pg {

void register_change_capture() {
    static bool registered = false;
    if (registered) return;
    RegisterXactCallback(at_xact_event, nullptr);
    RegisterSubXactCallback(at_subxact_event, nullptr);
    registered = true;
}

void release_modified_rows(Oid source) {
    ModifiedSource *m = pg_call([source] { return find_modified(source); });
    if (m != nullptr) m->rows = 0;
}

bool capture_suppressed_now() {
    return capture_suppressed;
}

SuppressCapture::SuppressCapture() : saved_(capture_suppressed) {
    capture_suppressed = true;
}

SuppressCapture::~SuppressCapture() {
    capture_suppressed = saved_;
}

}  // namespace incmodel::pg

extern "C" {

// The WHEN clause of incmodel_mods, the AFTER UPDATE OR DELETE row trigger (cloned to every
// partition): notes the source as modified and returns false, so no row event is queued. Plain
// C, called once per updated or deleted row.
PG_FUNCTION_INFO_V1(incmodel_note_source_modification);
Datum incmodel_note_source_modification(PG_FUNCTION_ARGS) {
    if (!capture_suppressed && !PG_ARGISNULL(0)) note_modified(PG_GETARG_OID(0), 1);
    PG_RETURN_BOOL(false);
}

// The TRUNCATE statement trigger of a source and of each of its partitions (and the function of
// incmodel_mods, whose WHEN clause keeps it from running): notes the relation as modified.
PG_FUNCTION_INFO_V1(incmodel_log_source_modification);
Datum incmodel_log_source_modification(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("incmodel.log_source_modification() must be called as a trigger")));
    auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!capture_suppressed) note_modified(RelationGetRelid(td->tg_relation), 0);
    return PointerGetDatum(nullptr);
}

// The ddl_command_end event trigger: ATTACH/DETACH of a partition with rows and any change to
// whether a logged source's triggers fire log a 'modify' row; a new partition gets the TRUNCATE
// trigger.
PG_FUNCTION_INFO_V1(incmodel_on_ddl_command);
Datum incmodel_on_ddl_command(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
            throw UserError(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.on_ddl_command() must be called as an event trigger");
        SpiConnection spi;
        const uint64 n = pg_call([] {
            int rc = SPI_execute("SELECT command FROM pg_catalog.pg_event_trigger_ddl_commands()",
                                 false, 0);
            return rc == SPI_OK_SELECT ? SPI_processed : (uint64)0;
        });
        SPITupleTable *table = SPI_tuptable;
        std::vector<const CollectedCommand *> commands;
        for (uint64 i = 0; i < n; ++i) {
            Datum d = pg_call([table, i] {
                bool isnull = false;
                Datum v = SPI_getbinval(table->vals[i], table->tupdesc, 1, &isnull);
                return isnull ? (Datum)0 : v;
            });
            if (d != (Datum)0) commands.push_back(reinterpret_cast<CollectedCommand *>(d));
        }
        for (const CollectedCommand *cmd : commands) inspect_command(cmd);
        return PointerGetDatum(nullptr);
    });
}

}  // extern "C"
