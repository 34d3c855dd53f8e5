// PostgreSQL COPY encoding rules for text values, in the two formats the generator writes.
#pragma once

#include <string>
#include <string_view>

namespace incmodel::eventgen {

// Output format: COPY ... (FORMAT text) or COPY ... (FORMAT csv).
enum class Format { kText, kCsv };

// Escapes a value for COPY TEXT: backslash, tab, newline, carriage return become \\, \t, \n, \r
// (any other byte, including UTF-8, passes through). A plain `\N` would otherwise read as NULL.
std::string EscapeText(std::string_view value);

// Quotes a value for COPY CSV when it needs it (delimiter, quote, CR/LF, empty string, or the
// end-of-data marker `\.`), doubling embedded quotes. Unquoted empty fields read as NULL, so an
// empty string must be quoted.
std::string EscapeCsv(std::string_view value);

// Applies the rule of the given format.
std::string Escape(std::string_view value, Format format);

}  // namespace incmodel::eventgen
