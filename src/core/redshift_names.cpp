#include "core/redshift_names.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace incmodel::core {

namespace {

// https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html
// clang-format off
constexpr std::array<std::string_view, 156> kReserved = {
    "AES128", "AES256", "ALL", "ALLOWOVERWRITE", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY",
    "AS", "ASC", "AUTHORIZATION", "AZ64", "BACKUP", "BETWEEN", "BINARY", "BLANKSASNULL", "BOTH",
    "BYTEDICT", "BZIP2", "CASE", "CAST", "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE",
    "CREDENTIALS", "CROSS", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER",
    "CURRENT_USER_ID", "DEFAULT", "DEFERRABLE", "DEFLATE", "DEFRAG", "DELTA", "DELTA32K", "DESC",
    "DISABLE", "DISTINCT", "DO", "ELSE", "EMPTYASNULL", "ENABLE", "ENCODE", "ENCRYPT",
    "ENCRYPTION", "END", "EXCEPT", "EXPLICIT", "FALSE", "FOR", "FOREIGN", "FREEZE", "FROM",
    "FULL", "GLOBALDICT256", "GLOBALDICT64K", "GRANT", "GROUP", "GZIP", "HAVING", "IDENTITY",
    "IGNORE", "ILIKE", "IN", "INITIALLY", "INNER", "INTERSECT", "INTERVAL", "INTO", "IS",
    "ISNULL", "JOIN", "LEADING", "LEFT", "LIKE", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "LUN",
    "LUNS", "LZO", "LZOP", "MINUS", "MOSTLY16", "MOSTLY32", "MOSTLY8", "NATURAL", "NEW", "NOT",
    "NOTNULL", "NULL", "NULLS", "OFF", "OFFLINE", "OFFSET", "OID", "OLD", "ON", "ONLY", "OPEN",
    "OR", "ORDER", "OUTER", "OVERLAPS", "PARALLEL", "PARTITION", "PERCENT", "PERMISSIONS",
    "PIVOT", "PLACING", "PRIMARY", "RAW", "READRATIO", "RECOVER", "REFERENCES", "REJECTLOG",
    "RESORT", "RESPECT", "RESTORE", "RIGHT", "SELECT", "SESSION_USER", "SIMILAR", "SNAPSHOT",
    "SOME", "SYSDATE", "SYSTEM", "TABLE", "TAG", "TDES", "TEXT255", "TEXT32K", "THEN",
    "TIMESTAMP", "TO", "TOP", "TRAILING", "TRUE", "TRUNCATECOLUMNS", "UNION", "UNIQUE", "UNNEST",
    "UNPIVOT", "USER", "USING", "VERBOSE", "WALLET", "WHEN", "WHERE", "WITH", "WITHOUT"};
// clang-format on

// Words of the list that PostgreSQL prints as syntax in lower case (format_type's "timestamp
// without time zone") or that are PostgreSQL keywords quote_identifier() already quotes: only the
// others are identifiers when they appear bare in PostgreSQL's output.
const std::set<std::string_view> &postgres_syntax_words() {
    static const std::set<std::string_view> words = [] {
        std::set<std::string_view> w;
        for (std::string_view r : kReserved) w.insert(r);
        for (std::string_view only :
             {"AES128", "AES256", "ALLOWOVERWRITE", "AZ64", "BACKUP", "BLANKSASNULL", "BYTEDICT",
              "BZIP2", "CREDENTIALS", "CURRENT_USER_ID", "DEFLATE", "DEFRAG", "DELTA", "DELTA32K",
              "EMPTYASNULL", "ENCODE", "ENCRYPT", "ENCRYPTION", "EXPLICIT", "GLOBALDICT256",
              "GLOBALDICT64K", "GZIP", "IGNORE", "LUN", "LUNS", "LZO", "LZOP", "MINUS", "MOSTLY16",
              "MOSTLY32", "MOSTLY8", "OFFLINE", "OID", "OPEN", "PERCENT", "PERMISSIONS", "PIVOT",
              "RAW", "READRATIO", "RECOVER", "REJECTLOG", "RESORT", "RESPECT", "RESTORE", "SYSDATE",
              "TAG", "TDES", "TEXT255", "TEXT32K", "TOP", "TRUNCATECOLUMNS", "UNNEST", "UNPIVOT",
              "WALLET",
              // PostgreSQL's unreserved keywords (printed bare as identifiers)
              "DISABLE", "ENABLE", "IDENTITY", "NEW", "NULLS", "OFF", "OLD", "PARALLEL",
              "PARTITION", "SNAPSHOT", "SYSTEM"})
            w.erase(only);
        return w;
    }();
    return words;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

}  // namespace

bool redshift_reserved(std::string_view word) {
    const std::string u = upper(word);
    return std::find(kReserved.begin(), kReserved.end(), std::string_view(u)) != kReserved.end();
}

bool redshift_only_reserved(std::string_view word) {
    return redshift_reserved(word) && !postgres_syntax_words().count(upper(word));
}

IdentQuoter redshift_quoter(IdentQuoter base) {
    return [base = std::move(base)](std::string_view ident) {
        std::string q = base(ident);
        if (!q.empty() && q[0] == '"') return q;
        if (!redshift_reserved(ident)) return q;
        return "\"" + q + "\"";  // unquoted by base: no double quote inside
    };
}

std::string quote_redshift_reserved(const std::string &s) {
    std::string out;
    const std::size_t n = s.size();
    std::size_t i = 0;
    auto copy_until = [&](std::size_t end) {
        out.append(s, i, end - i);
        i = end;
    };
    while (i < n) {
        const char c = s[i];
        if (c == '\'' || c == '"') {  // literal or quoted identifier ('' / "" stay inside)
            std::size_t j = i + 1;
            while (j < n && !(s[j] == c && (j + 1 >= n || s[j + 1] != c))) j += s[j] == c ? 2 : 1;
            copy_until(std::min(n, j + 1));
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            std::size_t e = s.find('\n', i);
            copy_until(e == std::string::npos ? n : e);
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            std::size_t e = s.find("*/", i + 2);
            copy_until(e == std::string::npos ? n : e + 2);
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t e = i;
            while (e < n && word_char(s[e])) ++e;
            const std::string word = s.substr(i, e - i);
            std::size_t next = e;
            while (next < n && std::isspace(static_cast<unsigned char>(s[next]))) ++next;
            const bool function = next < n && s[next] == '(';
            const bool type = i >= 2 && s.compare(i - 2, 2, "::") == 0;
            const bool lower = std::none_of(word.begin(), word.end(), [](char ch) {
                return std::isupper(static_cast<unsigned char>(ch));
            });
            if (lower && !function && !type && redshift_reserved(word) &&
                !postgres_syntax_words().count(upper(word))) {
                out += "\"" + word + "\"";
                i = e;
            } else {
                copy_until(e);
            }
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            std::size_t e = i;
            while (e < n && word_char(s[e])) ++e;  // 1e5, $1: not words
            copy_until(e);
        } else {
            copy_until(i + 1);
        }
    }
    return out;
}

std::string redshift_relation_match(const std::string &schema_literal,
                                    const std::string &name_literal) {
    return "LOWER(n.nspname) = LOWER(" + schema_literal + ") AND LOWER(c.relname) = LOWER(" +
           name_literal + ")";
}

std::string redshift_lock_probe(const std::string &schema_literal,
                                const std::string &name_literal) {
    return "SELECT COUNT(*) FROM svv_transactions t JOIN pg_class c ON c.oid = t.relation JOIN "
           "pg_namespace n ON n.oid = c.relnamespace WHERE " +
           redshift_relation_match(schema_literal, name_literal) +
           " AND t.granted AND t.lock_mode = 'AccessExclusiveLock' AND t.pid <> PG_BACKEND_PID()";
}

}  // namespace incmodel::core
