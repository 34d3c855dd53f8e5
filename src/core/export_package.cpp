#include "core/export_package.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "core/redshift_names.hpp"
#include "core/redshift_translate.hpp"

namespace incmodel::core {

namespace {

constexpr const char *kKeysAlias = "_incmodel_k";
constexpr std::size_t kMaxModelName = 48;  // room for the prefixes within 63 bytes
constexpr std::size_t kRedshiftMaxSource = 2 * 1024 * 1024;

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

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

}  // namespace

std::optional<Dialect> parse_dialect(std::string_view text) {
    const std::string t = lower(trim(text));
    if (t == "redshift") return Dialect::Redshift;
    if (t == "postgres" || t == "postgresql") return Dialect::Postgres;
    return std::nullopt;
}

const char *dialect_name(Dialect d) {
    return d == Dialect::Redshift ? "redshift" : "postgres";
}

std::string sql_literal(std::string_view value, Dialect dialect) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'') out += '\'';
        if (dialect == Dialect::Redshift) {
            if (c == '\\') out += '\\';
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
                throw ExportError(ExportError::Kind::InvalidValue,
                                  "incmodel: a name contains a control character",
                                  "Redshift string literals cannot carry it.",
                                  "Rename the object.");
        }
        out += c;
    }
    return out + "'";
}

std::string dollar_quote_tag(const std::string &body) {
    for (int n = 0;; ++n) {
        const std::string tag = n == 0 ? "$incmodel$" : fmt::format("$incmodel_{}$", n);
        if ((body + tag).find(tag) == body.size()) return tag;
    }
}

std::string redshift_type(const std::string &pg_type) {
    const std::string t = lower(trim(without_collation(pg_type)));
    auto unsupported = [&] {
        return ExportError(ExportError::Kind::Unsupported,
                           "incmodel: type " + pg_type + " has no Redshift equivalent",
                           "Redshift tables cannot store it.",
                           "Cast the column in the model's query to a type Redshift has (text, "
                           "numeric, timestamp, ...).");
    };
    if (t.find("[]") != std::string::npos) throw unsupported();
    auto with_len = [&](const std::string &prefix) -> std::optional<long> {
        if (t.compare(0, prefix.size(), prefix) != 0 || t.back() != ')') return std::nullopt;
        return std::stol(t.substr(prefix.size(), t.size() - prefix.size() - 1));
    };
    if (t == "text" || t == "character varying" || t == "name") return "VARCHAR(65535)";
    if (auto n = with_len("character varying("))
        return fmt::format("VARCHAR({})", std::min(4 * *n, 65535L));
    if (auto n = with_len("character("))
        return fmt::format("VARCHAR({})", std::min(4 * *n, 65535L));
    if (t == "character" || t == "\"char\"") return "VARCHAR(4)";
    if (t == "uuid") return "CHAR(36)";
    if (t == "smallint" || t == "integer" || t == "bigint" || t == "boolean" || t == "date" ||
        t == "real" || t == "double precision")
        return upper(t);
    if (t == "numeric") return "NUMERIC(38,10)";
    if (t.compare(0, 8, "numeric(") == 0) {
        long p = std::stol(t.substr(8));
        if (p > 38) throw unsupported();
        return upper(t);
    }
    if (t.compare(0, 9, "timestamp") == 0)
        return t.find("with time zone") != std::string::npos &&
                       t.find("without") == std::string::npos
                   ? "TIMESTAMPTZ"
                   : "TIMESTAMP";
    if (t.compare(0, 4, "time") == 0)
        return t.find("with time zone") != std::string::npos &&
                       t.find("without") == std::string::npos
                   ? "TIMETZ"
                   : "TIME";
    if (t == "json" || t == "jsonb") return "SUPER";
    throw unsupported();
}

// --------------------------------------------------------------------------------------------
// The forbidden-statement checker
// --------------------------------------------------------------------------------------------
namespace {

struct Token {
    enum Kind { Word, Punct, Literal, Ident, Dollar } kind;
    std::string text;  // words upper-cased; literal contents without quotes
};

std::vector<Token> tokenize(const std::string &s) {
    std::vector<Token> out;
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            auto end = s.find("*/", i + 2);
            i = end == std::string::npos ? n : end + 2;
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
            out.push_back({Token::Literal, lit});
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
            out.push_back({Token::Ident, id});
        } else if (c == '$' && i + 1 < n && s[i + 1] == '$') {
            out.push_back({Token::Dollar, "$$"});
            i += 2;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t b = i;
            while (i < n &&
                   (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$'))
                ++i;
            out.push_back({Token::Word, upper(s.substr(b, i - b))});
        } else if (c == ':' && i + 1 < n && s[i + 1] == ':') {
            out.push_back({Token::Punct, "::"});
            i += 2;
        } else {
            out.push_back({Token::Punct, std::string(1, c)});
            ++i;
        }
    }
    return out;
}

bool is_word(const std::vector<Token> &t, std::size_t i, const char *w) {
    return i < t.size() && t[i].kind == Token::Word && t[i].text == w;
}

// Redshift's RAISE takes a format literal and then only simple variables ("RAISE level 'format'
// [, variable [, ...]]"); PostgreSQL also accepts expressions, which Redshift refuses. t[i] is
// RAISE: true when every argument after the format is one unqualified word.
bool raise_arguments_are_variables(const std::vector<Token> &t, std::size_t i) {
    std::size_t j = i + 1;
    while (j < t.size() && t[j].kind == Token::Word) ++j;  // the level (INFO, EXCEPTION, ...)
    if (j >= t.size() || t[j].kind != Token::Literal) return true;  // no format: nothing to check
    for (++j; j < t.size() && t[j].text != ";"; j += 2) {
        if (t[j].kind != Token::Punct || t[j].text != ",") return false;
        if (j + 1 >= t.size() || t[j + 1].kind != Token::Word) return false;
        if (j + 2 < t.size() && t[j + 2].text != "," && t[j + 2].text != ";") return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> redshift_procedure_problems(const std::string &body, int variables,
                                                     int parameters) {
    std::vector<std::string> problems;
    std::set<std::string> seen;
    auto add = [&](const std::string &p) {
        if (seen.insert(p).second) problems.push_back(p);
    };
    if (body.size() > kRedshiftMaxSource)
        add(fmt::format("the procedure source is {} bytes; Redshift allows 2 MB", body.size()));
    if (variables > 1024)
        add(fmt::format("{} variables; Redshift allows 1024 per procedure", variables));
    if (parameters > 32)
        add(fmt::format("{} parameters; Redshift allows 32 input arguments", parameters));

    static const std::set<std::string> statement_words = {
        "VACUUM",  "COMMIT",   "ROLLBACK", "SAVEPOINT",      "RELEASE",
        "PREPARE", "TRUNCATE", "ANALYZE",  "END_TRANSACTION"};
    const std::vector<Token> t = tokenize(body);
    bool statement_start = true;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const Token &tok = t[i];
        if (tok.kind == Token::Dollar) add("$$ inside the procedure body");
        if (tok.kind == Token::Literal) {
            // Dynamic SQL: a literal that is itself a forbidden statement.
            std::vector<Token> inner = tokenize(tok.text);
            if (!inner.empty() && inner[0].kind == Token::Word &&
                statement_words.count(inner[0].text))
                add(inner[0].text + " in dynamic SQL");
        }
        if (tok.kind == Token::Word) {
            const std::string &w = tok.text;
            if (statement_start && statement_words.count(w)) {
                if (w == "ROLLBACK" && is_word(t, i + 1, "TO"))
                    add("ROLLBACK TO SAVEPOINT (subtransaction)");
                else if (w == "SAVEPOINT" || w == "RELEASE")
                    add(w + " (subtransaction)");
                else if (w == "TRUNCATE")
                    add("TRUNCATE (commits implicitly on Redshift; use DELETE)");
                else
                    add(w);
            }
            if (w == "ALTER" && is_word(t, i + 1, "TABLE")) {
                for (std::size_t j = i + 2; j < t.size() && t[j].text != ";"; ++j)
                    if (t[j].kind == Token::Word && t[j].text == "APPEND")
                        add("ALTER TABLE APPEND");
            }
            if (statement_start && w == "RAISE" && !raise_arguments_are_variables(t, i))
                add("RAISE with an argument that is not a variable (Redshift: assign it to a "
                    "variable first)");
            if (w == "SET" && is_word(t, i + 1, "LOCAL")) add("SET LOCAL");
            if ((w == "CREATE" || w == "DROP") && is_word(t, i + 1, "DATABASE"))
                add(w + " DATABASE");
            if (w == "CREATE" && is_word(t, i + 1, "EXTERNAL")) add("CREATE EXTERNAL TABLE");
            if (w == "EXCEPTION" && is_word(t, i + 1, "WHEN"))
                add("EXCEPTION block (a subtransaction; Redshift has none)");
            if ((w == "NOW" || w == "CLOCK_TIMESTAMP" || w == "STATEMENT_TIMESTAMP" ||
                 w == "TRANSACTION_TIMESTAMP" || w == "TIMEOFDAY") &&
                i + 1 < t.size() && t[i + 1].text == "(")
                add(lower(w) + "() (Redshift: GETDATE())");
            if (w == "INTERVAL" && ((i + 1 < t.size() && t[i + 1].kind == Token::Literal) ||
                                    (i > 0 && t[i - 1].text == "::")))
                add("interval arithmetic (Redshift: DATEADD)");
            if (w == "ON" && is_word(t, i + 1, "CONFLICT")) add("ON CONFLICT");
            if (w == "IS" && (is_word(t, i + 1, "DISTINCT") ||
                              (is_word(t, i + 1, "NOT") && is_word(t, i + 2, "DISTINCT"))))
                add("IS [NOT] DISTINCT FROM");
        }
        statement_start = (tok.kind == Token::Punct && tok.text == ";") ||
                          (tok.kind == Token::Word && (tok.text == "BEGIN" || tok.text == "THEN" ||
                                                       tok.text == "ELSE" || tok.text == "LOOP"));
    }
    return problems;
}

void check_redshift_procedure(const std::string &body, int variables, int parameters) {
    auto problems = redshift_procedure_problems(body, variables, parameters);
    if (problems.empty()) return;
    throw ExportError(ExportError::Kind::Unsupported,
                      "incmodel: the Redshift procedure would contain what Redshift refuses "
                      "inside a stored procedure",
                      "Found: " + join(problems, "; ") + ".",
                      "Rewrite the model's query without it (for a clock, compare with a column "
                      "instead), or export with dialect => 'postgres'.");
}

// --------------------------------------------------------------------------------------------
// The renderer
// --------------------------------------------------------------------------------------------
PackageRenderer::PackageRenderer(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : spec_(std::move(spec)), options_(std::move(options)), quote_(std::move(quote)) {
    if (spec_.name.empty() || spec_.name.size() > kMaxModelName)
        throw ExportError(ExportError::Kind::InvalidValue,
                          "incmodel: model name \"" + spec_.name + "\" cannot be exported",
                          fmt::format("Exported object names are derived from the model name, "
                                      "which must have 1 to {} bytes.",
                                      kMaxModelName),
                          "Create the model again under a shorter name.");
    if (spec_.keys.empty())
        throw ExportError(ExportError::Kind::InvalidValue,
                          "incmodel: the model has no refresh key");
    if (redshift()) {
        // Identifiers Redshift reserves but PostgreSQL does not (TOP, OPEN, ...) are quoted:
        // the renderer's through the quoter, the query's (printed by PostgreSQL) in its text.
        quote_ = redshift_quoter(std::move(quote_));
        // Aggregates with FILTER rewritten where exact, other constructs refused (0A000).
        spec_.query_head = translate_for_redshift(quote_redshift_reserved(spec_.query_head));
        spec_.query_tail = translate_for_redshift(quote_redshift_reserved(spec_.query_tail));
        for (KeyPart &k : spec_.keys) k.source_expr = quote_redshift_reserved(k.source_expr);
    }
}

std::string PackageRenderer::distribution(const std::string &column) const {
    return options_.distkey_part ? " DISTKEY (" + column + ")" : " DISTSTYLE EVEN";
}

std::string PackageRenderer::scratch(const char *suffix) const {
    return q(kExportScratchSchema) + "." + q(spec_.name + "_" + suffix);
}
// DELETE + APPEND commit: the permanent staging table the post-commit step appends from.
std::string PackageRenderer::staging() const {
    return q(kExportScratchSchema) + "." + q(spec_.name + "_append");
}
std::string PackageRenderer::manifest() const {
    return q(kExportSchema) + "." + q("manifest_" + spec_.name);
}
std::string PackageRenderer::procedure_name() const {
    return q(kExportSchema) + "." + q("refresh_" + spec_.name);
}
std::string PackageRenderer::target() const {
    return qualified(quote_, spec_.target);
}

std::string PackageRenderer::source_as_alias() const {
    return (spec_.source_only && !redshift() ? "ONLY " : "") + qualified(quote_, spec_.source) +
           " AS " + q(spec_.source_alias);
}

std::string PackageRenderer::column_type(const std::string &pg_type) const {
    return redshift() ? redshift_type(pg_type) : pg_type;
}

std::string PackageRenderer::now_expr() const {
    return redshift() ? "GETDATE()" : "clock_timestamp()";
}

// now() - lookback. PostgreSQL: interval arithmetic under the model's TimeZone (pinned by the
// procedure), as the extension does. Redshift: DATEADD on GETDATE() (UTC).
std::string PackageRenderer::cutoff_expr() const {
    const Lookback &lb = *options_.lookback;
    if (!redshift()) return "now() - " + sql_literal(lb.text, Dialect::Postgres) + "::interval";
    std::string e = "GETDATE()";
    if (lb.months) e = fmt::format("DATEADD(month, {}, {})", -lb.months, e);
    if (lb.days) e = fmt::format("DATEADD(day, {}, {})", -lb.days, e);
    if (lb.seconds) e = fmt::format("DATEADD(second, {}, {})", -lb.seconds, e);
    return e;
}

// The user's query with its source replaced by the source restricted to the touched keys
// (ModelSpec's query_head / query_tail splice, as RefreshPlanner does). The non-NULL keys are
// matched by equality (a semi-join both engines hash); with_null adds a branch that only reads
// rows whose key has a NULL part and matches those with IS NULL on both sides.
std::string PackageRenderer::restricted_query() const {
    std::vector<std::string> eq, src_null, key_null, null_match;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i) {
        const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
        const std::string &e = spec_.keys[i].source_expr;
        eq.push_back(fmt::format("{} = {}", k, e));
        src_null.push_back(e + " IS NULL");
        key_null.push_back(k + " IS NULL");
        null_match.push_back(fmt::format("({k} = {e} OR ({k} IS NULL AND {e} IS NULL))",
                                         fmt::arg("k", k), fmt::arg("e", e)));
    }
    const std::string window =
        spec_.bounded_recompute && spec_.window_column && options_.lookback
            ? fmt::format(" AND {}.{} >= v_cutoff", q(spec_.source_alias), q(*spec_.window_column))
            : "";
    const std::string plain = fmt::format(
        "SELECT * FROM {src} WHERE EXISTS (SELECT 1 FROM {keys} AS {k} WHERE {eq}){window}",
        fmt::arg("src", source_as_alias()), fmt::arg("keys", scratch("keys")),
        fmt::arg("k", kKeysAlias), fmt::arg("eq", join(eq, " AND ")), fmt::arg("window", window));
    const std::string nulls = fmt::format(
        " UNION ALL SELECT * FROM {src} WHERE ({src_null}) AND EXISTS (SELECT 1 FROM {keys} AS {k} "
        "WHERE ({key_null}) AND {match}){window}",
        fmt::arg("src", source_as_alias()), fmt::arg("src_null", join(src_null, " OR ")),
        fmt::arg("keys", scratch("keys")), fmt::arg("k", kKeysAlias),
        fmt::arg("key_null", join(key_null, " OR ")), fmt::arg("match", join(null_match, " AND ")),
        fmt::arg("window", window));
    auto splice = [&](const std::string &restricted) {
        std::string out = trim(spec_.query_head) + " (" + restricted + ")";
        if (!spec_.alias_in_query) out += " AS " + q(spec_.source_alias);
        return out + " " + trim(spec_.query_tail);
    };
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    return fmt::format(
        "    IF v_null_keys > 0 THEN\n"
        "        INSERT INTO {rows} ({cols})\n        {with_nulls};\n"
        "    ELSE\n"
        "        INSERT INTO {rows} ({cols})\n        {plain};\n"
        "    END IF;\n",
        fmt::arg("rows", scratch("rows")), fmt::arg("cols", cols),
        fmt::arg("with_nulls", splice(plain + nulls)), fmt::arg("plain", splice(plain)));
}

// A batch model's state: its manifest (batch value, event count) and the batches scratch.
std::vector<std::string> PackageRenderer::state_tables() const {
    const bool rs = redshift();
    const std::string ts = rs ? "TIMESTAMP" : "timestamptz";
    const std::string all = rs ? " DISTSTYLE ALL" : "";
    const std::string unlogged = rs ? "" : "UNLOGGED ";
    std::vector<std::string> out;
    const std::string btype = column_type(spec_.batch_type);
    out.push_back(fmt::format(
        "CREATE TABLE IF NOT EXISTS {m} (batch_value {b} NOT NULL{pk}, event_count bigint NOT "
        "NULL, recorded_at {ts}){dist}",
        fmt::arg("m", manifest()), fmt::arg("b", btype), fmt::arg("pk", rs ? "" : " PRIMARY KEY"),
        fmt::arg("ts", ts), fmt::arg("dist", rs ? " DISTSTYLE ALL SORTKEY (batch_value)" : "")));
    out.push_back(fmt::format(
        "CREATE {u}TABLE IF NOT EXISTS {t} (batch_value {b} NOT NULL, event_count bigint NOT NULL, "
        "recorded_count bigint){all}",
        fmt::arg("u", unlogged), fmt::arg("t", scratch("batches")), fmt::arg("b", btype),
        fmt::arg("all", all)));
    if (options_.log_touched_keys) out.push_back(touched_ddl());
    return out;
}

std::vector<std::string> PackageRenderer::ddl() const {
    const bool rs = redshift();
    const std::string ts = rs ? "TIMESTAMP" : "timestamptz";
    const std::string txt = rs ? "VARCHAR(65535)" : "text";
    const std::string name_t = rs ? "VARCHAR(256)" : "text";
    const std::string all = rs ? " DISTSTYLE ALL" : "";
    std::vector<std::string> out;
    out.push_back("CREATE SCHEMA IF NOT EXISTS " + q(kExportSchema));
    out.push_back("CREATE SCHEMA IF NOT EXISTS " + q(kExportScratchSchema));
    out.push_back(q(spec_.target.schema) == q(kExportSchema)
                      ? std::string()
                      : "CREATE SCHEMA IF NOT EXISTS " + q(spec_.target.schema));
    out.push_back(fmt::format(
        "CREATE TABLE IF NOT EXISTS {s}.registry (model {n} NOT NULL{pk}, procedure_name {t} NOT "
        "NULL, target_table {t} NOT NULL, dialect {n}, version {n}, post_commit_sql {t}, "
        "maintenance_sql {t}, deployed_at {ts}){all}",
        fmt::arg("s", q(kExportSchema)), fmt::arg("n", name_t), fmt::arg("t", txt),
        fmt::arg("ts", ts), fmt::arg("pk", rs ? "" : " PRIMARY KEY"), fmt::arg("all", all)));
    out.push_back(fmt::format(
        "CREATE TABLE IF NOT EXISTS {s}.run_log (model {n} NOT NULL, started_at {ts} NOT NULL, "
        "finished_at {ts}, outcome {n} NOT NULL, batches bigint, events bigint, keys bigint, "
        "null_keys bigint, rows_deleted bigint, rows_inserted bigint, window_start {ts}, message "
        "{t}){dist}",
        fmt::arg("s", q(kExportSchema)), fmt::arg("n", name_t), fmt::arg("t", txt),
        fmt::arg("ts", ts),
        fmt::arg("dist", rs ? " DISTSTYLE ALL SORTKEY (model, started_at)" : "")));
    for (std::string &t : state_tables()) out.push_back(std::move(t));
    const std::string unlogged = rs ? "" : "UNLOGGED ";
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i)
        keys.push_back(fmt::format("k{} {}", i + 1, column_type(spec_.keys[i].type)));
    out.push_back(fmt::format(
        "CREATE {u}TABLE IF NOT EXISTS {t} ({cols}){dist}", fmt::arg("u", unlogged),
        fmt::arg("t", scratch("keys")), fmt::arg("cols", join(keys, ", ")),
        fmt::arg(
            "dist",
            rs ? distribution("k" + std::to_string(options_.distkey_part.value_or(0) + 1)) : "")));
    const std::string cols = join_map(spec_.outputs, ", ", [this](const OutputColumn &c) {
        return q(c.name) + " " + column_type(c.type);
    });
    const std::string distkey =
        rs ? distribution(
                 q(spec_.keys[std::min(options_.distkey_part.value_or(0), spec_.keys.size() - 1)]
                       .column))
           : "";
    out.push_back(fmt::format("CREATE {u}TABLE IF NOT EXISTS {t} ({cols}){dist}",
                              fmt::arg("u", unlogged), fmt::arg("t", scratch("rows")),
                              fmt::arg("cols", cols), fmt::arg("dist", distkey)));
    // The target: distributed on the first key part, sorted on the window column when the model
    // outputs it (time-range scans), otherwise on the key (the DELETE of touched keys).
    std::string sortkey;
    if (rs) {
        bool window_out =
            spec_.window_column &&
            std::any_of(spec_.outputs.begin(), spec_.outputs.end(),
                        [&](const OutputColumn &c) { return c.name == *spec_.window_column; });
        sortkey = " COMPOUND SORTKEY (" +
                  (window_out ? q(*spec_.window_column)
                              : join_map(spec_.keys, ", ",
                                         [this](const KeyPart &k) { return q(k.column); })) +
                  ")";
    }
    out.push_back(
        fmt::format("CREATE TABLE IF NOT EXISTS {} ({}){}{}", target(), cols, distkey, sortkey));
    if (!rs)
        out.push_back(fmt::format(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({}) NULLS NOT DISTINCT",
            q(spec_.target.name + "_incmodel_key"), target(),
            join_map(spec_.unique_columns, ", ", [this](const std::string &c) { return q(c); })));
    // DELETE + APPEND: a permanent (logged: it survives a crash) staging table that matches the
    // target: LIKE copies the columns, NOT NULL, and on Redshift the encodings, DISTKEY and
    // SORTKEY, as ALTER TABLE APPEND requires.
    if (options_.append_commit)
        out.push_back("CREATE TABLE IF NOT EXISTS " + staging() + " (LIKE " + target() + ")");
    // The registry row: the dispatcher finds the procedure here, the CLI the post-commit and
    // maintenance queries.
    const Dialect d = options_.dialect;
    out.push_back(fmt::format("DELETE FROM {}.registry WHERE model = {}", q(kExportSchema),
                              sql_literal(spec_.name, d)));
    out.push_back(fmt::format(
        "INSERT INTO {s}.registry (model, procedure_name, target_table, dialect, version, "
        "post_commit_sql, maintenance_sql, deployed_at) VALUES ({m}, {p}, {t}, {d}, {v}, {pc}, "
        "{mt}, {now})",
        fmt::arg("s", q(kExportSchema)), fmt::arg("m", sql_literal(spec_.name, d)),
        fmt::arg("p", sql_literal(procedure_name(), d)), fmt::arg("t", sql_literal(target(), d)),
        fmt::arg("d", sql_literal(dialect_name(d), d)),
        fmt::arg("v", sql_literal(options_.version, d)),
        fmt::arg("pc", sql_literal(post_commit(), d)),
        fmt::arg("mt", sql_literal(maintenance(), d)),
        fmt::arg("now", rs ? "GETDATE()" : "now()")));
    out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
    return out;
}

std::string PackageRenderer::procedure_body() const {
    const bool rs = redshift();
    const Dialect d = options_.dialect;
    const std::string ts = rs ? "TIMESTAMP" : "timestamptz";
    const std::string model = sql_literal(spec_.name, d);
    const std::string a = q(spec_.source_alias);
    const std::string b = q(spec_.batch_column);
    const bool window = spec_.window_column.has_value() && options_.lookback.has_value();
    const std::string wcol = window ? q(*spec_.window_column) : "";
    std::string s;
    s += "DECLARE\n";
    s += "    v_started " + ts + ";\n";
    s += "    v_cutoff " + ts + ";\n";
    // RAISE's arguments must be variables on Redshift: the model's name is one.
    s += fmt::format("    v_model {} := {};\n", rs ? "VARCHAR(256)" : "text", model);
    for (const char *v : {"v_recorded", "v_batches", "v_events", "v_keys", "v_null_keys",
                          "v_deleted", "v_n", "v_inserted"})
        s += fmt::format("    {} BIGINT := 0;\n", v);
    s += "BEGIN\n";
    s += "    v_started := " + now_expr() + ";\n";
    if (rs)  // refreshes of the model queue on its manifest, which no dashboard reads
        s += "    LOCK " + manifest() + ";\n";
    else
        s += fmt::format("    PERFORM pg_advisory_xact_lock({}, hashtext({}));\n", kExportLockClass,
                         model);
    s += "    SELECT INTO v_recorded COUNT(*) FROM " + manifest() + ";\n";
    if (window) {
        // An empty manifest means a first build: every batch, whatever its age.
        s += "    IF v_recorded = 0 THEN\n";
        s += "        v_cutoff := " +
             std::string(rs ? "'0001-01-01 00:00:00'::TIMESTAMP" : "'-infinity'::timestamptz") +
             ";\n";
        s += "    ELSE\n";
        s += "        v_cutoff := " + cutoff_expr() + ";\n";
        s += "    END IF;\n";
    }
    // Step 0: scratch emptied (DELETE on Redshift: TRUNCATE would commit there).
    for (const char *t : {"batches", "keys", "rows"})
        s += fmt::format("    {} {};\n", rs ? "DELETE FROM" : "TRUNCATE", scratch(t));
    // Step 1: new or grown batches.
    std::string in_window;
    // The range of batch values first (implied by the IN): Redshift's zone maps skip the blocks
    // outside it, as the tutorial's filter on the sort key does.
    if (window)
        in_window = fmt::format(
            " AND {a}.{b} >= (SELECT MIN({w}.{b}) FROM {src} WHERE {w}.{wc} >= v_cutoff) AND "
            "{a}.{b} IN (SELECT {w}.{b} FROM {src} WHERE {w}.{wc} >= v_cutoff)",
            fmt::arg("a", a), fmt::arg("b", b), fmt::arg("w", "_incmodel_w"),
            fmt::arg("src", qualified(quote_, spec_.source) + " AS _incmodel_w"),
            fmt::arg("wc", wcol));
    s += fmt::format(
        "    INSERT INTO {batches} (batch_value, event_count, recorded_count)\n"
        "    SELECT c.batch_value, c.event_count, m.event_count FROM (SELECT {a}.{b} AS "
        "batch_value, COUNT(*) AS event_count FROM {src} WHERE {a}.{b} IS NOT NULL{in_window} "
        "GROUP BY {a}.{b}) c LEFT JOIN {manifest} m ON m.batch_value = c.batch_value WHERE "
        "m.event_count IS NULL OR m.event_count < c.event_count;\n",
        fmt::arg("batches", scratch("batches")), fmt::arg("a", a), fmt::arg("b", b),
        fmt::arg("src", source_as_alias()), fmt::arg("in_window", in_window),
        fmt::arg("manifest", manifest()));
    s += "    GET DIAGNOSTICS v_batches := ROW_COUNT;\n";
    auto finish = [&](const char *outcome, const char *indent) {
        std::string f;
        f += fmt::format(
            "{i}INSERT INTO {s}.run_log (model, started_at, finished_at, outcome, batches, events, "
            "keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES ({m}, v_started, "
            "{now}, '{o}', v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, "
            "{ws});\n",
            fmt::arg("i", indent), fmt::arg("s", q(kExportSchema)), fmt::arg("m", model),
            fmt::arg("now", now_expr()), fmt::arg("o", outcome),
            fmt::arg("ws", window ? "v_cutoff" : "NULL"));
        f += fmt::format(
            "{i}RAISE INFO 'incmodel-run model=% outcome={o} batches=% events=% keys=% deleted=% "
            "inserted=%', v_model, v_batches, v_events, v_keys, v_deleted, v_inserted;\n",
            fmt::arg("i", indent), fmt::arg("o", outcome));
        return f;
    };
    s += "    IF v_batches = 0 THEN\n";
    s += finish("noop", "        ");
    s += "        RETURN;\n";
    s += "    END IF;\n";
    s += "    SELECT INTO v_events COALESCE(SUM(event_count - COALESCE(recorded_count, 0)), 0) "
         "FROM " +
         scratch("batches") + ";\n";
    // Step 2: the keys those batches touch.
    s += fmt::format(
        "    INSERT INTO {keys} ({cols})\n    SELECT DISTINCT {exprs} FROM {src} WHERE {a}.{b} IN "
        "(SELECT batch_value FROM {batches}){window};\n",
        fmt::arg("keys", scratch("keys")),
        fmt::arg("cols",
                 join_map(spec_.keys, ", ",
                          [&, i = 0](const KeyPart &) mutable { return fmt::format("k{}", ++i); })),
        fmt::arg("exprs",
                 join_map(spec_.keys, ", ", [](const KeyPart &k) { return k.source_expr; })),
        fmt::arg("src", source_as_alias()), fmt::arg("a", a), fmt::arg("b", b),
        fmt::arg("batches", scratch("batches")),
        fmt::arg("window", window ? fmt::format(" AND {}.{} >= v_cutoff", a, wcol) : ""));
    s += "    GET DIAGNOSTICS v_keys := ROW_COUNT;\n";
    std::vector<std::string> knull, tnull, tmatch, teq;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i) {
        const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
        const std::string tc = q(spec_.target.name) + "." + q(spec_.keys[i].column);
        knull.push_back(fmt::format("k{} IS NULL", i + 1));
        tnull.push_back(tc + " IS NULL");
        teq.push_back(fmt::format("{} = {}", tc, k));
        tmatch.push_back(fmt::format("({k} = {t} OR ({k} IS NULL AND {t} IS NULL))",
                                     fmt::arg("k", k), fmt::arg("t", tc)));
    }
    s += fmt::format("    SELECT INTO v_null_keys COUNT(*) FROM {} WHERE {};\n", scratch("keys"),
                     join(knull, " OR "));
    // Step 3: the user's query over the events of the touched keys.
    s += restricted_query();
    s += "    GET DIAGNOSTICS v_inserted := ROW_COUNT;\n";
    // Step 4: commit (the procedure is one transaction).
    std::vector<std::string> kn;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i)
        kn.push_back(fmt::format("{}.k{} IS NULL", kKeysAlias, i + 1));
    // The target is locked only now, for the swap: readers of the derived table did not wait
    // through the recompute (the lock lasts until the procedure's transaction ends).
    if (rs) s += "    LOCK " + target() + ";\n";
    s += fmt::format("    DELETE FROM {t} USING {keys} AS {k} WHERE {eq};\n",
                     fmt::arg("t", target()), fmt::arg("keys", scratch("keys")),
                     fmt::arg("k", kKeysAlias), fmt::arg("eq", join(teq, " AND ")));
    s += "    GET DIAGNOSTICS v_deleted := ROW_COUNT;\n";
    s += "    IF v_null_keys > 0 THEN\n";
    s += fmt::format(
        "        DELETE FROM {t} WHERE ({tnull}) AND EXISTS (SELECT 1 FROM {keys} AS {k} WHERE "
        "({kn}) AND {match});\n",
        fmt::arg("t", target()), fmt::arg("tnull", join(tnull, " OR ")),
        fmt::arg("keys", scratch("keys")), fmt::arg("k", kKeysAlias),
        fmt::arg("kn", join(kn, " OR ")), fmt::arg("match", join(tmatch, " AND ")));
    s += "        GET DIAGNOSTICS v_n := ROW_COUNT;\n";
    s += "        v_deleted := v_deleted + v_n;\n";
    s += "    END IF;\n";
    if (options_.append_commit) {
        // DELETE + APPEND: the rows go to the permanent staging table, which the post-commit step
        // appends to the target (ALTER TABLE APPEND cannot run in a procedure). Rows a crashed
        // run left there for keys touched again are replaced, so target + staging is always the
        // model's result.
        const std::string st = q(spec_.name + "_append");
        std::vector<std::string> seq, snull, smatch;
        for (std::size_t i = 0; i < spec_.keys.size(); ++i) {
            const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
            const std::string sc = st + "." + q(spec_.keys[i].column);
            seq.push_back(fmt::format("{} = {}", sc, k));
            snull.push_back(sc + " IS NULL");
            smatch.push_back(fmt::format("({k} = {t} OR ({k} IS NULL AND {t} IS NULL))",
                                         fmt::arg("k", k), fmt::arg("t", sc)));
        }
        s += fmt::format("    DELETE FROM {t} USING {keys} AS {k} WHERE {eq};\n",
                         fmt::arg("t", staging()), fmt::arg("keys", scratch("keys")),
                         fmt::arg("k", kKeysAlias), fmt::arg("eq", join(seq, " AND ")));
        s += "    IF v_null_keys > 0 THEN\n";
        s += fmt::format(
            "        DELETE FROM {t} WHERE ({tnull}) AND EXISTS (SELECT 1 FROM {keys} AS {k} "
            "WHERE ({kn}) AND {match});\n",
            fmt::arg("t", staging()), fmt::arg("tnull", join(snull, " OR ")),
            fmt::arg("keys", scratch("keys")), fmt::arg("k", kKeysAlias),
            fmt::arg("kn", join(kn, " OR ")), fmt::arg("match", join(smatch, " AND ")));
        s += "    END IF;\n";
    }
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    s += fmt::format("    INSERT INTO {} ({}) SELECT {} FROM {};\n",
                     options_.append_commit ? staging() : target(), cols, cols, scratch("rows"));
    s += fmt::format(
        "    DELETE FROM {m} USING {b} AS _incmodel_b WHERE {mn}.batch_value = "
        "_incmodel_b.batch_value;\n",
        fmt::arg("m", manifest()), fmt::arg("b", scratch("batches")),
        fmt::arg("mn", q("manifest_" + spec_.name)));
    s += fmt::format(
        "    INSERT INTO {} (batch_value, event_count, recorded_at) SELECT batch_value, "
        "event_count, v_started FROM {};\n",
        manifest(), scratch("batches"));
    s += log_touched_keys("    ");
    s += finish("success", "    ");
    s += "END;\n";
    return s;
}

std::string PackageRenderer::procedure() const {
    const std::string body = procedure_body();
    const std::string tag = dollar_quote_tag(body);
    if (redshift()) {
        check_redshift_procedure(body, variable_count(), 0);
        return "CREATE OR REPLACE PROCEDURE " + procedure_name() + "()\nAS " + tag + "\n" + body +
               tag + " LANGUAGE plpgsql";
    }
    return fmt::format(
        "CREATE OR REPLACE PROCEDURE {}()\nLANGUAGE plpgsql\nSET search_path = pg_catalog, "
        "pg_temp\nSET \"TimeZone\" = {}\nSET \"DateStyle\" = 'ISO'\nAS {}\n{}{}",
        procedure_name(), sql_literal(options_.timezone, Dialect::Postgres), tag, body, tag);
}

std::string PackageRenderer::dispatcher() const {
    const bool rs = redshift();
    std::string body = fmt::format(
        "DECLARE\n"
        "    v_procedure {t};\n"
        "BEGIN\n"
        "    SELECT INTO v_procedure r.procedure_name FROM {s}.registry r WHERE r.model = "
        "p_model;\n"
        "    IF v_procedure IS NULL THEN\n"
        "        RAISE EXCEPTION 'incmodel: model \"%\" is not deployed here (see "
        "incmodel.registry)', p_model;\n"
        "    END IF;\n"
        "    EXECUTE 'CALL ' || v_procedure || '()';\n"
        "END;\n",
        fmt::arg("t", rs ? "VARCHAR(65535)" : "text"), fmt::arg("s", q(kExportSchema)));
    const std::string tag = dollar_quote_tag(body);
    if (rs) {
        check_redshift_procedure(body, 1, 1);
        return "CREATE OR REPLACE PROCEDURE " + q(kExportSchema) +
               ".refresh(p_model VARCHAR(256))\nAS " + tag + "\n" + body + tag +
               " LANGUAGE plpgsql";
    }
    return "CREATE OR REPLACE PROCEDURE " + q(kExportSchema) +
           ".refresh(p_model text)\nLANGUAGE plpgsql\nSET search_path = pg_catalog, pg_temp\nAS " +
           tag + "\n" + body + tag;
}

// "pg_class c JOIN pg_namespace n ... WHERE <rel matches>": the relation when it exists. Redshift's
// SVV_TABLE_INFO would give unsorted / stats_off, but an owner who is no superuser may not see it
// and it omits empty tables; pg_class and pg_namespace every user reads. The thresholds are left
// to Redshift itself: ANALYZE skips a table with fewer than analyze_threshold_percent (10) rows
// changed, VACUUM ... TO 95 PERCENT skips the sort when 95% is sorted.
std::string PackageRenderer::redshift_table_exists(const QualifiedName &rel) const {
    return "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " +
           redshift_relation_match(sql_literal(rel.schema, Dialect::Redshift),
                                   sql_literal(rel.name, Dialect::Redshift));
}

// After a successful refresh: ANALYZE what the refresh changed when its statistics went stale
// (Redshift: ANALYZE itself skips a table with < 10% of its rows changed,
// analyze_threshold_percent; PostgreSQL: rows modified since the last analyze >= 50 + 10% of the
// live rows, autovacuum's default).
std::string PackageRenderer::post_commit() const {
    const Dialect d = options_.dialect;
    std::vector<std::string> branches;
    int ord = 0;
    for (const QualifiedName &rel :
         {spec_.target, QualifiedName{kExportSchema, "manifest_" + spec_.name}}) {
        const std::string qn = qualified(quote_, rel);
        ++ord;
        if (redshift())
            branches.push_back(fmt::format("SELECT {ord} AS ord, {stmt} AS stmt FROM {exists}",
                                           fmt::arg("ord", ord),
                                           fmt::arg("stmt", sql_literal("ANALYZE " + qn, d)),
                                           fmt::arg("exists", redshift_table_exists(rel))));
        else
            branches.push_back(
                fmt::format("SELECT {ord} AS ord, {stmt} AS stmt FROM "
                            "pg_catalog.pg_stat_user_tables WHERE relid "
                            "= to_regclass({lit}) AND n_mod_since_analyze >= 50 + 0.1 * n_live_tup",
                            fmt::arg("ord", ord), fmt::arg("stmt", sql_literal("ANALYZE " + qn, d)),
                            fmt::arg("lit", sql_literal(qn, d))));
    }
    if (options_.append_commit) {
        // First, the pending append: listed while the staging table holds rows (the procedure
        // committed them with the DELETE of their keys and the manifest). Redshift: ALTER TABLE
        // APPEND moves the blocks and commits. PostgreSQL has none: INSERT ... SELECT and TRUNCATE
        // in one statement string, which the command runs as one transaction, under the model's
        // lock (a refresh running meanwhile could otherwise put rows in staging that the
        // TRUNCATE removes unseen, or delete keys from the target before they arrive there).
        // Either way a crash
        // leaves the rows in staging or in the target, never in both, and the next run (the
        // command runs this list before the procedure too) finishes it.
        const std::string cols =
            join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
        const std::string stmt =
            redshift()
                ? "ALTER TABLE " + target() + " APPEND FROM " + staging()
                : fmt::format(
                      "SELECT pg_advisory_xact_lock({l}, hashtext({m})); INSERT INTO "
                      "{t} ({c}) SELECT {c} FROM {s}; TRUNCATE {s}",
                      fmt::arg("l", kExportLockClass), fmt::arg("m", sql_literal(spec_.name, d)),
                      fmt::arg("t", target()), fmt::arg("c", cols), fmt::arg("s", staging()));
        branches.insert(branches.begin(),
                        fmt::format("SELECT 0 AS ord, {} AS stmt FROM (SELECT 1 AS pending_append "
                                    "FROM {} LIMIT 1) p",
                                    sql_literal(stmt, d), staging()));
    }
    return "SELECT stmt FROM (" + join(branches, " UNION ALL ") + ") x ORDER BY ord";
}

// What maintenance covers for a batch model: target, manifest, scratch tables, run log.
std::vector<QualifiedName> PackageRenderer::maintained_relations() const {
    return {spec_.target,
            {kExportSchema, "manifest_" + spec_.name},
            {kExportScratchSchema, spec_.name + "_batches"},
            {kExportScratchSchema, spec_.name + "_keys"},
            {kExportScratchSchema, spec_.name + "_rows"},
            {kExportSchema, "run_log"}};
}

// Off the critical path (nightly, or `incmodel maintain`). Redshift: VACUUM FULL ... TO 95 PERCENT
// (sorts when under 95% sorted, reclaims deleted rows down to 5%) and ANALYZE PREDICATE COLUMNS
// (skipped under analyze_threshold_percent) for every table that exists. PostgreSQL: VACUUM
// (ANALYZE) when dead tuples
// >= 50 + 20% of the table, ANALYZE when modified rows >= 50 + 10%.
std::string PackageRenderer::maintenance() const {
    const Dialect d = options_.dialect;
    const std::vector<QualifiedName> rels = maintained_relations();
    std::vector<std::string> branches;
    int ord = 0;
    for (const QualifiedName &rel : rels) {
        const std::string qn = qualified(quote_, rel);
        if (redshift()) {
            branches.push_back(fmt::format(
                "SELECT {ord} AS ord, {stmt} AS stmt FROM {exists}", fmt::arg("ord", ++ord),
                fmt::arg("stmt", sql_literal("VACUUM FULL " + qn + " TO 95 PERCENT", d)),
                fmt::arg("exists", redshift_table_exists(rel))));
            branches.push_back(fmt::format(
                "SELECT {ord} AS ord, {stmt} AS stmt FROM {exists}", fmt::arg("ord", ++ord),
                fmt::arg("stmt", sql_literal("ANALYZE " + qn + " PREDICATE COLUMNS", d)),
                fmt::arg("exists", redshift_table_exists(rel))));
        } else {
            const std::string where = "relid = to_regclass(" + sql_literal(qn, d) + ")";
            branches.push_back(fmt::format(
                "SELECT {ord} AS ord, {stmt} AS stmt FROM pg_catalog.pg_stat_user_tables WHERE {w} "
                "AND n_dead_tup >= 50 + 0.2 * (n_live_tup + n_dead_tup)",
                fmt::arg("ord", ++ord), fmt::arg("stmt", sql_literal("VACUUM (ANALYZE) " + qn, d)),
                fmt::arg("w", where)));
            branches.push_back(fmt::format(
                "SELECT {ord} AS ord, {stmt} AS stmt FROM pg_catalog.pg_stat_user_tables WHERE {w} "
                "AND n_dead_tup < 50 + 0.2 * (n_live_tup + n_dead_tup) AND n_mod_since_analyze >= "
                "50 + 0.1 * n_live_tup",
                fmt::arg("ord", ++ord), fmt::arg("stmt", sql_literal("ANALYZE " + qn, d)),
                fmt::arg("w", where)));
        }
    }
    return "SELECT stmt FROM (" + join(branches, " UNION ALL ") + ") x ORDER BY ord";
}

std::vector<PackagePart> PackageRenderer::render() const {
    std::vector<PackagePart> parts;
    int step = 0;
    for (auto &s : ddl()) parts.push_back({++step, "ddl", s});
    parts.push_back({++step, "procedure", procedure()});
    parts.push_back({++step, "dispatcher", dispatcher()});
    parts.push_back({++step, "post_commit", post_commit()});
    parts.push_back({++step, "maintenance", maintenance()});
    return parts;
}

}  // namespace incmodel::core
