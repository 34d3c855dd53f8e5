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

// Pass 2: agg(...) FILTER (WHERE c) rewritten with CASE where exact, refused otherwise.
std::string translate_filter(const std::string &sql) {
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

// A bare word (not after '.', not inside a longer word) starting at i: its length, or 0.
std::size_t word_len(const std::string &s, std::size_t i) {
    if (!(std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_')) return 0;
    if (i > 0 && (ident_char(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '"')) return 0;
    std::size_t e = i;
    while (e < s.size() && (ident_char(s[e]) || s[e] == '$')) ++e;
    return e - i;
}

// True when the word w (lower case) starts at i in any case.
bool lword_at(const std::string &s, std::size_t i, const std::string &w) {
    return i < s.size() && word_at(lower(s.substr(i, w.size() + 1)), 0, w);
}

std::size_t next_non_space(const std::string &s, std::size_t i) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return i;
}

// Pass 1: what Redshift lacks and nothing rewrites exactly (Redshift's "Unsupported PostgreSQL
// functions" and "Unsupported PostgreSQL features" pages, its leader-node-only functions, and
// syntax its SELECT does not have): refused with the alternative.
void refuse_unsupported(const std::string &s) {
    struct Refusal {
        const char *name, *hint;
    };
    static const Refusal functions[] = {
        {"array_agg",
         "Redshift has no arrays: aggregate text with string_agg(NULLIF(x, ''), sep "
         "ORDER BY ...) (exported as LISTAGG), or export with dialect => 'postgres'."},
        {"corr",
         "Compute it from sums (e.g. covar_pop(x, y) / (stddev_pop(x) * stddev_pop(y))), "
         "which is not bit-identical in floating point, or export with dialect => "
         "'postgres'."},
        {"covar_pop",
         "Compute it as avg(x * y) - avg(x) * avg(y) (not bit-identical in floating "
         "point), or export with dialect => 'postgres'."},
        {"covar_samp",
         "Compute it from sums ((sum(x * y) - sum(x) * sum(y) / count(*)) / "
         "(count(*) - 1)), or export with dialect => 'postgres'."},
        {"regr_avgx", nullptr},
        {"regr_avgy", nullptr},
        {"regr_count", nullptr},
        {"regr_intercept", nullptr},
        {"regr_r2", nullptr},
        {"regr_slope", nullptr},
        {"regr_sxx", nullptr},
        {"regr_sxy", nullptr},
        {"regr_syy", nullptr},
        {"xmlagg", nullptr},
        {"json_agg", nullptr},
        {"jsonb_agg", nullptr},
        {"json_object_agg", nullptr},
        {"jsonb_object_agg", nullptr},
        {"mode", "Redshift has no MODE() aggregate."},
        {"generate_series",
         "Redshift runs GENERATE_SERIES on the leader node only: join a "
         "numbers table instead."},
        {"generate_subscripts", nullptr},
        {"unnest", nullptr},
        {"array_length", nullptr},
        {"array_to_string", nullptr},
        {"string_to_array", nullptr},
        {"cardinality", nullptr},
        {"regexp_matches", "Use REGEXP_SUBSTR / REGEXP_COUNT."},
        {"regexp_split_to_array", "Use SPLIT_PART."},
        {"regexp_split_to_table", "Use SPLIT_PART."},
        {"width_bucket", "Use CASE WHEN over the bucket bounds."},
        {"div", "Use TRUNC(a / b)."},
        {"format", "Use || and TO_CHAR."},
        {"overlay", "Use SUBSTRING and ||."},
        {"bit_length", "Use OCTET_LENGTH(x) * 8."},
        {"convert_from", nullptr},
        {"convert_to", nullptr},
        {"quote_nullable", nullptr},
        {"substr", "SUBSTR runs only on Redshift's leader node: use SUBSTRING(x, start, length)."},
        {"age", "AGE is a deprecated leader-node function on Redshift: use DATEDIFF."},
        {"isfinite", nullptr},
        {"current_schema", nullptr},
        {"to_ascii", nullptr},
        {"factorial", nullptr},
        {"get_byte", nullptr},
        {"set_byte", nullptr},
        {"get_bit", nullptr},
        {"set_bit", nullptr},
        {"justify_days", nullptr},
        {"justify_hours", nullptr},
        {"justify_interval", nullptr}};
    const std::string otherwise =
        "Rewrite the query without it, or export with dialect => "
        "'postgres'.";
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = skip_quoted(s, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (std::size_t n = word_len(s, i)) {
            const std::string w = lower(s.substr(i, n));
            const std::size_t after = next_non_space(s, i + n);
            const bool call = after < s.size() && s[after] == '(';
            for (const Refusal &r : functions)
                if (call && w == r.name) throw unsupported(w + "()", r.hint ? r.hint : otherwise);
            if (w == "distinct" && lword_at(s, after, "on"))
                throw unsupported("DISTINCT ON",
                                  "Keep the first row of each group with "
                                  "ROW_NUMBER() OVER (PARTITION BY ... ORDER BY "
                                  "...) = 1 in a subquery.");
            if (w == "lateral")
                throw unsupported("LATERAL", "Join a derived table or use a correlated subquery.");
            if (w == "array" && after < s.size() && (s[after] == '[' || s[after] == '('))
                throw unsupported("an array constructor", "Redshift has no array types.");
            if (w == "is") {
                std::size_t k = after;
                if (lword_at(s, k, "not")) k = next_non_space(s, k + 3);
                if (lword_at(s, k, "distinct"))
                    throw unsupported("IS [NOT] DISTINCT FROM",
                                      "Compare with = and IS NULL on both sides: (a = b OR (a IS "
                                      "NULL AND b IS NULL)).");
            }
            i += n;
            continue;
        }
        if (s.compare(i, 2, "[]") == 0)
            throw unsupported("an array type", "Redshift has no array types.");
        for (const char *op : {"->>", "->", "#>>", "#>", "@>", "<@", "?|", "?&"})
            if (s.compare(i, std::string(op).size(), op) == 0)
                throw unsupported(std::string("the json operator ") + op,
                                  "Use JSON_EXTRACT_PATH_TEXT(x, 'key') in a query written for "
                                  "Redshift, or export with dialect => 'postgres'.");
        ++i;
    }
}

// The literal at the start of t ('...', optionally cast to text / varchar): the literal, or "".
std::string text_literal(const std::string &t) {
    std::string x = t;
    x.erase(0, x.find_first_not_of(' '));
    x.erase(x.find_last_not_of(' ') + 1);
    if (x.empty() || x[0] != '\'') return "";
    const std::size_t end = skip_quoted(x, 0);
    const std::string rest = lower(x.substr(end));
    if (!rest.empty() && rest != "::text" && rest != "::character varying" && rest != "::varchar")
        return "";
    return x.substr(0, end);
}

// The top-level position of the word w in args (outside parentheses and quotes), or npos.
std::size_t top_level_word(const std::string &args, const std::string &w) {
    int depth = 0;
    for (std::size_t i = 0; i < args.size();) {
        std::size_t j = skip_quoted(args, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (args[i] == '(') ++depth;
        if (args[i] == ')') --depth;
        if (depth == 0 && word_at(args, i, w)) return i;
        ++i;
    }
    return std::string::npos;
}

std::size_t last_top_level_comma(const std::string &args) {
    int depth = 0;
    std::size_t last = std::string::npos;
    for (std::size_t i = 0; i < args.size();) {
        std::size_t j = skip_quoted(args, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (args[i] == '(') ++depth;
        if (args[i] == ')') --depth;
        if (args[i] == ',' && depth == 0) last = i;
        ++i;
    }
    return last;
}

// Pass 3: string_agg(NULLIF(x, ''), 'sep' [ORDER BY o]) -> LISTAGG(NULLIF(x, ''), 'sep')
// [WITHIN GROUP (ORDER BY o)]: LISTAGG skips NULLs and empty strings, so only an argument that
// can never be '' (NULLIF(x, '')) aggregates the same values; DISTINCT (LISTAGG ignores trailing
// blanks), a computed separator, and a window string_agg are refused. every(x) -> bool_and(x).
// percentile_cont/_disc((p)::double precision) -> (p): Redshift takes a numeric constant.
std::string translate_calls(const std::string &sql) {
    std::string s = sql;
    const std::string hint =
        "Wrap the argument in NULLIF(x, '') (Redshift's LISTAGG skips empty strings, PostgreSQL's "
        "string_agg keeps them), with a constant separator and without DISTINCT: it is then "
        "exported as LISTAGG(...) WITHIN GROUP (ORDER BY ...), limited to 64K bytes. Or export "
        "with dialect => 'postgres'.";
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = skip_quoted(s, i);
        if (j != i) {
            i = j;
            continue;
        }
        const std::size_t n = word_len(s, i);
        if (n == 0) {
            ++i;
            continue;
        }
        const std::string w = lower(s.substr(i, n));
        const std::size_t open = next_non_space(s, i + n);
        if (open >= s.size() || s[open] != '(') {
            i += n;
            continue;
        }
        const std::size_t close = matching_paren(s, open);
        if (close == std::string::npos) break;
        std::string args = s.substr(open + 1, close - open - 1);
        std::string replacement;
        if (w == "every") {
            replacement = "bool_and(" + args + ")";
        } else if (w == "percentile_cont" || w == "percentile_disc") {
            const std::string a = lower(args);
            const std::string cast = ")::double precision";
            if (!a.empty() && a[0] == '(' && a.size() > cast.size() &&
                a.compare(a.size() - cast.size(), cast.size(), cast) == 0)
                replacement =
                    s.substr(i, n) + "(" + args.substr(1, args.size() - cast.size() - 1) + ")";
        } else if (w == "string_agg") {
            const std::size_t after = next_non_space(s, close + 1);
            if (lword_at(s, after, "over"))
                throw unsupported("string_agg() as a window function", hint);
            std::string order;
            if (std::size_t ob = top_level_word(args, "ORDER"); ob != std::string::npos) {
                order = args.substr(ob);
                args = args.substr(0, ob);
            }
            const std::size_t comma = last_top_level_comma(args);
            if (comma == std::string::npos) throw unsupported("string_agg()", hint);
            std::string value = args.substr(0, comma);
            value.erase(0, value.find_first_not_of(' '));
            value.erase(value.find_last_not_of(' ') + 1);
            const std::string sep = text_literal(args.substr(comma + 1));
            const std::string lv = lower(value);
            const std::size_t vclose =
                lv.compare(0, 7, "nullif(") == 0 ? matching_paren(value, 6) : std::string::npos;
            bool nullif_empty = false;
            if (vclose == value.size() - 1) {
                const std::string inner = value.substr(7, vclose - 7);
                const std::size_t c2 = last_top_level_comma(inner);
                nullif_empty = c2 != std::string::npos &&
                               text_literal(inner.substr(c2 + 1)).size() == 2;  // ''
            }
            if (sep.empty() || !nullif_empty || word_at(lv, 0, "distinct"))
                throw unsupported("string_agg()", hint);
            replacement = "LISTAGG(" + value + ", " + sep + ")";
            if (!order.empty()) replacement += " WITHIN GROUP (" + order + ")";
        }
        if (replacement.empty()) {
            i += n;
            continue;
        }
        s = s.substr(0, i) + replacement + s.substr(close + 1);
        i += replacement.size();
    }
    return s;
}

// Redshift: every LISTAGG, PERCENTILE_CONT and MEDIAN of a statement uses the same ORDER BY.
void check_one_within_group_order(const std::string &s) {
    std::set<std::string> orders;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = skip_quoted(s, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (word_at(s, i, "WITHIN") || word_at(s, i, "within")) {
            const std::size_t open = s.find('(', i);
            const std::size_t close =
                open == std::string::npos ? std::string::npos : matching_paren(s, open);
            if (close != std::string::npos) orders.insert(s.substr(open, close - open));
        }
        ++i;
    }
    if (orders.size() > 1)
        throw unsupported("ordered aggregates with different ORDER BY",
                          "Redshift requires every LISTAGG, PERCENTILE_CONT and MEDIAN of a "
                          "statement to use the same ORDER BY: order them alike, or export with "
                          "dialect => 'postgres'.");
}

}  // namespace

std::string translate_for_redshift(const std::string &sql) {
    refuse_unsupported(sql);
    const std::string s = translate_calls(translate_filter(sql));
    check_one_within_group_order(s);
    return s;
}

}  // namespace incmodel::core
