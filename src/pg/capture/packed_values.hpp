// The packed form a dimension's noted values are queued in (incmodel.key_queue.packed_values,
// 0.7.0): a loader's COPY queues one value per row, and as text[] elements (a 4-byte header and
// padding each) 100k short keys were 1.2 MB to compress and write out of line at commit. Packed,
// each value is the bytes it shares with the value before it (a count) and the rest: keys loaded
// in order ('c1', 'c2', ... or ascending numbers) pack to a few bytes each and compress to
// almost nothing; unrelated keys lose only the array's per-element overhead.
//
//   bytea: 1 byte format (1) | varint count | count x (varint shared | varint rest | rest bytes)
//
// (varint: 7 bits a byte, least significant first, high bit set on all but the last byte). The
// row triggers write it as they note values (dimension_notes.cpp); the refresh reads it back as
// text[] with incmodel.noted_values(bytea).
#pragma once

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

inline constexpr unsigned char kPackedFormat = 1;
// The most bytes a varint of a Size takes.
inline constexpr Size kMaxVarintBytes = 10;

// Writes v as a varint at to; returns the bytes written (plain C: called per noted value).
inline Size write_varint(unsigned char *to, uint64 v) {
    Size n = 0;
    while (v >= 0x80) {
        to[n++] = static_cast<unsigned char>(v | 0x80);
        v >>= 7;
    }
    to[n++] = static_cast<unsigned char>(v);
    return n;
}

// The bytes a and b share at their start.
inline Size shared_prefix(const char *a, Size alen, const char *b, Size blen) {
    const Size n = alen < blen ? alen : blen;
    Size i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

// The values of packed (a bytea in the format above) as a text[] (palloc'd); ERROR when it is
// not well formed or a value is not valid in the database encoding.
Datum packed_values_to_text_array(const bytea *packed);

}  // namespace incmodel::pg
