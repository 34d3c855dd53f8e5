// The change-log trigger (incmodel.log_source_change): AFTER INSERT ... FOR EACH STATEMENT with
// the transition table incmodel_new_rows. It scans the inserted rows once in C, keeping the
// smallest and largest batch value with the type's own btree comparison, and writes one row to
// incmodel.source_changes. Written in C because it runs inside every load: it must cost the
// loader next to nothing.
#include <string>

#include "pg/fmgr_args.hpp"
#include "pg/guard.hpp"
#include "pg/spi_client.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/datum.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
}

using namespace incmodel::pg;

namespace {

struct BatchRange {
    int64 rows = 0;
    bool any = false;
    Datum lo = 0, hi = 0;
};

// One pass over the transition table; no C++ object lives inside (it runs under pg_call).
void scan_range(TriggerData *td, AttrNumber att, BatchRange *range) {
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    Form_pg_attribute attr = TupleDescAttr(desc, att - 1);
    TypeCacheEntry *tce = lookup_type_cache(attr->atttypid, TYPECACHE_CMP_PROC_FINFO);
    if (!OidIsValid(tce->cmp_proc_finfo.fn_oid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("incmodel: the batch column's type has no btree ordering")));
    Tuplestorestate *rows = td->tg_newtable;
    int ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
    tuplestore_select_read_pointer(rows, ptr);
    tuplestore_rescan(rows);
    TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    while (tuplestore_gettupleslot(rows, true, false, slot)) {
        bool isnull;
        Datum v = slot_getattr(slot, att, &isnull);
        range->rows++;
        if (isnull) continue;
        if (!range->any) {
            range->lo = datumCopy(v, attr->attbyval, attr->attlen);
            range->hi = range->lo;
            range->any = true;
            continue;
        }
        if (DatumGetInt32(
                FunctionCall2Coll(&tce->cmp_proc_finfo, attr->attcollation, v, range->lo)) < 0)
            range->lo = datumCopy(v, attr->attbyval, attr->attlen);
        else if (DatumGetInt32(
                     FunctionCall2Coll(&tce->cmp_proc_finfo, attr->attcollation, v, range->hi)) > 0)
            range->hi = datumCopy(v, attr->attbyval, attr->attlen);
    }
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_select_read_pointer(rows, 0);
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_log_source_change);
Datum incmodel_log_source_change(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        if (!CALLED_AS_TRIGGER(fcinfo))
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.log_source_change() must be called as a trigger");
        auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
        if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || td->tg_newtable == nullptr ||
            td->tg_trigger->tgnargs != 1)
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.log_source_change() must be an AFTER INSERT statement "
                            "trigger with a transition table and the batch column as argument");
        const char *column = td->tg_trigger->tgargs[0];
        Relation rel = td->tg_relation;
        AttrNumber att =
            pg_call([rel, column] { return SPI_fnumber(RelationGetDescr(rel), column); });
        if (att <= 0)
            throw UserError(
                ERRCODE_UNDEFINED_COLUMN,
                std::string("incmodel: the source has no batch column \"") + column + "\"");
        BatchRange range;
        BatchRange *r = &range;
        pg_call([td, att, r] { scan_range(td, att, r); });
        if (range.rows == 0) return PointerGetDatum(nullptr);
        Oid type = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
        std::optional<std::string> lo, hi;
        if (range.any) {
            Datum l = range.lo, h = range.hi;
            lo = pg_call([type, l] {
                Oid out;
                bool varlena;
                getTypeOutputInfo(type, &out, &varlena);
                return OidOutputFunctionCall(out, l);
            });
            hi = pg_call([type, h] {
                Oid out;
                bool varlena;
                getTypeOutputInfo(type, &out, &varlena);
                return OidOutputFunctionCall(out, h);
            });
        }
        SpiConnection spi;
        spi_exec(
            "INSERT INTO incmodel.source_changes (source, batch_column, txid, lo, hi, rows) "
            "VALUES ($1::oid, $2, pg_catalog.pg_current_xact_id(), $3, $4, $5::int8)",
            {SqlParam::value(std::to_string(RelationGetRelid(rel))), SqlParam::value(column),
             lo ? SqlParam::value(*lo) : SqlParam::null(),
             hi ? SqlParam::value(*hi) : SqlParam::null(),
             SqlParam::value(std::to_string(range.rows))});
        return PointerGetDatum(nullptr);
    });
}

}  // extern "C"
