// Argument and result helpers shared by the fmgr entry points: each converts between Datums and
// C++ values and raises a clear error (through the guard layer) for a NULL where none may be.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

// A required text argument; NULL is 22004 naming the argument.
std::string text_arg(FunctionCallInfo fcinfo, int n, const char *name);
std::optional<std::string> opt_text_arg(FunctionCallInfo fcinfo, int n);
// An interval argument as text (interval_out in the caller's IntervalStyle).
std::optional<std::string> opt_interval_arg(FunctionCallInfo fcinfo, int n);
std::optional<bool> opt_bool_arg(FunctionCallInfo fcinfo, int n);
bool absent(FunctionCallInfo fcinfo, int n);  // beyond the declared arguments, or NULL
std::optional<std::int64_t> opt_int32_arg(FunctionCallInfo fcinfo, int n);
std::optional<std::int64_t> opt_int64_arg(FunctionCallInfo fcinfo, int n);
// A timestamptz as microseconds since 2000-01-01 UTC, in text: exact whatever the DateStyle
// (SQL turns it back with incmodel's micros_to_timestamptz expression).
std::optional<std::string> opt_timestamptz_arg(FunctionCallInfo fcinfo, int n);
inline constexpr const char *kMicrosToTimestamptz =
    "(timestamptz '2000-01-01 00:00:00+00' + {} * interval '1 microsecond')";
// A text[] argument; NULL elements are 22004.
std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n, const char *name);

Datum text_datum(const std::string &s);

// The composite result of a function with OUT parameters.
Datum composite_datum(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

// A procedure may COMMIT only when CALLed outside a transaction block (and not from a function).
bool is_nonatomic_call(FunctionCallInfo fcinfo);

}  // namespace incmodel::pg
