// Hex formatting of 128-bit identifiers (see event.hpp).
#include "event.hpp"

namespace incmodel::eventgen {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes the low `digits` nibbles of `v`, most significant first.
inline char *PutHex(char *out, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) out[digits - 1 - i] = kHexDigits[(v >> (4 * i)) & 0xf];
    return out + digits;
}

}  // namespace

char *WriteUuid(char *out, Id128 id) {
    out = PutHex(out, id.hi >> 32, 8);
    *out++ = '-';
    out = PutHex(out, id.hi >> 16, 4);
    *out++ = '-';
    out = PutHex(out, id.hi, 4);
    *out++ = '-';
    out = PutHex(out, id.lo >> 48, 4);
    *out++ = '-';
    return PutHex(out, id.lo, 12);
}

char *WriteHex128(char *out, Id128 id) {
    out = PutHex(out, id.hi, 16);
    return PutHex(out, id.lo, 16);
}

std::string UuidString(Id128 id) {
    char buf[kUuidChars];
    WriteUuid(buf, id);
    return std::string(buf, kUuidChars);
}

std::string Hex128String(Id128 id) {
    char buf[kHex128Chars];
    WriteHex128(buf, id);
    return std::string(buf, kHex128Chars);
}

}  // namespace incmodel::eventgen
