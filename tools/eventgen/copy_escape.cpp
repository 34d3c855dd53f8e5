// Implementation of the COPY escaping rules (see copy_escape.hpp).
#include "copy_escape.hpp"

namespace incmodel::eventgen {

std::string EscapeText(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string EscapeCsv(std::string_view value) {
    const bool needs_quotes =
        value.empty() || value == "\\." || value.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!needs_quotes) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string Escape(std::string_view value, Format format) {
    return format == Format::kText ? EscapeText(value) : EscapeCsv(value);
}

}  // namespace incmodel::eventgen
