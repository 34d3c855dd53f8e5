#include "pg/capture/dimension_notes.hpp"

#include "pg/boundary/guard.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/capture/packed_values.hpp"
#include "pg/capture/transaction_list.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

using namespace incmodel::pg;

namespace {

// A column's noted values are kept as the records of their packed form (packed_values.hpp: the
// bytes each shares with the one before, then the rest), in blocks that are chained, never
// moved: queuing them copies the blocks after the packed form's header, with no work per value.
constexpr Size kBlockBytes = 64 * 1024;
struct ValueBlock {
    Size used, size;
    ValueBlock *next;
    unsigned char *data() {
        return reinterpret_cast<unsigned char *>(this) + MAXALIGN(sizeof(ValueBlock));
    }
};

// The values noted for one column of a relation.
struct NotedColumn {
    AttrNumber attnum;
    Oid type;
    ValueBlock *first, *last;
    char *last_value;  // a copy of the last value kept, which the next one is packed against
    Size last_len, last_room;
    int64 count;
    NotedColumn *next;
};

// One relation's notes (the relation the WHEN clauses name).
struct DimensionNote {
    Oid relid;
    int64 rows;    // noted since a statement trigger released them
    int64 values;  // kept, all columns
    int64 bytes;   // kept, all columns
    bool overflow;
    NotedColumn *columns;
    DimensionNote *next;
};

TransactionList<DimensionNote> notes;
// Bumped when the notes are cleared, so a WHEN clause's cached pointers are not reused after.
uint64 generation = 0;

DimensionNote *find_note(Oid relid) {
    return notes.find([relid](const DimensionNote *n) { return n->relid == relid; });
}

// The relation's notes, created on first use (for the life of the transaction).
DimensionNote *note_of(Oid relid) {
    DimensionNote *n = find_note(relid);
    if (n == nullptr) {
        n = notes.add();
        n->relid = relid;
    }
    return n;
}

// The column's entry in the relation's notes, created on first use: its presence says the row
// triggers note that column, even when every value was NULL.
NotedColumn *column_of(DimensionNote *n, AttrNumber attnum, Oid type) {
    for (NotedColumn *c = n->columns; c != nullptr; c = c->next)
        if (c->attnum == attnum && c->type == type) return c;
    auto *c = static_cast<NotedColumn *>(
        MemoryContextAllocZero(TopTransactionContext, sizeof(NotedColumn)));
    c->attnum = attnum;
    c->type = type;
    c->next = n->columns;
    n->columns = c;
    return c;
}

// A block with room for a record of len bytes at the end of the column's chain.
ValueBlock *block_for(DimensionNote *n, NotedColumn *c, Size len) {
    if (c->last != nullptr && c->last->size - c->last->used >= len) return c->last;
    const Size size = len > kBlockBytes / 4 ? len : kBlockBytes;
    auto *block = static_cast<ValueBlock *>(
        MemoryContextAlloc(TopTransactionContext, MAXALIGN(sizeof(ValueBlock)) + size));
    block->used = 0;
    block->size = size;
    block->next = nullptr;
    if (c->last == nullptr) {
        c->first = block;
    } else {
        c->last->next = block;
    }
    c->last = block;
    n->bytes += static_cast<int64>(size);
    return block;
}

// Copies n bytes; the few bytes a packed key's rest usually is without a call to memcpy (once
// per noted value).
inline void copy_bytes(void *to, const void *from, Size n) {
    if (n > 16) {
        memcpy(to, from, n);
        return;
    }
    auto *t = static_cast<unsigned char *>(to);
    const auto *f = static_cast<const unsigned char *>(from);
    for (Size i = 0; i < n; ++i) t[i] = f[i];
}

// Appends one value to a column's notes, packed against the value before it; a value equal to
// that one (an UPDATE notes its NEW row, then its OLD one; a statement often repeats a value) is
// noted once.
void append_value(DimensionNote *n, NotedColumn *c, const char *text, Size len) {
    const Size shared = c->count == 0 ? 0 : shared_prefix(c->last_value, c->last_len, text, len);
    if (c->count > 0 && shared == len && len == c->last_len) return;
    const Size rest = len - shared;
    ValueBlock *b = block_for(n, c, 2 * kMaxVarintBytes + rest);
    unsigned char *to = b->data() + b->used;
    Size at = write_varint(to, shared);
    at += write_varint(to + at, rest);
    copy_bytes(to + at, text + shared, rest);
    b->used += at + rest;
    if (len > c->last_room) {
        const Size room = len < 64 ? 64 : 2 * len;
        char *copy = static_cast<char *>(MemoryContextAlloc(TopTransactionContext, room));
        if (shared > 0) memcpy(copy, c->last_value, shared);
        if (c->last_value != nullptr) pfree(c->last_value);
        n->bytes += static_cast<int64>(room - c->last_room);
        c->last_value = copy;
        c->last_room = room;
    }
    copy_bytes(c->last_value + shared, text + shared, rest);
    c->last_len = len;
    c->count++;
    n->values++;
}

// The text of an int2, int4, int8 or oid value, as their output functions print it, written
// into buf (24 bytes) without an allocation; -1 for other types.
int print_number(Oid type, Datum value, char *buf) {
    switch (type) {
        case INT2OID:
            return pg_itoa(DatumGetInt16(value), buf);
        case INT4OID:
            return pg_ltoa(DatumGetInt32(value), buf);
        case INT8OID:
            return pg_lltoa(DatumGetInt64(value), buf);
        case OIDOID:
            return pg_ultoa_n(DatumGetObjectId(value), buf);
        default:
            return -1;
    }
}

// What a WHEN clause's function keeps between rows (fn_extra, in the expression's memory
// context): its columns and their types, and where the current transaction's notes are.
struct NoteCall {
    int nvalues;
    AttrNumber *attnums;
    Oid *types;
    FmgrInfo *outputs;  // per value: the type's output function (unused for text and varchar,
                        // and for the numbers print_number prints)
    bool *as_text;      // per value: text or varchar, kept as they are
    Oid relid;
    LocalTransactionId lxid;
    uint64 generation;
    DimensionNote *note;
    NotedColumn **columns;
};

// The fn_extra of note_dimension_values' first call in a statement.
NoteCall *set_up_call(FunctionCallInfo fcinfo) {
    if (get_fn_expr_variadic(fcinfo->flinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("incmodel.note_dimension_values() takes the noted values one by "
                               "one, not as a VARIADIC array")));
    ArrayType *columns = PG_GETARG_ARRAYTYPE_P(1);
    Datum *elems;
    bool *nulls;
    int count;
    deconstruct_array(columns, INT2OID, 2, true, TYPALIGN_SHORT, &elems, &nulls, &count);
    const int nvalues = PG_NARGS() - 2;
    if (count != nvalues)
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("incmodel.note_dimension_values() got %d column numbers for %d "
                               "values",
                               count, nvalues)));
    MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
    auto *call = static_cast<NoteCall *>(MemoryContextAllocZero(mcxt, sizeof(NoteCall)));
    call->nvalues = nvalues;
    call->attnums =
        static_cast<AttrNumber *>(MemoryContextAlloc(mcxt, sizeof(AttrNumber) * (nvalues + 1)));
    call->types = static_cast<Oid *>(MemoryContextAlloc(mcxt, sizeof(Oid) * (nvalues + 1)));
    call->columns = static_cast<NotedColumn **>(
        MemoryContextAllocZero(mcxt, sizeof(NotedColumn *) * (nvalues + 1)));
    call->outputs =
        static_cast<FmgrInfo *>(MemoryContextAllocZero(mcxt, sizeof(FmgrInfo) * (nvalues + 1)));
    call->as_text = static_cast<bool *>(MemoryContextAllocZero(mcxt, sizeof(bool) * (nvalues + 1)));
    for (int i = 0; i < nvalues; ++i) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("incmodel.note_dimension_values(): a NULL column number")));
        call->attnums[i] = DatumGetInt16(elems[i]);
        call->types[i] = get_fn_expr_argtype(fcinfo->flinfo, i + 2);
        // Only built-in types' output functions run here (the watch notes no other column).
        if (call->types[i] >= FirstNormalObjectId)
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("incmodel.note_dimension_values() notes built-in types "
                                   "only")));
        call->as_text[i] = call->types[i] == TEXTOID || call->types[i] == VARCHAROID;
        if (!call->as_text[i]) {
            Oid output;
            bool varlena;
            getTypeOutputInfo(call->types[i], &output, &varlena);
            fmgr_info_cxt(output, &call->outputs[i], mcxt);
        }
    }
    fcinfo->flinfo->fn_extra = call;
    return call;
}

// Points the call at the current transaction's notes of relid.
void bind_call(NoteCall *call, Oid relid) {
    // Each value must be of its column's type: the refresh reads the values back as that type,
    // and the function is callable by anyone (a value of another type would fail every refresh
    // of the models that map the relation's values). Checked once per statement.
    if (call->relid != relid) {
        for (int i = 0; i < call->nvalues; ++i) {
            const AttrNumber att = call->attnums[i];
            const bool valid = att > 0 && att <= MaxHeapAttributeNumber &&
                               get_attname(relid, att, true) != nullptr;
            if (!valid || get_atttype(relid, att) != call->types[i])
                ereport(ERROR,
                        (errcode(ERRCODE_DATATYPE_MISMATCH),
                         errmsg("incmodel.note_dimension_values(): value %d is not of the type "
                                "of column %d of %s",
                                i + 1, att, get_rel_name(relid) ? get_rel_name(relid) : "?"),
                         errhint("It is called by incmodel's watch triggers with NEW.column.")));
        }
    }
    call->note = note_of(relid);
    for (int i = 0; i < call->nvalues; ++i)
        call->columns[i] = column_of(call->note, call->attnums[i], call->types[i]);
    call->relid = relid;
    call->lxid = MyProc->lxid;
    call->generation = generation;
}

}  // namespace

namespace incmodel::pg {

bool dimension_notes_pending() {
    return notes.current() && notes.head() != nullptr;
}

std::vector<NotedRelation> noted_dimension_relations() {
    std::vector<NotedRelation> out;
    if (!notes.current()) return out;
    for (DimensionNote *n = notes.head(); n != nullptr; n = n->next) {
        NotedRelation r;
        r.relid = n->relid;
        r.unreleased_rows = n->rows;
        r.overflow = n->overflow;
        for (NotedColumn *c = n->columns; c != nullptr; c = c->next) r.columns.push_back(c->attnum);
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<Datum> noted_values_packed(Oid relid, AttrNumber attnum) {
    DimensionNote *n = pg_call([relid] { return notes.current() ? find_note(relid) : nullptr; });
    if (n == nullptr) return std::nullopt;
    NotedColumn *c = n->columns;
    while (c != nullptr && c->attnum != attnum) c = c->next;
    if (c == nullptr || c->count == 0) return std::nullopt;
    return pg_call([c] {
        unsigned char header[1 + kMaxVarintBytes];
        header[0] = kPackedFormat;
        const Size header_len = 1 + write_varint(header + 1, static_cast<uint64>(c->count));
        Size data = 0;
        for (const ValueBlock *b = c->first; b != nullptr; b = b->next) data += b->used;
        auto *packed = static_cast<bytea *>(palloc(VARHDRSZ + header_len + data));
        SET_VARSIZE(packed, VARHDRSZ + header_len + data);
        char *to = VARDATA(packed);
        memcpy(to, header, header_len);
        to += header_len;
        for (ValueBlock *b = c->first; b != nullptr; b = b->next) {
            memcpy(to, b->data(), b->used);
            to += b->used;
        }
        return PointerGetDatum(packed);
    });
}

void clear_dimension_notes() {
    notes.clear();
    generation++;
}

void release_dimension_rows(const std::vector<Oid> &relids) {
    for (Oid relid : relids) {
        DimensionNote *n =
            pg_call([relid] { return notes.current() ? find_note(relid) : nullptr; });
        if (n != nullptr) n->rows = 0;
    }
}

}  // namespace incmodel::pg

extern "C" {

// The WHEN clause of incmodel_dim and incmodel_dim_old on a watched relation whose models' routes
// start from plain columns: notes the row and its values on those columns, packed (consecutive
// repeats of a value once: an UPDATE notes the NEW row then the OLD), returns false so no row
// event is queued. Plain C, called once per changed row.
PG_FUNCTION_INFO_V1(incmodel_note_dimension_values);
Datum incmodel_note_dimension_values(PG_FUNCTION_ARGS) {
    if (capture_suppressed_now() || PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_BOOL(false);
    auto *call = static_cast<NoteCall *>(fcinfo->flinfo->fn_extra);
    if (call == nullptr) call = set_up_call(fcinfo);
    const Oid relid = PG_GETARG_OID(0);
    if (call->lxid != MyProc->lxid || call->generation != generation || call->relid != relid ||
        !notes.current())
        bind_call(call, relid);
    DimensionNote *n = call->note;
    n->rows++;
    if (n->overflow) PG_RETURN_BOOL(false);
    for (int i = 0; i < call->nvalues; ++i) {
        if (PG_ARGISNULL(i + 2)) continue;
        if (n->values >= dimension_values_limit || n->bytes >= kMaxNotedBytes) {
            n->overflow = true;
            break;
        }
        NotedColumn *c = call->columns[i];
        const Datum value = PG_GETARG_DATUM(i + 2);
        if (call->as_text[i]) {
            auto *v = reinterpret_cast<struct varlena *>(DatumGetPointer(value));
            if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v)) v = PG_DETOAST_DATUM_PACKED(v);
            append_value(n, c, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
            continue;
        }
        char digits[24];
        const int len = print_number(call->types[i], value, digits);
        if (len >= 0) {
            append_value(n, c, digits, static_cast<Size>(len));
            continue;
        }
        char *printed = OutputFunctionCall(&call->outputs[i], value);
        append_value(n, c, printed, strlen(printed));
        pfree(printed);
    }
    PG_RETURN_BOOL(false);
}

// The WHEN clause of incmodel_dim on a watched relation no model reads values of: notes the
// changed row, returns false (no event).
PG_FUNCTION_INFO_V1(incmodel_note_dimension_change);
Datum incmodel_note_dimension_change(PG_FUNCTION_ARGS) {
    if (capture_suppressed_now() || PG_ARGISNULL(0)) PG_RETURN_BOOL(false);
    note_of(PG_GETARG_OID(0))->rows++;
    PG_RETURN_BOOL(false);
}

}  // extern "C"
