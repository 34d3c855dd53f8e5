#include "core/redshift_translate.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/export_package.hpp"

namespace incmodel::core {

namespace {

// Position just past the literal, quoted identifier or comment starting at i, or i itself.
std::size_t skip_quoted(const std::string &s, std::size_t i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
        for (std::size_t j = i + 1; j < s.size(); ++j)
            if (s[j] == c) {
                if (j + 1 < s.size() && s[j + 1] == c)
                    ++j;
                else
                    return j + 1;
            }
        return s.size();
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
        std::size_t e = s.find('\n', i);
        return e == std::string::npos ? s.size() : e;
    }
    return i;
}

// The position of the parenthesis matching the one at open, or npos.
std::size_t matching_paren(const std::string &s, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < s.size();) {
        std::size_t j = skip_quoted(s, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (s[i] == '(') ++depth;
        if (s[i] == ')' && --depth == 0) return i;
        ++i;
    }
    return std::string::npos;
}

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// True when the bare word w starts at i (not inside a longer word).
bool word_at(const std::string &s, std::size_t i, const std::string &w) {
    if (s.compare(i, w.size(), w) != 0) return false;
    if (i > 0 && ident_char(s[i - 1])) return false;
    return i + w.size() >= s.size() || !ident_char(s[i + w.size()]);
}

bool has_top_level_comma(const std::string &args) {
    int depth = 0;
    for (std::size_t i = 0; i < args.size();) {
        std::size_t j = skip_quoted(args, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (args[i] == '(') ++depth;
        if (args[i] == ')') --depth;
        if (args[i] == ',' && depth == 0) return true;
        ++i;
    }
    return false;
}

ExportError unsupported(const std::string &construct, const std::string &hint) {
    return ExportError(
        ExportError::Kind::Unsupported,
        "incmodel: the query uses " + construct + ", which Redshift has no exact equivalent for",
        "Redshift cannot run the model's query as PostgreSQL does.", hint);
}

}  // namespace

std::string translate_for_redshift(const std::string &sql) {
    static const std::set<std::string> null_skipping = {
        "count",      "sum",      "min",      "max",     "avg",      "stddev", "stddev_samp",
        "stddev_pop", "variance", "var_samp", "var_pop", "bool_and", "bool_or"};
    std::string s = sql;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = skip_quoted(s, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (word_at(s, i, "string_agg") || word_at(s, i, "STRING_AGG"))
            throw unsupported("string_agg()",
                              "Use LISTAGG(x, sep) WITHIN GROUP (ORDER BY ...) in a query written "
                              "for Redshift (its result is limited to 64K bytes), or export with "
                              "dialect => 'postgres'.");
        if (!word_at(s, i, "FILTER")) {
            ++i;
            continue;
        }
        // agg(args) FILTER (WHERE cond): the aggregate's closing parenthesis precedes FILTER.
        std::size_t close = s.find_last_not_of(" \n\t", i - 1);
        std::size_t fopen = s.find_first_not_of(" \n\t", i + 6);
        if (close == std::string::npos || s[close] != ')' || fopen == std::string::npos ||
            s[fopen] != '(') {
            ++i;
            continue;
        }
        std::size_t fclose = matching_paren(s, fopen);
        std::size_t where = s.find_first_not_of(" \n\t", fopen + 1);
        if (fclose == std::string::npos || !word_at(s, where, "WHERE")) {
            ++i;
            continue;
        }
        const std::string cond = s.substr(where + 5, fclose - where - 5);
        // The aggregate's opening parenthesis: scan back to the one matching close.
        std::size_t open = std::string::npos;
        for (std::size_t k = 0; k < close; ++k) {
            std::size_t q = skip_quoted(s, k);
            if (q != k) {
                k = q - 1;
                continue;
            }
            if (s[k] == '(' && matching_paren(s, k) == close) open = k;
        }
        std::size_t name_end = open;
        std::size_t name_begin = name_end;
        while (name_begin > 0 && ident_char(s[name_begin - 1])) --name_begin;
        const std::string name = lower(s.substr(name_begin, name_end - name_begin));
        std::string args = s.substr(open + 1, close - open - 1);
        const std::string construct = name + "(...) FILTER (WHERE ...)";
        if (!null_skipping.count(name) || has_top_level_comma(args) ||
            args.find(" ORDER BY ") != std::string::npos)
            throw unsupported(construct,
                              "Move the condition into the aggregate's argument with CASE WHEN "
                              "... THEN ... END where that is exact for this aggregate, or export "
                              "with dialect => 'postgres'.");
        std::string distinct;
        std::size_t a = args.find_first_not_of(' ');
        if (a != std::string::npos && word_at(args, a, "DISTINCT")) {
            distinct = "DISTINCT ";
            args = args.substr(a + 8);
        }
        args.erase(0, std::min(args.size(), args.find_first_not_of(' ')));
        const std::string value = args == "*" ? "1" : args;
        const std::string rewritten = s.substr(name_begin, open - name_begin) + "(" + distinct +
                                      "CASE WHEN" + cond + " THEN " + value + " END)";
        s = s.substr(0, name_begin) + rewritten + s.substr(fclose + 1);
        i = name_begin + rewritten.size();
    }
    return s;
}

}  // namespace incmodel::core
