// Civil-calendar conversion, parsing and writing of timestamps (see timestamp.hpp).
#include "timestamp.hpp"

#include <cstring>

namespace incmodel::eventgen {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil); the
// parser needs it to turn --start into microseconds.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Inverse of DaysFromCivil; the writer needs the calendar date of each timestamp.
void CivilFromDays(int64_t z, int64_t *year, unsigned *month, unsigned *day) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2);
}

// Two-digit lookup table: writing "00".."99" with one 2-byte copy instead of two divisions.
struct DigitPairs {
    char pairs[200];
    constexpr DigitPairs() : pairs{} {
        for (int i = 0; i < 100; ++i) {
            pairs[2 * i] = static_cast<char>('0' + i / 10);
            pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
        }
    }
};
constexpr DigitPairs kDigits;

// Writes a value in [0, 100) as two digits.
inline char *Put2(char *out, unsigned v) {
    std::memcpy(out, kDigits.pairs + 2 * v, 2);
    return out + 2;
}

// Reads exactly `n` decimal digits at text[*pos]; the parser's only building block.
bool ReadDigits(std::string_view text, size_t *pos, size_t n, int64_t *value) {
    if (*pos + n > text.size()) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = text[*pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *pos += n;
    *value = v;
    return true;
}

// Consumes one expected separator character.
bool Expect(std::string_view text, size_t *pos, char c) {
    if (*pos >= text.size() || text[*pos] != c) return false;
    ++*pos;
    return true;
}

}  // namespace

std::optional<int64_t> ParseTimestamp(std::string_view text) {
    size_t pos = 0;
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, frac = 0;
    if (!ReadDigits(text, &pos, 4, &y) || !Expect(text, &pos, '-') ||
        !ReadDigits(text, &pos, 2, &mo) || !Expect(text, &pos, '-') ||
        !ReadDigits(text, &pos, 2, &d)) {
        return std::nullopt;
    }
    if (pos < text.size()) {
        if (text[pos] != ' ' && text[pos] != 'T') return std::nullopt;
        ++pos;
        if (!ReadDigits(text, &pos, 2, &h) || !Expect(text, &pos, ':') ||
            !ReadDigits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') ||
            !ReadDigits(text, &pos, 2, &s)) {
            return std::nullopt;
        }
        if (pos < text.size()) {
            if (!Expect(text, &pos, '.')) return std::nullopt;
            int64_t scale = 100000;
            size_t digits = 0;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                frac += (text[pos] - '0') * scale;
                scale /= 10;
                ++pos;
                ++digits;
            }
            if (digits == 0 || digits > 6 || pos != text.size()) return std::nullopt;
        }
    }
    static const int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 59) {
        return std::nullopt;
    }
    const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return days * kMicrosPerDay + ((h * 60 + mi) * 60 + s) * kMicrosPerSecond + frac;
}

char *WriteTimestamp(char *out, int64_t micros) {
    int64_t days = micros / kMicrosPerDay;
    int64_t rest = micros % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    int64_t year;
    unsigned month, day;
    CivilFromDays(days, &year, &month, &day);
    const auto y = static_cast<unsigned>(year);  // 4-digit years only (validated by the caller)
    out = Put2(out, (y / 100) % 100);
    out = Put2(out, y % 100);
    *out++ = '-';
    out = Put2(out, month);
    *out++ = '-';
    out = Put2(out, day);
    *out++ = ' ';
    const auto secs = static_cast<unsigned>(rest / kMicrosPerSecond);
    const auto us = static_cast<unsigned>(rest % kMicrosPerSecond);
    out = Put2(out, secs / 3600);
    *out++ = ':';
    out = Put2(out, (secs / 60) % 60);
    *out++ = ':';
    out = Put2(out, secs % 60);
    *out++ = '.';
    out = Put2(out, us / 10000);
    out = Put2(out, (us / 100) % 100);
    out = Put2(out, us % 100);
    return out;
}

std::string FormatTimestamp(int64_t micros) {
    char buf[kTimestampChars];
    WriteTimestamp(buf, micros);
    return std::string(buf, kTimestampChars);
}

}  // namespace incmodel::eventgen
