// Timestamps as int64 microseconds since 1970-01-01 00:00:00 (no time zone), with a parser for
// the --start option and a fast, locale-free writer for PostgreSQL's `timestamp` text form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace incmodel::eventgen {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Length of a written timestamp: "YYYY-MM-DD HH:MM:SS.ffffff".
constexpr int kTimestampChars = 26;

// Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD HH:MM:SS.f..." (a 'T' may replace the
// space), years 1000..9999. Returns nullopt on anything else so the CLI can report bad input.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// Writes exactly kTimestampChars characters for `micros` at `out` and returns the end pointer.
// This is the hot path of row formatting, hence raw pointers and no allocation.
char *WriteTimestamp(char *out, int64_t micros);

// Convenience wrapper around WriteTimestamp for tests and messages.
std::string FormatTimestamp(int64_t micros);

}  // namespace incmodel::eventgen
