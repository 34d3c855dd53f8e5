// The deployable package of one model for an engine without the extension: Amazon Redshift, or a
// PostgreSQL where incmodel is not installed. PostgreSQL-free; the adapter (src/pg/export_api.cpp)
// loads the model and passes the quoter, the CLI (cli/) deploys and runs what is rendered here.
//
// A package is an ordered list of parts, one statement each:
//   ddl          schemas, the registry, the run log, the model's manifest, scratch and target
//                tables
//   procedure    the model's refresh procedure (one transaction: plan, keys, recompute, commit)
//   dispatcher   incmodel.refresh(name): looks the model's procedure up in the registry
//   post_commit  a SELECT listing the statements to run after a successful refresh, outside any
//                transaction (ANALYZE when statistics are stale)
//   maintenance  a SELECT listing the VACUUM / ANALYZE statements the thresholds call for
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/model_spec.hpp"
#include "core/sql_text.hpp"

namespace incmodel::core {

enum class Dialect { Postgres, Redshift };

// "redshift" or "postgres" (case-insensitive; "postgresql" too); nullopt for anything else.
std::optional<Dialect> parse_dialect(std::string_view text);
const char *dialect_name(Dialect d);

// An error of the export itself, with what the user needs to act on it. kind says which SQLSTATE
// the adapter raises: unsupported features (0A000) or invalid values (22023).
class ExportError : public std::runtime_error {
  public:
    enum class Kind { Unsupported, InvalidValue };
    ExportError(Kind kind, std::string message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(std::move(message)),
          kind_(kind),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}
    Kind kind() const { return kind_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }

  private:
    Kind kind_;
    std::string detail_, hint_;
};

// The model's lookback, split as PostgreSQL stores intervals (months, days, seconds), so that the
// Redshift cutoff can be written with DATEADD. text is interval_out's rendering.
struct Lookback {
    std::string text;
    std::int64_t months = 0, days = 0, seconds = 0;
};

struct ExportOptions {
    Dialect dialect = Dialect::Redshift;
    std::optional<Lookback> lookback;  // set when the model has a window
    std::string timezone = "UTC";      // the model's TimeZone (pinned by the postgres procedure)
    std::string version;               // incmodel version that rendered the package
    // commit => 'append': the procedure commits the DELETE of the touched keys and their new rows
    // in a permanent staging table; the post-commit step appends them to the target (Redshift:
    // ALTER TABLE APPEND). Default: DELETE + INSERT in the procedure's one transaction.
    bool append_commit = false;
    // Redshift's distribution of the target and its scratch tables: the key part (0-based) with
    // the most distinct values (the adapter counts them in the extension's target), so rows spread
    // over the slices and the DELETE of touched keys and the recompute stay colocated; nullopt:
    // DISTSTYLE EVEN (no key part has enough values to spread the rows).
    std::optional<std::size_t> distkey_part = 0;
    // Time-based models (export_time.hpp): start_date as a timestamp literal (postgres:
    // timestamptz text; redshift: UTC timestamp text), backfill_limit split as the lookback is,
    // and the source's columns in order (an append model's deduplication selects them).
    std::string start_date;
    std::optional<Lookback> backfill_limit;
    std::vector<std::string> source_columns;
    // Features models (export_features.cpp): a model that features models read logs the keys
    // each run touched (incmodel.touched_<model>); a features package reads its inputs' logs.
    bool log_touched_keys = false;
    struct Input {
        std::string model;
        std::vector<KeyPart> keys;       // the input's key parts (column names and types)
        std::vector<int> positions;      // per features key part: the input key part, 1-based
        std::vector<std::string> exprs;  // per features key part when a position is 0: an
                                         // expression over the input's key columns
    };
    std::vector<Input> inputs;
};

struct PackagePart {
    int step;
    std::string part;  // ddl | procedure | dispatcher | post_commit | maintenance
    std::string sql;
};

// Schemas of a deployed package (kept apart from an installed extension's incmodel_scratch).
inline constexpr const char *kExportSchema = "incmodel";
inline constexpr const char *kExportScratchSchema = "incmodel_export_scratch";
// Advisory lock class of deployed PostgreSQL packages (the extension uses 1229865805).
inline constexpr std::int64_t kExportLockClass = 1229865806;

class PackageRenderer {
  public:
    PackageRenderer(ModelSpec spec, ExportOptions options, IdentQuoter quote);
    virtual ~PackageRenderer() = default;

    // Every part in deployment order. Throws ExportError.
    std::vector<PackagePart> render() const;

    // The pieces, for tests.
    std::vector<std::string> ddl() const;
    std::string procedure() const;
    // the text between the dollar quotes of procedure(); each model kind renders its own
    virtual std::string procedure_body() const;
    std::string dispatcher() const;
    std::string post_commit() const;
    std::string maintenance() const;
    std::string procedure_name() const;  // incmodel.<quoted refresh_<model>>
    std::string column_type(const std::string &pg_type) const;

  protected:
    // The kind's own state: the manifest and the scratch tables besides keys and rows (DDL),
    // the tables maintenance covers, and the procedure's variable count (Redshift's limit).
    virtual std::vector<std::string> state_tables() const;
    virtual std::vector<QualifiedName> maintained_relations() const;
    virtual int variable_count() const { return 11; }
    // The log of touched keys read by features packages: its DDL, and the statements appending
    // this run's keys scratch to it (both empty unless options_.log_touched_keys).
    std::string touched_ddl() const;
    std::string log_touched_keys(const std::string &indent) const;
    std::string q(std::string_view ident) const { return quote_(ident); }
    bool redshift() const { return options_.dialect == Dialect::Redshift; }
    std::string scratch(const char *suffix) const;
    // " DISTKEY (column)", or " DISTSTYLE EVEN" when options_.distkey_part is unset.
    std::string distribution(const std::string &column) const;
    std::string manifest() const;
    std::string staging() const;
    std::string target() const;
    std::string source_as_alias() const;
    std::string restricted_query() const;
    std::string cutoff_expr() const;
    std::string now_expr() const;
    std::string redshift_table_exists(const QualifiedName &rel) const;

    ModelSpec spec_;
    ExportOptions options_;
    IdentQuoter quote_;
};

// The dollar-quote delimiter of a procedure body: $incmodel$, else $incmodel_1$, $incmodel_2$, ...
// the first that does not occur in body (not even formed with the body's last characters), so
// nothing in the body (a string literal of the user's query, a name) can end the quote early.
std::string dollar_quote_tag(const std::string &body);

// Single-quoted SQL literal. Redshift reads a backslash in a literal as an escape, so it is
// doubled there; control characters are refused (ExportError) for Redshift.
std::string sql_literal(std::string_view value, Dialect dialect);

// The Redshift type for a PostgreSQL type name (format_type output); throws ExportError for
// types Redshift cannot store.
std::string redshift_type(const std::string &pg_type);

// Scans a procedure body (comments, string literals and quoted identifiers skipped) for what
// Redshift refuses inside a stored procedure or what would break the package's one-transaction
// refresh: VACUUM, ALTER TABLE ... APPEND, SET LOCAL, PREPARE, CREATE/DROP DATABASE, CREATE
// EXTERNAL TABLE, SAVEPOINT / RELEASE / ROLLBACK TO, EXCEPTION blocks (subtransactions), COMMIT,
// ROLLBACK, TRUNCATE (commits implicitly on Redshift), ANALYZE, now() and the other PostgreSQL
// clock functions, interval arithmetic (Redshift uses GETDATE() and DATEADD), ON CONFLICT,
// IS [NOT] DISTINCT FROM, $$ inside the body, RAISE with an argument that is not a variable;
// and the limits: 2 MB of source, 1024 variables, 32 parameters. Returns the findings (empty
// when clean).
std::vector<std::string> redshift_procedure_problems(const std::string &body, int variables = 0,
                                                     int parameters = 0);
// Throws ExportError (Unsupported) listing the findings.
void check_redshift_procedure(const std::string &body, int variables = 0, int parameters = 0);

}  // namespace incmodel::core
