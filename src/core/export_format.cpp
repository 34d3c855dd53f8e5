#include "core/export_format.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace incmodel::core {

namespace {

// Any line that starts with this is structure; no statement may contain such a line.
constexpr std::string_view kMarkerPrefix = "-- @@incmodel";
constexpr std::string_view kStepField = "-- @@incmodel step=";
constexpr std::string_view kHeaderPrefix = "-- incmodel package format 2: model \"";
// What incmodel 0.2.0 and earlier wrote (parts delimited by marker lines only).
constexpr std::string_view kOldHeaderPrefix = "-- incmodel package: ";
constexpr std::size_t kMaxCountDigits = 9;  // fits an int; a 999 MB statement is plenty

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool is_dialect(std::string_view d) {
    return d == "redshift" || d == "postgres";
}

// A decimal count as written by write_package: digits only, no sign, no leading zero.
std::optional<int> parse_count(std::string_view s) {
    if (s.empty() || s.size() > kMaxCountDigits || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// True when some line of sql (after a LF or a CR, as PostgreSQL's lexer ends comments) starts
// with the marker prefix: a line-based reader would take it for structure.
bool has_marker_line(std::string_view sql) {
    std::size_t i = 0;
    while (true) {
        if (starts_with(sql.substr(i), kMarkerPrefix)) return true;
        std::size_t nl = sql.find_first_of("\r\n", i);
        if (nl == std::string_view::npos) return false;
        i = nl + 1;
    }
}

// The header's model name, up to its closing quote; advances pos past that quote.
std::string unescape_header_text(std::string_view line, std::size_t &pos, int lineno) {
    std::string out;
    while (pos < line.size()) {
        char c = line[pos++];
        if (c == '"') return out;
        if (c != '\\') {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                throw PackageFormatError("control character in the header's model name", lineno);
            out += c;
            continue;
        }
        if (pos >= line.size()) break;
        char e = line[pos++];
        if (e == '\\' || e == '"') {
            out += e;
        } else if (e == 'x' && pos + 2 <= line.size() &&
                   std::isxdigit(static_cast<unsigned char>(line[pos])) &&
                   std::isxdigit(static_cast<unsigned char>(line[pos + 1]))) {
            out += static_cast<char>(std::stoi(std::string(line.substr(pos, 2)), nullptr, 16));
            pos += 2;
        } else {
            throw PackageFormatError("invalid escape in the header's model name", lineno);
        }
    }
    throw PackageFormatError("unterminated model name in the header", lineno);
}

struct Marker {
    int step = 0;
    std::string part;
    std::size_t bytes = 0;
};

// "-- @@incmodel step=N part=P bytes=B", exactly (single spaces, nothing after).
std::optional<Marker> parse_marker(std::string_view line) {
    if (!starts_with(line, kStepField)) return std::nullopt;
    line.remove_prefix(kStepField.size());
    auto field = [&](std::string_view next) -> std::optional<std::string_view> {
        std::size_t end = next.empty() ? line.size() : line.find(next);
        if (end == std::string_view::npos) return std::nullopt;
        std::string_view v = line.substr(0, end);
        line.remove_prefix(end + next.size());
        return v;
    };
    auto step = field(" part=");
    auto part = field(" bytes=");
    auto bytes = field("");
    if (!step || !part || !bytes) return std::nullopt;
    Marker m;
    auto s = parse_count(*step);
    auto b = parse_count(*bytes);
    if (!s || !b || part->empty() || !std::all_of(part->begin(), part->end(), [](char c) {
            return c == '_' || (c >= 'a' && c <= 'z');
        }))
        return std::nullopt;
    m.step = *s;
    m.part = std::string(*part);
    m.bytes = static_cast<std::size_t>(*b);
    return m;
}

// Reads the file line by line, or a given number of bytes, keeping the line number.
class Cursor {
  public:
    explicit Cursor(const std::string &text) : text_(text) {}
    bool at_end() const { return pos_ >= text_.size(); }
    int line() const { return line_; }
    std::size_t remaining() const { return text_.size() - pos_; }
    // Only blank lines left.
    bool only_blank_left() const {
        return text_.find_first_not_of(" \t\n", pos_) == std::string::npos;
    }
    std::string_view peek_line() const {
        std::size_t end = text_.find('\n', pos_);
        return std::string_view(text_).substr(pos_, end == std::string::npos ? end : end - pos_);
    }
    std::string_view take_line() {
        std::string_view l = peek_line();
        pos_ += l.size();
        if (pos_ < text_.size()) ++pos_;  // the '\n'
        ++line_;
        return l;
    }
    std::string take_bytes(std::size_t n) {
        std::string s = text_.substr(pos_, n);
        pos_ += n;
        line_ += static_cast<int>(std::count(s.begin(), s.end(), '\n'));
        return s;
    }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    void skip(std::size_t n) { pos_ += n; }
    void newline() {
        ++pos_;
        ++line_;
    }

  private:
    const std::string &text_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

struct Header {
    std::string model, dialect;
    int parts = 0;
};

// '-- incmodel package format 2: model "<escaped>", dialect <d>, parts <N>'
Header parse_header(std::string_view line, int lineno) {
    if (starts_with(line, kOldHeaderPrefix))
        throw PackageFormatError(
            "this package was written by incmodel 0.2.0 or earlier: its parts carry no "
            "lengths, so its structure cannot be checked; export the model again with this "
            "version",
            lineno);
    if (!starts_with(line, kHeaderPrefix))
        throw PackageFormatError(
            "not an incmodel package: the first line must be the header \"-- incmodel package "
            "format 2: model ...\"",
            lineno);
    Header h;
    std::size_t pos = kHeaderPrefix.size();
    h.model = unescape_header_text(line, pos, lineno);
    std::string_view rest = line.substr(pos);
    constexpr std::string_view kDialect = ", dialect ", kParts = ", parts ";
    std::size_t parts_at = rest.find(kParts);
    if (!starts_with(rest, kDialect) || parts_at == std::string_view::npos)
        throw PackageFormatError("malformed header (expected \", dialect D, parts N\")", lineno);
    h.dialect = std::string(rest.substr(kDialect.size(), parts_at - kDialect.size()));
    auto n = parse_count(rest.substr(parts_at + kParts.size()));
    if (!is_dialect(h.dialect))
        throw PackageFormatError("unknown dialect \"" + h.dialect + "\" in the header", lineno);
    if (!n || *n == 0) throw PackageFormatError("malformed part count in the header", lineno);
    h.parts = *n;
    return h;
}

// One marker line and its statement ("<bytes of sql>;" then a line end or the end of the file).
PackageStatement read_part(Cursor &in) {
    const int lineno = in.line();
    std::string_view line = in.take_line();
    std::optional<Marker> m = parse_marker(line);
    if (!m)
        throw PackageFormatError(
            "malformed marker (expected \"-- @@incmodel step=N part=P bytes=B\"): " +
                std::string(line.substr(0, 80)),
            lineno);
    if (m->bytes + 1 > in.remaining())
        throw PackageFormatError("the file ends inside the statement of step " +
                                     std::to_string(m->step) +
                                     " (bytes=" + std::to_string(m->bytes) + ")",
                                 lineno);
    PackageStatement p{m->step, m->part, in.take_bytes(m->bytes)};
    if (in.peek() != ';')
        throw PackageFormatError("the statement of step " + std::to_string(m->step) +
                                     " is not followed by \";\" after its " +
                                     std::to_string(m->bytes) +
                                     " bytes (was the file edited or converted?)",
                                 in.line());
    in.skip(1);
    if (!in.at_end()) {
        if (in.peek() != '\n')
            throw PackageFormatError("text after the \";\" of step " + std::to_string(m->step),
                                     in.line());
        in.newline();
    }
    return p;
}

const char *const kFixedTail[] = {"procedure", "dispatcher", "post_commit", "maintenance"};

}  // namespace

std::string escape_header_text(std::string_view text) {
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

void validate_parts(const std::vector<PackageStatement> &parts) {
    const std::size_t n = parts.size();
    if (n < 5)
        throw PackageFormatError(
            "a package has at least 5 parts (ddl, procedure, dispatcher, "
            "post_commit, maintenance); this one has " +
            std::to_string(n));
    for (std::size_t i = 0; i < n; ++i) {
        const PackageStatement &p = parts[i];
        const std::string where = "step " + std::to_string(i + 1);
        if (p.step != static_cast<int>(i + 1))
            throw PackageFormatError(where + ": found step " + std::to_string(p.step) +
                                     " (steps must be 1, 2, ... in order)");
        const char *expected = i + 4 < n ? "ddl" : kFixedTail[i + 4 - n];
        if (p.part != expected)
            throw PackageFormatError(where + ": part \"" + p.part + "\" where \"" + expected +
                                     "\" is expected (ddl..., procedure, dispatcher, "
                                     "post_commit, maintenance)");
        if (p.sql.find_first_not_of(" \t\r\n") == std::string::npos)
            throw PackageFormatError(where + ": empty statement");
        if (p.sql.find('\0') != std::string::npos)
            throw PackageFormatError(where + ": the statement contains a NUL byte");
        if (has_marker_line(p.sql))
            throw PackageFormatError(where + ": the statement contains a line starting with \"" +
                                     std::string(kMarkerPrefix) +
                                     "\", which would read as package structure (a model or "
                                     "object name with a line break?)");
    }
}

std::string write_package(const std::string &model, const std::string &dialect,
                          const std::vector<PackageStatement> &parts) {
    if (!is_dialect(dialect))
        throw PackageFormatError("unknown dialect \"" + escape_header_text(dialect) + "\"");
    validate_parts(parts);
    std::string out = std::string(kHeaderPrefix) + escape_header_text(model) + "\", dialect " +
                      dialect + ", parts " + std::to_string(parts.size()) + "\n";
    for (const auto &p : parts) {
        out += std::string(kStepField) + std::to_string(p.step) + " part=" + p.part +
               " bytes=" + std::to_string(p.sql.size()) + "\n";
        out += p.sql + ";\n";
    }
    return out;
}

Package parse_package(const std::string &text) {
    Cursor in(text);
    if (in.at_end()) throw PackageFormatError("empty file");
    const int header_line = in.line();
    if (!in.peek_line().empty() && in.peek_line().back() == '\r')
        throw PackageFormatError(
            "the header ends with a carriage return: the file was converted to CRLF line ends, "
            "which changes the statements; use the file as `incmodel export` wrote it",
            header_line);
    Header h = parse_header(in.take_line(), header_line);
    // Before the first marker: comment lines and blank lines only.
    while (!in.at_end() && !starts_with(in.peek_line(), kMarkerPrefix)) {
        std::string_view l = in.peek_line();
        if (!l.empty() && !starts_with(l, "--"))
            throw PackageFormatError("only comments may precede the first marker", in.line());
        in.take_line();
    }
    Package pkg{h.model, h.dialect, {}};
    while (!in.at_end() && !in.only_blank_left()) {
        if (!starts_with(in.peek_line(), kMarkerPrefix))
            throw PackageFormatError("unexpected text after the statement of step " +
                                         std::to_string(pkg.parts.size()) +
                                         " (only the next marker may follow)",
                                     in.line());
        pkg.parts.push_back(read_part(in));
    }
    if (pkg.parts.empty()) throw PackageFormatError("no package parts found");
    if (pkg.parts.size() != static_cast<std::size_t>(h.parts))
        throw PackageFormatError("the header announces " + std::to_string(h.parts) +
                                 " parts, the file has " + std::to_string(pkg.parts.size()));
    validate_parts(pkg.parts);
    return pkg;
}

std::vector<PackageStatement> read_package(const std::string &text) {
    return parse_package(text).parts;
}

}  // namespace incmodel::core
