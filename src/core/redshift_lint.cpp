#include "core/redshift_lint.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "core/redshift_names.hpp"

namespace incmodel::core {

namespace {

constexpr const char *kDocBase = "https://docs.aws.amazon.com/redshift/latest/dg/";

// The rules, each with the page it comes from (relative to kDocBase).
const std::vector<LintRule> kRules = {
    {"reserved-word", "r_pg_keywords.html",
     "a word of Redshift's reserved list used unquoted as an identifier (TOP, OPEN, PERCENT, TAG, "
     "DELTA, ... anywhere but in their own syntax; any reserved word as a column, alias or "
     "qualified name)"},
    {"unsupported-function", "c_unsupported-postgresql-functions.html",
     "a call of a PostgreSQL function Redshift does not support (STRING_AGG, ARRAY_AGG, EVERY, "
     "CORR, COVAR_*, REGR_*, GENERATE_SERIES, CLOCK_TIMESTAMP, advisory locks, array and "
     "regexp-set functions, ...)"},
    {"leader-node-function", "c_SQL_functions_leader_node_only.html",
     "a leader-node-only (or deprecated) function in a statement that reads tables: NOW, AGE, "
     "CURRENT_TIMESTAMP, CURRENT_TIME, LOCALTIME, ISFINITE, SUBSTR, CURRENT_SCHEMA, "
     "HAS_*_PRIVILEGE, ..."},
    {"is-distinct-from", "c_unsupported-postgresql-functions.html", "IS [NOT] DISTINCT FROM"},
    {"filter-clause", "c_Aggregate_Functions.html",
     "an aggregate with FILTER (WHERE ...) (no aggregate's syntax has it; use CASE WHEN)"},
    {"aggregate-order-by", "r_LISTAGG.html",
     "ORDER BY inside an aggregate's parentheses (Redshift orders only with WITHIN GROUP, e.g. "
     "LISTAGG ... WITHIN GROUP (ORDER BY ...))"},
    {"distinct-on", "r_SELECT_list.html", "SELECT DISTINCT ON (...)"},
    {"on-conflict", "r_INSERT_30.html", "INSERT ... ON CONFLICT"},
    {"returning", "r_INSERT_30.html", "RETURNING on INSERT, UPDATE or DELETE"},
    {"lateral", "r_FROM_clause30.html", "LATERAL subqueries or functions in FROM"},
    {"array", "c_unsupported-postgresql-features.html",
     "array types (type[]) and array constructors (ARRAY[...])"},
    {"json-operator", "json-functions.html",
     "the json/jsonb operators ->, ->>, #>, #>>, @>, <@, ?, ?|, ?& (Redshift: "
     "JSON_EXTRACT_PATH_TEXT, or SUPER navigation)"},
    {"create-index", "c_unsupported-postgresql-features.html", "CREATE INDEX (Redshift has none)"},
    {"postgres-only-ddl", "r_CREATE_TABLE_NEW.html",
     "CREATE UNLOGGED TABLE, NULLS NOT DISTINCT (not in Redshift's CREATE TABLE)"},
    {"column-type", "c_Supported_data_types.html",
     "a column type Redshift lacks (json, jsonb, uuid, bytea, serial, money, inet, xml, ...) or "
     "TEXT, which Redshift stores as VARCHAR(256)"},
    {"transaction-block", "r_VACUUM_command.html",
     "in the deploy's transaction block (ddl): VACUUM, ALTER TABLE APPEND, CREATE/DROP DATABASE, "
     "CREATE EXTERNAL TABLE (cannot run in a transaction block), TRUNCATE (commits it), "
     "transaction control"},
    {"procedure-statement", "stored-procedure-constraints.html",
     "in a stored procedure: PREPARE, CREATE/DROP DATABASE, CREATE EXTERNAL TABLE, VACUUM, SET "
     "LOCAL, ALTER TABLE APPEND (they need their own transaction), also as dynamic SQL"},
    {"procedure-commit", "stored-procedure-transaction-management.html",
     "COMMIT, ROLLBACK or TRUNCATE in the refresh procedure (each commits or ends the "
     "transaction: the refresh would no longer be one transaction)"},
    {"procedure-subtransaction", "stored-procedure-constraints.html",
     "SAVEPOINT, RELEASE, ROLLBACK TO, EXCEPTION blocks (Redshift has no subtransactions)"},
    {"procedure-limits", "stored-procedure-constraints.html",
     "more than 2 MB of procedure source or 1,024 variables"},
    {"raise-arguments", "c_PLpgSQL-statements.html",
     "RAISE level 'format', ... whose arguments are not simple variables"},
    {"superuser-view", "r_SVV_TABLE_INFO.html",
     "SVV_TABLE_INFO (visible to superusers only, and it omits empty tables; read pg_class)"},
    {"name-compared-by-text", "r_names.html",
     "a catalog name (relname, nspname, tablename, ...) compared without LOWER(), or LOWER() of "
     "it compared with a literal holding upper case (Redshift folds identifiers, quoted ones "
     "too, to lower case)"},
    {"lock-through-recompute", "r_LOCK.html",
     "LOCK of a table outside the package's schemas that is not immediately followed by the "
     "write to it (the lock lasts until the procedure's transaction ends: readers would wait "
     "through the recompute)"},
};

struct Tok {
    enum Kind { Word, QIdent, Str, DollarStr, Num, Op, Punct, Param } kind;
    std::string text;  // words upper-cased; literal, quoted identifier and body contents
};

bool word_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}
bool word_char(char c) {
    return word_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}
bool op_char(char c) {
    return std::string_view("+-*/<>=~!@#%^&|`?").find(c) != std::string_view::npos;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Redshift's lexer, as far as the rules need it: comments dropped; '...' literals with '' and
// backslash escapes (Redshift reads a backslash as an escape); "..." identifiers; $tag$ ... $tag$
// bodies; numbers; operators as runs of operator characters.
std::vector<Tok> tokenize(const std::string &s) {
    std::vector<Tok> out;
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const std::size_t e = s.find("*/", i + 2);
            i = e == std::string::npos ? n : e + 2;
        } else if (c == '\'') {
            std::string lit;
            ++i;
            while (i < n) {
                if (s[i] == '\\' && i + 1 < n) {
                    lit += s[i + 1];
                    i += 2;
                } else if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'') {
                    lit += '\'';
                    i += 2;
                } else if (s[i] == '\'') {
                    ++i;
                    break;
                } else {
                    lit += s[i++];
                }
            }
            out.push_back({Tok::Str, lit});
        } else if (c == '"') {
            std::string id;
            ++i;
            while (i < n) {
                if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
                    id += '"';
                    i += 2;
                } else if (s[i] == '"') {
                    ++i;
                    break;
                } else {
                    id += s[i++];
                }
            }
            out.push_back({Tok::QIdent, id});
        } else if (c == '$' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
            std::size_t e = i + 1;
            while (e < n && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
            out.push_back({Tok::Param, s.substr(i, e - i)});
            i = e;
        } else if (c == '$') {
            std::size_t e = i + 1;
            while (e < n && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
            if (e < n && s[e] == '$') {
                const std::string tag = s.substr(i, e - i + 1);
                const std::size_t close = s.find(tag, e + 1);
                const std::size_t end = close == std::string::npos ? n : close;
                out.push_back({Tok::DollarStr, s.substr(e + 1, end - e - 1)});
                i = close == std::string::npos ? n : close + tag.size();
            } else {
                out.push_back({Tok::Punct, "$"});
                ++i;
            }
        } else if (word_start(c)) {
            std::size_t e = i;
            while (e < n && word_char(s[e])) ++e;
            out.push_back({Tok::Word, upper(s.substr(i, e - i))});
            i = e;
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            std::size_t e = i;
            while (e < n && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '.')) ++e;
            out.push_back({Tok::Num, s.substr(i, e - i)});
            i = e;
        } else if (c == ':' && i + 1 < n && s[i + 1] == ':') {
            out.push_back({Tok::Punct, "::"});
            i += 2;
        } else if (op_char(c)) {
            std::size_t e = i;
            while (e < n && op_char(s[e]) &&
                   !(s[e] == '-' && e + 1 < n && s[e + 1] == '-' && e > i))
                ++e;
            out.push_back({Tok::Op, s.substr(i, e - i)});
            i = e;
        } else {
            out.push_back({Tok::Punct, std::string(1, c)});
            ++i;
        }
    }
    return out;
}

enum class Context { TransactionBlock, Procedure, TopLevel };

class Linter {
  public:
    Linter(std::vector<Tok> t, Context ctx, std::vector<LintFinding> &out, int step,
           std::string part)
        : t_(std::move(t)), ctx_(ctx), out_(out), step_(step), part_(std::move(part)) {}

    void run();

  private:
    bool word(std::size_t i, const char *w) const {
        return i < t_.size() && t_[i].kind == Tok::Word && t_[i].text == w;
    }
    bool punct(std::size_t i, const char *p) const {
        return i < t_.size() && (t_[i].kind == Tok::Punct || t_[i].kind == Tok::Op) &&
               t_[i].text == p;
    }
    bool is_word(std::size_t i) const { return i < t_.size() && t_[i].kind == Tok::Word; }
    void add(const std::string &rule, const std::string &message);
    bool reserved_allowed_here(std::size_t i) const;
    void check_reserved(std::size_t i);
    void check_column_lists(std::size_t i);
    void check_functions(std::size_t i);
    void check_name_comparison(std::size_t i);
    void check_statement_start(std::size_t i);
    void check_dynamic_sql(const std::string &literal);
    void check_raise(std::size_t i);
    void check_lock(std::size_t i);
    std::size_t relation_name(std::size_t i, std::string &name) const;
    std::size_t statement_end(std::size_t i) const;

    std::vector<Tok> t_;
    Context ctx_;
    std::vector<LintFinding> &out_;
    int step_;
    std::string part_;
    std::set<std::string> seen_;
    std::set<std::size_t> column_names_;  // tokens that name a column in a definition list
};

void Linter::add(const std::string &rule, const std::string &message) {
    if (!seen_.insert(rule + "\x1f" + message).second) return;
    std::string doc = kDocBase;
    for (const LintRule &r : kRules)
        if (rule == r.name) doc += r.doc;
    out_.push_back({rule, message, doc, step_, part_});
}

// Words of Redshift's list that are syntax in the place they stand: VACUUM ... TO 95 PERCENT,
// SELECT TOP n, ORDER BY ... NULLS FIRST, PARTITION BY, ENCODE <encoding>, IDENTITY(...),
// the catalog's oid column (pg_class.oid, as Redshift's catalog examples use it), SYSDATE.
bool Linter::reserved_allowed_here(std::size_t i) const {
    const std::string &w = t_[i].text;
    auto prev = [&](std::size_t k) -> const Tok * { return i >= k ? &t_[i - k] : nullptr; };
    if (w == "PERCENT" && prev(1) && prev(1)->kind == Tok::Num && prev(2) &&
        prev(2)->kind == Tok::Word && prev(2)->text == "TO")
        return true;
    if (w == "TOP" && prev(1) && prev(1)->kind == Tok::Word &&
        (prev(1)->text == "SELECT" || prev(1)->text == "DISTINCT" || prev(1)->text == "ALL") &&
        i + 1 < t_.size() && t_[i + 1].kind == Tok::Num)
        return true;
    if (w == "NULLS" && (word(i + 1, "FIRST") || word(i + 1, "LAST"))) return true;
    if (w == "PARTITION" && word(i + 1, "BY")) return true;
    if ((w == "RESPECT" || w == "IGNORE") && word(i + 1, "NULLS")) return true;
    if (w == "ENCODE" && is_word(i + 1)) return true;
    if (prev(1) && prev(1)->kind == Tok::Word && prev(1)->text == "ENCODE") return true;
    if ((w == "IDENTITY" || w == "UNNEST") && punct(i + 1, "(")) return true;
    if (w == "OID" && prev(1) && prev(1)->kind == Tok::Punct && prev(1)->text == ".") return true;
    if (w == "SYSDATE" || w == "CURRENT_USER_ID") return true;
    if (w == "OFF" && prev(1) && (prev(1)->text == "TO" || prev(1)->text == "=")) return true;
    return false;
}

void Linter::check_reserved(std::size_t i) {
    const std::string &w = t_[i].text;
    if (!redshift_reserved(w) || reserved_allowed_here(i)) return;
    const bool after_dot = i > 0 && punct(i - 1, ".");
    const bool before_dot = punct(i + 1, ".");
    const bool after_as = i > 0 && word(i - 1, "AS") && w != "SELECT" && w != "WITH" &&
                          w != "TIMESTAMP" && !punct(i + 1, "(");
    if (redshift_only_reserved(w) || after_dot || before_dot || after_as || column_names_.count(i))
        add("reserved-word", "\"" + lower(w) +
                                 "\" is reserved in Redshift and is used here unquoted as an "
                                 "identifier: quote it (\"" +
                                 lower(w) + "\")");
}

// Column names of CREATE TABLE (...) and INSERT INTO t (...) lists: every word that starts an
// element of the list (CREATE TABLE: but constraints), every word of an INSERT's column list.
void Linter::check_column_lists(std::size_t i) {
    bool create = word(i, "TABLE") && i > 0 &&
                  (word(i - 1, "CREATE") || word(i - 1, "TEMP") || word(i - 1, "TEMPORARY") ||
                   word(i - 1, "UNLOGGED"));
    bool insert = word(i, "INTO") && i > 0 && word(i - 1, "INSERT");
    if (!create && !insert) return;
    std::size_t j = i + 1;
    if (create && word(j, "IF")) j += 3;  // IF NOT EXISTS
    std::string name;
    j = relation_name(j, name);
    if (!punct(j, "(")) return;
    int depth = 0;
    bool element_start = true;
    static const std::set<std::string> constraints = {"PRIMARY", "UNIQUE", "CONSTRAINT",
                                                      "FOREIGN", "CHECK",  "LIKE"};
    for (std::size_t k = j; k < t_.size(); ++k) {
        if (punct(k, "(")) {
            if (++depth == 1) element_start = true;
            continue;
        }
        if (punct(k, ")")) {
            if (--depth == 0) break;
            continue;
        }
        if (depth != 1) continue;
        if (punct(k, ",")) {
            element_start = true;
            continue;
        }
        if (t_[k].kind == Tok::Word &&
            (insert || (element_start && !constraints.count(t_[k].text))))
            column_names_.insert(k);
        if (create && element_start && (t_[k].kind == Tok::Word || t_[k].kind == Tok::QIdent) &&
            !constraints.count(t_[k].text) && is_word(k + 1)) {
            static const std::set<std::string> lacking = {
                "JSON", "JSONB", "UUID",    "BYTEA",    "SERIAL",  "BIGSERIAL",   "MONEY", "INET",
                "CIDR", "XML",   "MACADDR", "TSVECTOR", "TSQUERY", "SMALLSERIAL", "POINT", "TEXT"};
            const std::string &type = t_[k + 1].text;
            if (lacking.count(type) && !punct(k + 2, "["))
                add("column-type",
                    "column type " + lower(type) +
                        (type == "TEXT" ? " (Redshift stores TEXT as VARCHAR(256), truncating "
                                          "longer values: use VARCHAR(n))"
                                        : " does not exist in Redshift"));
        }
        element_start = false;
    }
}

// After a relation name (word or quoted identifiers joined by dots) starting at i: the index of
// the next token; name gets the lower-cased, unquoted dotted name (Redshift folds both forms).
std::size_t Linter::relation_name(std::size_t i, std::string &name) const {
    name.clear();
    while (i < t_.size() && (t_[i].kind == Tok::Word || t_[i].kind == Tok::QIdent)) {
        name += lower(t_[i].text);
        if (!punct(i + 1, ".")) return i + 1;
        name += ".";
        i += 2;
    }
    return i;
}

std::size_t Linter::statement_end(std::size_t i) const {
    while (i < t_.size() && !punct(i, ";")) ++i;
    return i;
}

void Linter::check_functions(std::size_t i) {
    static const std::set<std::string> unsupported = {
        // aggregate functions
        "STRING_AGG", "ARRAY_AGG", "EVERY", "XMLAGG", "XML_AGG", "CORR", "COVAR_POP", "COVAR_SAMP",
        "REGR_AVGX", "REGR_AVGY", "REGR_COUNT", "REGR_INTERCEPT", "REGR_R2", "REGR_SLOPE",
        "REGR_SXX", "REGR_SXY", "REGR_SYY", "JSON_AGG", "JSONB_AGG", "JSON_OBJECT_AGG",
        "JSONB_OBJECT_AGG",
        // date/time functions
        "CLOCK_TIMESTAMP", "JUSTIFY_DAYS", "JUSTIFY_HOURS", "JUSTIFY_INTERVAL", "PG_SLEEP",
        "TRANSACTION_TIMESTAMP", "STATEMENT_TIMESTAMP",
        // mathematical functions
        "DIV", "SETSEED", "WIDTH_BUCKET",
        // set returning functions
        "GENERATE_SERIES", "GENERATE_SUBSCRIPTS",
        // string functions
        "BIT_LENGTH", "OVERLAY", "CONVERT_FROM", "CONVERT_TO", "FORMAT", "QUOTE_NULLABLE",
        "REGEXP_MATCHES", "REGEXP_SPLIT_TO_ARRAY", "REGEXP_SPLIT_TO_TABLE", "STRING_TO_ARRAY",
        // array functions
        "ARRAY_LENGTH", "ARRAY_UPPER", "ARRAY_LOWER", "ARRAY_APPEND", "ARRAY_PREPEND", "ARRAY_CAT",
        "ARRAY_TO_STRING", "ARRAY_DIMS", "ARRAY_POSITION", "ARRAY_REMOVE", "CARDINALITY", "UNNEST",
        // advisory locks, sizes, locations, visibility (the postgres dialect's own functions)
        "PG_ADVISORY_LOCK", "PG_ADVISORY_XACT_LOCK", "PG_TRY_ADVISORY_LOCK",
        "PG_TRY_ADVISORY_XACT_LOCK", "PG_ADVISORY_UNLOCK", "PG_RELATION_SIZE",
        "PG_TOTAL_RELATION_SIZE", "PG_TABLE_SIZE", "PG_RELATION_FILEPATH", "PG_TABLE_IS_VISIBLE",
        "HASHTEXT", "TO_REGCLASS"};
    static const std::set<std::string> leader_only = {"NOW",
                                                      "AGE",
                                                      "ISFINITE",
                                                      "SUBSTR",
                                                      "CURRENT_SCHEMA",
                                                      "CURRENT_SCHEMAS",
                                                      "HAS_DATABASE_PRIVILEGE",
                                                      "HAS_SCHEMA_PRIVILEGE",
                                                      "HAS_TABLE_PRIVILEGE",
                                                      "FACTORIAL",
                                                      "GETBIT",
                                                      "GET_BYTE",
                                                      "SET_BIT",
                                                      "SET_BYTE",
                                                      "TO_ASCII"};
    static const std::set<std::string> leader_only_bare = {"CURRENT_TIMESTAMP", "CURRENT_TIME",
                                                           "LOCALTIME"};
    const std::string &w = t_[i].text;
    const bool call = punct(i + 1, "(") && !(i > 0 && punct(i - 1, "."));
    if (call && unsupported.count(w))
        add("unsupported-function",
            lower(w) + "() is not supported by Redshift" +
                (w == "STRING_AGG"        ? " (LISTAGG(x, sep) WITHIN GROUP (ORDER BY ...))"
                 : w == "ARRAY_AGG"       ? " (LISTAGG, or SUPER with JSON_PARSE)"
                 : w == "GENERATE_SERIES" ? " (on compute nodes; join a numbers table instead)"
                                          : ""));
    if ((call && leader_only.count(w)) || leader_only_bare.count(w))
        add("leader-node-function", lower(w) +
                                        " runs only on Redshift's leader node (or is deprecated) "
                                        "and fails in a statement that reads tables" +
                                        (w == "NOW" || w == "CURRENT_TIMESTAMP" ? " (GETDATE())"
                                         : w == "SUBSTR"                        ? " (SUBSTRING)"
                                                                                : ""));
}

// relname / nspname / ... compared as text: Redshift stores names folded to lower case.
void Linter::check_name_comparison(std::size_t i) {
    static const std::set<std::string> names = {"RELNAME",    "NSPNAME",    "TABLENAME",
                                                "SCHEMANAME", "TABLE_NAME", "TABLE_SCHEMA",
                                                "SCHEMA_NAME"};
    const Tok &tok = t_[i];
    const bool name_col =
        (tok.kind == Tok::Word && names.count(tok.text)) ||
        (tok.kind == Tok::QIdent && (lower(tok.text) == "table" || lower(tok.text) == "schema"));
    if (!name_col) return;
    const std::size_t start = i >= 2 && punct(i - 1, ".") ? i - 2 : i;
    const bool lowered =
        start >= 2 && punct(start - 1, "(") && word(start - 2, "LOWER") && punct(i + 1, ")");
    auto comparison = [&](std::size_t k) {
        return punct(k, "=") || punct(k, "<>") || punct(k, "!=") || word(k, "IN") ||
               word(k, "LIKE") || word(k, "ILIKE");
    };
    const std::string what = lower(tok.text);
    if (!lowered) {
        if (comparison(i + 1) || (start > 0 && comparison(start - 1)))
            add("name-compared-by-text",
                what +
                    " compared as text: Redshift folds identifiers (quoted ones too) to lower "
                    "case, so compare LOWER(" +
                    what + ") with LOWER('...')");
        return;
    }
    const std::size_t after = i + 2;
    if (comparison(after) && after + 1 < t_.size() && t_[after + 1].kind == Tok::Str &&
        t_[after + 1].text != lower(t_[after + 1].text))
        add("name-compared-by-text", "LOWER(" + what + ") compared with '" + t_[after + 1].text +
                                         "', which has upper case and never matches");
}

// A statement starting at i (in a procedure body or the ddl part).
void Linter::check_statement_start(std::size_t i) {
    const std::string &w = t_[i].text;
    const std::size_t end = statement_end(i);
    auto contains = [&](const char *word_text) {
        for (std::size_t k = i; k < end; ++k)
            if (word(k, word_text)) return true;
        return false;
    };
    std::string forbidden;
    if (w == "VACUUM" || w == "PREPARE") forbidden = w;
    if (w == "ALTER" && word(i + 1, "TABLE") && contains("APPEND"))
        forbidden = "ALTER TABLE APPEND";
    if ((w == "CREATE" || w == "DROP") && word(i + 1, "DATABASE")) forbidden = w + " DATABASE";
    if (w == "CREATE" && word(i + 1, "EXTERNAL")) forbidden = "CREATE EXTERNAL TABLE";
    if (w == "SET" && word(i + 1, "LOCAL")) forbidden = "SET LOCAL";
    if (ctx_ == Context::Procedure) {
        if (!forbidden.empty())
            add("procedure-statement",
                forbidden +
                    " inside a stored procedure (it needs its own transaction: run it "
                    "after the refresh, as the post-commit step does)");
        if (w == "COMMIT" || w == "TRUNCATE" || (w == "ROLLBACK" && !word(i + 1, "TO")))
            add("procedure-commit",
                w +
                    " inside the refresh procedure ends its transaction: the refresh would no "
                    "longer be all or nothing" +
                    (w == "TRUNCATE" ? " (use DELETE)" : ""));
        if (w == "SAVEPOINT" || w == "RELEASE" || (w == "ROLLBACK" && word(i + 1, "TO")))
            add("procedure-subtransaction", w + " (Redshift has no subtransactions)");
        if (w == "RAISE") check_raise(i);
        if (w == "LOCK") check_lock(i);
    } else if (ctx_ == Context::TransactionBlock) {
        if (w == "TRUNCATE") forbidden = "TRUNCATE (it commits the deploy's transaction)";
        if (w == "COMMIT" || w == "ROLLBACK" || w == "BEGIN" || w == "END" || w == "START" ||
            w == "ABORT")
            forbidden = w + " (the deploy runs the ddl in one transaction)";
        if (!forbidden.empty())
            add("transaction-block", forbidden +
                                         " in the ddl, which deploy runs in a transaction "
                                         "block");
    }
}

// EXECUTE '...': a literal that is itself a statement Redshift refuses in a procedure.
void Linter::check_dynamic_sql(const std::string &literal) {
    std::vector<Tok> inner = tokenize(literal);
    if (inner.empty() || inner[0].kind != Tok::Word) return;
    const std::string &w = inner[0].text;
    if (w == "VACUUM" || w == "PREPARE" || w == "COMMIT" || w == "ROLLBACK" || w == "TRUNCATE" ||
        (w == "ALTER" && literal.find("APPEND") != std::string::npos) ||
        (inner.size() > 1 && inner[1].kind == Tok::Word &&
         ((w == "SET" && inner[1].text == "LOCAL") ||
          ((w == "CREATE" || w == "DROP") && inner[1].text == "DATABASE"))))
        add(w == "COMMIT" || w == "ROLLBACK" || w == "TRUNCATE" ? "procedure-commit"
                                                                : "procedure-statement",
            w + " in dynamic SQL inside the refresh procedure");
}

// RAISE level 'format' [, variable [, ...]]: Redshift takes only simple variables after the
// format (no literals, expressions, qualified names or calls).
void Linter::check_raise(std::size_t i) {
    std::size_t j = i + 1;
    while (j < t_.size() && t_[j].kind == Tok::Word) ++j;  // the level
    if (j >= t_.size() || t_[j].kind != Tok::Str) return;
    for (++j; j < t_.size() && !punct(j, ";"); j += 2) {
        const bool ok = punct(j, ",") && is_word(j + 1) &&
                        (j + 2 >= t_.size() || punct(j + 2, ",") || punct(j + 2, ";"));
        if (!ok) {
            add("raise-arguments",
                "RAISE with an argument that is not a simple variable (assign it to a variable "
                "first)");
            return;
        }
    }
}

// LOCK t: when t is not one of the package's own tables (schemas incmodel and
// incmodel_export_scratch), the next statement must write t.
void Linter::check_lock(std::size_t i) {
    std::size_t j = i + 1;
    if (word(j, "TABLE")) ++j;
    const std::size_t end = statement_end(j);
    std::vector<std::string> tables;
    while (j < end) {
        std::string name;
        j = relation_name(j, name);
        if (!name.empty()) tables.push_back(name);
        ++j;  // the comma
    }
    std::size_t next = end + 1;
    std::string written;
    if (word(next, "DELETE") && word(next + 1, "FROM")) relation_name(next + 2, written);
    if (word(next, "INSERT") && word(next + 1, "INTO")) relation_name(next + 2, written);
    if (word(next, "UPDATE")) relation_name(next + 1, written);
    for (const std::string &table : tables) {
        const std::string schema = table.substr(0, table.find('.'));
        if (schema == "incmodel" || schema == "incmodel_export_scratch") continue;
        if (table != written)
            add("lock-through-recompute",
                "LOCK " + table +
                    " is not followed by the write to it: the lock lasts until the procedure's "
                    "transaction ends, so readers wait through everything in between (lock it "
                    "just before the DELETE + INSERT)");
    }
}

void Linter::run() {
    // Dollar-quoted bodies (CREATE PROCEDURE ... AS $tag$ body $tag$) are PL/pgSQL run inside the
    // procedure's transaction.
    std::vector<std::size_t> paren_calls;  // for each open parenthesis: a call's name, or npos
    std::vector<std::string> paren_names;
    bool statement_start = true;
    int declare_vars = -1;
    for (std::size_t i = 0; i < t_.size(); ++i) {
        const Tok &tok = t_[i];
        if (tok.kind == Tok::DollarStr) {
            if (tok.text.size() > 2 * 1024 * 1024)
                add("procedure-limits", "the procedure's source exceeds 2 MB");
            Linter body(tokenize(tok.text), Context::Procedure, out_, step_, part_);
            body.run();
        }
        if (tok.kind == Tok::Str) {
            if (ctx_ == Context::Procedure) check_dynamic_sql(tok.text);
            // The statements post_commit / maintenance list run top-level, outside transactions.
            if ((part_ == "post_commit" || part_ == "maintenance") && ctx_ == Context::TopLevel) {
                std::vector<Tok> inner = tokenize(tok.text);
                if (!inner.empty() && inner[0].kind == Tok::Word &&
                    (inner[0].text == "VACUUM" || inner[0].text == "ANALYZE")) {
                    Linter listed(std::move(inner), Context::TopLevel, out_, step_,
                                  part_ + " list");
                    listed.run();
                }
            }
        }
        if (tok.kind == Tok::Word) {
            const std::string &w = tok.text;
            if (statement_start && ctx_ != Context::TopLevel) check_statement_start(i);
            if (ctx_ == Context::Procedure && w == "DECLARE" && declare_vars < 0) declare_vars = 0;
            if (ctx_ == Context::Procedure && w == "BEGIN" && declare_vars >= 0) {
                if (declare_vars > 1024)
                    add("procedure-limits", "more than 1,024 variables in the procedure");
                declare_vars = -2;
            }
            check_column_lists(i);
            check_reserved(i);
            check_functions(i);
            if (w == "FILTER" && i > 0 && punct(i - 1, ")") && punct(i + 1, "("))
                add("filter-clause",
                    "an aggregate with FILTER (WHERE ...): move the condition into the argument "
                    "with CASE WHEN ... THEN ... END");
            if (w == "DISTINCT" && word(i + 1, "ON") && punct(i + 2, "("))
                add("distinct-on", "SELECT DISTINCT ON (...): use ROW_NUMBER() OVER (...) = 1");
            if (w == "ON" && word(i + 1, "CONFLICT"))
                add("on-conflict",
                    "INSERT ... ON CONFLICT: DELETE the keys, then INSERT (or MERGE)");
            if (w == "RETURNING") add("returning", "RETURNING: Redshift's DML returns no rows");
            if (w == "LATERAL") add("lateral", "LATERAL in FROM");
            if (w == "ARRAY" && punct(i + 1, "[")) add("array", "an array constructor ARRAY[...]");
            if (w == "IS" &&
                (word(i + 1, "DISTINCT") || (word(i + 1, "NOT") && word(i + 2, "DISTINCT"))))
                add("is-distinct-from",
                    "IS [NOT] DISTINCT FROM: compare with = and IS NULL on both sides");
            if (w == "INDEX" && i > 0 &&
                (word(i - 1, "CREATE") ||
                 (word(i - 1, "UNIQUE") && i > 1 && word(i - 2, "CREATE"))))
                add("create-index", "CREATE INDEX (Redshift sorts with SORTKEY instead)");
            if (w == "UNLOGGED")
                add("postgres-only-ddl",
                    "UNLOGGED tables (Redshift: TEMP or "
                    "permanent)");
            if (w == "NULLS" && word(i + 1, "NOT") && word(i + 2, "DISTINCT"))
                add("postgres-only-ddl", "NULLS NOT DISTINCT");
            if (w == "SVV_TABLE_INFO")
                add("superuser-view",
                    "svv_table_info is visible only to superusers and omits empty tables: an "
                    "owner's maintenance would see nothing (read pg_class / pg_namespace)");
            if (w == "ORDER" && word(i + 1, "BY") && !paren_calls.empty() &&
                paren_calls.back() != std::string::npos)
                add("aggregate-order-by",
                    "ORDER BY inside " + lower(paren_names.back()) +
                        "(...): Redshift orders only with WITHIN GROUP (ORDER BY ...) (LISTAGG, "
                        "PERCENTILE_CONT, MEDIAN)");
        }
        check_name_comparison(i);
        if (tok.kind == Tok::Punct && tok.text == "[" && punct(i + 1, "]"))
            add("array", "an array type (type[])");
        if (tok.kind == Tok::Op) {
            static const std::set<std::string> json_ops = {"->", "->>", "#>", "#>>", "@>",
                                                           "<@", "?",   "?|", "?&"};
            if (json_ops.count(tok.text))
                add("json-operator", "the json operator " + tok.text +
                                         " (JSON_EXTRACT_PATH_TEXT, or SUPER navigation)");
        }
        if (punct(i, "(")) {
            // A call's parentheses: after a name that is not a keyword introducing a list or a
            // subquery, and not holding a subquery itself.
            static const std::set<std::string> not_calls = {
                "OVER",   "GROUP", "IN",   "EXISTS", "AS",      "FROM",    "JOIN",
                "ON",     "WHERE", "AND",  "OR",     "NOT",     "VALUES",  "USING",
                "SELECT", "THEN",  "ELSE", "WHEN",   "CASE",    "BY",      "ALL",
                "ANY",    "SOME",  "INTO", "TABLE",  "SORTKEY", "DISTKEY", "EXISTS"};
            const bool call = i > 0 && t_[i - 1].kind == Tok::Word &&
                              !not_calls.count(t_[i - 1].text) && !word(i + 1, "SELECT") &&
                              !word(i + 1, "WITH");
            paren_calls.push_back(call ? i : std::string::npos);
            paren_names.push_back(call ? t_[i - 1].text : "");
        } else if (punct(i, ")") && !paren_calls.empty()) {
            paren_calls.pop_back();
            paren_names.pop_back();
        }
        if (declare_vars >= 0 && punct(i, ";")) ++declare_vars;
        statement_start =
            punct(i, ";") || (tok.kind == Tok::Word && (tok.text == "BEGIN" || tok.text == "THEN" ||
                                                        tok.text == "ELSE" || tok.text == "LOOP"));
        if (ctx_ == Context::Procedure && tok.kind == Tok::Word && tok.text == "EXCEPTION" &&
            word(i + 1, "WHEN"))
            add("procedure-subtransaction",
                "an EXCEPTION block (a subtransaction in PostgreSQL; Redshift has none)");
    }
}

Context context_of(const std::string &part) {
    if (part == "ddl") return Context::TransactionBlock;
    return Context::TopLevel;  // procedure/dispatcher bodies are found as dollar-quoted strings
}

}  // namespace

const std::vector<LintRule> &redshift_lint_rules() {
    return kRules;
}

std::vector<LintFinding> lint_redshift_statement(const std::string &sql, const std::string &part,
                                                 int step) {
    std::vector<LintFinding> out;
    Linter(tokenize(sql), context_of(part), out, step, part).run();
    return out;
}

std::vector<LintFinding> lint_redshift_package(const std::vector<PackageStatement> &parts) {
    std::vector<LintFinding> out;
    for (const PackageStatement &p : parts) {
        auto f = lint_redshift_statement(p.sql, p.part, p.step);
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

std::string describe(const LintFinding &f) {
    std::string s;
    if (f.step > 0) s += "step " + std::to_string(f.step) + " (" + f.part + ") ";
    return s + f.rule + ": " + f.message + " [" + f.doc + "]";
}

}  // namespace incmodel::core
