#include "pg/capture/packed_values.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/memutils.h"
}

namespace {

// An ERROR for a bytea that is not in the packed format.
[[noreturn]] void malformed(const char *what) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("incmodel.noted_values(): not a packed list of values (%s)", what)));
    pg_unreachable();
}

// Reads a varint at *at (not past end) and moves *at past it.
uint64 read_varint(const unsigned char **at, const unsigned char *end) {
    uint64 v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= end) malformed("truncated length");
        const unsigned char b = *(*at)++;
        v |= static_cast<uint64>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return v;
    }
    malformed("overlong length");
}

}  // namespace

namespace incmodel::pg {

Datum packed_values_to_text_array(const bytea *packed) {
    const auto *begin = reinterpret_cast<const unsigned char *>(VARDATA_ANY(packed));
    const unsigned char *end = begin + VARSIZE_ANY_EXHDR(packed);
    const unsigned char *at = begin;
    if (at >= end || *at != kPackedFormat) malformed("unknown format");
    at++;
    const uint64 count = read_varint(&at, end);
    // Every value takes two bytes at least: a count past that is not believed.
    if (count > static_cast<uint64>(end - at) / 2 || count > MaxArraySize) malformed("count");
    if (count == 0) return PointerGetDatum(construct_empty_array(TEXTOID));
    // First pass: the values' lengths, checked against the bytes there are.
    const unsigned char *records = at;
    Size total = 0, previous = 0;
    for (uint64 i = 0; i < count; ++i) {
        const uint64 shared = read_varint(&at, end);
        const uint64 rest = read_varint(&at, end);
        if (shared > previous || rest > static_cast<uint64>(end - at)) malformed("length");
        previous = shared + rest;
        total += INTALIGN(VARHDRSZ + previous);
        if (total > MaxAllocSize / 2) malformed("too large");
        at += rest;
    }
    if (at != end) malformed("trailing bytes");
    // Second pass: each element is the shared bytes of the one before and its own rest.
    const Size size = ARR_OVERHEAD_NONULLS(1) + total;
    auto *a = static_cast<ArrayType *>(palloc0(size));
    SET_VARSIZE(a, size);
    a->ndim = 1;
    a->dataoffset = 0;
    a->elemtype = TEXTOID;
    ARR_DIMS(a)[0] = static_cast<int>(count);
    ARR_LBOUND(a)[0] = 1;
    char *to = ARR_DATA_PTR(a);
    const char *last = nullptr;
    at = records;
    for (uint64 i = 0; i < count; ++i) {
        const Size shared = read_varint(&at, end);
        const Size rest = read_varint(&at, end);
        const Size len = shared + rest;
        SET_VARSIZE(to, VARHDRSZ + len);
        if (shared > 0) memcpy(to + VARHDRSZ, last, shared);
        memcpy(to + VARHDRSZ + shared, at, rest);
        at += rest;
        (void)pg_verifymbstr(to + VARHDRSZ, static_cast<int>(len), false);
        last = to + VARHDRSZ;
        to += INTALIGN(VARHDRSZ + len);
    }
    return PointerGetDatum(a);
}

}  // namespace incmodel::pg

extern "C" {

// incmodel.noted_values(bytea): the values of a key_queue row's packed_values as text[] (the
// refresh reads a dimension change's values with it). Plain C: no C++ exception can arise.
PG_FUNCTION_INFO_V1(incmodel_noted_values);
Datum incmodel_noted_values(PG_FUNCTION_ARGS) {
    PG_RETURN_DATUM(incmodel::pg::packed_values_to_text_array(PG_GETARG_BYTEA_PP(0)));
}

}  // extern "C"
