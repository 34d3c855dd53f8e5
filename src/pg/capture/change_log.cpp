// The change log's triggers on a source. incmodel adds two to every source it logs:
//
//   AFTER INSERT ... FOR EACH ROW WHEN (incmodel.note_source_row(source, column, NEW.column))
//   AFTER INSERT ... FOR EACH STATEMENT EXECUTE FUNCTION incmodel.log_source_change(column)
//
// The WHEN function widens a backend-local range of the batch values inserted in the current
// transaction and returns false, so no row event is ever queued and COPY keeps its multi-insert
// path; the statement trigger takes the statement's range and keeps it for the commit, which
// writes one row to incmodel.source_changes per distinct range (a stream of small INSERT
// statements of one batch in a transaction: one row). This costs a loader one comparison per
// row and, per transaction, one INSERT of a saved plan. (0.1.0 read an AFTER STATEMENT transition
// table instead, which copied every inserted row into a tuplestore: 5-12% of a COPY. Those triggers
// still work.)
#include <string>
#include <vector>

#include "pg/boundary/fmgr_args.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/capture/transaction_list.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "storage/proc.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
}

using namespace incmodel::pg;

namespace {

struct BatchRange {
    int64 rows = 0;
    int64 nulls = 0;  // rows whose batch value is NULL
    bool any = false;
    Datum lo = 0, hi = 0;
};

// The range noted for one (source, column) in the current transaction, in TopTransactionContext
// (plain C data: it lives across statements and is simply dropped with the transaction).
struct PendingRange {
    Oid source;
    char column[NAMEDATALEN];
    Oid type;
    int16 typlen;
    bool byval;
    int64 rows;
    int64 nulls;
    bool any;
    Datum lo, hi;
    PendingRange *next;
};

TransactionList<PendingRange> pending;

// The transaction in which a subtransaction aborted: rows its statements noted may have been
// rolled back, so its loads are logged as 'uncounted' (loads whose batches a plan counts in the
// source) rather than 'insert' (whose row counts a plan may take for the source's).
LocalTransactionId aborted_subtransaction_in = InvalidLocalTransactionId;

PendingRange *find_pending(Oid source, const char *column) {
    return pending.find([source, column](const PendingRange *p) {
        return p->source == source && strncmp(p->column, column, NAMEDATALEN) == 0;
    });
}

// How the WHEN function compares values: directly for the usual batch types, else through the
// type's btree comparison.
enum class CompareKind { int64_values, int32_values, btree };

struct NoteCache {
    LocalTransactionId lxid;
    PendingRange *range;
    Oid type;
    CompareKind kind;
    FmgrInfo *cmp;
    Oid collation;
};

int compare_values(const NoteCache *c, Datum a, Datum b) {
    switch (c->kind) {
        case CompareKind::int64_values: {
            int64 x = DatumGetInt64(a), y = DatumGetInt64(b);
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        case CompareKind::int32_values: {
            int32 x = DatumGetInt32(a), y = DatumGetInt32(b);
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        case CompareKind::btree:
            break;
    }
    return DatumGetInt32(FunctionCall2Coll(c->cmp, c->collation, a, b));
}

// Replaces a bound with a copy of v in the transaction's memory (frees the old copy).
void store_bound(PendingRange *r, Datum *bound, Datum v, bool had_value) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    Datum copy = datumCopy(v, r->byval, r->typlen);
    MemoryContextSwitchTo(old);
    if (had_value && !r->byval) pfree(DatumGetPointer(*bound));
    *bound = copy;
}

// Sets up the per-call-site cache: the value's type and how to compare it.
NoteCache *note_cache(FunctionCallInfo fcinfo) {
    auto *c = static_cast<NoteCache *>(fcinfo->flinfo->fn_extra);
    if (c != nullptr) return c;
    c = static_cast<NoteCache *>(
        MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(NoteCache)));
    c->lxid = InvalidLocalTransactionId;
    c->type = get_fn_expr_argtype(fcinfo->flinfo, 2);
    if (!OidIsValid(c->type))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("incmodel.note_source_row: cannot determine the value's type")));
    c->collation = PG_GET_COLLATION();
    switch (c->type) {
        case INT8OID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
            c->kind = CompareKind::int64_values;
            break;
        case INT4OID:
        case DATEOID:
            c->kind = CompareKind::int32_values;
            break;
        default: {
            TypeCacheEntry *tce = lookup_type_cache(c->type, TYPECACHE_CMP_PROC_FINFO);
            if (!OidIsValid(tce->cmp_proc_finfo.fn_oid))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                                errmsg("incmodel: the batch column's type %s has no btree ordering",
                                       format_type_be(c->type))));
            c->kind = CompareKind::btree;
            c->cmp = &tce->cmp_proc_finfo;
        }
    }
    fcinfo->flinfo->fn_extra = c;
    return c;
}

// A value noted for a source's column must have that column's type: the statement trigger writes
// it out with the column's output function and every plan reads it back as the column's type, so
// a value of another type passed by hand (the function is callable by anyone) could otherwise log
// a bound no plan can read. Checked once per (source, column) and transaction.
void require_column_type(Oid source, const char *column, Oid type) {
    AttrNumber att = get_attnum(source, column);
    if (att == InvalidAttrNumber || get_atttype(source, att) != type)
        ereport(ERROR,
                (errcode(ERRCODE_DATATYPE_MISMATCH),
                 errmsg("incmodel.note_source_row: the value is not of the type of column "
                        "\"%s\" of the source",
                        column),
                 errhint("It is called by incmodel's change-log trigger with NEW.%s.", column)));
}

// The range of this call site's (source, column) in the current transaction, created on first use.
PendingRange *note_range(FunctionCallInfo fcinfo, NoteCache *c) {
    if (c->lxid == MyProc->lxid && pending.current()) return c->range;
    Oid source = PG_GETARG_OID(0);
    char *column = text_to_cstring(PG_GETARG_TEXT_PP(1));
    PendingRange *r = find_pending(source, column);
    if (r == nullptr) {
        require_column_type(source, column, c->type);
        r = pending.add();
        r->source = source;
        strlcpy(r->column, column, NAMEDATALEN);
        r->type = c->type;
        get_typlenbyval(c->type, &r->typlen, &r->byval);
    } else if (r->type != c->type) {
        ereport(ERROR,
                (errcode(ERRCODE_DATATYPE_MISMATCH),
                 errmsg("incmodel.note_source_row: values of two types noted for one column")));
    }
    pfree(column);
    c->lxid = MyProc->lxid;
    c->range = r;
    return r;
}

// The ranges a transaction's INSERT statements noted, kept until its commit writes them: one log
// row per distinct range and transaction (a stream of small INSERT statements of one batch in a
// transaction writes one row, not one per statement). Entries of the same shape as pending's.
TransactionList<PendingRange> kept;
// Past this many distinct ranges in one transaction they are written as they come.
constexpr int kMaxKeptRanges = 64;

// The range an entry holds, for writing.
BatchRange range_of(const PendingRange *p) {
    BatchRange r;
    r.rows = p->rows;
    r.nulls = p->nulls;
    r.any = p->any;
    r.lo = p->lo;
    r.hi = p->hi;
    return r;
}

// Keeps a statement's range for the commit: merged into an equal range of the same (source,
// column), else a new entry. False when the transaction holds too many: the caller writes it.
bool keep_range(Oid source, const char *column, const BatchRange &r, Oid type) {
    int entries = 0;
    for (PendingRange *k = kept.head(); k != nullptr; k = k->next, ++entries) {
        if (k->source != source || k->type != type || strncmp(k->column, column, NAMEDATALEN) != 0)
            continue;
        if (k->any != r.any) continue;
        if (r.any && (!datumIsEqual(k->lo, r.lo, k->byval, k->typlen) ||
                      !datumIsEqual(k->hi, r.hi, k->byval, k->typlen)))
            continue;
        k->rows += r.rows;
        k->nulls += r.nulls;
        return true;
    }
    if (entries >= kMaxKeptRanges) return false;
    PendingRange *k = kept.add();
    k->source = source;
    strlcpy(k->column, column, NAMEDATALEN);
    k->type = type;
    get_typlenbyval(type, &k->typlen, &k->byval);
    k->rows = r.rows;
    k->nulls = r.nulls;
    k->any = r.any;
    if (r.any) {
        MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
        k->lo = datumCopy(r.lo, k->byval, k->typlen);
        k->hi = datumCopy(r.hi, k->byval, k->typlen);
        MemoryContextSwitchTo(old);
    }
    return true;
}

// Takes the range noted for (source, column) in this transaction and empties it. The entry stays
// in the list: a WHEN call site caches it, and a statement nested in another (a trigger loading
// the same source) must not detach the outer statement's range.
bool take_pending(Oid source, const char *column, BatchRange *out, Oid *type) {
    PendingRange *p = find_pending(source, column);
    if (p == nullptr || p->rows == 0) return false;
    *out = range_of(p);
    *type = p->type;
    p->rows = 0;
    p->nulls = 0;
    p->any = false;
    return true;
}

// One pass over a transition table (0.1.0's insert triggers; the old and new rows of an UPDATE
// or DELETE). No C++ object inside: runs under pg_call.
void scan_range(Relation rel, Tuplestorestate *rows, AttrNumber att, BatchRange *range) {
    TupleDesc desc = RelationGetDescr(rel);
    Form_pg_attribute attr = TupleDescAttr(desc, att - 1);
    TypeCacheEntry *tce = lookup_type_cache(attr->atttypid, TYPECACHE_CMP_PROC_FINFO);
    if (!OidIsValid(tce->cmp_proc_finfo.fn_oid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("incmodel: the batch column's type has no btree ordering")));
    int ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
    tuplestore_select_read_pointer(rows, ptr);
    tuplestore_rescan(rows);
    TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    while (tuplestore_gettupleslot(rows, true, false, slot)) {
        bool isnull;
        Datum v = slot_getattr(slot, att, &isnull);
        range->rows++;
        if (isnull) {
            range->nulls++;
            continue;
        }
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

std::string output_text(Oid type, Datum v) {
    return pg_call([type, v] {
        Oid out;
        bool varlena;
        getTypeOutputInfo(type, &out, &varlena);
        return OidOutputFunctionCall(out, v);
    });
}

// Whether a type's text form depends on no setting but DateStyle (the usual batch types):
// its bounds are written in ISO DateStyle set directly around the output, where a GUC nest level
// per statement cost a small INSERT more than its rows.
bool needs_only_datestyle(Oid type) {
    switch (type) {
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID:
        case UUIDOID:
        case NUMERICOID:
        case DATEOID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
            return true;
        default:
            return false;
    }
}

// ISO DateStyle (year-month-day) while alive; the previous style after.
class IsoDateStyle {
  public:
    IsoDateStyle() : style_(DateStyle), order_(DateOrder) {
        DateStyle = USE_ISO_DATES;
        DateOrder = DATEORDER_YMD;
    }
    ~IsoDateStyle() {
        DateStyle = style_;
        DateOrder = order_;
    }
    IsoDateStyle(const IsoDateStyle &) = delete;
    IsoDateStyle &operator=(const IsoDateStyle &) = delete;

  private:
    int style_, order_;
};

// Writes one range to the log (as the catalog owner: a loader needs no right on incmodel's schema
// or log). The bounds are rendered first, as the loader (the column type's output).
void write_range(Oid source, const char *column, const BatchRange &range, Oid type,
                 const char *kind = "insert") {
    if (strcmp(kind, "insert") == 0 && MyProc != nullptr &&
        aborted_subtransaction_in == MyProc->lxid)
        kind = "uncounted";
    std::optional<std::string> lo, hi;
    if (range.any && needs_only_datestyle(type)) {
        // Canonical text whatever the loader's settings: plans read it back in ISO DateStyle.
        IsoDateStyle iso;
        lo = output_text(type, range.lo);
        hi = output_text(type, range.hi);
    } else if (range.any) {
        PinnedSettings pinned("");
        lo = output_text(type, range.lo);
        hi = output_text(type, range.hi);
        pinned.close();
    }
    log_range(source, column, {lo, hi, range.rows, range.nulls}, kind);
}

}  // namespace

namespace incmodel::pg {

// Values noted by the row trigger that no statement trigger wrote: an INSERT or COPY straight
// into a partition (the statement trigger is on the partitioned source only), logical
// replication's apply (which fires no statement triggers). Called before commit.
bool pending_ranges_exist() {
    if (kept.current() && kept.head() != nullptr) return true;
    if (!pending.current()) return false;
    for (PendingRange *p = pending.head(); p != nullptr; p = p->next)
        if (p->rows > 0) return true;
    return false;
}

void note_subtransaction_abort() {
    if (MyProc != nullptr) aborted_subtransaction_in = MyProc->lxid;
}

void log_recount_range(Oid source, Relation rel, Tuplestorestate *rows, const char *column) {
    AttrNumber att = pg_call([rel, column] { return SPI_fnumber(RelationGetDescr(rel), column); });
    if (att <= 0)
        throw UserError(ERRCODE_UNDEFINED_COLUMN,
                        std::string("incmodel: the source has no batch column \"") + column + "\"");
    BatchRange range;
    BatchRange *r = &range;
    pg_call([rel, rows, att, r] { scan_range(rel, rows, att, r); });
    if (range.rows == 0) return;
    write_range(source, column, range, TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid,
                "recount");
}

void flush_pending_ranges(bool forget) {
    if (kept.current()) {
        std::vector<PendingRange *> ranges;
        for (PendingRange *k = kept.head(); k != nullptr; k = k->next) ranges.push_back(k);
        if (forget) kept.clear();
        for (const PendingRange *k : ranges)
            write_range(k->source, k->column, range_of(k), k->type);
    }
    if (!pending.current()) return;
    for (PendingRange *p = pending.head(); p != nullptr; p = p->next) {
        BatchRange range;
        BatchRange *r = &range;
        Oid type = InvalidOid;
        Oid *t = &type;
        const Oid source = p->source;
        const char *column = p->column;
        if (!forget) {
            if (p->rows > 0) write_range(source, column, range_of(p), p->type);
            continue;
        }
        if (!pg_call([source, column, r, t] { return take_pending(source, column, r, t); }))
            continue;
        write_range(source, column, range, type);
    }
}

}  // namespace incmodel::pg

extern "C" {

// The WHEN clause of the row trigger: notes one inserted value and returns false (so the row
// trigger never fires). Called once per inserted row, so it is plain C: no C++ object, nothing
// that throws, only ereport on misuse.
PG_FUNCTION_INFO_V1(incmodel_note_source_row);
Datum incmodel_note_source_row(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_BOOL(false);
    NoteCache *c = note_cache(fcinfo);
    PendingRange *r = note_range(fcinfo, c);
    r->rows++;
    if (PG_ARGISNULL(2)) {
        r->nulls++;
        PG_RETURN_BOOL(false);
    }
    Datum v = PG_GETARG_DATUM(2);
    if (!r->any) {
        store_bound(r, &r->lo, v, false);
        store_bound(r, &r->hi, v, false);
        r->any = true;
    } else if (compare_values(c, v, r->lo) < 0) {
        store_bound(r, &r->lo, v, true);
    } else if (compare_values(c, v, r->hi) > 0) {
        store_bound(r, &r->hi, v, true);
    }
    PG_RETURN_BOOL(false);
}

// The statement trigger: writes the statement's range (noted by the row trigger's WHEN clause,
// or read from a 0.1.0 transition table) to incmodel.source_changes with the transaction's id.
PG_FUNCTION_INFO_V1(incmodel_log_source_change);
Datum incmodel_log_source_change(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        if (!CALLED_AS_TRIGGER(fcinfo))
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.log_source_change() must be called as a trigger");
        auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
        if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || td->tg_trigger->tgnargs != 1)
            throw UserError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                            "incmodel.log_source_change() must be an AFTER INSERT statement "
                            "trigger with the batch column as argument");
        const char *column = td->tg_trigger->tgargs[0];
        Relation rel = td->tg_relation;
        const Oid source = RelationGetRelid(rel);
        BatchRange range;
        BatchRange *r = &range;
        Oid type = InvalidOid;
        if (td->tg_newtable != nullptr) {
            AttrNumber att =
                pg_call([rel, column] { return SPI_fnumber(RelationGetDescr(rel), column); });
            if (att <= 0)
                throw UserError(
                    ERRCODE_UNDEFINED_COLUMN,
                    std::string("incmodel: the source has no batch column \"") + column + "\"");
            pg_call([td, rel, att, r] { scan_range(rel, td->tg_newtable, att, r); });
            type = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
        } else {
            Oid *t = &type;
            if (!pg_call([source, column, r, t] { return take_pending(source, column, r, t); }))
                return PointerGetDatum(nullptr);
        }
        if (range.rows == 0) return PointerGetDatum(nullptr);
        // Written by the commit (one row per distinct range and transaction), or now when the
        // transaction holds many.
        BatchRange *kept_range = &range;
        if (pg_call([source, column, kept_range, type] {
                return keep_range(source, column, *kept_range, type);
            }))
            return PointerGetDatum(nullptr);
        SpiConnection spi;
        write_range(source, column, range, type);
        return PointerGetDatum(nullptr);
    });
}

}  // extern "C"
